"""What each dashboard costs Prometheus: every query of its load (`queryplan`) sent with
`stats=all` to a local Prometheus (`localprom`) holding synthetic telemetry of a given size
(`synthetic.telemetry`)."""

from __future__ import annotations

import json
import statistics
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ktrdr_dashboards import model as dashboard_model
from ktrdr_dashboards import queryplan
from ktrdr_dashboards.bench import memory
from ktrdr_dashboards.localprom import backfill, server
from ktrdr_dashboards.promql import analysis
from ktrdr_dashboards.promql import expand as promql
from ktrdr_dashboards.queryplan import Query
from ktrdr_dashboards.synthetic import telemetry


@dataclass(frozen=True)
class QueryCost:
    query: Query
    seconds: float  # Prometheus' execTotalTime
    samples: int  # totalQueryableSamples
    peak: int  # peakSamples


def run_query(api: server.Server, query: Query, start_s: int, end_s: int) -> QueryCost:
    path, params = queryplan.request(query.expr, query.instant, start_s, end_s, query.step_s)
    data = api.get(path, {**params, "stats": "all"})
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
    api: server.Server,
    model: Mapping,
    variables: Mapping[str, promql.Variable],
    end_s: int,
) -> int:
    """Series the dashboard's distinct selectors match in its time range, summed over the
    selectors: what its panels actually read, the yardstick its cost should grow with."""
    seconds = queryplan.range_seconds(model)
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
        data = api.get("/api/v1/query", {"query": query, "time": str(end_s)})
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
    server_mb: float = 0.0  # the Prometheus server's VmHWM once this dashboard was measured

    def top_panels(self, n: int = 3) -> list[tuple[str, float, int]]:
        """Most expensive panels by samples read (deterministic; time is too noisy to rank)."""
        ranked = sorted(self.panel_samples, key=lambda p: (-self.panel_samples[p], p))
        return [(p, self.panel_seconds[p], self.panel_samples[p]) for p in ranked[:n]]


def measure_dashboard(
    api: server.Server,
    name: str,
    model: Mapping,
    size: str,
    series: int,
    end_s: int,
    refreshes: int,
) -> DashboardCost:
    start_s = end_s - queryplan.range_seconds(model)
    variables = queryplan.resolve_variables(model, api, start_s, end_s)
    queries = queryplan.plan(model, variables, end_s)
    cost = DashboardCost(name, size, series, selected_series(api, model, variables, end_s),
                         len(queries))  # fmt: skip
    per_panel: dict[str, list[float]] = {}
    for _ in range(refreshes):
        results = [run_query(api, q, start_s, end_s) for q in queries]
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
            telemetry.SPAN_S,
            telemetry.LONG_SPAN_S,
            queryplan.SCRAPE_INTERVAL_S,
        )
        backfill.backfill(openmetrics, data_dir)
        openmetrics.unlink()  # up to gigabytes; the blocks are all the server needs
        costs: list[DashboardCost] = []
        for variant in variants:
            if variant.rules:
                start_s = end_s - telemetry.LONG_SPAN_S
                backfill.add_recordings(variant.rules, data_dir, work, start_s, end_s)
            with server.running(data_dir, work) as api:
                for name, model in variant.dashboards:
                    cost = measure_dashboard(api, name, model, size, series, end_s, refreshes)
                    cost.name += variant.suffix
                    held = memory.status(api.pid)
                    cost.server_mb = held.hwm_kb / 1024 if held else 0.0
                    costs.append(cost)
        return costs
