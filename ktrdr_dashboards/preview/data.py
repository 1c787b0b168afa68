"""The data a preview shows: synthetic KTRDR telemetry backfilled into a real Prometheus on
127.0.0.1, and every panel target queried as Grafana queries it on load (variables resolved
from the server, macros expanded by `promql.expand`, range or instant over the dashboard's
default time range).

Telemetry: the catalog-driven synthetic series (`synthetic.telemetry`) over the catalog's `local`
environment, given movement over time and one worker outage so that every panel type has
something to show (lines that move, a Down band, thresholds of more than one colour), and the
series the recording rules write, backfilled over the whole range."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ktrdr_dashboards import model as dashboard_model
from ktrdr_dashboards import queryplan
from ktrdr_dashboards.errors import DashboardError
from ktrdr_dashboards.localprom import backfill, server
from ktrdr_dashboards.preview.frames import TargetResult
from ktrdr_dashboards.promql import expand as promql
from ktrdr_dashboards.synthetic import environments, telemetry
from ktrdr_dashboards.validate import catalog

# The instant every preview shows ("now"): fixed so that pages and docs are repeatable.
END_S = 1_700_000_000
SCRAPE_INTERVAL_S = catalog.scrape_interval_seconds()
ENVIRONMENT = "local"
# A worker that goes away for ten minutes in the middle of the hour and comes back.
OUTAGE_INSTANCE_INDEX = -1  # the last worker of the environment
OUTAGE_S = (END_S - 35 * 60, END_S - 25 * 60)
# Operations: most complete, some fail, few are cancelled; backtests and training dominate.
WEIGHTS = {
    'status="completed"': 8.0, 'status="failed"': 1.0, 'status="cancelled"': 0.5,
    'operation_type="backtesting"': 4.0, 'operation_type="training"': 2.0,
    'operation_type="data_load"': 1.5,
}  # fmt: skip
# Services started at different times in the last days (uptime in Active Services).
STARTED_S_BEFORE_END = (3 * 86400, 26 * 3600, 26 * 3600, 5 * 3600, 5 * 3600, 90 * 60)
GRID_WIDTH_PX = 1600  # the preview's page width: Grafana sizes maxDataPoints by panel width


# Requests every service serves per scrape, (method, route, status code, count): mostly 200s,
# a few 404s and 500s, so the error panels have something to show.
HTTP_REQUESTS = (
    ("GET", "/api/v1/operations", "200", 30.0),
    ("GET", "/api/v1/operations", "404", 0.6),
    ("POST", "/api/v1/backtests/start", "200", 4.0),
    ("POST", "/api/v1/backtests/start", "500", 0.25),
)


def preview_telemetry() -> telemetry.Telemetry:
    """The catalog's `local` environment (backend and workers)."""
    topology = next(t for t in environments.topologies() if t.name == ENVIRONMENT)
    return telemetry.Telemetry(topology, HTTP_REQUESTS)


def _weight(text: str) -> float:
    return math.prod(w for key, w in WEIGHTS.items() if key in text)


def _samples(
    series: environments.SyntheticSeries, timestamps: Sequence[int], phase: float
) -> Iterator[str]:
    """Counters grow at a rate that swings ±40 % over the hour; gauges of more than a few
    units swing ±10 %; flags and counts (up, workers) and start times stay as they are."""
    text, total = series.openmetrics_name(), series.start
    if series.name == "process_start_time_seconds":
        yield from (f"{text} {series.start} {t}\n" for t in timestamps)
        return
    slope = series.step * _weight(text)
    for t in timestamps:
        wave = math.sin(2 * math.pi * t / 1800 + phase)
        if slope:
            total += slope * (1 + 0.4 * wave)
            value = total
        elif series.start > 10:
            value = series.start * (1 + 0.1 * wave)
        else:
            value = series.start
        yield f"{text} {value:.4f} {t}\n"


def write_telemetry(path: Path, end_s: int = END_S) -> int:
    """OpenMetrics for `promtool tsdb create-blocks-from openmetrics`; returns series count."""
    data = preview_telemetry()
    targets = data.topology.targets
    down = targets[OUTAGE_INSTANCE_INDEX].instance
    short = list(range(end_s - telemetry.SPAN_S, end_s + 1, SCRAPE_INTERVAL_S))
    long = list(range(end_s - telemetry.LONG_SPAN_S, end_s + 1, SCRAPE_INTERVAL_S))
    started = {
        target.instance: end_s - STARTED_S_BEFORE_END[i % len(STARTED_S_BEFORE_END)]
        for i, target in enumerate(targets)
    }
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for series in telemetry.series_of(data):
            instance = dict(series.labels).get("instance")
            if series.name == "process_start_time_seconds":
                series = dataclasses.replace(series, start=float(started[instance]))
            long_window = series.name.startswith(telemetry.LONG_WINDOW_PREFIX)
            stamps = long if long_window else short
            if instance == down and series.name == "up":
                text = series.openmetrics_name()
                out.writelines(
                    f"{text} {0 if OUTAGE_S[0] <= t < OUTAGE_S[1] else 1} {t}\n" for t in stamps
                )
            else:
                if instance == down:  # a target that is down exports nothing
                    stamps = [t for t in stamps if not OUTAGE_S[0] <= t < OUTAGE_S[1]]
                out.writelines(_samples(series, stamps, phase=(count % 5) * 0.7))
            count += 1
        out.write("# EOF\n")
    return count


@dataclass(frozen=True)
class DashboardData:
    name: str
    from_ms: int
    to_ms: int
    targets: dict[int, list[TargetResult]]  # panel id -> results, in target order


def _query(
    api: server.Server, expr: str, instant: bool, start_s: int, end_s: int, step_s: int
) -> list[dict[str, Any]]:
    path, params = queryplan.request(expr, instant, start_s, end_s, step_s)
    return api.get(path, params)["result"]


def panel_targets(
    api: server.Server,
    panel: Mapping[str, Any],
    variables: Mapping[str, promql.Variable],
    range_s: int,
    end_s: int,
) -> list[TargetResult]:
    width = (panel.get("gridPos") or {}).get("w", 24) * GRID_WIDTH_PX // 24
    step, targets = queryplan.panel_targets(panel, variables, range_s, end_s, width)
    results = []
    for target, expr in targets:
        instant = bool(target.get("instant")) and not target.get("range")
        ref = str(target.get("refId", "A"))
        legend = target.get("legendFormat")
        shape = {"table": target.get("format") == "table", "step_s": 0 if instant else step}
        try:
            result = _query(api, expr, instant, end_s - range_s, end_s, step)
            results.append(TargetResult(ref, expr, instant, result, legend, **shape))
        except DashboardError as error:  # shown on the panel, as Grafana shows query errors
            results.append(TargetResult(ref, expr, instant, [], legend, str(error), **shape))
    return results


Dashboards = Sequence[tuple[str, Mapping[str, Any]]]
DataSource = Callable[[Dashboards], list[DashboardData]]


def query(api: server.Server, dashboards: Dashboards, end_s: int = END_S) -> list[DashboardData]:
    """Every panel of every dashboard, queried from `api`."""
    out = []
    for name, model in dashboards:
        range_s = queryplan.range_seconds(model)
        start_s = end_s - range_s
        variables = queryplan.resolve_variables(model, api, start_s, end_s)
        targets = {
            int(panel["id"]): panel_targets(api, panel, variables, range_s, end_s)
            for panel in dashboard_model.panels(model)
            if "id" in panel
        }
        out.append(DashboardData(name, start_s * 1000, end_s * 1000, targets))
    return out


@contextlib.contextmanager
def serving(end_s: int = END_S, recording_rules: str | None = None) -> Iterator[server.Server]:
    """Prometheus on 127.0.0.1 holding the synthetic telemetry, and the series of
    `recording_rules` (YAML) backfilled over its whole span; stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="ktrdr-preview-") as tmp:
        work = Path(tmp)
        openmetrics, data_dir = work / "telemetry.om.txt", work / "data"
        write_telemetry(openmetrics, end_s)
        backfill.backfill(openmetrics, data_dir)
        if recording_rules:
            start_s = end_s - telemetry.LONG_SPAN_S
            backfill.add_recordings(recording_rules, data_dir, work, start_s, end_s)
        with server.running(data_dir, work) as api:
            yield api


def evaluate(
    dashboards: Dashboards, end_s: int = END_S, recording_rules: str | None = None
) -> list[DashboardData]:
    """Backfill synthetic telemetry (and recorded series), start Prometheus, query every panel
    of every dashboard."""
    with serving(end_s, recording_rules) as api:
        return query(api, dashboards, end_s)
