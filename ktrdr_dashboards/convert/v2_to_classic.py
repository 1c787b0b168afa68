"""Schema v2 `Dashboard` spec → classic dashboard model, and what of a v2 layout the classic
model cannot hold. Reads v2, v2beta1 and v2alpha1 specs (the older ones name the datasource
plugin in `kind` and keep the datasource reference beside the query)."""

from __future__ import annotations

import copy

from ktrdr_dashboards.convert import common
from ktrdr_dashboards.convert.classic_to_v2 import references
from ktrdr_dashboards.convert.common import fail

# Layout kinds: AutoGridLayout was ResponsiveGridLayout in v2alpha1.
GRID, ROWS, TABS = "GridLayout", "RowsLayout", "TabsLayout"
AUTO_GRIDS = ("AutoGridLayout", "ResponsiveGridLayout")
_LAYOUTS = (GRID, ROWS, TABS, *AUTO_GRIDS)


_list, _dict, _int = common.as_list, common.as_dict, common.whole_number


def _datasource(query: dict, beside: dict | None = None) -> dict | None:
    """The classic {type, uid} of a v2 DataQuery (v2alpha1: `kind` is the plugin, the
    reference is `beside` it). A query shared "externally" names no datasource: only its type."""
    if query.get("kind") == "DataQuery":
        ref: dict = {"type": str(query.get("group", ""))} if query.get("group") else {}
        name = _dict(query.get("datasource")).get("name")
        if isinstance(name, str):
            ref["uid"] = name
        return ref or None
    found = _dict(beside.get("datasource")) if beside else {}
    if found:
        return copy.deepcopy(found)
    return {"type": str(query["kind"])} if isinstance(query.get("kind"), str) else None


def _element_ids(spec: dict) -> dict[str, int]:
    """Element name -> classic panel id: the element's own `id` where it is a whole number not
    taken by an earlier element, else the next free one."""
    elements = _dict(spec.get("elements"))
    ids: dict[str, int] = {}
    pending = []
    for name, element in elements.items():
        value = _int(_dict(_dict(element).get("spec")).get("id"), -1)
        if value > 0 and value not in ids.values():
            ids[name] = value
        else:
            pending.append(name)
    next_id = max(ids.values(), default=0) + 1
    for name in pending:
        ids[name] = next_id
        next_id += 1
    return ids


class _Classic:
    def __init__(self, spec: dict, uid: str):
        self.spec = spec
        self.uid = uid
        self.elements = _dict(spec.get("elements"))
        self.ids = _element_ids(spec)
        self.next_row_id = max(self.ids.values(), default=0) + 1

    # ------------------------------------------------------------ panels

    def panel(self, name: str) -> dict:
        element = self.elements.get(name)
        if not isinstance(element, dict):
            raise fail(
                self.uid,
                f"the layout refers to {name}, which is not in `elements`",
                "export the dashboard again; its layout and elements disagree",
            )
        spec = _dict(element.get("spec"))
        title = str(spec.get("title", ""))
        if element.get("kind") == "LibraryPanel":
            ref = _dict(spec.get("libraryPanel"))
            return {
                "id": self.ids[name],
                "title": title,
                "libraryPanel": {"uid": str(ref.get("uid", "")), "name": str(ref.get("name", ""))},
            }
        if element.get("kind") != "Panel":
            raise fail(
                self.uid,
                f"element {name} is a {element.get('kind')!r}, which the classic model has not",
                "only Panel and LibraryPanel elements can be brought back",
                panel=title,
            )
        viz = _dict(spec.get("vizConfig"))
        viz_spec = _dict(viz.get("spec"))
        if viz.get("kind") == "VizConfig":
            plugin, version = viz.get("group", ""), viz.get("version", "")
        else:  # v2alpha1: the plugin is the kind, its version in the spec
            plugin, version = viz.get("kind", ""), viz_spec.get("pluginVersion", "")
        panel: dict = {"id": self.ids[name], "type": str(plugin), "title": title}
        if spec.get("description"):
            panel["description"] = spec["description"]
        if _list(spec.get("links")):
            panel["links"] = copy.deepcopy(spec["links"])
        if "transparent" in spec:
            panel["transparent"] = bool(spec["transparent"])
        if version:
            panel["pluginVersion"] = str(version)
        data = _dict(_dict(spec.get("data")).get("spec"))
        targets = [self.target(q) for q in _list(data.get("queries"))]
        sources = [t["datasource"] for t in targets if "datasource" in t]
        distinct = {common_key(s) for s in sources}
        if len(distinct) == 1 and len(sources) == len(targets):
            panel["datasource"] = copy.deepcopy(sources[0])
        elif len(distinct) > 1:
            panel["datasource"] = dict(common.MIXED)
        if targets:
            panel["targets"] = targets
        transformations = [self.transformation(t) for t in _list(data.get("transformations"))]
        if transformations:
            panel["transformations"] = transformations
        for key, value in _dict(data.get("queryOptions")).items():
            panel[key] = copy.deepcopy(value)
        panel["options"] = copy.deepcopy(_dict(viz_spec.get("options")))
        field_config = _dict(viz_spec.get("fieldConfig"))
        if field_config.get("defaults") or field_config.get("overrides"):
            panel["fieldConfig"] = copy.deepcopy(field_config)
        return panel

    @staticmethod
    def target(item: object) -> dict:
        spec = _dict(_dict(item).get("spec"))
        query = _dict(spec.get("query"))
        target = copy.deepcopy(_dict(query.get("spec")))
        target["refId"] = str(spec.get("refId", ""))
        source = _datasource(query, spec)
        if source:
            target["datasource"] = source
        if spec.get("hidden"):
            target["hide"] = True
        return target

    @staticmethod
    def transformation(item: object) -> dict:
        item = _dict(item)
        spec = copy.deepcopy(_dict(item.get("spec")))
        if item.get("kind") == "Transformation":
            return {"id": str(item.get("group", "")), **spec}
        spec.setdefault("id", str(item.get("kind", "")))  # v2beta1: the kind is the id
        return spec

    # ------------------------------------------------------------ layout

    def grid(self, layout: dict, top: int, into: list) -> int:
        bottom = top
        for item in _list(_dict(layout.get("spec")).get("items")):
            spec = _dict(_dict(item).get("spec"))
            name = str(_dict(spec.get("element")).get("name", ""))
            panel = self.panel(name)
            y, h = top + max(0, _int(spec.get("y"))), _int(spec.get("height"), 8)
            width, x = _int(spec.get("width"), 12), _int(spec.get("x"))
            panel["gridPos"] = {"h": h, "w": width, "x": x, "y": y}
            repeat = _dict(spec.get("repeat"))
            if repeat.get("value"):
                panel["repeat"] = str(repeat["value"])
                if repeat.get("direction") in ("h", "v"):
                    panel["repeatDirection"] = repeat["direction"]
                if "maxPerRow" in repeat:
                    panel["maxPerRow"] = repeat["maxPerRow"]
            into.append(panel)
            bottom = max(bottom, y + h)
        return bottom

    def auto_grid(self, layout: dict, top: int, into: list) -> int:
        spec = _dict(layout.get("spec"))
        columns = _int(spec.get("maxColumnCount"), common.AUTO_GRID_COLUMNS)
        columns = min(common.GRID_COLUMNS, max(1, columns))
        width = common.GRID_COLUMNS // columns
        mode = spec.get("rowHeightMode", "standard")
        if mode == "custom":
            height = max(3, round(float(spec.get("rowHeight") or 270) / 30))
        else:
            height = common.AUTO_GRID_HEIGHTS.get(str(mode), common.AUTO_GRID_HEIGHTS["standard"])
        items = _list(spec.get("items"))
        for index, item in enumerate(items):
            item_spec = _dict(_dict(item).get("spec"))
            panel = self.panel(str(_dict(item_spec.get("element")).get("name", "")))
            row, column = divmod(index, columns)
            y = top + row * height
            panel["gridPos"] = {"h": height, "w": width, "x": column * width, "y": y}
            repeat = _dict(item_spec.get("repeat"))
            if repeat.get("value"):
                panel["repeat"] = str(repeat["value"])
                panel["repeatDirection"] = "h"
            into.append(panel)
        return top + -(-len(items) // columns) * height

    def sections(self, layout: dict, top: int, into: list, prefix: str | None) -> int:
        """Rows or tabs: each a classic row with its panels (inside it when collapsed); a
        section holding rows or tabs itself gives no row of its own, its sections are titled
        `Outer / Inner`."""
        kind = layout.get("kind")
        sections = _list(_dict(layout.get("spec")).get("rows" if kind == ROWS else "tabs"))
        y = top
        for index, section in enumerate(sections):
            spec = _dict(_dict(section).get("spec"))
            inner = _dict(spec.get("layout"))
            title = str(spec.get("title", ""))
            title = f"{prefix} / {title}" if prefix is not None else title
            collapsed = kind == ROWS and bool(spec.get("collapse", False))
            if inner.get("kind") in (ROWS, TABS):
                y = self.sections(inner, y, into, title)
                continue
            if kind == ROWS and spec.get("hideHeader") and index == 0 and prefix is None:
                y = self.lay(inner, y, into)
                continue
            row: dict = {
                "collapsed": collapsed,
                "gridPos": {"h": 1, "w": common.GRID_COLUMNS, "x": 0, "y": y},
                "id": self.next_row_id,
                "panels": [],
                "title": title,
                "type": "row",
            }
            self.next_row_id += 1
            repeat = _dict(spec.get("repeat"))
            if repeat.get("value"):
                row["repeat"] = str(repeat["value"])
            into.append(row)
            if collapsed:
                self.lay(inner, y + 1, row["panels"])
                y += 1
            else:
                y = max(y + 1, self.lay(inner, y + 1, into))
        return y

    def lay(self, layout: dict, top: int, into: list) -> int:
        kind = layout.get("kind")
        if kind == GRID:
            return self.grid(layout, top, into)
        if kind in AUTO_GRIDS:
            return self.auto_grid(layout, top, into)
        if kind in (ROWS, TABS):
            return self.sections(layout, top, into, None)
        raise fail(
            self.uid,
            f"layout kind {kind!r} is none of {', '.join(_LAYOUTS)}",
            "export the dashboard again from Grafana 12 or 13",
        )

    # ------------------------------------------------------------ the rest

    def variable(self, item: object) -> dict:
        item = _dict(item)
        kind = str(item.get("kind", ""))
        spec = copy.deepcopy(_dict(item.get("spec")))
        name = str(spec.get("name", ""))
        type_ = common.VARIABLE_TYPES.get(kind)
        if type_ is None:
            raise fail(
                self.uid,
                f"variable {name!r} is a {kind!r}, which has no classic form",
                f"use one of {', '.join(sorted(common.VARIABLE_TYPES))}",
            )
        _, defaults = common.spec_fields(f"{kind}Spec") if kind else (None, {})
        classic: dict = {"type": type_}
        for key, value in spec.items():
            if key in common.CLASSIC_VARIABLE_DEFAULTS:
                if value == common.CLASSIC_VARIABLE_DEFAULTS[key]:
                    continue
            elif key in defaults and value == defaults[key] and key != "name":
                continue
            if key in common.REQUIRED_EMPTY and value == common.REQUIRED_EMPTY[key]:
                continue
            if key == "hide":
                classic["hide"] = common.enum_number(common.HIDE, value)
            elif key == "refresh":
                classic["refresh"] = common.enum_number(common.REFRESH, value)
            elif key == "sort":
                classic["sort"] = common.enum_number(common.SORT, value)
            elif key == "query" and kind == "QueryVariable" and isinstance(value, dict):
                query = _dict(value.get("spec"))
                source = _datasource(value)
                if source:
                    classic["datasource"] = source
                if query:
                    classic["query"] = query["query"] if set(query) == {"query"} else query
            elif key == "pluginId" and kind == "DatasourceVariable":
                classic["query"] = value
            elif key == "current" and kind == "SwitchVariable":
                classic["current"] = {"text": value, "value": value}
            else:
                classic[key] = value
        if kind in common.KINDS_WITH_DATASOURCE:
            source = _datasource({"kind": "DataQuery", **item})
            if source:
                classic["datasource"] = source
        return classic

    @staticmethod
    def annotation(item: object) -> dict:
        spec = copy.deepcopy(_dict(_dict(item).get("spec")))
        query = _dict(spec.pop("query", {}))
        classic = copy.deepcopy(_dict(query.get("spec")))
        source = _datasource(query, spec)
        spec.pop("datasource", None)
        if source:
            classic["datasource"] = source
        if spec.pop("builtIn", False):
            classic["builtIn"] = 1
        classic.update(spec)
        return classic

    def dashboard(self) -> dict:
        spec = self.spec
        layout = _dict(spec.get("layout"))
        panels: list = []
        if layout:
            self.lay(layout, 0, panels)
        placed = set(references(layout))
        unplaced = [name for name in self.elements if name not in placed]
        if unplaced:
            raise fail(
                self.uid,
                f"element {unplaced[0]} is in no place of the layout",
                "place it in the dashboard in Grafana, or delete it, and export again",
            )
        time = _dict(spec.get("timeSettings"))
        _, time_defaults = common.spec_fields("TimeSettingsSpec")
        classic: dict = {
            "annotations": {"list": [self.annotation(a) for a in _list(spec.get("annotations"))]},
            "graphTooltip": common.enum_number(common.CURSOR_SYNC, spec.get("cursorSync", "Off")),
            "links": copy.deepcopy(_list(spec.get("links"))),
            "panels": panels,
            "tags": copy.deepcopy(_list(spec.get("tags"))),
            "templating": {"list": [self.variable(v) for v in _list(spec.get("variables"))]},
            "time": {
                "from": time.get("from", time_defaults["from"]),
                "to": time.get("to", time_defaults["to"]),
            },
            "timezone": time.get("timezone", time_defaults["timezone"]),
            "title": str(spec.get("title", "")),
        }
        if self.uid:
            classic["uid"] = self.uid
        if time.get("autoRefresh"):
            classic["refresh"] = time["autoRefresh"]
        picker: dict = {}
        intervals = time.get("autoRefreshIntervals")
        if intervals is not None and intervals != time_defaults["autoRefreshIntervals"]:
            picker["refresh_intervals"] = copy.deepcopy(intervals)
        if time.get("hideTimepicker"):
            picker["hidden"] = True
        if "quickRanges" in time:
            picker["quick_ranges"] = copy.deepcopy(time["quickRanges"])
        if picker:
            classic["timepicker"] = picker
        if time.get("nowDelay"):
            classic["nowDelay"] = time["nowDelay"]
        if time.get("fiscalYearStartMonth"):
            classic["fiscalYearStartMonth"] = time["fiscalYearStartMonth"]
        if "weekStart" in time:
            classic["weekStart"] = time["weekStart"]
        if spec.get("preload"):
            classic["preload"] = True
        for key in ("description", "editable", "liveNow", "revision"):
            if key in spec:
                classic[key] = copy.deepcopy(spec[key])
        return classic


def common_key(source: dict) -> tuple[str, str]:
    return str(source.get("type", "")), str(source.get("uid", ""))


def to_classic(spec: dict, uid: str | None = None) -> dict:
    """The classic model of a v2 `Dashboard` spec (`uid`: the resource's name, which the spec
    does not hold). Tabs, auto grids and nested rows are laid out as rows
    (docs/grafana-versions.md); `v2_layout` keeps them. No `schemaVersion` is set."""
    return _Classic(spec, uid or "").dashboard()


# ---------------------------------------------------------------- v2-only constructs


def v2_only(spec: dict) -> list[str]:
    """What of the spec's layout the classic model cannot hold, one phrase each, in layout
    order (e.g. `tabs "Overview", "Workers"`)."""
    found: list[str] = []

    def visit(layout: dict, nested: bool) -> None:
        kind = layout.get("kind")
        spec = _dict(layout.get("spec"))
        if kind in AUTO_GRIDS:
            found.append("an auto grid")
            for item in _list(spec.get("items")):
                if _dict(_dict(item).get("spec")).get("conditionalRendering"):
                    found.append("conditional rendering of a panel")
            return
        if kind not in (ROWS, TABS):
            return
        sections = _list(spec.get("rows" if kind == ROWS else "tabs"))
        titles = ", ".join(f'"{_dict(_dict(s).get("spec")).get("title", "")}"' for s in sections)
        if kind == TABS:
            found.append(f"tabs {titles}")
        elif nested:
            found.append(f"rows {titles} inside a row or tab")
        for index, section in enumerate(sections):
            section_spec = _dict(_dict(section).get("spec"))
            title = section_spec.get("title", "")
            if section_spec.get("conditionalRendering"):
                found.append(f'conditional rendering of "{title}"')
            if section_spec.get("variables"):
                found.append(f'section variables of "{title}"')
            if section_spec.get("repeat") and (kind == TABS or nested):
                found.append(f'the repeat of "{title}"')
            if section_spec.get("fillScreen"):
                found.append(f'"{title}" filling the screen')
            if kind == ROWS and section_spec.get("hideHeader") and (index > 0 or nested or title):
                found.append(f'the hidden header of row "{title}"')
            visit(_dict(section_spec.get("layout")), True)

    visit(_dict(spec.get("layout")), False)
    return found


def v2_layout(spec: dict) -> dict | None:
    """The spec's layout, its element references renamed to `panel-<id>` of `to_classic`'s
    panels, when it holds something the classic model cannot (`v2_only`); else None."""
    if not v2_only(spec):
        return None
    names = {name: common.element_name(number) for name, number in _element_ids(spec).items()}
    return common.rename_elements(copy.deepcopy(_dict(spec.get("layout"))), names)
