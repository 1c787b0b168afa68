"""Rules on each dashboard model: layout, identity, datasources, links and variables."""

from __future__ import annotations

import functools
import html as htmlmod
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources

from ktrdr_dashboards.errors import Location
from ktrdr_dashboards.promql import expand as promql
from ktrdr_dashboards.validate.core import (
    Context,
    DashboardSource,
    Facts,
    Finding,
    Inputs,
    PanelRef,
    as_dict,
    as_list,
    dashboard_check,
    dashboard_location,
    panels,
    project_check,
    targets,
    variables,
)

GRID_COLUMNS = 24
UID_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,40}")
# Panels that show values: each needs a unit (tables set units per column).
VALUE_PANEL_TYPES = frozenset(
    {"stat", "gauge", "bargauge", "timeseries", "graph", "piechart", "barchart", "histogram",
     "state-timeline", "status-history", "heatmap", "trend", "xychart"}
)  # fmt: skip
# Variables Grafana defines itself (query macros, data-link and global variables).
BUILTIN_VARIABLES = frozenset(
    {"__interval", "__interval_ms", "__rate_interval", "__rate_interval_ms", "__range",
     "__range_s", "__range_ms", "__from", "__to", "__url_time_range", "__all_variables",
     "__dashboard", "__org", "__user", "__timezone", "__name", "__field", "__series", "__value",
     "__data", "__cell", "__url", "__auto", "__step"}
)  # fmt: skip


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _describe(value: object) -> str:
    return "missing" if value is None else f"{value!r} ({type(value).__name__})"


# ---------------------------------------------------------------- layout


def _grid_problems(grid: object) -> Iterator[tuple[str, str]]:
    if not isinstance(grid, dict):
        yield "gridPos is missing", "give the panel gridPos {x, y, w, h} (in Jsonnet: a size)"
        return
    bad = [k for k in ("x", "y", "w", "h") if not _is_int(grid.get(k))]
    if bad:
        for key in bad:
            yield (
                f"gridPos.{key} is {_describe(grid.get(key))}, not an integer",
                "set gridPos x, y, w and h to integers",
            )
        return
    x, y, w, h = grid["x"], grid["y"], grid["w"], grid["h"]
    if not 1 <= w <= GRID_COLUMNS:
        yield f"gridPos.w is {w}; it must be 1 to 24", "make the panel 1 to 24 columns wide"
    if h < 1:
        yield f"gridPos.h is {h}; it must be at least 1", "make the panel at least 1 unit high"
    if x < 0 or y < 0:
        yield f"gridPos x {x}, y {y} is negative", "place the panel at x ≥ 0, y ≥ 0"
    elif 1 <= w <= GRID_COLUMNS and x + w > GRID_COLUMNS:
        yield (
            f"gridPos x + w is {x + w} (x {x}, w {w}); the grid has 24 columns",
            "move the panel left or make it narrower",
        )


def _valid_grid(panel: dict) -> dict | None:
    grid = panel.get("gridPos")
    return grid if isinstance(grid, dict) and not list(_grid_problems(grid)) else None


def _overlaps(refs: list[PanelRef]) -> Iterator[Finding]:
    placed: list[tuple[PanelRef, dict]] = []
    for ref in refs:
        grid = _valid_grid(ref.panel)
        if grid is None:
            continue
        for other, g in placed:
            if (
                grid["x"] < g["x"] + g["w"]
                and g["x"] < grid["x"] + grid["w"]
                and grid["y"] < g["y"] + g["h"]
                and g["y"] < grid["y"] + grid["h"]
            ):
                yield Finding(
                    "layout/overlap",
                    ref.location,
                    f'overlaps panel "{other.panel.get("title", "")}" (id {other.panel.get("id")})'
                    f" (x {grid['x']}, y {grid['y']}, w {grid['w']}, h {grid['h']} against"
                    f" x {g['x']}, y {g['y']}, w {g['w']}, h {g['h']})",
                    "move or resize one of them; Grafana would repack them silently",
                )
                break
        placed.append((ref, grid))


@dashboard_check(
    ("layout/grid-pos", "gridPos present with integers; w 1 to 24, h ≥ 1, x + w ≤ 24"),
    ("layout/overlap", "no two panels overlap (top level, and within each collapsed row)"),
    ("layout/row", "rows span the grid (x 0, w 24, h 1), hold no panels unless collapsed"),
    ("layout/panel-id", "every panel has an integer id, unique within its dashboard"),
)
def layout(source: DashboardSource, context: Context) -> Iterator[Finding]:
    refs = list(panels(source))
    seen_ids: dict[int, PanelRef] = {}
    for ref in refs:
        for message, fix in _grid_problems(ref.panel.get("gridPos")):
            yield Finding("layout/grid-pos", ref.location, message, fix)
        panel_id = ref.panel.get("id")
        if not _is_int(panel_id):
            yield Finding(
                "layout/panel-id",
                ref.location,
                f"panel id is {_describe(panel_id)}, not an integer",
                "give every panel an integer id (the builder numbers panels)",
            )
        elif panel_id in seen_ids:
            first = seen_ids[panel_id].panel.get("title", "")
            yield Finding(
                "layout/panel-id",
                ref.location,
                f'panel id {panel_id} is also used by panel "{first}"',
                "give each panel its own id",
            )
        else:
            seen_ids[panel_id] = ref
        if ref.panel.get("type") == "row":
            yield from _row_problems(ref)
    yield from _overlaps([r for r in refs if r.row is None])
    for row in (r for r in refs if r.row is None and r.panel.get("type") == "row"):
        yield from _overlaps([r for r in refs if r.row is row.panel])


def _row_problems(ref: PanelRef) -> Iterator[Finding]:
    row, where = ref.panel, ref.location
    grid = _valid_grid(row)
    if ref.row is not None:
        yield Finding("layout/row", where, "a row inside a row", "rows cannot nest; move it out")
    if grid is not None and (grid["x"], grid["w"], grid["h"]) != (0, GRID_COLUMNS, 1):
        yield Finding(
            "layout/row",
            where,
            f"row gridPos is x {grid['x']}, w {grid['w']}, h {grid['h']}; a row is x 0, w 24, h 1",
            "place the row at x 0 with w 24 and h 1",
        )
    children = row.get("panels")
    if not isinstance(children, list):
        yield Finding("layout/row", where, "row has no `panels` list", "give the row `panels: []`")
    elif children and not row.get("collapsed"):
        yield Finding(
            "layout/row",
            where,
            f"expanded row holds {len(children)} panels in `panels`; Grafana drops them",
            "put the row's panels after it at top level, or set collapsed: true",
        )


# ---------------------------------------------------------------- identity


_IDENTITY_RULES = (
    ("identity/uid", "uid present, ≤ 40 characters of [A-Za-z0-9_-], unique across dashboards"),
    ("identity/title", "dashboard title non-empty and unique across dashboards"),
)


@dashboard_check(
    *_IDENTITY_RULES,
    ("identity/panel-title", "panel titles non-empty and unique within a dashboard"),
    ("identity/description", "every panel except rows has a description"),
    ("identity/unit", "value panels (stat, time series, pie chart, …) have a unit"),
    ("identity/unit-known", "every unit (defaults and overrides) is one Grafana knows"),
)
def identity(source: DashboardSource, context: Context) -> Iterator[Finding]:
    where = dashboard_location(source)
    uid, title = source.model.get("uid"), source.model.get("title")
    if not isinstance(uid, str) or not UID_PATTERN.fullmatch(uid):
        yield Finding(
            "identity/uid",
            where,
            f"uid {uid!r} is not 1 to 40 characters of A-Z a-z 0-9 _ -",
            "set a short uid such as ktrdr-operations; it is part of the /d/<uid> URL",
        )
    if not isinstance(title, str) or not title.strip():
        yield Finding("identity/title", where, "dashboard has no title", "set a title")
    yield from _panel_identity(source)


def _identity(source: DashboardSource, context: Context) -> tuple[object, object, str, Location]:
    return (
        source.model.get("uid"),
        source.model.get("title"),
        source.file,
        dashboard_location(source),
    )


@project_check(gather_dashboard=_identity)
def unique_identity(inputs: Inputs, facts: Facts) -> Iterator[Finding]:
    """The uid and title of each dashboard are its own (the rules are registered above)."""
    uids: dict[str, str] = {}
    titles: dict[str, str] = {}
    for uid, title, file, where in facts.dashboards:
        if isinstance(uid, str) and UID_PATTERN.fullmatch(uid):
            if uid in uids:
                yield Finding(
                    "identity/uid",
                    where,
                    f"uid {uid} is also the uid of {uids[uid]}",
                    "give each dashboard its own uid",
                )
            else:
                uids[uid] = file
        if isinstance(title, str) and title.strip():
            if title in titles:
                yield Finding(
                    "identity/title",
                    where,
                    f'title "{title}" is also the title of {titles[title]}',
                    "give each dashboard its own title",
                )
            else:
                titles[title] = file


def _panel_identity(source: DashboardSource) -> Iterator[Finding]:
    seen: dict[str, int | None] = {}
    for ref in panels(source):
        panel = ref.panel
        if panel.get("type") == "row":
            continue
        title = panel.get("title")
        if not isinstance(title, str) or not title.strip():
            yield Finding("identity/panel-title", ref.location, "panel has no title", "set a title")
        elif title in seen:
            yield Finding(
                "identity/panel-title",
                ref.location,
                f"title also used by panel id {seen[title]}",
                "give each panel of a dashboard its own title",
            )
        else:
            seen[title] = panel.get("id")
        description = panel.get("description")
        if not isinstance(description, str) or not description.strip():
            yield Finding(
                "identity/description",
                ref.location,
                "panel has no description",
                "say what the panel shows and how to read it (panelOptions.withDescription)",
            )
        if isinstance(panel.get("type"), str) and panel["type"] in VALUE_PANEL_TYPES:
            unit = as_dict(as_dict(panel.get("fieldConfig")).get("defaults")).get("unit")
            if not isinstance(unit, str) or not unit.strip():
                yield Finding(
                    "identity/unit",
                    ref.location,
                    f"{panel.get('type')} panel has no unit (fieldConfig.defaults.unit)",
                    "set a unit, e.g. reqps, percent, ms, bytes, or none for a count",
                )
        yield from _unknown_units(ref)


@functools.cache
def grafana_units() -> tuple[str, frozenset[str], tuple[str, ...]]:
    """(@grafana/data version, its unit ids, its parameterised unit prefixes) from
    data/grafana-units.json, which preview/scripts/grafana-units.js generates from the pinned
    @grafana/data."""
    path = resources.files("ktrdr_dashboards") / "data" / "grafana-units.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    return data["@grafana/data"], frozenset(data["units"]), tuple(data["prefixes"])


def _units_of(panel: dict) -> Iterator[tuple[str, object]]:
    config = as_dict(panel.get("fieldConfig"))
    yield "fieldConfig.defaults.unit", as_dict(config.get("defaults")).get("unit")
    for index, override in enumerate(as_list(config.get("overrides"))):
        for prop in as_list(as_dict(override).get("properties")):
            if isinstance(prop, dict) and prop.get("id") == "unit":
                yield f"fieldConfig.overrides[{index}] unit", prop.get("value")


def _unknown_units(ref: PanelRef) -> Iterator[Finding]:
    version, units, prefixes = grafana_units()
    for where, unit in _units_of(ref.panel):
        if not isinstance(unit, str) or not unit.strip():
            continue
        if unit in units or unit.startswith(prefixes):
            continue
        yield Finding(
            "identity/unit-known",
            ref.location,
            f'{where} "{unit}" is not a unit of Grafana (@grafana/data {version}); Grafana '
            f'shows the raw number followed by "{unit}"',
            f"use a Grafana unit id (e.g. reqps, percent, ms, bytes, none) or suffix:{unit}",
        )


# ---------------------------------------------------------------- datasources


def _datasource_uid(value: object) -> str | None:
    if isinstance(value, dict):
        uid = value.get("uid")
        return str(uid) if uid is not None else None
    return str(value) if value is not None else None


def _uses_variable(uid: str, name: str) -> bool:
    return uid in (f"${name}", f"${{{name}}}", f"[[{name}]]")


@dashboard_check(
    ("datasource/variable", "a `datasource` template variable of the Prometheus type exists"),
    ("datasource/panel", "every panel queries the datasource variable (or a provisioned uid)"),
    ("datasource/target", "every target and query variable uses the variable or the panel's"),
    ("datasource/refresh", "query variables refresh on time-range change (refresh: 2)"),
)
def datasources_rule(source: DashboardSource, context: Context) -> Iterator[Finding]:
    name = context.settings.datasource_variable
    allowed_literal = context.provisioned_uids
    fix_use = f"query through ${{{name}}} (panels.libsonnet does this for every KTRDR panel)"

    def problem(uid: str | None) -> str | None:
        if uid is None:
            return "has no datasource (Grafana would use whatever is the default)"
        if _uses_variable(uid, name) or uid in allowed_literal:
            return None
        return f"uses datasource {uid!r}, neither ${{{name}}} nor a provisioned uid"

    where = dashboard_location(source)
    items = variables(source)
    variable = next((v for v in items if v.get("name") == name), None)
    expected_type = context.settings.datasource_type
    if variable is None or variable.get("type") != "datasource":
        yield Finding(
            "datasource/variable",
            where,
            f"no `{name}` datasource variable",
            f"add ktrdr.variables.datasource (type datasource, query {expected_type})",
        )
    elif variable.get("query") != expected_type:
        yield Finding(
            "datasource/variable",
            where,
            f"`{name}` lists datasources of type {variable.get('query')!r}",
            f"set its query to {expected_type!r}",
        )
    for item in items:
        if item.get("type") != "query":
            continue
        message = problem(_datasource_uid(item.get("datasource")))
        if message:
            yield Finding(
                "datasource/target", where, f"variable `{item.get('name')}` {message}", fix_use
            )
        if item.get("refresh") != 2:
            yield Finding(
                "datasource/refresh",
                where,
                f"variable `{item.get('name')}` has refresh {item.get('refresh')!r}; "
                "its values go stale",
                "refresh on time-range change (refresh: 2, var.query.refresh.onTime())",
            )
    for ref in panels(source):
        if ref.panel.get("type") == "row":
            continue
        panel_uid = _datasource_uid(ref.panel.get("datasource"))
        message = problem(panel_uid)
        if message:
            yield Finding("datasource/panel", ref.location, f"panel {message}", fix_use)
        for target, target_where in targets(ref):
            if "datasource" not in target:
                continue  # inherits the panel's
            message = problem(_datasource_uid(target.get("datasource")))
            if message:
                yield Finding("datasource/target", target_where, f"target {message}", fix_use)


# ---------------------------------------------------------------- links and variables

_DASHBOARD_URL = re.compile(r"(?:^|/)d/(?P<uid>[^/?#&]+)")


def links_of(source: DashboardSource) -> Iterator[tuple[dict, object]]:
    """(link, location) for the dashboard's links, every panel's links and data links."""
    for link in as_list(source.model.get("links")):
        if isinstance(link, dict):
            yield link, dashboard_location(source)
    for ref in panels(source):
        field_config = as_dict(ref.panel.get("fieldConfig"))
        found = list(as_list(ref.panel.get("links")))
        found += as_list(as_dict(field_config.get("defaults")).get("links"))
        for override in as_list(field_config.get("overrides")):
            for prop in as_list(as_dict(override).get("properties")):
                if isinstance(prop, dict) and prop.get("id") == "links":
                    found += as_list(prop.get("value"))
        for link in found:
            if isinstance(link, dict):
                yield link, ref.location


def _expressions(source: DashboardSource) -> Iterator[tuple[str, object, str]]:
    """(text, location, what) of every text Grafana expands variables in: queries and links."""
    for item in variables(source):
        query = item.get("query")
        if item.get("type") == "query":
            query = query.get("query") if isinstance(query, dict) else query
            if isinstance(query, str):
                yield query, dashboard_location(source), f"variable `{item.get('name')}` query"
    for ref in panels(source):
        for target, where in targets(ref):
            if isinstance(target.get("expr"), str):
                yield target["expr"], where, "query"
    for link, where in links_of(source):
        if isinstance(link.get("url"), str):
            yield link["url"], where, f'link "{link.get("title", "")}"'


@dataclass(frozen=True)
class _LinkFacts:
    uid: str
    tags: list[str]
    # (title, the uid a /d/<uid> URL names, (the tags a dashboards-list link lists, whether it
    # lists none) or None for another kind of link, location)
    links: list[tuple[str, str | None, tuple[list, bool] | None, Location]]


def _link_facts(source: DashboardSource, context: Context) -> _LinkFacts:
    found = []
    for link, where in links_of(source):
        url = link.get("url")
        match = _DASHBOARD_URL.search(url) if isinstance(url, str) else None
        target = match.group("uid") if match and "$" not in match.group("uid") else None
        listed = link.get("tags")
        tags = (as_list(listed), not listed) if link.get("type") == "dashboards" else None
        found.append((str(link.get("title", "")), target, tags, where))
    tags = [str(t) for t in as_list(source.model.get("tags"))]
    return _LinkFacts(str(source.model.get("uid")), tags, found)


@project_check(
    ("links/dashboard-uid", "every dashboard link and data link to /d/<uid> names an existing uid"),
    ("links/tags", "every dashboards-list link names tags some dashboard carries"),
    gather_dashboard=_link_facts,
)
def links(inputs: Inputs, facts: Facts) -> Iterator[Finding]:
    uids = {f.uid for f in facts.dashboards}
    tags = {tag for f in facts.dashboards for tag in f.tags}
    for title, target, listed, where in (link for f in facts.dashboards for link in f.links):
        if target is not None and target not in uids:
            yield Finding(
                "links/dashboard-uid",
                where,
                f'link "{title}" goes to /d/{target}, which no dashboard has',
                "link to one of: " + ", ".join(sorted(uids)),
            )
        if listed is not None:
            missing = [t for t in listed[0] if str(t) not in tags]
            if missing or listed[1]:
                yield Finding(
                    "links/tags",
                    where,
                    f'link "{title}" lists dashboards tagged {missing or []}, which none is',
                    "use a tag the dashboards carry (config.dashboard.tag)",
                )


@dashboard_check(("links/variable", "every variable a query or link uses is defined"))
def link_variables(source: DashboardSource, context: Context) -> Iterator[Finding]:
    defined = {str(v.get("name")) for v in variables(source)} | BUILTIN_VARIABLES
    for text, where, what in _expressions(source):
        unknown = [
            n
            for n in dict.fromkeys(promql.variable_names(text))
            if n not in defined and not n.isdigit()
        ]
        for name in unknown:
            yield Finding(
                "links/variable",
                where,
                f"{what} uses ${name}, which the dashboard does not define",
                f"define a `{name}` variable or remove the reference",
            )


# ---------------------------------------------------------------- link targets

SAFE_SCHEMES = ("http", "https")
_SCHEME = re.compile(r"([a-z][a-z0-9+.-]*):")
# Browsers drop these anywhere in a URL before reading its scheme (WHATWG URL parser).
_DROPPED = re.compile(r"[\t\n\r]")
# href/src attributes of text panel HTML, Markdown links and images, and <scheme:...> autolinks.
_HTML_URL = re.compile(
    r"""\b(?:href|src|action|formaction|xlink:href)\s*=\s*("[^"]*"|'[^']*'|[^\s>]+)""",
    re.IGNORECASE,
)
_MARKDOWN_URL = re.compile(r"\]\(\s*<?([^)\s>]*)")
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]*:[^>\s]*)>")


def url_scheme(url: str, html: bool = False) -> str | None:
    """The scheme a browser reads from `url` (lower case), None for a relative URL. `html`:
    the URL is HTML attribute text, so character references are decoded first."""
    text = htmlmod.unescape(url) if html else url
    text = _DROPPED.sub("", text).lstrip("".join(map(chr, range(0x21)))).lower()
    match = _SCHEME.match(text)
    return match.group(1) if match else None


def _text_panel_urls(panel: dict) -> Iterator[str]:
    options = panel.get("options")
    content = options.get("content") if isinstance(options, dict) else None
    if panel.get("type") != "text" or not isinstance(content, str):
        return
    for match in _HTML_URL.finditer(content):
        yield match.group(1).strip("\"'")
    for pattern in (_MARKDOWN_URL, _AUTOLINK):
        for match in pattern.finditer(content):
            yield match.group(1)


def _shown_url(url: str) -> str:
    """A URL as one short line: JSON-quoted, so no line break of it reaches the report."""
    return json.dumps(url if len(url) <= 60 else url[:57] + "...", ensure_ascii=False)


@dashboard_check(
    ("links/url-scheme", "link, data-link and text panel URLs are http, https or relative"),
)
def link_targets(source: DashboardSource, context: Context) -> Iterator[Finding]:
    fix = "use an http(s) or relative URL; other schemes run or open in the viewer's session"
    for link, where in links_of(source):
        url = link.get("url")
        scheme = url_scheme(url) if isinstance(url, str) else None
        if scheme is not None and scheme not in SAFE_SCHEMES:
            yield Finding(
                "links/url-scheme",
                where,
                f'link "{link.get("title", "")}" goes to {_shown_url(url)}, a {scheme}: URL',
                fix,
            )
    for ref in panels(source):
        for url in _text_panel_urls(ref.panel):
            scheme = url_scheme(url, html=True)
            if scheme is not None and scheme not in SAFE_SCHEMES:
                yield Finding(
                    "links/url-scheme",
                    ref.location,
                    f"text panel content links to {_shown_url(url)}, a {scheme}: URL",
                    fix,
                )
