"""Rules on the schema v2 dashboards the Grafana resources and GrafanaManifests carry: each
follows the published v2 schema of its apiVersion, and shows exactly the panels, queries and
order of the classic dashboard built from the same source. Read without the conversion
module's help (only its schema check), so a conversion that drops, reorders or changes a panel
is caught here. `dashboard_findings` judges one dashboard."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ktrdr_dashboards import convert
from ktrdr_dashboards import model as dashboard_model
from ktrdr_dashboards.errors import Location
from ktrdr_dashboards.validate.checks.kubernetes import carried_v2
from ktrdr_dashboards.validate.core import Built, Finding, as_dict, as_list, resource_check

SCHEMA_FILES = {"v2": "dashboardv2.schema.json", "v2beta1": "dashboardv2beta1.schema.json"}
_REBUILD = "rebuild; never edit the generated resources"
_LAYOUT_FIX = (
    "lay out every panel once, in the order of the classic panels, in the source's v2Layout "
    "(lib/v2.libsonnet); then rebuild"
)


@dataclass(frozen=True)
class Query:
    ref_id: str
    hidden: bool
    datasource: tuple[str, str]  # (plugin type, uid)
    body: dict  # the query without refId, hide and datasource


@dataclass(frozen=True)
class Panel:
    id: object
    kind: str  # the panel plugin, "library panel" for a library panel reference
    title: str
    queries: tuple[Query, ...]

    def location(self, file: str, uid: str) -> Location:
        panel_id = self.id if isinstance(self.id, int) and not isinstance(self.id, bool) else None
        return Location(file=file, dashboard=uid, panel=self.title, panel_id=panel_id)

    def named(self) -> str:
        return f'panel "{self.title}" (id {self.id})'


# ---------------------------------------------------------------- the classic side


def _position(panel: dict) -> tuple[int, int]:
    grid = as_dict(panel.get("gridPos"))
    y, x = grid.get("y"), grid.get("x")
    return (y if isinstance(y, int) else 0, x if isinstance(x, int) else 0)


def classic_panels(model: dict) -> list[Panel]:
    """The panels in reading order: row by row, top to bottom and left to right in each."""
    sections: list[list[dict]] = [[]]
    for _, panel in dashboard_model.panels_with_rows(model):
        if panel.get("type") == "row":
            sections.append([])
        else:
            sections[-1].append(panel)
    ordered = [p for section in sections for p in sorted(section, key=_position)]
    return [_classic_panel(p) for p in ordered]


def _classic_panel(panel: dict) -> Panel:
    if isinstance(panel.get("libraryPanel"), dict):
        return Panel(panel.get("id"), "library panel", str(panel.get("title", "")), ())
    queries = []
    for target in as_list(panel.get("targets")):
        target = as_dict(target)
        source = target.get("datasource", panel.get("datasource"))
        source = source if isinstance(source, dict) else {"uid": source}
        queries.append(
            Query(
                str(target.get("refId", "")),
                bool(target.get("hide", False)),
                (str(source.get("type", "")), str(source.get("uid", ""))),
                {k: v for k, v in target.items() if k not in ("refId", "hide", "datasource")},
            )
        )
    return Panel(
        panel.get("id"), str(panel.get("type", "")), str(panel.get("title", "")), tuple(queries)
    )


# ---------------------------------------------------------------- the v2 side


def layout_order(layout: object) -> list[str]:
    """The element names a v2 layout places, in reading order: rows and tabs in turn, a grid
    top to bottom and left to right, an auto grid as listed."""
    layout = as_dict(layout)
    kind, spec = layout.get("kind"), as_dict(layout.get("spec"))
    items = [as_dict(as_dict(item).get("spec")) for item in as_list(spec.get("items"))]
    if kind == "GridLayout":
        items = sorted(items, key=_position_v2)
    if kind in ("GridLayout", "AutoGridLayout"):
        names = [as_dict(item.get("element")).get("name") for item in items]
        return [name for name in names if isinstance(name, str)]
    sections = as_list(spec.get("rows" if kind == "RowsLayout" else "tabs"))
    if kind not in ("RowsLayout", "TabsLayout"):
        return []
    return [
        name
        for section in sections
        for name in layout_order(as_dict(as_dict(section).get("spec")).get("layout"))
    ]


def _position_v2(item: dict) -> tuple[int, int]:
    y, x = item.get("y"), item.get("x")
    return (y if isinstance(y, int) else 0, x if isinstance(x, int) else 0)


def _v2_panel(element: dict) -> Panel:
    spec = as_dict(element.get("spec"))
    title = str(spec.get("title", ""))
    if element.get("kind") == "LibraryPanel":
        return Panel(spec.get("id"), "library panel", title, ())
    queries = []
    for item in as_list(as_dict(as_dict(spec.get("data")).get("spec")).get("queries")):
        query_spec = as_dict(as_dict(item).get("spec"))
        query = as_dict(query_spec.get("query"))
        queries.append(
            Query(
                str(query_spec.get("refId", "")),
                bool(query_spec.get("hidden", False)),
                (
                    str(query.get("group", "")),
                    str(as_dict(query.get("datasource")).get("name", "")),
                ),
                as_dict(query.get("spec")),
            )
        )
    kind = str(as_dict(spec.get("vizConfig")).get("group", ""))
    return Panel(spec.get("id"), kind, title, tuple(queries))


# ---------------------------------------------------------------- the rules


def _schema_findings(file: str, uid: str, spec: object, version: str) -> Iterator[Finding]:
    for error in convert.schema_errors(spec, version):
        yield Finding(
            "v2/schema",
            Location(file=file, dashboard=uid),
            f"{error} (schema {version}, ktrdr_dashboards/data/schemas/{SCHEMA_FILES[version]})",
            _REBUILD + "; a source's v2Layout is built with lib/v2.libsonnet",
        )


def _query_problem(v2: Panel, classic: Panel) -> str | None:
    v2_ids, classic_ids = [q.ref_id for q in v2.queries], [q.ref_id for q in classic.queries]
    if v2_ids != classic_ids:
        return f"has queries {v2_ids}, the classic panel targets {classic_ids}"
    for mine, theirs in zip(v2.queries, classic.queries, strict=True):
        if mine.datasource != theirs.datasource:
            return (
                f"query {mine.ref_id} reads datasource {mine.datasource[1]!r} "
                f"({mine.datasource[0]}), the classic target {theirs.datasource[1]!r} "
                f"({theirs.datasource[0]})"
            )
        if mine.body != theirs.body or mine.hidden != theirs.hidden:
            return f"query {mine.ref_id} differs from the classic target {theirs.ref_id}"
    return None


def _panel_findings(file: str, uid: str, spec: dict, classic: dict) -> Iterator[Finding]:
    where = Location(file=file, dashboard=uid)
    elements = as_dict(spec.get("elements"))
    placed = layout_order(spec.get("layout"))
    for name in dict.fromkeys(placed):
        if not isinstance(elements.get(name), dict):
            yield Finding(
                "v2/panels",
                where,
                f"the layout places {name}, which is no element of the dashboard",
                _LAYOUT_FIX,
            )
        elif placed.count(name) > 1:
            yield Finding(
                "v2/panels",
                _v2_panel(elements[name]).location(file, uid),
                f"is placed {placed.count(name)} times in the v2 layout",
                _LAYOUT_FIX,
            )
    mine = [_v2_panel(elements[name]) for name in dict.fromkeys(placed) if name in elements]
    theirs = classic_panels(classic)
    mine_by_id = {p.id: p for p in mine}
    theirs_by_id = {p.id: p for p in theirs}
    for panel in theirs:
        if panel.id not in mine_by_id:
            yield Finding(
                "v2/panels",
                panel.location(file, uid),
                "is a panel of the classic dashboard that the v2 layout does not show",
                _LAYOUT_FIX,
            )
    for panel in mine:
        if panel.id not in theirs_by_id:
            yield Finding(
                "v2/panels",
                panel.location(file, uid),
                "is shown by the v2 layout but is no panel of the classic dashboard",
                _REBUILD,
            )
    order_mine = [p for p in mine if p.id in theirs_by_id]
    order_theirs = [p for p in theirs if p.id in mine_by_id]
    for place, (shown, expected) in enumerate(zip(order_mine, order_theirs, strict=True), 1):
        if shown.id != expected.id:
            yield Finding(
                "v2/panels",
                shown.location(file, uid),
                f"comes in place {place} of the v2 layout, where the classic dashboard has "
                f"{expected.named()}",
                _LAYOUT_FIX,
            )
            break
    for panel in order_mine:
        other = theirs_by_id[panel.id]
        if (panel.kind, panel.title) != (other.kind, other.title):
            yield Finding(
                "v2/panels",
                panel.location(file, uid),
                f'is a {panel.kind} panel titled "{panel.title}", the classic panel a '
                f'{other.kind} titled "{other.title}"',
                _REBUILD,
            )
        elif problem := _query_problem(panel, other):
            yield Finding("v2/panels", panel.location(file, uid), problem, _REBUILD)


def dashboard_findings(
    file: str, uid: str, spec: object, version: str, classic: dict | None
) -> list[Finding]:
    """Every finding on one schema v2 dashboard (`spec`, of schema `version`, in `file`) against
    the classic model built from the same source (None: none was built, which the
    kubernetes/dashboard rule reports)."""
    found = list(_schema_findings(file, uid, spec, version))
    if isinstance(spec, dict) and classic is not None:
        found += _panel_findings(file, uid, spec, classic)
    return found


@resource_check(
    (
        "v2/schema",
        "each schema v2 dashboard validates against the published v2 schema of its apiVersion",
    ),
    (
        "v2/panels",
        "each schema v2 dashboard shows the panels and queries of the classic one, in its order",
    ),
)
def v2_dashboards(path: str, document: object, built: Mapping[str, Built]) -> Iterator[Finding]:
    for item in carried_v2(document):
        uid = item.uid or ""
        classic = built.get(uid)
        if classic is None:
            yield from dashboard_findings(path, uid, item.dashboard, item.schema, None)
            continue
        # The Grafana resources and the GrafanaManifests carry the same spec: it is judged
        # once, and reported in every file that carries it.
        key = (id(item.dashboard), item.schema)
        if key not in classic.judged:
            findings = dashboard_findings(path, uid, item.dashboard, item.schema, classic.model)
            classic.judged[key] = (item.dashboard, findings)
        for finding in classic.judged[key][1]:
            moved = dataclasses.replace(finding.location, file=path)
            yield dataclasses.replace(finding, location=moved)
