"""Classic dashboard model → schema v2 `Dashboard` spec."""

from __future__ import annotations

from ktrdr_dashboards.convert import common
from ktrdr_dashboards.convert.common import fail

# Dashboard fields with a place in v2, besides the ones converted one by one below.
_DROPPED_DASHBOARD_KEYS = frozenset(
    # Assigned by Grafana or the file (uid is the resource's name, schemaVersion has no v2
    # counterpart) or obsolete since Grafana 5 and ignored on load.
    ("id", "uid", "version", "iteration", "schemaVersion", "gnetId", "style", "hideControls")
)
_DASHBOARD_KEYS = frozenset(
    (
        "title", "description", "tags", "editable", "liveNow", "preload", "revision", "links",
        "graphTooltip", "time", "timezone", "refresh", "timepicker", "weekStart",
        "fiscalYearStartMonth", "nowDelay", "annotations", "templating", "panels",
    )
)  # fmt: skip
_PANEL_KEYS = frozenset(
    (
        "id", "type", "title", "description", "links", "transparent", "datasource", "targets",
        "transformations", "options", "fieldConfig", "pluginVersion", "gridPos", "repeat",
        "repeatDirection", "maxPerRow", "libraryPanel", *common.QUERY_OPTIONS,
    )
)  # fmt: skip
# Panel fields Grafana writes for its own bookkeeping of repeated clones.
_PANEL_RUNTIME_KEYS = frozenset(("repeatPanelId", "repeatIteration", "scopedVars"))
_ROW_KEYS = frozenset(("id", "type", "title", "collapsed", "gridPos", "panels", "repeat"))


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _datasource_ref(value: object) -> dict:
    """A classic datasource reference as {type, uid}; a bare string is an old name/uid."""
    if isinstance(value, str):
        return {"uid": value}
    return _dict(value)


def data_query(datasource: object, spec: dict) -> dict:
    ref = _datasource_ref(datasource)
    query: dict = {"kind": "DataQuery", "group": str(ref.get("type", "")), "version": "v0"}
    if "uid" in ref:
        query["datasource"] = {"name": str(ref["uid"])}
    query["spec"] = spec
    return query


class _Converter:
    def __init__(self, classic: dict, version: str):
        self.classic = classic
        self.version = version
        self.uid = str(classic.get("uid", ""))

    # ------------------------------------------------------------ panels

    def panel_ids(self) -> dict[int, int]:
        """id(panel object) -> its element id: the classic id, or the next free one where it is
        missing or taken."""
        panels = [p for p in _walk(self.classic) if p.get("type") != "row"]
        taken: set[int] = set()
        ids: dict[int, int] = {}
        pending = []
        for panel in panels:
            value = panel.get("id")
            if isinstance(value, int) and not isinstance(value, bool) and value not in taken:
                taken.add(value)
                ids[id(panel)] = value
            else:
                pending.append(panel)
        rows = [p.get("id") for p in _walk(self.classic) if p.get("type") == "row"]
        used = taken | {r for r in rows if isinstance(r, int)}
        next_id = max(used, default=0) + 1
        for panel in pending:
            ids[id(panel)] = next_id
            next_id += 1
        return ids

    def element(self, panel: dict, panel_id: int) -> dict:
        title = str(panel.get("title", ""))
        unknown = sorted(set(panel) - _PANEL_KEYS - _PANEL_RUNTIME_KEYS)
        if unknown:
            raise fail(
                self.uid,
                f"field {unknown[0]!r} has no place in a schema v2 panel",
                "remove it, or keep this dashboard on the classic model (Grafana 11/12 target)",
                panel=title,
            )
        if isinstance(panel.get("libraryPanel"), dict):
            ref = panel["libraryPanel"]
            spec = {
                "id": panel_id,
                "title": title,
                "libraryPanel": {"name": str(ref.get("name", "")), "uid": str(ref.get("uid", ""))},
            }
            return {"kind": "LibraryPanel", "spec": spec}
        spec = {
            "id": panel_id,
            "title": title,
            "description": str(panel.get("description", "")),
            "links": [self.data_link(link) for link in _list(panel.get("links"))],
            "data": self.query_group(panel),
            "vizConfig": {
                "kind": "VizConfig",
                "group": str(panel.get("type", "")),
                "version": str(panel.get("pluginVersion", "")),
                "spec": {
                    "options": common.copied(_dict(panel.get("options"))),
                    "fieldConfig": {
                        "defaults": {},
                        "overrides": [],
                        **common.copied(_dict(panel.get("fieldConfig"))),
                    },
                },
            },
        }
        if "transparent" in panel:
            spec["transparent"] = bool(panel["transparent"])
        return {"kind": "Panel", "spec": spec}

    @staticmethod
    def data_link(link: object) -> dict:
        link = _dict(link)
        out = {"title": str(link.get("title", "")), "url": str(link.get("url", ""))}
        if "targetBlank" in link:
            out["targetBlank"] = bool(link["targetBlank"])
        return out

    def query_group(self, panel: dict) -> dict:
        default_source = panel.get("datasource")
        queries = []
        for target in _list(panel.get("targets")):
            target = _dict(target)
            source = target.get("datasource", default_source)
            rest = {
                k: common.copied(v)
                for k, v in target.items()
                if k not in ("refId", "hide", "datasource")
            }
            queries.append(
                {
                    "kind": "PanelQuery",
                    "spec": {
                        "query": data_query(source, rest),
                        "refId": str(target.get("refId", "")),
                        "hidden": bool(target.get("hide", False)),
                    },
                }
            )
        return {
            "kind": "QueryGroup",
            "spec": {
                "queries": queries,
                "transformations": [
                    self.transformation(t) for t in _list(panel.get("transformations"))
                ],
                "queryOptions": {
                    k: common.copied(panel[k]) for k in common.QUERY_OPTIONS if k in panel
                },
            },
        }

    def transformation(self, item: object) -> dict:
        item = common.copied(_dict(item))
        transform_id = str(item.pop("id", ""))
        item.setdefault("options", {})
        if self.version == "v2beta1":
            return {"kind": transform_id, "spec": {"id": transform_id, **item}}
        return {"kind": "Transformation", "group": transform_id, "spec": item}

    # ------------------------------------------------------------ layout

    def grid_item(self, panel: dict, ids: dict[int, int], top: int) -> dict:
        grid = _dict(panel.get("gridPos"))
        spec: dict = {
            "x": _int(grid.get("x")),
            "y": max(0, _int(grid.get("y")) - top),
            "width": _int(grid.get("w"), 12),
            "height": _int(grid.get("h"), 8),
            "element": {"kind": "ElementReference", "name": common.element_name(ids[id(panel)])},
        }
        if isinstance(panel.get("repeat"), str) and panel["repeat"]:
            repeat: dict = {"mode": "variable", "value": panel["repeat"]}
            if panel.get("repeatDirection") in ("h", "v"):
                repeat["direction"] = panel["repeatDirection"]
            if isinstance(panel.get("maxPerRow"), int):
                repeat["maxPerRow"] = panel["maxPerRow"]
            spec["repeat"] = repeat
        return {"kind": "GridLayoutItem", "spec": spec}

    def layout(self, ids: dict[int, int]) -> dict:
        """Rows → a RowsLayout of grids (panels above the first row in a headerless row);
        no rows → one grid."""
        sections: list[tuple[dict | None, list[dict]]] = [(None, [])]
        for panel in _list(self.classic.get("panels")):
            if not isinstance(panel, dict):
                continue
            if panel.get("type") == "row":
                unknown = sorted(set(panel) - _ROW_KEYS)
                if unknown:
                    raise fail(
                        self.uid,
                        f"row field {unknown[0]!r} has no place in a schema v2 row",
                        "remove it from the row",
                        panel=str(panel.get("title", "")),
                    )
                children = [c for c in _list(panel.get("panels")) if isinstance(c, dict)]
                sections.append((panel, children))
            else:
                sections[-1][1].append(panel)
        if len(sections) == 1:
            return _grid([self.grid_item(p, ids, 0) for p in sections[0][1]])
        rows = []
        for row, panels in sections:
            if row is None and not panels:
                continue
            top = _int(_dict(row.get("gridPos")).get("y")) + 1 if row else 0
            spec: dict = {"layout": _grid([self.grid_item(p, ids, top) for p in panels])}
            if row is None:
                spec = {"title": "", "collapse": False, "hideHeader": True, **spec}
            else:
                spec = {
                    "title": str(row.get("title", "")),
                    "collapse": bool(row.get("collapsed", False)),
                    **spec,
                }
                if isinstance(row.get("repeat"), str) and row["repeat"]:
                    spec["repeat"] = {"mode": "variable", "value": row["repeat"]}
            rows.append({"kind": "RowsLayoutRow", "spec": spec})
        return {"kind": "RowsLayout", "spec": {"rows": rows}}

    # ------------------------------------------------------------ the rest

    def variable(self, item: object) -> dict:
        item = _dict(item)
        name = str(item.get("name", ""))
        kind = common.VARIABLE_KINDS.get(str(item.get("type", "")))
        if kind is None:
            raise fail(
                self.uid,
                f"variable {name!r} is of type {item.get('type')!r}, which schema v2 does not have",
                f"use one of {', '.join(sorted(common.VARIABLE_KINDS))}",
            )
        fields, defaults = common.spec_fields(f"{kind}Spec")
        spec: dict = {}
        outside: dict = {"kind": f"{kind}"}
        for key, value in item.items():
            if key == "type":
                continue
            if key == "hide":
                spec["hide"] = common.enum_name(common.HIDE, value)
            elif key == "refresh" and kind != "IntervalVariable":
                spec["refresh"] = common.enum_name(common.REFRESH, value)
            elif key == "sort":
                spec["sort"] = common.enum_name(common.SORT, value)
            elif key == "query" and kind == "QueryVariable":
                query = value if isinstance(value, dict) else {"query": value}
                spec["query"] = data_query(item.get("datasource"), common.copied(query))
            elif key == "query" and kind == "DatasourceVariable":
                spec["pluginId"] = str(value)
            elif key == "datasource" and kind == "QueryVariable":
                continue  # inside the query
            elif key == "datasource" and kind in common.KINDS_WITH_DATASOURCE:
                ref = _datasource_ref(value)
                outside["group"] = str(ref.get("type", ""))
                if "uid" in ref:
                    outside["datasource"] = {"name": str(ref["uid"])}
            elif key == "current" and kind == "SwitchVariable":
                spec["current"] = str(_dict(value).get("value", value))
            elif key in fields:
                spec[key] = common.copied(value)
            else:
                raise fail(
                    self.uid,
                    f"variable {name!r} ({item.get('type')}) has field {key!r}, which schema v2 "
                    "does not have",
                    "remove it from the variable",
                )
        if kind == "IntervalVariable":
            spec["refresh"] = "onTimeRangeChanged"
        if kind == "QueryVariable" and "query" not in spec:
            spec["query"] = data_query(item.get("datasource"), {})
        if kind in common.KINDS_WITH_DATASOURCE:
            outside.setdefault("group", "")
        required = common.schema("v2")["definitions"][f"{kind}Spec"].get("required", [])
        for key in required:
            if key not in spec and key in common.CLASSIC_VARIABLE_DEFAULTS:
                spec[key] = common.CLASSIC_VARIABLE_DEFAULTS[key]
            elif key not in spec:
                spec[key] = common.copied(defaults.get(key, common.REQUIRED_EMPTY.get(key, "")))
        if isinstance(spec.get("current"), dict):
            spec["current"] = {**common.REQUIRED_EMPTY["current"], **spec["current"]}  # type: ignore[dict-item]
        return {**outside, "spec": spec}

    def link(self, item: object) -> dict:
        item = common.copied(_dict(item))
        fields, defaults = common.spec_fields("DashboardLink")
        unknown = sorted(set(item) - fields)
        if unknown:
            raise fail(
                self.uid,
                f"link {item.get('title')!r} has field {unknown[0]!r}, which schema v2 has not",
                "remove it from the link",
            )
        base = {"icon": "external link", "tooltip": "", "tags": [], **defaults}
        base.update(item)
        base.setdefault("title", "")
        base.setdefault("type", "link")
        for key in ("asDropdown", "targetBlank", "includeVars", "keepTime"):
            base.setdefault(key, False)
        return {k: base[k] for k in sorted(base) if k in fields}

    def annotation(self, item: object) -> dict:
        item = common.copied(_dict(item))
        own = ("builtIn", "datasource", "enable", "hide", "iconColor", "name", "filter")
        own += ("placement", "mappings")
        spec: dict = {
            "query": data_query(
                item.get("datasource"), {k: v for k, v in item.items() if k not in own}
            ),
            "enable": bool(item.get("enable", True)),
            "hide": bool(item.get("hide", False)),
            "iconColor": str(item.get("iconColor", "")),
            "name": str(item.get("name", "")),
        }
        if item.get("builtIn"):
            spec["builtIn"] = True
        for key in ("filter", "placement", "mappings"):
            if key in item:
                spec[key] = item[key]
        return {"kind": "AnnotationQuery", "spec": spec}

    def time_settings(self) -> dict:
        classic = self.classic
        time = _dict(classic.get("time"))
        picker = _dict(classic.get("timepicker"))
        _, defaults = common.spec_fields("TimeSettingsSpec")
        settings = {
            "timezone": classic.get("timezone", defaults["timezone"]),
            "from": time.get("from", defaults["from"]),
            "to": time.get("to", defaults["to"]),
            "autoRefresh": classic.get("refresh") or "",
            "autoRefreshIntervals": picker.get(
                "refresh_intervals", defaults["autoRefreshIntervals"]
            ),
            "hideTimepicker": bool(picker.get("hidden", False)),
            "fiscalYearStartMonth": classic.get("fiscalYearStartMonth", 0),
        }
        for v1, v2 in (("quick_ranges", "quickRanges"), ("nowDelay", "nowDelay")):
            if v1 in picker:
                settings[v2] = common.copied(picker[v1])
        if "nowDelay" in classic:
            settings["nowDelay"] = classic["nowDelay"]
        if classic.get("weekStart"):  # "" is the locale's default, which v2 says by omission
            settings["weekStart"] = classic["weekStart"]
        return common.copied(settings)

    def convert(self, layout: dict | None) -> dict:
        classic = self.classic
        unknown = sorted(set(classic) - _DASHBOARD_KEYS - _DROPPED_DASHBOARD_KEYS)
        if unknown:
            raise fail(
                self.uid,
                f"dashboard field {unknown[0]!r} has no place in a schema v2 dashboard",
                "remove it, or keep this dashboard on the classic model (Grafana 11/12 target)",
            )
        ids = self.panel_ids()
        elements = {}
        for panel in _walk(classic):
            if panel.get("type") != "row":
                elements[common.element_name(ids[id(panel)])] = self.element(panel, ids[id(panel)])
        if layout is None:
            layout = self.layout(ids)
        else:
            layout = common.copied(layout)
            _check_references(layout, elements, self.uid)
        spec: dict = {
            "annotations": [
                self.annotation(a) for a in _list(_dict(classic.get("annotations")).get("list"))
            ],
            "cursorSync": common.enum_name(common.CURSOR_SYNC, classic.get("graphTooltip", 0)),
            "elements": dict(sorted(elements.items(), key=lambda kv: _element_order(kv[0]))),
            "layout": layout,
            "links": [self.link(link) for link in _list(classic.get("links"))],
            "preload": bool(classic.get("preload", False)),
            "tags": [str(t) for t in _list(classic.get("tags"))],
            "timeSettings": self.time_settings(),
            "title": str(classic.get("title", "")),
            "variables": [
                self.variable(v) for v in _list(_dict(classic.get("templating")).get("list"))
            ],
        }
        for key in ("description", "editable", "liveNow", "revision"):
            if key in classic:
                spec[key] = common.copied(classic[key])
        return spec


def _walk(classic: dict) -> list[dict]:
    """Every panel object, rows and the panels inside them included, in layout order."""
    found = []
    for panel in _list(classic.get("panels")):
        if isinstance(panel, dict):
            found.append(panel)
            found.extend(c for c in _list(panel.get("panels")) if isinstance(c, dict))
    return found


def _int(value: object, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _grid(items: list[dict]) -> dict:
    return {"kind": "GridLayout", "spec": {"items": items}}


def _element_order(name: str) -> tuple[int, str]:
    number = name.rpartition("-")[2]
    return (int(number), name) if number.isdigit() else (1 << 62, name)


def references(layout: object) -> list[str]:
    """Every element name a layout refers to, in layout order."""
    found: list[str] = []
    stack = [layout]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if item.get("kind") == "ElementReference" and isinstance(item.get("name"), str):
                found.append(item["name"])
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found


def _check_references(layout: dict, elements: dict, uid: str) -> None:
    named = references(layout)
    missing = [name for name in named if name not in elements]
    if missing:
        raise fail(
            uid,
            f"the v2 layout refers to {missing[0]}, which is no panel of the dashboard",
            "build v2Layout with lib/v2.libsonnet, which numbers panels as withPanels does",
        )
    unplaced = [name for name in elements if name not in named]
    if unplaced:
        raise fail(
            uid,
            f"{unplaced[0]} is in no place of the v2 layout",
            "put every panel in the v2 layout (lib/v2.libsonnet)",
        )


def to_v2(classic: dict, layout: dict | None = None, version: str = "v2") -> dict:
    """The schema v2 `Dashboard` spec of a classic model (`version` "v2beta1" for Grafana 12).
    `layout`: the source's hidden v2 layout, referring to panels as `panel-<id>`; None derives
    it from the classic rows and grid positions. Raises ConversionError."""
    return _Converter(classic, version).convert(layout)
