"""Prometheus query results as the data frames Grafana's Prometheus data source hands a panel:
a Time and a Value field per series for time series and instant vectors (labels on the value
field, the rendered `legendFormat` as its `displayNameFromDS`, the query step as the time
field's `interval`), and one frame per target with a column per label for `format: table`.
Everything a panel does with the frames (transformations, overrides, units, colours,
reductions) happens in the page, in @grafana/data. Data in, data out: no I/O here."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# One target's result as the Prometheus HTTP API returns it: a list of
# {"metric": {...}, "values": [[t, "v"], ...]} (range) or {"metric": {...}, "value": [t, "v"]}.
PromResult = list[dict[str, Any]]
Frame = dict[str, Any]

_LEGEND_LABEL = re.compile(r"\{\{\s*(\w+)\s*\}\}")


@dataclass(frozen=True)
class TargetResult:
    ref_id: str
    expr: str  # as sent to Prometheus, variables expanded
    instant: bool
    result: PromResult
    legend_format: str | None = None
    error: str | None = None
    table: bool = False  # the target's `format` is `table`
    step_s: int = 0  # the range query's step (0 for instant queries)


def _number(text: object) -> float | None:
    value = float(str(text))
    return None if math.isnan(value) or math.isinf(value) else value


def legend(metric: Mapping[str, str], legend_format: str | None) -> str | None:
    """The legend format with {{label}} filled in as Grafana's Prometheus data source does;
    None without one (Grafana then names the series by its labels)."""
    if not legend_format or legend_format == "__auto":
        return None
    return _LEGEND_LABEL.sub(lambda m: metric.get(m.group(1), ""), legend_format)


def _points(item: Mapping[str, Any]) -> tuple[list[int], list[float | None]]:
    raw = item.get("values") or ([item["value"]] if "value" in item else [])
    return [int(float(t) * 1000) for t, _ in raw], [_number(v) for _, v in raw]


def _ordered(result: PromResult) -> PromResult:
    # Prometheus does not promise an order; frames in label order keep pages repeatable.
    return sorted(result, key=lambda item: sorted((item.get("metric") or {}).items()))


def series_frames(target: TargetResult) -> list[Frame]:
    """One frame per series: Time and Value."""
    frames = []
    for item in _ordered(target.result):
        metric = item.get("metric") or {}
        times, values = _points(item)
        value_config: dict[str, Any] = {}
        name = legend(metric, target.legend_format)
        if name is not None:
            value_config["displayNameFromDS"] = name
        time_config = {"interval": target.step_s * 1000} if target.step_s else {}
        frames.append(
            {
                "refId": target.ref_id,
                "fields": [
                    {"name": "Time", "type": "time", "values": times, "config": time_config},
                    {
                        "name": "Value",
                        "type": "number",
                        "values": values,
                        "labels": dict(metric),
                        "config": value_config,
                    },
                ],
            }
        )
    return frames


def table_frame(target: TargetResult, value_name: str) -> Frame:
    """One frame for an instant `format: table` target: Time, a column per label, the value."""
    items = _ordered(target.result)
    labels = sorted({k for item in items for k in item.get("metric") or {} if k != "__name__"})
    times, values = [], []
    for item in items:
        stamps, numbers = _points(item)
        times.append(stamps[-1] if stamps else None)
        values.append(numbers[-1] if numbers else None)
    fields = [{"name": "Time", "type": "time", "values": times, "config": {}}]
    for label in labels:
        column = [(item.get("metric") or {}).get(label) for item in items]
        fields.append({"name": label, "type": "string", "values": column, "config": {}})
    fields.append({"name": value_name, "type": "number", "values": values, "config": {}})
    return {"refId": target.ref_id, "fields": fields}


def panel_frames(targets: Sequence[TargetResult]) -> list[Frame]:
    """The frames a panel receives for its targets, in target order (failed targets give none:
    their error is shown on the panel)."""
    several = len(targets) > 1
    frames: list[Frame] = []
    for target in (t for t in targets if not t.error):
        if target.table:
            frames.append(table_frame(target, f"Value #{target.ref_id}" if several else "Value"))
        else:
            frames.extend(series_frames(target))
    return frames


def panel_errors(targets: Sequence[TargetResult]) -> list[str]:
    return [f"{t.ref_id}: {t.error}" for t in targets if t.error]
