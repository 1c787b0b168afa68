"""What Grafana sends to Prometheus when a dashboard loads: its template variables resolved as
Grafana resolves them, each panel's step for its width, each shown target expanded for that step
(range, instant or both), and the HTTP request of each query. Used by previews, the doctor and
the bench. Imports model, promql and validate.catalog (the scrape interval)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ktrdr_dashboards import model as dashboard_model
from ktrdr_dashboards.promql import expand as promql
from ktrdr_dashboards.validate import catalog

PANEL_WIDTH_PX = 1920  # Grafana's maxDataPoints for a full-width panel on a 1920-px screen
SCRAPE_INTERVAL_S = catalog.scrape_interval_seconds()
_RELATIVE = re.compile(r"^now-(?P<n>\d+)(?P<unit>[smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class Api(Protocol):
    """A Prometheus HTTP API: GET `path` with `params`, the response's `data`."""

    def get(self, path: str, params: Mapping[str, str | list[str]]) -> Any: ...


def range_seconds(model: Mapping) -> int:
    """The dashboard's default time range (`now-1h` → 3600)."""
    start = str((model.get("time") or {}).get("from", "now-6h"))
    match = _RELATIVE.match(start)
    return int(match.group("n")) * _UNIT_S[match.group("unit")] if match else 6 * 3600


@dataclass(frozen=True)
class Query:
    """One request Grafana sends for a target: a range or an instant query."""

    panel: str
    ref_id: str
    expr: str  # as sent, variables expanded
    instant: bool
    step_s: int


def resolve_variables(
    model: Mapping, api: Api, start_s: int, end_s: int
) -> dict[str, promql.Variable]:
    """Template variables as Grafana resolves them on load (promql.default_selection), with
    each `label_values` query answered by the server over the dashboard's time range."""

    def label_values(selector: str | None, label: str) -> list[str]:
        params = {"start": str(start_s), "end": str(end_s)}
        if selector:
            params["match[]"] = selector
        return api.get(f"/api/v1/label/{label}/values", params)

    return promql.default_selection(model, label_values)


def panel_targets(
    panel: Mapping,
    variables: Mapping[str, promql.Variable],
    range_s: int,
    end_s: int,
    width_px: int = PANEL_WIDTH_PX,
) -> tuple[int, list[tuple[dict, str]]]:
    """How Grafana sends a panel's queries: the step for its width (or maxDataPoints), and
    each shown target with its expression expanded for that step."""
    context = promql.QueryContext(
        range_seconds=range_s,
        max_data_points=int(panel.get("maxDataPoints") or width_px),
        scrape_interval_seconds=SCRAPE_INTERVAL_S,
        to_ms=end_s * 1000,
    )
    targets = [
        (target, promql.expand(target["expr"], variables, context))
        for target in panel.get("targets") or []
        if not target.get("hide") and target.get("expr")
    ]
    return max(1, context.interval_ms // 1000), targets


def kinds(target: Mapping) -> list[bool]:
    """The queries a target sends, as `instant` flags: a range query unless it is instant only,
    and an instant query when it asks for one (both when it sets `range` and `instant`)."""
    instant = bool(target.get("instant"))
    return [*([False] if target.get("range") or not instant else []), *([True] if instant else [])]


def panel_queries(
    panel: Mapping,
    variables: Mapping[str, promql.Variable],
    range_s: int,
    end_s: int,
    width_px: int = PANEL_WIDTH_PX,
) -> list[Query]:
    """Every query a panel sends, in target order."""
    step, targets = panel_targets(panel, variables, range_s, end_s, width_px)
    title = str(panel.get("title", ""))
    return [
        Query(title, str(target.get("refId", "?")), expr, instant, step)
        for target, expr in targets
        for instant in kinds(target)
    ]


def plan(model: Mapping, variables: Mapping[str, promql.Variable], end_s: int) -> list[Query]:
    """Every query a load of the dashboard sends, expanded for a PANEL_WIDTH_PX-wide panel."""
    seconds = range_seconds(model)
    return [
        query
        for panel in dashboard_model.panels(model)
        for query in panel_queries(panel, variables, seconds, end_s)
    ]


def request(
    expr: str, instant: bool, start_s: int, end_s: int, step_s: int
) -> tuple[str, dict[str, str]]:
    """The API path and parameters of one query: an instant query at the end of the range, or
    a range query aligned to its step, as Grafana aligns it so that cached points line up."""
    if instant:
        return "/api/v1/query", {"query": expr, "time": str(end_s)}
    return "/api/v1/query_range", {
        "query": expr,
        "start": str(start_s - start_s % step_s),
        "end": str(end_s - end_s % step_s),
        "step": str(step_s),
    }
