"""Synthetic KTRDR telemetry as a local Prometheus holds it: `environments`' series (the
catalog's metrics and labels) for a topology and a mix of HTTP requests, each series once, with
the history the dashboards read (SPAN_S, and LONG_SPAN_S for the operations metrics), written
as OpenMetrics for `promtool tsdb create-blocks-from openmetrics`. SCALES are bigger
topologies — more backends, worker jobs and workers, routes and status codes — for the bench's
sizes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ktrdr_dashboards.synthetic import environments
from ktrdr_dashboards.validate import catalog as catalog_module

STATUS_CODES = ("200", "404", "500", "201", "400", "503", "422", "502")
# Operations metrics are read over 1h windows at every step of a 1h range: they need 2h of
# history to cost what they cost in production. Everything else is read over $__rate_interval.
LONG_WINDOW_PREFIX = "ktrdr_operation"
# History written: the dashboards' 1h range plus room for the longest rate window
# ($__rate_interval is 60 s); operations metrics, read over 1h windows, get 2h.
SPAN_S = 3600 + 300
LONG_SPAN_S = 2 * 3600


@dataclass(frozen=True)
class Scale:
    """The knobs that make telemetry bigger the way a growing KTRDR does."""

    backends: int
    worker_jobs: int
    workers: int  # over all worker jobs, one per catalog worker port and host
    routes: int  # HTTP routes every service serves
    status_codes: int  # status codes each route answers with


# Sizes the bench runs; the name is the approximate number of series.
SCALES = {
    "tiny": Scale(backends=1, worker_jobs=1, workers=1, routes=1, status_codes=1),
    "1k": Scale(backends=1, worker_jobs=1, workers=4, routes=2, status_codes=1),
    "10k": Scale(backends=2, worker_jobs=3, workers=16, routes=3, status_codes=3),
    "100k": Scale(backends=4, worker_jobs=6, workers=60, routes=7, status_codes=4),
}


@dataclass(frozen=True)
class Telemetry:
    topology: environments.Topology
    http_requests: tuple[tuple[str, str, str, float], ...]


def telemetry_for(size: str) -> Telemetry:
    """A topology of about `size` series (a key of SCALES)."""
    scale = SCALES[size]
    data = catalog_module.load().data
    ports = [int(p) for p in data["worker_ports"]]
    backend_port = int(data["backend_port"])
    targets = [
        environments.ScrapeTarget("ktrdr-backend", f"backend-{b}:{backend_port}", "backend")
        for b in range(scale.backends)
    ]
    for w in range(scale.workers):
        host, port = divmod(w, len(ports))
        job = f"ktrdr-workers-{w % scale.worker_jobs}"
        targets.append(
            environments.ScrapeTarget(job, f"worker-host-{host}:{ports[port]}", "worker")
        )
    requests = tuple(
        (method, f"/api/v1/route-{r}", code, 30.0 if code.startswith("2") else 0.5)
        for r in range(scale.routes)
        for method in ("GET",)
        for code in STATUS_CODES[: scale.status_codes]
    )
    topology = environments.Topology(size, f"bench size {size}", tuple(targets))
    return Telemetry(topology, requests)


def series_of(telemetry: Telemetry) -> list[environments.SyntheticSeries]:
    """The topology's series, each once: a gauge without a status code label (active
    requests) comes once per status code of its route from `environments`, and the backfiller
    rejects repeats."""
    unique = {
        (s.name, s.labels): s
        for s in environments.series_of(telemetry.topology, http_requests=telemetry.http_requests)
    }
    return list(unique.values())


def count_series(telemetry: Telemetry) -> int:
    return len(series_of(telemetry))


class _WithoutEof:
    """Passes writes through but the closing `# EOF`, so two writes make one document."""

    def __init__(self, out: TextIO):
        self.out = out

    def write(self, text: str) -> int:
        return 0 if text == "# EOF\n" else self.out.write(text)


def write_openmetrics(
    telemetry: Telemetry, path: Path, end_s: int, span_s: int, long_span_s: int, step_s: int
) -> int:
    """Samples every step_s seconds up to end_s: span_s of history, long_span_s for the
    operations metrics. Returns the number of series."""
    every = series_of(telemetry)
    long = [s for s in every if s.name.startswith(LONG_WINDOW_PREFIX)]
    short: Iterable[environments.SyntheticSeries] = [
        s for s in every if not s.name.startswith(LONG_WINDOW_PREFIX)
    ]
    with path.open("w", encoding="utf-8") as out:
        written = environments.write_openmetrics(
            long, _WithoutEof(out), list(range(end_s - long_span_s, end_s + 1, step_s))
        )
        written += environments.write_openmetrics(
            short, out, list(range(end_s - span_s, end_s + 1, step_s))
        )
    return written
