"""`import`: a dashboard exported from Grafana as a Jsonnet source on the builder library.

Every object of the export (dashboard, panel, target, variable, link, threshold step, value
mapping, override, transformation) becomes builder calls where the library has a setter, or
a KTRDR convention (`ktrdr.variables.*`, `ktrdr.queries.*`, `ktrdr.panels.thresholds.*`, ...)
where one evaluates to exactly the same JSON. Each such expression is then evaluated once
("probed") and compared with the export: whatever it gets wrong or leaves out becomes one
explicit fragment per key (`+ { options+: { newOption: 1 } }`, `+ { field:: null }` for a
builder default the export does not have). So the written file compiles back to the export,
semantically, by construction; the round-trip tests check that it does."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ktrdr_dashboards import build as build_module
from ktrdr_dashboards import jsonnet, tools
from ktrdr_dashboards import model as dashboard_model
from ktrdr_dashboards.compile import dashboards as jsonnet_compile
from ktrdr_dashboards.errors import DashboardError, Location
from ktrdr_dashboards.roundtrip import exports, layouts
from ktrdr_dashboards.roundtrip.code import Call, Code, Lit, Node, Plus, literal, nodes_in, render

# ---------------------------------------------------------------- fixes from a probe


def canonical(value: object) -> str:
    """Equality as JSON means it: key order ignored, 1 and true and 1.0 kept apart."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def differences(want: object, got: object, path: tuple[str, ...] = ()) -> Iterator[str]:
    """One fragment per key where `got` differs from `want` (`want` is the export)."""
    if not (isinstance(want, dict) and isinstance(got, dict)):
        return
    for key in sorted(want):
        # An object the builder did not set at all still becomes one fragment per key.
        absent_object = key not in got and isinstance(want[key], dict) and want[key]
        if absent_object or (
            key in got and isinstance(want[key], dict) and isinstance(got[key], dict)
        ):
            yield from differences(want[key], got.get(key, {}), (*path, key))
        elif key not in got or canonical(want[key]) != canonical(got[key]):
            yield nested(path, f"{literal(key)}: {literal(want[key])}")
    for key in sorted(set(got) - set(want)):
        yield nested(path, f"{literal(key)}:: null")


def nested(path: tuple[str, ...], inner: str) -> str:
    text = "{ " + inner + " }"
    for key in reversed(path):
        text = "{ " + f"{literal(key)}+: " + text + " }"
    return text


def strip(kind: str, value: object) -> object:
    if kind == "dashboard" and isinstance(value, dict):
        return exports.strip_regenerated(value)
    if kind == "panel" and isinstance(value, dict):
        return exports.strip_regenerated({"panels": [value]})["panels"][0]
    return value


# ---------------------------------------------------------------- what the library offers

CATALOGUE = r"""
local g = import 'g.libsonnet';
local ktrdr = import 'ktrdr/ktrdr.libsonnet';
local setters(ns) = {
  [k]: if std.isFunction(ns[k]) then true else setters(ns[k])
  for k in std.objectFields(ns)
  if std.isFunction(ns[k]) || std.isObject(ns[k])
};
local strings(obj, prefix) = std.foldl(function(acc, k)
  local v = obj[k];
  acc + (if std.isString(v) then { [prefix + '.' + k]: v }
         else if std.isObject(v) then strings(v, prefix + '.' + k) else {}),
  std.objectFields(obj), {});
local t = ktrdr.config.thresholds;
local steps(f, need) = {
  ['ktrdr.panels.thresholds.%s(ktrdr.config.thresholds.%s)' % [f, k]]:
    ktrdr.panels.thresholds[f](t[k])
  for k in std.objectFields(t) if std.objectHas(t[k], need)
};
local objects(obj, prefix, has) = {
  [prefix + k]: obj[k]
  for k in std.objectFields(obj)
  if std.isObject(obj[k]) && std.all([std.objectHas(obj[k], h) for h in has])
};
{
  panels: {
    [g.panel[k].new('').type]: {
      namespace: k,
      options: if std.objectHas(g.panel[k], 'options') then setters(g.panel[k].options) else {},
      custom: if std.objectHas(g.panel[k], 'fieldConfig')
              then setters(g.panel[k].fieldConfig.defaults.custom) else {},
    }
    for k in std.objectFields(g.panel) if k != 'row'
  },
  conventions: {
    variables: objects(ktrdr.variables, 'ktrdr.variables.', ['name']),
    queries: strings(ktrdr.queries, 'ktrdr.queries'),
    steps: steps('higherIsBetter', 'ok') + steps('lowerIsBetter', 'critical')
           + { 'ktrdr.panels.thresholds.informational': ktrdr.panels.thresholds.informational },
    mappings: objects(ktrdr.panels, 'ktrdr.panels.', ['type', 'options']),
    dataLinks: objects(ktrdr.links, 'ktrdr.links.', ['url']),
    dashboardLinks: {
      ['ktrdr.links.%s[%d]' % [k, i]]: ktrdr.links[k][i]
      for k in std.objectFields(ktrdr.links) if std.isArray(ktrdr.links[k])
      for i in std.range(0, std.length(ktrdr.links[k]) - 1)
    },
  },
}
"""


def evaluate(snippet: str, library: jsonnet.LibraryPath, what: str) -> object:
    try:
        return jsonnet.evaluate_snippet(what, snippet, library)
    except jsonnet.JsonnetError as error:
        raise DashboardError(
            error.message,
            location=Location(file=what),
            fix="the builder library rejected a call the importer wrote; report it",
        ) from None


def words(text: object) -> set[str]:
    """Lower-case words of a title or a camelCase name, to prefer the closer convention (an
    export's title may be anything, or missing)."""
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text if isinstance(text, str) else "")
    return {w for w in re.split(r"[^a-z0-9]+", spaced.lower()) if w}


@dataclass(frozen=True)
class Library:
    """Setter names per panel type and KTRDR convention values, read from lib/ by evaluation
    so the importer follows the library as it changes."""

    jpath: jsonnet.LibraryPath  # where g.libsonnet and ktrdr/ were found
    panels: dict  # type id -> {namespace, options: setter tree, custom: setter tree}
    conventions: dict  # kind -> {Jsonnet expression: value}

    @classmethod
    def load(cls, jpath: jsonnet.LibraryPath) -> Library:
        data = evaluate(CATALOGUE, jpath, "<importer catalogue>")
        assert isinstance(data, dict)
        return cls(jpath, panels=data["panels"], conventions=data["conventions"])

    def convention(self, kind: str, value: object, context: str = "") -> str | None:
        """The convention expression that evaluates to `value`; ties go to the name that
        shares most words with `context` (a panel title), then to the first by name."""
        wanted = canonical(value)
        names = sorted(n for n, v in self.conventions[kind].items() if canonical(v) == wanted)
        if not names:
            return None
        return max(names, key=lambda n: (len(words(n) & words(context)), -names.index(n)))


# ---------------------------------------------------------------- export -> nodes


_MISSING = object()


def as_dict(value: object) -> dict:
    """`value` when it is an object, else an empty one: an export may hold any JSON value."""
    return value if isinstance(value, dict) else {}


def choice(table: dict, value: object) -> str | None:
    """`table[value]` for a number or string `value`; None for anything else (an export may
    hold any JSON value where a number belongs)."""
    return table.get(value) if isinstance(value, int | float | str) else None


def setter_name(key: str) -> str:
    """Grafonnet's name for the setter of a key: `displayMode` → `withDisplayMode`."""
    return "with" + key[:1].upper() + key[1:]


def simple_setters(value: dict, rules: Sequence[tuple[str, str]]) -> list[Code]:
    """`setter(value[key])` for each (dotted key, setter) present in `value`."""
    calls: list[Code] = []
    for dotted, setter in rules:
        current: object = value
        for key in dotted.split("."):
            current = current.get(key, _MISSING) if isinstance(current, dict) else _MISSING
        if current is not _MISSING:
            calls.append(Call(setter, (Lit(current),)))
    return calls


def generic_setters(value: dict, tree: dict, prefix: str) -> list[Code]:
    """Options follow Grafonnet's naming: `options.legend.displayMode` is set by
    `options.legend.withDisplayMode`. Keys without a setter are left to the fixes."""
    calls: list[Code] = []
    for key in sorted(value):
        item, setter = value[key], setter_name(key)
        if isinstance(item, dict) and isinstance(tree.get(key), dict):
            calls += generic_setters(item, tree[key], f"{prefix}.{key}")
        elif tree.get(setter) is True:
            calls.append(Call(f"{prefix}.{setter}", (Lit(item),)))
    return calls


@dataclass
class Importer:
    library: Library

    # -- dashboard
    def dashboard(self, model: dict, layout: Code | None = None) -> Node:
        """The dashboard; `layout`: lib/v2.libsonnet calls that set its panels instead."""
        d = "g.dashboard"
        terms: list[Code] = [Call(f"{d}.new", (Lit(model.get("title", "")),))]
        terms += simple_setters(
            model,
            [
                ("uid", f"{d}.withUid"),
                ("description", f"{d}.withDescription"),
                ("tags", f"{d}.withTags"),
                ("refresh", f"{d}.withRefresh"),
                ("time.from", f"{d}.time.withFrom"),
                ("time.to", f"{d}.time.withTo"),
                ("timezone", f"{d}.withTimezone"),
                ("schemaVersion", f"{d}.withSchemaVersion"),
                ("editable", f"{d}.withEditable"),
                ("liveNow", f"{d}.withLiveNow"),
                ("weekStart", f"{d}.withWeekStart"),
                ("fiscalYearStartMonth", f"{d}.withFiscalYearStartMonth"),
                ("timepicker.hidden", f"{d}.timepicker.withHidden"),
                ("timepicker.refresh_intervals", f"{d}.timepicker.withRefreshIntervals"),
                ("timepicker.time_options", f"{d}.timepicker.withTimeOptions"),
                ("timepicker.nowDelay", f"{d}.timepicker.withNowDelay"),
            ],
        )
        tooltip = choice(
            {1: "withSharedCrosshair", 2: "withSharedTooltip"}, model.get("graphTooltip")
        )
        if tooltip:
            terms.append(Call(f"{d}.graphTooltip.{tooltip}"))
        variables = as_dict(model.get("templating")).get("list")
        if isinstance(variables, list):
            terms.append(Call(f"{d}.withVariables", ([self.variable(v) for v in variables],)))
        annotations = as_dict(model.get("annotations")).get("list")
        if isinstance(annotations, list):
            terms.append(Call(f"{d}.withAnnotations", ([Lit(a) for a in annotations],)))
        if isinstance(model.get("links"), list):
            terms.append(
                Call(f"{d}.withLinks", ([self.dashboard_link(x) for x in model["links"]],))
            )
        if layout is not None:
            terms.append(Call("v2.dashboard.withLayout", (layout,)))
        elif isinstance(model.get("panels"), list):
            terms.append(Call(f"{d}.withPanels", ([self.panel(p) for p in model["panels"]],)))
        return Node(terms, model, kind="dashboard")

    def variable(self, value: object) -> Code:
        if not isinstance(value, dict):
            return Lit(value)
        known = self.library.convention("variables", value, str(value.get("name", "")))
        if known:
            return Node([known], value)
        kind, name, query = value.get("type"), value.get("name", ""), value.get("query", "")
        v = f"g.dashboard.variable.{kind}"
        if kind == "datasource":
            terms: list[Code] = [Call(f"{v}.new", (Lit(name), Lit(query)))]
        elif kind == "query":
            terms = [Call(f"{v}.new", (Lit(name), Lit(query)))]
            source = value.get("datasource")
            if isinstance(source, dict) and {"type", "uid"} <= source.keys():
                terms.append(Call(f"{v}.withDatasource", (Lit(source["type"]), Lit(source["uid"]))))
            refresh = choice({1: "onLoad", 2: "onTime"}, value.get("refresh"))
            if refresh:
                terms.append(Call(f"{v}.refresh.{refresh}"))
            if isinstance(value.get("sort"), int) and value["sort"]:
                terms.append(Call(f"{v}.withSort", (Lit(value["sort"]),)))
        elif kind in ("custom", "interval") and isinstance(query, str):
            values = [item.strip() for item in query.split(",") if item.strip()]
            terms = [Call(f"{v}.new", (Lit(name), Lit(values)))]
        elif kind in ("constant", "textbox"):
            terms = [Call(f"{v}.new", (Lit(name), Lit(query)))]
        else:
            # ad hoc filters and other kinds have no builder: one literal per variable
            return Lit(value)
        terms += simple_setters(
            value,
            [
                ("label", f"{v}.generalOptions.withLabel"),
                ("description", f"{v}.generalOptions.withDescription"),
            ],
        )
        if kind in ("datasource", "query"):
            terms += simple_setters(value, [("regex", f"{v}.withRegex")])
        if kind in ("datasource", "query", "custom"):
            terms += simple_setters(value, [("multi", f"{v}.selectionOptions.withMulti")])
            if "includeAll" in value:
                extra = (Lit(value["allValue"]),) if "allValue" in value else ()
                terms.append(
                    Call(f"{v}.selectionOptions.withIncludeAll", (Lit(value["includeAll"]), *extra))
                )
        current = value.get("current")
        if isinstance(current, dict) and kind in ("datasource", "query"):
            text, chosen = current.get("text"), current.get("value")
            if (
                isinstance(text, list)
                and isinstance(chosen, list)
                and len(text) == len(chosen) == 1
            ):
                text, chosen = text[0], chosen[0]
            if isinstance(text, str) and isinstance(chosen, str):
                terms.append(Call(f"{v}.generalOptions.withCurrent", (Lit(text), Lit(chosen))))
        show = choice(
            {0: "withLabelAndValue", 1: "withValueOnly", 2: "withNothing"}, value.get("hide")
        )
        if show and kind != "constant":
            terms.append(Call(f"{v}.generalOptions.showOnDashboard.{show}"))
        return Node(terms, value)

    def dashboard_link(self, value: object) -> Code:
        if not isinstance(value, dict):
            return Lit(value)
        known = self.library.convention("dashboardLinks", value, str(value.get("title", "")))
        if known:
            return Node([known], value)
        kind = value.get("type")
        if kind == "dashboards":
            base = "g.dashboard.link.dashboards"
            terms: list[Code] = [
                Call(f"{base}.new", (Lit(value.get("title", "")), Lit(value.get("tags", []))))
            ]
        elif kind == "link":
            base = "g.dashboard.link.link"
            terms = [Call(f"{base}.new", (Lit(value.get("title", "")), Lit(value.get("url", ""))))]
            terms += simple_setters(
                value, [("icon", f"{base}.withIcon"), ("tooltip", f"{base}.withTooltip")]
            )
        else:
            return Lit(value)
        terms += simple_setters(
            value,
            [(key, f"{base}.options.{setter_name(key)}") for key in LINK_OPTIONS],
        )
        return Node(terms, value)

    # -- panels
    def panel(self, value: object) -> Code:
        if not isinstance(value, dict):
            return Lit(value)
        if value.get("type") == "row":
            return self.row(value)
        kind = self.library.panels.get(str(value.get("type")))
        title = value.get("title", "")
        # Options every panel type shares; a type without a builder borrows stat's.
        p = f"g.panel.{kind['namespace'] if kind else 'stat'}"
        if kind:
            terms: list[Code] = [Call(f"{p}.new", (Lit(title),))]
        else:
            terms = [Lit({"type": value.get("type"), "title": title})]
        terms += simple_setters(
            value,
            [
                ("description", f"{p}.panelOptions.withDescription"),
                ("transparent", f"{p}.panelOptions.withTransparent"),
                ("repeat", f"{p}.panelOptions.withRepeat"),
                ("repeatDirection", f"{p}.panelOptions.withRepeatDirection"),
                ("maxPerRow", f"{p}.panelOptions.withMaxPerRow"),
            ],
        )
        grid = value.get("gridPos")
        if isinstance(grid, dict):
            sizes = tuple(f"{k}={literal(grid[k])}" for k in ("h", "w", "x", "y") if k in grid)
            if sizes:
                terms.append(Call(f"{p}.panelOptions.withGridPos", sizes))
        if isinstance(value.get("links"), list):
            terms.append(Call(f"{p}.panelOptions.withLinks", ([Lit(x) for x in value["links"]],)))
        source = value.get("datasource")
        if isinstance(source, dict) and {"type", "uid"} <= source.keys():
            terms.append(
                Call(f"{p}.queryOptions.withDatasource", (Lit(source["type"]), Lit(source["uid"])))
            )
        if isinstance(value.get("targets"), list):
            targets = [self.target(t, title) for t in value["targets"]]
            terms.append(Call(f"{p}.queryOptions.withTargets", (targets,)))
        if isinstance(value.get("transformations"), list):
            steps = [self.transformation(t, p) for t in value["transformations"]]
            terms.append(Call(f"{p}.queryOptions.withTransformations", (steps,)))
        terms += simple_setters(
            value,
            [
                (key, f"{p}.queryOptions.{setter_name(key)}")
                for key in (
                    "interval",
                    "maxDataPoints",
                    "timeFrom",
                    "timeShift",
                    "hideTimeOverride",
                    "queryCachingTTL",
                )
            ],
        )
        custom = kind["custom"] if kind else {}
        terms += self.field_config(value.get("fieldConfig"), p, custom, title)
        if kind and isinstance(value.get("options"), dict):
            terms += generic_setters(value["options"], kind["options"], f"{p}.options")
        comment = "" if kind else "no builder for this panel type: shared options from g.panel.stat"
        return Node(terms, value, kind="panel", comment=comment)

    def field_config(self, config: object, p: str, custom: dict, title: str) -> list[Code]:
        if not isinstance(config, dict):
            return []
        s = f"{p}.standardOptions"
        defaults = config.get("defaults") if isinstance(config.get("defaults"), dict) else {}
        terms: list[Code] = simple_setters(
            defaults,
            [
                *((k, f"{s}.{setter_name(k)}") for k in STANDARD_SCALARS),
                ("color.mode", f"{s}.color.withMode"),
                ("color.fixedColor", f"{s}.color.withFixedColor"),
                ("color.seriesBy", f"{s}.color.withSeriesBy"),
                ("thresholds.mode", f"{s}.thresholds.withMode"),
            ],
        )
        steps = as_dict(defaults.get("thresholds")).get("steps")
        if isinstance(steps, list):
            known = self.library.convention("steps", steps, title)
            code: Code = known or [self.step(x, s) for x in steps]
            terms.append(Call(f"{s}.thresholds.withSteps", (code,)))
        if isinstance(defaults.get("mappings"), list):
            terms.append(Call(f"{s}.withMappings", (self.mappings(defaults["mappings"], s),)))
        if isinstance(defaults.get("links"), list):
            links = [self.data_link(x) for x in defaults["links"]]
            terms.append(Call(f"{s}.withLinks", (links,)))
        if isinstance(config.get("overrides"), list):
            overrides = [self.override(x, s) for x in config["overrides"]]
            terms.append(Call(f"{s}.withOverrides", (overrides,)))
        if isinstance(defaults.get("custom"), dict):
            terms += generic_setters(defaults["custom"], custom, f"{p}.fieldConfig.defaults.custom")
        return terms

    def step(self, value: object, s: str) -> Code:
        if isinstance(value, dict) and set(value) == {"color", "value"}:
            step = f"{s}.threshold.step"
            return Node(
                [
                    Call(f"{step}.withColor", (Lit(value["color"]),)),
                    Call(f"{step}.withValue", (Lit(value["value"]),)),
                ],
                value,
            )
        return Lit(value)

    def mappings(self, values: list, s: str) -> list[Code]:
        return [self.mapping(x, s) for x in values]

    def mapping(self, value: object, s: str) -> Code:
        if not isinstance(value, dict):
            return Lit(value)
        known = self.library.convention("mappings", value)
        if known:
            return Node([known], value)
        kind = MAPPING_KINDS.get(str(value.get("type")))
        if not kind:
            return Lit(value)
        m = f"{s}.mapping.{kind}"
        terms: list[Code] = [Call(f"{m}.withType")]
        terms += simple_setters(value, [("options", f"{m}.withOptions")])
        return Node(terms, value)

    def data_link(self, value: object) -> Code:
        known = self.library.convention("dataLinks", value)
        # Data links have no builder upstream: a literal per link.
        return Node([known], value) if known else Lit(value)

    def override(self, value: object, s: str) -> Code:
        matcher = value.get("matcher") if isinstance(value, dict) else None
        if not (isinstance(matcher, dict) and matcher.get("id") in OVERRIDE_MATCHERS):
            return Lit(value)
        o = f"{s}.override.{matcher['id']}"
        terms: list[Code] = [Call(f"{o}.new", (Lit(matcher.get("options")),))]
        properties = value.get("properties")
        for prop in properties if isinstance(properties, list) else []:
            if not (isinstance(prop, dict) and set(prop) == {"id", "value"}):
                continue
            setting = prop["value"]
            if prop["id"] == "mappings" and isinstance(setting, list):
                setting = self.mappings(setting, s)
            else:
                setting = Lit(setting)
            terms.append(Call(f"{o}.withProperty", (Lit(prop["id"]), setting)))
        return Node(terms, value)

    def transformation(self, value: object, p: str) -> Code:
        if not (isinstance(value, dict) and "id" in value):
            return Lit(value)
        t = f"{p}.queryOptions.transformation"
        terms = simple_setters(
            value,
            [
                ("id", f"{t}.withId"),
                ("options", f"{t}.withOptions"),
                ("disabled", f"{t}.withDisabled"),
                ("topic", f"{t}.withTopic"),
                ("filter", f"{t}.withFilter"),
            ],
        )
        return Node(terms, value)

    def target(self, value: object, title: str) -> Code:
        if not (isinstance(value, dict) and isinstance(value.get("expr"), str)):
            # Targets of other datasources (Jaeger, Loki, ...) have no builder here.
            return Lit(value)
        q = "g.query.prometheus"
        known = self.library.convention("queries", value["expr"], title)
        expr: Code = known or Lit(value["expr"])
        source = value.get("datasource")
        if isinstance(source, dict) and source.get("type") == "prometheus" and "uid" in source:
            terms: list[Code] = [Call(f"{q}.new", (Lit(source["uid"]), expr))]
        else:
            terms = [Call(f"{q}.withExpr", (expr,))]
        terms += simple_setters(value, [(key, f"{q}.{setter_name(key)}") for key in TARGET_SETTERS])
        return Node(terms, value)

    def row(self, value: dict) -> Node:
        r = "g.panel.row"
        terms: list[Code] = [Call(f"{r}.new", (Lit(value.get("title", "")),))]
        grid = value.get("gridPos")
        if isinstance(grid, dict) and "y" in grid:
            terms.append(Call(f"{r}.withGridPos", (Lit(grid["y"]),)))
        terms += simple_setters(
            value, [("collapsed", f"{r}.withCollapsed"), ("repeat", f"{r}.withRepeat")]
        )
        if isinstance(value.get("panels"), list):
            terms.append(Call(f"{r}.withPanels", ([self.panel(x) for x in value["panels"]],)))
        return Node(terms, value, kind="panel")


STANDARD_SCALARS = (
    "unit",
    "min",
    "max",
    "decimals",
    "displayName",
    "noValue",
    "filterable",
    "path",
)
LINK_OPTIONS = ("asDropdown", "includeVars", "keepTime", "targetBlank")
MAPPING_KINDS = {
    "value": "ValueMap",
    "range": "RangeMap",
    "regex": "RegexMap",
    "special": "SpecialValueMap",
}
OVERRIDE_MATCHERS = ("byName", "byRegexp", "byType", "byQuery", "byValue")
TARGET_SETTERS = (
    "legendFormat",
    "instant",
    "range",
    "format",
    "interval",
    "intervalFactor",
    "editorMode",
    "exemplar",
    "hide",
    "queryType",
    "refId",
)

# ---------------------------------------------------------------- the written file

# The header holds no text of the export: whatever the export says is written only inside
# string literals (`jsonnet_string`), where it cannot end a comment and become code.
HEADER = """\
// Imported from a Grafana export by `python -m ktrdr_dashboards import`.
// Builder calls where g.libsonnet has a setter, KTRDR conventions where one gives exactly the
// exported value, and one explicit fragment per remaining key (`field:: null` drops a builder
// default the export does not have). Edit it like any source; `diff` shows what still differs.
"""


def jsonnet_source(
    model: dict, library: Library, layout: dict | None = None, where: str | None = None
) -> str:
    """The Jsonnet text (not yet formatted) that evaluates to `model` (a plain export) and,
    given a v2-only `layout` (`exports.Export.layout`), carries it as the hidden `v2Layout`
    built with lib/v2.libsonnet. `where`: the export's file, for refusals."""
    importer = Importer(library)
    stripped = exports.strip_regenerated(model)
    uid = str(model.get("uid", ""))
    written_layout = None
    if layout is not None:
        panels = {
            f"panel-{p['id']}": strip("panel", p)
            for p in dashboard_model.panels(model)
            if isinstance(p.get("id"), int) and p.get("type") != "row"
        }
        location = Location(file=where, dashboard=uid or None)
        writer = layouts.LayoutWriter(panels, importer.panel, location)
        written_layout = writer.layout(layout)
    root = importer.dashboard(stripped, written_layout)
    probes = list(nodes_in(root))
    imports = "local g = import 'g.libsonnet';\nlocal ktrdr = import 'ktrdr/ktrdr.libsonnet';\n"
    checks = ["\n+ ".join(render(t, probe=True) for t in n.terms) for n in probes]
    if layout is not None:
        imports += "local v2 = import 'v2.libsonnet';\n"
        checks.append("(" + render(Plus(tuple(root.terms)), probe=True) + ").v2Layout")
    emitted = evaluate(
        imports + "[\n" + ",\n".join(checks) + "\n]", library.jpath, "<importer probe>"
    )
    assert isinstance(emitted, list)
    if layout is not None:
        layouts.check(layouts.renumbered(layout, model), emitted.pop(), writer.location)
    for node, got in zip(probes, emitted, strict=True):
        node.fixes = list(differences(node.value, strip(node.kind, got)))
    body = render(root, probe=False)
    lines = [HEADER, "local g = import 'g.libsonnet';"]
    if "ktrdr." in body:
        lines.append("local ktrdr = import 'ktrdr/ktrdr.libsonnet';")
    if layout is not None:
        lines.append("local v2 = import 'v2.libsonnet';")
    return "\n".join(lines) + "\n\n" + body + "\n"


def formatted(text: str) -> str:
    result = tools.run("jsonnetfmt", ["-"], input=text)
    if result.returncode != 0:
        raise DashboardError(
            f"jsonnetfmt rejected the generated source: {result.stderr.strip()}",
            fix="report it: the importer wrote invalid Jsonnet",
        )
    return result.stdout


def default_name(model: dict) -> str:
    """File stem from the uid (or title): `ktrdr-worker-status` → `worker-status`, as the
    sources are named after the uid without the shared prefix."""
    base = str(model.get("uid") or model.get("title") or "dashboard")
    slug = re.sub(r"[^a-z0-9]+", "-", base.lower()).strip("-") or "dashboard"
    return slug.removeprefix("ktrdr-") or slug


@dataclass(frozen=True)
class ImportResult:
    path: Path
    notes: list[str]  # export inputs that could not be bound
    findings: list[str]  # the validation gate's lines for the written file


def write_source(
    project: build_module.Project, export: Path, name: str | None = None, force: bool = False
) -> tuple[Path, list[str]]:
    """Write jsonnet/NAME.jsonnet for an export, formatted, and compile it; returns the path
    and notes on inputs that could not be bound."""
    jpath = project.library()
    bindings = exports.project_bindings(jpath, project.provisioning_dir)
    loaded = exports.load(export, bindings)
    model, notes = loaded.model, loaded.notes
    stem = name or default_name(model)
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", stem):
        raise DashboardError(f"`{stem}` is not a file name", fix="pass NAME like `my-dashboard`")
    target = project.jsonnet_dir / f"{stem}.jsonnet"
    if target.exists() and not force:
        raise DashboardError(
            "already exists",
            location=Location(file=str(target)),
            fix="pass another NAME, or --force to overwrite it",
        )
    text = formatted(jsonnet_source(model, Library.load(jpath), loaded.layout, str(export)))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    jsonnet_compile.compile_file(target, jpath)
    return target, notes


def import_dashboard(
    project: build_module.Project, export: Path, name: str | None = None, force: bool = False
) -> ImportResult:
    """Write jsonnet/NAME.jsonnet for an export, then run the gate. The file is written even
    when the gate has findings: the user fixes the source."""
    target, notes = write_source(project, export, name, force)
    return ImportResult(path=target, notes=notes, findings=project_findings(project, [target]))


def project_findings(project: build_module.Project, sources: Sequence[Path]) -> list[str]:
    """The validation gate `build` runs, on the whole project (an imported dashboard links to
    the others), reported for `sources` only. A problem that stops the project from
    evaluating at all (a duplicate uid, say) is the one line returned."""
    if not sources:
        return []
    # Imported here: the validator imports the build module, which this module imports too.
    from ktrdr_dashboards import validate

    try:
        output = build_module.evaluate(project)
    except DashboardError as error:
        return [str(error)]
    root = project.root.resolve()
    shown = {str(source.resolve().relative_to(root)) for source in sources}
    return [
        finding.line()
        for finding in validate.check_project(project, output)
        if finding.location.file in shown
    ]
