"""What each dashboard costs Prometheus: every target issued as Grafana issues it on load,
against a real Prometheus holding synthetic telemetry of a given size."""

from __future__ import annotations

import json
import re
import statistics
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ktrdr_dashboards import model as dashboard_model
from ktrdr_dashboards.bench import prometheus, telemetry
from ktrdr_dashboards.promql import analysis
from ktrdr_dashboards.promql import expand as promql
from ktrdr_dashboards.validate import catalog

PANEL_WIDTH_PX = 1920  # Grafana's maxDataPoints for a full-width panel on a 1920-px screen
SCRAPE_INTERVAL_S = catalog.scrape_interval_seconds()
_RELATIVE = re.compile(r"^now-(?P<n>\d+)(?P<unit>[smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


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
    model: Mapping, server: prometheus.Server, start_s: int, end_s: int
) -> dict[str, promql.Variable]:
    """Template variables as Grafana resolves them on load (promql.default_selection), with
    each `label_values` query answered by the server over the dashboard's time range."""

    def label_values(selector: str | None, label: str) -> list[str]:
        params = {"start": str(start_s), "end": str(end_s)}
        if selector:
            params["match[]"] = selector
        return server.get(f"/api/v1/label/{label}/values", params)

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


def plan(model: Mapping, variables: Mapping[str, promql.Variable], end_s: int) -> list[Query]:
    """Every query a load of the dashboard sends, expanded for a PANEL_WIDTH_PX-wide panel."""
    seconds = range_seconds(model)
    queries: list[Query] = []
    for panel in dashboard_model.panels(model):
        step, targets = panel_targets(panel, variables, seconds, end_s)
        for target, expr in targets:
            title, ref = str(panel.get("title", "")), str(target.get("refId", "?"))
            instant = bool(target.get("instant"))
            if target.get("range") or not instant:
                queries.append(Query(title, ref, expr, False, step))
            if instant:
                queries.append(Query(title, ref, expr, True, step))
    return queries


@dataclass(frozen=True)
class QueryCost:
    query: Query
    seconds: float  # Prometheus' execTotalTime
    samples: int  # totalQueryableSamples
    peak: int  # peakSamples


def run_query(server: prometheus.Server, query: Query, start_s: int, end_s: int) -> QueryCost:
    if query.instant:
        params = {"query": query.expr, "time": str(end_s), "stats": "all"}
        data = server.get("/api/v1/query", params)
    else:
        # Grafana aligns the range to the step so that cached points line up.
        aligned_start = start_s - start_s % query.step_s
        aligned_end = end_s - end_s % query.step_s
        params = {
            "query": query.expr,
            "start": str(aligned_start),
            "end": str(aligned_end),
            "step": str(query.step_s),
            "stats": "all",
        }
        data = server.get("/api/v1/query_range", params)
    stats = data.get("stats") or {}
    samples = stats.get("samples") or {}
    return QueryCost(
        query,
        float((stats.get("timings") or {}).get("execTotalTime", 0.0)),
        int(samples.get("totalQueryableSamples", 0)),
        int(samples.get("peakSamples", 0)),
    )


def _selector_text(selector: analysis.Selector) -> str:
    matchers = [f"{m.label}{m.op}{json.dumps(m.value)}" for m in selector.matchers]
    if selector.metric:
        matchers.insert(0, f"__name__={json.dumps(selector.metric)}")
    return "{" + ",".join(matchers) + "}"


def selected_series(
    server: prometheus.Server,
    model: Mapping,
    variables: Mapping[str, promql.Variable],
    end_s: int,
) -> int:
    """Series the dashboard's distinct selectors match in its time range, summed over the
    selectors: what its panels actually read, the yardstick its cost should grow with."""
    seconds = range_seconds(model)
    selectors: set[str] = set()
    for panel in dashboard_model.panels(model):
        for target in panel.get("targets") or []:
            if target.get("expr") and not target.get("hide"):
                found = analysis.analyze(target["expr"], variables).selectors
                selectors.update(_selector_text(s) for s in found)
    # One count per selector: `or` across selectors would merge series that differ only in
    # their metric name (last_over_time drops it).
    total = 0
    for selector in sorted(selectors):
        query = f"count(last_over_time({selector}[{seconds}s]))"
        data = server.get("/api/v1/query", {"query": query, "time": str(end_s)})
        total += int(float(data["result"][0]["value"][1])) if data["result"] else 0
    return total


@dataclass
class DashboardCost:
    """One dashboard at one telemetry size, over several full refreshes."""

    name: str  # "operations", or "operations (recorded)" when read from recording rules
    size: str
    series: int  # series in the TSDB
    selected: int  # series the dashboard's selectors match
    queries: int
    refresh_seconds: list[float] = field(default_factory=list)  # Prometheus time per refresh
    samples: int = 0  # totalQueryableSamples of one refresh (deterministic)
    peak: int = 0  # largest peakSamples of any one query
    panel_seconds: dict[str, float] = field(default_factory=dict)  # median per panel
    panel_samples: dict[str, int] = field(default_factory=dict)

    def top_panels(self, n: int = 3) -> list[tuple[str, float, int]]:
        """Most expensive panels by samples read (deterministic; time is too noisy to rank)."""
        ranked = sorted(self.panel_samples, key=lambda p: (-self.panel_samples[p], p))
        return [(p, self.panel_seconds[p], self.panel_samples[p]) for p in ranked[:n]]


def measure_dashboard(
    server: prometheus.Server,
    name: str,
    model: Mapping,
    size: str,
    series: int,
    end_s: int,
    refreshes: int,
) -> DashboardCost:
    start_s = end_s - range_seconds(model)
    variables = resolve_variables(model, server, start_s, end_s)
    queries = plan(model, variables, end_s)
    cost = DashboardCost(name, size, series, selected_series(server, model, variables, end_s),
                         len(queries))  # fmt: skip
    per_panel: dict[str, list[float]] = {}
    for _ in range(refreshes):
        results = [run_query(server, q, start_s, end_s) for q in queries]
        cost.refresh_seconds.append(sum(r.seconds for r in results))
        cost.samples = sum(r.samples for r in results)
        cost.peak = max((r.peak for r in results), default=0)
        totals: dict[str, float] = {}
        cost.panel_samples = {}
        for r in results:
            totals[r.query.panel] = totals.get(r.query.panel, 0.0) + r.seconds
            cost.panel_samples[r.query.panel] = cost.panel_samples.get(r.query.panel, 0) + r.samples
        for panel, seconds in totals.items():
            per_panel.setdefault(panel, []).append(seconds)
    cost.panel_seconds = {p: statistics.median(v) for p, v in per_panel.items()}
    return cost


# Data the server holds: the dashboards' 1h range plus room for the longest rate window
# ($__rate_interval is 60 s); operations metrics, read over 1h windows, get 2h.
SPAN_S = 3600 + 300
LONG_SPAN_S = 2 * 3600


@dataclass(frozen=True)
class Variant:
    """Dashboards to measure on the same data; `rules` (recording rules YAML) are backfilled
    from the raw telemetry first, for dashboards compiled to read them."""

    suffix: str  # appended to each dashboard name in the table, e.g. " (recorded)"
    dashboards: Sequence[tuple[str, Mapping]]
    rules: str | None = None


def measure_size(
    size: str,
    variants: Sequence[Variant],
    refreshes: int,
    end_s: int,
    work_root: Path | None = None,
) -> list[DashboardCost]:
    """Generate telemetry of `size`, backfill it, start Prometheus, measure every dashboard
    of every variant (a variant with rules restarts the server on the raw + recorded data)."""
    with tempfile.TemporaryDirectory(prefix=f"ktrdr-bench-{size}-", dir=work_root) as tmp:
        work = Path(tmp)
        data_dir = work / "data"
        openmetrics = work / "telemetry.om.txt"
        series = telemetry.write_openmetrics(
            telemetry.telemetry_for(size),
            openmetrics,
            end_s,
            SPAN_S,
            LONG_SPAN_S,
            SCRAPE_INTERVAL_S,
        )
        prometheus.backfill(openmetrics, data_dir)
        openmetrics.unlink()  # up to gigabytes; the blocks are all the server needs
        costs: list[DashboardCost] = []
        for variant in variants:
            if variant.rules:
                prometheus.add_recordings(variant.rules, data_dir, work, end_s - LONG_SPAN_S, end_s)
            with prometheus.running(data_dir, work) as server:
                for name, model in variant.dashboards:
                    cost = measure_dashboard(server, name, model, size, series, end_s, refreshes)
                    cost.name += variant.suffix
                    costs.append(cost)
        return costs
