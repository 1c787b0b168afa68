"""`diff`: what differs between two dashboards as Grafana sees them, panel by panel, so a
change made in the Grafana UI can be ported to the Jsonnet source by hand.

Meaning is compared, not format (`meaning`): a V2 Resource and the classic build of the same
dashboard do not differ. Key order, the keys Grafana assigns or rewrites itself, and fields at
their default are ignored. Panels are matched by title, then by id, then by position, so a
retitled panel is a changed title and not a removal plus an addition; targets are matched by
refId. Each difference is one line with its JSON path, e.g.
`panels["Success Rate"].fieldConfig.defaults.thresholds.steps[2].value: 95 → 90`; a v2
layout's differences (tabs, auto grid, ...) come last, as `dashboard.layout...`."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from ktrdr_dashboards import convert
from ktrdr_dashboards import model as dashboard_model
from ktrdr_dashboards.errors import DashboardError
from ktrdr_dashboards.roundtrip import documents, exports, meaning

ABSENT = "(absent)"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Side:
    """One dashboard of a comparison and how to name it in the output."""

    label: str
    model: dict
    layout: dict | None = None  # the v2-only layout, `exports.Export.layout`


def show(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def member(path: str, key: str) -> str:
    return f"{path}.{key}" if _IDENTIFIER.fullmatch(key) else f"{path}[{show(key)}]"


def _keyed(items: list, key: str) -> dict[str, object] | None:
    """Items by `key` when every item has a distinct one (targets by refId, variables by
    name), else None: such lists are compared by position."""
    if not items or not all(isinstance(i, dict) and isinstance(i.get(key), str) for i in items):
        return None
    keyed = {i[key]: i for i in items}
    return keyed if len(keyed) == len(items) else None


LIST_KEYS = ("refId", "name")  # how items of a list are matched when they all have one


def changes(a: object, b: object, path: str, keyed: bool = False) -> Iterator[str]:
    """`path: old → new` for every difference between two JSON values. `keyed`: `a` and `b`
    are list items by key, shown as `targets["A"]`."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            where = f"{path}[{show(key)}]" if keyed else member(path, key)
            if key not in b:
                yield f"{where}: {show(a[key])} → {ABSENT}"
            elif key not in a:
                yield f"{where}: {ABSENT} → {show(b[key])}"
            else:
                yield from changes(a[key], b[key], where)
        return
    if isinstance(a, list) and isinstance(b, list):
        for key in LIST_KEYS:
            left, right = _keyed(a, key), _keyed(b, key)
            if left is not None and right is not None:
                yield from changes(left, right, path, keyed=True)
                return
        for index in range(max(len(a), len(b))):
            where = f"{path}[{index}]"
            if index >= len(b):
                yield f"{where}: {show(a[index])} → {ABSENT}"
            elif index >= len(a):
                yield f"{where}: {ABSENT} → {show(b[index])}"
            else:
                yield from changes(a[index], b[index], where)
        return
    if show(a) != show(b):
        yield f"{path}: {show(a)} → {show(b)}"


# ---------------------------------------------------------------- panels


@dataclass(frozen=True)
class Panel:
    label: str  # `panels["Title"]`; a repeated title gets ` #2`, ` #3`, ...
    id: object
    model: dict  # regenerated keys and nested panels removed


def panels_of(model: dict) -> list[Panel]:
    """Every panel, rows' nested panels included, in order."""
    flat = list(dashboard_model.panels(model))
    seen: dict[str, int] = {}
    found: list[Panel] = []
    for item in flat:
        title = str(item.get("title", ""))
        seen[title] = seen.get(title, 0) + 1
        name = title if seen[title] == 1 else f"{title} #{seen[title]}"
        stripped = {
            k: v
            for k, v in item.items()
            if k not in exports.REGENERATED_PANEL_KEYS
            and not (k == "panels" and item.get("type") == "row")
        }
        found.append(Panel(f"panels[{show(name)}]", item.get("id"), stripped))
    return found


def match(left: list[Panel], right: list[Panel]) -> list[tuple[Panel, Panel]]:
    """Pairs by title, then by id, then by position on the grid."""
    pairs: list[tuple[Panel, Panel]] = []
    rest_a, rest_b = list(left), list(right)
    for same in (
        lambda p, q: p.label == q.label,
        lambda p, q: p.id is not None and p.id == q.id,
        lambda p, q: show(p.model.get("gridPos")) == show(q.model.get("gridPos")),
    ):
        for p in list(rest_a):
            q = next((q for q in rest_b if same(p, q)), None)
            if q is not None:
                pairs.append((p, q))
                rest_a.remove(p)
                rest_b.remove(q)
    return pairs


def place(grid: object, keys: str) -> str:
    grid = grid if isinstance(grid, dict) else {}
    return " ".join(f"{k}={show(grid.get(k))}" for k in keys)


def panel_changes(a: Panel, b: Panel) -> Iterator[str]:
    grid_a, grid_b = a.model.get("gridPos") or {}, b.model.get("gridPos") or {}
    if place(grid_a, "xy") != place(grid_b, "xy"):
        yield f"{a.label} moved: {place(grid_a, 'xy')} → {place(grid_b, 'xy')}"
    if place(grid_a, "wh") != place(grid_b, "wh"):
        yield f"{a.label} resized: {place(grid_a, 'wh')} → {place(grid_b, 'wh')}"

    def without_geometry(grid: object) -> object:
        return (
            {k: v for k, v in grid.items() if k not in ("x", "y", "w", "h")}
            if isinstance(grid, dict)
            else grid
        )

    rest_a = {**a.model, "gridPos": without_geometry(grid_a)}
    rest_b = {**b.model, "gridPos": without_geometry(grid_b)}
    yield from changes(rest_a, rest_b, a.label)


def describe(panel: Panel) -> str:
    return f"{panel.model.get('type')}, {place(panel.model.get('gridPos'), 'xywh')}"


def diff(a: dict, b: dict, layout_a: dict | None = None, layout_b: dict | None = None) -> list[str]:
    """Every semantic difference from dashboard `a` to dashboard `b`, one line each:
    dashboard fields first, then panels in `a`'s order, then panels only `b` has, then the
    v2-only layouts (`layout_a`, `layout_b`: element references named `panel-<id>`)."""
    left, right = meaning.comparable(a), meaning.comparable(b)
    lines = list(
        changes(
            {k: v for k, v in left.items() if k != "panels"},
            {k: v for k, v in right.items() if k != "panels"},
            "dashboard",
        )
    )
    panels_a, panels_b = panels_of(left), panels_of(right)
    pairs = {id(p): q for p, q in match(panels_a, panels_b)}
    for p in panels_a:
        q = pairs.get(id(p))
        if q is None:
            lines.append(f"{p.label} removed ({describe(p)})")
        else:
            lines += panel_changes(p, q)
    matched = {id(q) for q in pairs.values()}
    lines += [f"{q.label} added ({describe(q)})" for q in panels_b if id(q) not in matched]
    return lines + layout_changes(layout_a, panels_a, layout_b, panels_b)


def _labels(panels: list[Panel]) -> dict[str, str]:
    """Element name (`panel-<id>`) -> the panel's label."""
    return {f"panel-{p.id}": p.label for p in panels if isinstance(p.id, int)}


def _constructs(layout: dict | None) -> str:
    if layout is None:
        return "(classic rows)"
    return "; ".join(convert.v2_only({"layout": layout})) or "(classic rows)"


def layout_changes(
    a: dict | None, panels_a: list[Panel], b: dict | None, panels_b: list[Panel]
) -> list[str]:
    """The differences of two v2-only layouts, their element references named after the
    panels they place; a side without one is laid out in classic rows."""
    if a is None and b is None:
        return []
    if a is None or b is None:
        return [f"dashboard.layout: {_constructs(a)} → {_constructs(b)}"]
    return list(
        changes(
            meaning.comparable_layout(a, _labels(panels_a)),
            meaning.comparable_layout(b, _labels(panels_b)),
            "dashboard.layout",
        )
    )


# ---------------------------------------------------------------- v2 layouts


def layout_diff(a: dict, a_layout: dict | None, b: dict, b_layout: dict | None) -> list[str]:
    """What differs between the v2-only layouts of dashboards `a` and `b` (tabs, auto grids,
    ...; None: the classic rows and grid say it all), panels named by their title."""
    if a_layout is None and b_layout is None:
        return []
    if a_layout is None or b_layout is None:
        return [f"layout: {_layout_summary(a_layout)} → {_layout_summary(b_layout)}"]
    return list(changes(_titled(a_layout, a), _titled(b_layout, b), "layout"))


def _layout_summary(layout: dict | None) -> str:
    if layout is None:
        return "classic rows and grid"
    return "; ".join(convert.v2_only({"layout": layout})) or "a v2 layout"


def _titled(layout: object, model: dict) -> object:
    """The layout with each `panel-<id>` reference named like the panels in the diff."""
    labels = {f"panel-{p.id}": p.label for p in panels_of(model) if isinstance(p.id, int)}

    def rename(value: object) -> object:
        if isinstance(value, dict):
            if value.get("kind") == "ElementReference" and value.get("name") in labels:
                return {**value, "name": labels[value["name"]]}
            return {key: rename(item) for key, item in value.items()}
        if isinstance(value, list):
            return [rename(item) for item in value]
        return value

    return rename(layout)


# ---------------------------------------------------------------- what the sides are


def built_dashboards(build_dir: Path) -> dict[str, Path]:
    """uid -> build output file."""
    found: dict[str, Path] = {}
    for path in sorted((build_dir / "dashboards").glob("*.json")):
        model = documents.read(path)
        if isinstance(model, dict) and isinstance(model.get("uid"), str):
            found.setdefault(model["uid"], path)
    return found


def resolve(spec: str, build_dir: Path, bindings: exports.Bindings) -> Side:
    """A dashboard file (any format, JSON or YAML), a build output name (`operations`) or a
    uid of a dashboard in build/dashboards/."""
    path = Path(spec)
    if not path.is_file():
        by_name = build_dir / "dashboards" / f"{spec}.json"
        path = by_name if by_name.is_file() else built_dashboards(build_dir).get(spec, path)
    if not path.is_file():
        raise DashboardError(
            f"`{spec}` is not a file, nor a dashboard name or uid in {build_dir}/dashboards/",
            fix="pass an exported JSON or YAML file, or build first (`nox -s build`)",
        )
    export = exports.load(path, bindings)
    return Side(str(path), export.model, export.layout)


def built_resource(build_dir: Path, uid: str) -> Path | None:
    """The schema v2 resource `build` writes for a dashboard (Grafana 12 and 13 targets)."""
    path = build_dir / "kubernetes" / "grafana-resources" / f"dashboard-{uid}.yaml"
    return path if path.is_file() else None


def counterpart(export: Side, build_dir: Path, bindings: exports.Bindings) -> Side:
    """The build output with the export's uid: its v2 resource when the export has a v2-only
    layout and the build wrote one (the classic file has no tabs), else its classic file."""
    uid = export.model.get("uid")
    path = built_dashboards(build_dir).get(str(uid))
    if path is None:
        raise DashboardError(
            f"no dashboard with uid {show(uid)} in {build_dir}/dashboards/",
            fix="build first (`nox -s build`), or name both sides: diff A B",
        )
    resource = built_resource(build_dir, str(uid)) if export.layout is not None else None
    return resolve(str(resource or path), build_dir, bindings)
