"""What `diff` compares: a dashboard as Grafana reads it, the same whichever format it was
written in.

Not differences: the keys Grafana assigns or rewrites (`exports.strip_regenerated`),
`schemaVersion` (schema v2 has none), and a field absent on one side but at its schema default
on the other. Defaults are Grafana's own, read from the published classic schema
(`data/schemas/dashboardv1.schema.json`); where it has none, the v2 schema's default of the same
field (`dashboardv2.schema.json`), and the empty value of a field v2 requires and a classic
export may leave out (a panel's `options`, `targets`, `links`, `description`, ...). A target
without a datasource queries its panel's, and a panel's own datasource means nothing when
every target names one, or when it has no targets (docs/grafana-versions.md): it is then not
compared.

Layouts (`layout`) compare with their element references named after the panel they place
(`panels["Title"]`), so panel ids and element names are no difference either."""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources

from ktrdr_dashboards import model as dashboard_model
from ktrdr_dashboards.convert import common
from ktrdr_dashboards.roundtrip import exports

MIXED = "-- Mixed --"

# A single-valued enum the schema generator turned into a default: absent means "in the
# usual place", `inControlsMenu` somewhere else. Not a default.
_NOT_DEFAULTS = frozenset(("placement", "schemaVersion"))

# Fields schema v2 requires that a classic export may leave out, at their empty value.
_EMPTY_DASHBOARD = {
    "description": "",
    "weekStart": "",  # the browser locale's, which v2 says by leaving it out
    "links": [],
    "tags": [],
    "annotations": {"list": []},
    "templating": {"list": []},
}
_EMPTY_PANEL = {
    "description": "",
    "links": [],
    "targets": [],
    "transformations": [],
    "options": {},
    "fieldConfig": {"defaults": {}, "overrides": []},
}
_EMPTY_LINK = {"icon": "external link", "tooltip": "", "tags": []}
# Grafana refreshes an interval variable when the time range changes, whatever it says (and
# schema v2 writes it so).
_VARIABLE_OWN = {"interval": {"refresh": 2}}


@cache
def _definitions(name: str) -> dict:
    path = resources.files("ktrdr_dashboards") / "data" / "schemas" / name
    return json.loads(path.read_text(encoding="utf-8"))["definitions"]


def _defaults(definitions: dict, name: str) -> dict[str, object]:
    properties = definitions[name].get("properties", {})
    return {
        key: prop["default"]
        for key, prop in properties.items()
        if "default" in prop and key not in _NOT_DEFAULTS
    }


@cache
def classic_defaults(definition: str) -> dict[str, object]:
    """The defaults of a definition of Grafana's classic schema (`Dashboard`, `Panel`, ...)."""
    return _defaults(_definitions("dashboardv1.schema.json"), definition)


@cache
def v2_defaults(definition: str) -> dict[str, object]:
    """The defaults of a definition of the v2 schema (`AutoGridLayoutSpec`, ...)."""
    definitions = _definitions("dashboardv2.schema.json")
    return _defaults(definitions, definition) if definition in definitions else {}


# Classic variable fields whose v2 counterpart is an enum name.
_ENUMS = {"hide": common.HIDE, "refresh": common.REFRESH, "sort": common.SORT}


@cache
def variable_defaults(variable_type: str) -> dict[str, object]:
    """Defaults of a classic variable of one type: the classic schema's, then the v2 kind's
    (its enum names as the classic numbers) and the empty value of what v2 requires."""
    found = dict(classic_defaults("VariableModel"))
    kind = common.VARIABLE_KINDS.get(variable_type)
    if kind is None:
        return found
    definition = f"{kind}Spec"
    required = _definitions("dashboardv2.schema.json")[definition].get("required", [])
    v2 = {k: v for k, v in common.REQUIRED_EMPTY.items() if k in required}
    v2.update(v2_defaults(definition))
    for key, value in v2.items():
        if key in found or key in ("name", "query", "pluginId"):
            continue  # the classic schema's default, or a field whose classic form differs
        if key in _ENUMS:
            if value not in _ENUMS[key]:
                continue
            value = _ENUMS[key].index(value)
        if key == "current" and not isinstance(value, dict):
            continue
        found[key] = value
    return {**found, **_VARIABLE_OWN.get(variable_type, {})}


@cache
def dashboard_defaults() -> dict[str, object]:
    """The classic schema's dashboard defaults, then the v2 schema's of the fields both
    models name alike (`preload`)."""
    classic = _definitions("dashboardv1.schema.json")["Dashboard"]["properties"]
    shared = {k: v for k, v in v2_defaults("Dashboard").items() if k in classic}
    return {**shared, **classic_defaults("Dashboard"), **_EMPTY_DASHBOARD}


def _fill(item: dict, defaults: dict[str, object]) -> None:
    for key, value in defaults.items():
        if key not in item:
            item[key] = copy.deepcopy(value)
        elif isinstance(value, dict) and isinstance(item[key], dict):
            _fill(item[key], value)


def _datasources(panel: dict) -> None:
    """Targets without a datasource take the panel's; the panel's is dropped when every target
    names one, or it has none (nothing queries it)."""
    targets = panel.get("targets")
    if not isinstance(targets, list):
        return
    source = panel.get("datasource")
    if isinstance(source, dict) and source.get("uid") != MIXED:
        for target in targets:
            if isinstance(target, dict) and "datasource" not in target:
                target["datasource"] = copy.deepcopy(source)
    if all(isinstance(t, dict) and "datasource" in t for t in targets):
        panel.pop("datasource", None)


def _dicts(value: object) -> list[dict]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def comparable(model: dict) -> dict:
    """A copy of a classic model as `diff` compares it (see the module's docstring). Panel
    ids stay, for matching panels; `semdiff.panels_of` leaves them out of the comparison."""
    found = {
        key: copy.deepcopy(value)
        for key, value in model.items()
        if key not in (*exports.REGENERATED_DASHBOARD_KEYS, "schemaVersion")
    }
    _fill(found, dashboard_defaults())
    if isinstance(found.get("timepicker", {}), dict):
        found.setdefault("timepicker", {})
        _fill(found["timepicker"], classic_defaults("TimePickerConfig"))
    for panel in dashboard_model.panels(found):
        if panel.get("type") == "row":
            _fill(panel, classic_defaults("RowPanel"))
            continue
        _fill(panel, {**classic_defaults("Panel"), **_EMPTY_PANEL})
        _datasources(panel)
    templating = found.get("templating")
    for variable in _dicts(templating.get("list") if isinstance(templating, dict) else None):
        _fill(variable, variable_defaults(str(variable.get("type", ""))))
    annotations = found.get("annotations")
    for annotation in _dicts(annotations.get("list") if isinstance(annotations, dict) else None):
        _fill(annotation, classic_defaults("AnnotationQuery"))
    for link in _dicts(found.get("links")):
        _fill(link, {**classic_defaults("DashboardLink"), **_EMPTY_LINK})
    return found


# ---------------------------------------------------------------- layouts

# v2alpha1 names of what v2beta1 and v2 call the auto grid.
_RENAMED_KINDS = {
    "ResponsiveGridLayout": "AutoGridLayout",
    "ResponsiveGridLayoutItem": "AutoGridLayoutItem",
}
# Optional booleans without a schema default: absent is false, as Grafana reads them.
_FALSE_UNLESS_SET = {
    "RowsLayoutRow": {"title": "", "collapse": False, "hideHeader": False, "fillScreen": False},
    "TabsLayoutTab": {"title": ""},
}


def comparable_layout(layout: object, labels: dict[str, str]) -> object:
    """A copy of a v2 layout with each element reference named by `labels` (element name →
    panel label), kinds under their v2 names and absent fields at their defaults."""
    if isinstance(layout, list):
        return [comparable_layout(item, labels) for item in layout]
    if not isinstance(layout, dict):
        return copy.deepcopy(layout)
    kind = layout.get("kind")
    if kind == "ElementReference" and isinstance(layout.get("name"), str):
        return {"kind": kind, "name": labels.get(layout["name"], layout["name"])}
    found = {key: comparable_layout(value, labels) for key, value in layout.items()}
    if isinstance(kind, str):
        kind = _RENAMED_KINDS.get(kind, kind)
        found["kind"] = kind
        if isinstance(found.get("spec"), dict):
            _fill(found["spec"], {**v2_defaults(f"{kind}Spec"), **_FALSE_UNLESS_SET.get(kind, {})})
    if isinstance(found.get("repeat"), dict):
        found["repeat"].setdefault("mode", "variable")
    return found
