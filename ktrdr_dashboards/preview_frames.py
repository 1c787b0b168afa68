"""What a preview panel draws: Prometheus query results shaped the way Grafana shapes them
for each panel type (series names from `legendFormat`, stat reductions, table frames with the
panel's merge/organize transformations, value mappings). Data in, data out: no I/O here."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# One target's result as the Prometheus HTTP API returns it: a list of
# {"metric": {...}, "values": [[t, "v"], ...]} (range) or {"metric": {...}, "value": [t, "v"]}.
PromResult = list[dict[str, Any]]

_LEGEND_LABEL = re.compile(r"\{\{\s*(\w+)\s*\}\}")


@dataclass(frozen=True)
class TargetResult:
    ref_id: str
    expr: str  # as sent to Prometheus, variables expanded
    instant: bool
    result: PromResult
    legend_format: str | None = None
    error: str | None = None


@dataclass
class PanelView:
    """Everything the page script needs to draw one panel."""

    kind: str  # "stat" | "timeseries" | "piechart" | "table" | "state-timeline" | "row" | other
    series: list[dict[str, Any]] = field(default_factory=list)
    table: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "series": self.series, "errors": self.errors}
        if self.table is not None:
            out["table"] = self.table
        return out


def _number(text: object) -> float | None:
    value = float(str(text))
    return None if math.isnan(value) or math.isinf(value) else value


def series_name(metric: Mapping[str, str], legend_format: str | None, expr: str) -> str:
    """Grafana's Prometheus series naming: the legend format with {{label}} filled in, else
    the labels as a selector, else the expression."""
    if legend_format:
        return _LEGEND_LABEL.sub(lambda m: metric.get(m.group(1), ""), legend_format)
    labels = {k: v for k, v in metric.items() if k != "__name__"}
    name = metric.get("__name__", "")
    if not labels:
        return name or expr
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _points(item: Mapping[str, Any]) -> list[list[float | None]]:
    """[[ms, value], ...] of a range or instant result item."""
    raw = item.get("values") or ([item["value"]] if "value" in item else [])
    return [[int(float(t) * 1000), _number(v)] for t, v in raw]


def time_series(targets: Sequence[TargetResult]) -> list[dict[str, Any]]:
    out = []
    for target in targets:
        for item in target.result:
            name = series_name(item.get("metric", {}), target.legend_format, target.expr)
            out.append({"name": name, "refId": target.ref_id, "points": _points(item)})
    return out


def last_not_null(points: Sequence[Sequence[float | None]]) -> float | None:
    return next((v for _, v in reversed(points) if v is not None), None)


def reduced(targets: Sequence[TargetResult]) -> list[dict[str, Any]]:
    """One value per series (stat, pie chart): Grafana's `lastNotNull` reduction."""
    return [{"name": s["name"], "value": last_not_null(s["points"])} for s in time_series(targets)]


def _frame(target: TargetResult, value_column: str) -> list[dict[str, Any]]:
    rows = []
    for item in target.result:
        labels = {k: v for k, v in item.get("metric", {}).items() if k != "__name__"}
        points = _points(item)
        time, value = points[-1] if points else (None, None)
        rows.append({"Time": time, **labels, value_column: value})
    return rows


def _merge(frames: Sequence[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Grafana's `merge` transformation: the fields every frame has are the key; rows with the
    same key become one row where their other fields do not disagree."""
    frames = [frame for frame in frames if frame]
    if not frames:
        return []
    names = [set().union(*(row.keys() for row in frame)) for frame in frames]
    key_fields = sorted(set.intersection(*names))
    by_key: dict[tuple, list[dict[str, Any]]] = {}
    rows: list[dict[str, Any]] = []
    for frame in frames:
        for row in frame:
            same_key = by_key.setdefault(tuple(str(row.get(k)) for k in key_fields), [])
            target = next(
                (
                    existing
                    for existing in same_key
                    if all(existing.get(k) in (None, v) for k, v in row.items())
                ),
                None,
            )
            if target is None:
                target = {}
                same_key.append(target)
                rows.append(target)
            target.update(row)
    return rows


def _organize(rows: list[dict[str, Any]], options: Mapping[str, Any]) -> tuple[list[str], list]:
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    include = options.get("includeByName") or {}
    exclude = options.get("excludeByName") or {}
    kept = [c for c in columns if (not include or include.get(c)) and not exclude.get(c)]
    index = options.get("indexByName") or {}
    kept.sort(key=lambda c: (index.get(c, len(columns)), columns.index(c)))
    rename = options.get("renameByName") or {}
    table_rows = [[row.get(c) for c in kept] for row in rows]
    return [rename.get(c, c) for c in kept], table_rows


def _column_styles(panel: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, list]]:
    units: dict[str, str] = {}
    mappings: dict[str, list] = {}
    for override in (panel.get("fieldConfig") or {}).get("overrides") or []:
        matcher = override.get("matcher") or {}
        if matcher.get("id") != "byName":
            continue
        for prop in override.get("properties") or []:
            if prop.get("id") == "unit":
                units[matcher["options"]] = prop["value"]
            elif prop.get("id") == "mappings":
                mappings[matcher["options"]] = prop["value"]
    return units, mappings


def table(panel: Mapping[str, Any], targets: Sequence[TargetResult]) -> dict[str, Any]:
    """The table a Grafana table panel shows for instant `format: table` targets."""
    several = len(targets) > 1
    frames = [_frame(t, f"Value #{t.ref_id}" if several else "Value") for t in targets]
    rows: list[dict[str, Any]] = [row for frame in frames for row in frame]
    organize: Mapping[str, Any] = {}
    for transformation in panel.get("transformations") or []:
        if transformation.get("id") == "merge":
            rows = _merge(frames)
        elif transformation.get("id") == "organize":
            organize = transformation.get("options") or {}
    columns, table_rows = _organize(rows, organize)
    # Rows in a stable order (Grafana keeps the datasource's order, which is not stable).
    table_rows.sort(key=lambda r: [("" if v is None else str(v)) for v in r])
    units, mappings = _column_styles(panel)
    return {"columns": columns, "rows": table_rows, "units": units, "mappings": mappings}


def panel_view(panel: Mapping[str, Any], targets: Sequence[TargetResult]) -> PanelView:
    kind = str(panel.get("type"))
    view = PanelView(kind=kind, errors=[f"{t.ref_id}: {t.error}" for t in targets if t.error])
    good = [t for t in targets if not t.error]
    if kind in ("stat", "piechart", "gauge", "bargauge"):
        view.series = reduced(good)
    elif kind == "table":
        view.table = table(panel, good)
    elif kind != "row":
        view.series = time_series(good)
    return view
