"""Synthetic KTRDR telemetry at a chosen size, as OpenMetrics text for
`promtool tsdb create-blocks-from openmetrics`.

Interim: issue #4's `ktrdr_dashboards/synth.py` is the project's generator of synthetic series;
until it lands this module is the bench's only generator, behind the small interface
`topology_for(size)` + `write_openmetrics(topology, path, end_s, ...)`, so switching to synth.py
touches this file alone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import yaml

CATALOG = Path(__file__).resolve().parent.parent / "data" / "telemetry.yaml"

# OpenTelemetry's default histogram boundaries (ms and bytes alike), as the FastAPI
# instrumentation exports them.
OTEL_BUCKETS = (0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000)
HTTP_METHODS = ("GET", "POST")
STATUS_CODES = ("200", "201", "204", "400", "404", "409", "422", "500", "502", "503")
# Operations metrics are read over 1h windows at every step of a 1h range: they need 2h of
# history to cost what they cost in production. Everything else is read over $__rate_interval.
LONG_WINDOW_PREFIX = "ktrdr_operation"


@dataclass(frozen=True)
class Instance:
    job: str
    instance: str
    role: str  # "backend" | "worker"
    routes: tuple[str, ...]


@dataclass(frozen=True)
class Topology:
    """Who exports what: jobs, instances, and the HTTP routes and status codes they serve."""

    name: str
    instances: tuple[Instance, ...]
    status_codes: tuple[str, ...]


@dataclass(frozen=True)
class Scale:
    """The knobs that make telemetry bigger the way a growing KTRDR does."""

    backends: int
    worker_jobs: int
    workers: int  # over all worker jobs, 6 per host (ports 5003-5008)
    backend_routes: int
    worker_routes: int
    status_codes: int


# Sizes the bench runs; the name is the approximate number of series.
SCALES = {
    "tiny": Scale(backends=1, worker_jobs=1, workers=1, backend_routes=1, worker_routes=1,
                  status_codes=1),
    "1k": Scale(backends=1, worker_jobs=1, workers=4, backend_routes=4, worker_routes=1,
                status_codes=1),
    "10k": Scale(backends=2, worker_jobs=3, workers=16, backend_routes=14, worker_routes=3,
                 status_codes=2),
    "100k": Scale(backends=4, worker_jobs=6, workers=60, backend_routes=30, worker_routes=6,
                  status_codes=4),
}  # fmt: skip


def _catalog() -> dict:
    return yaml.safe_load(CATALOG.read_text(encoding="utf-8"))


def topology_for(size: str) -> Topology:
    """A topology of about `size` series (a key of SCALES): more backends, worker jobs and
    workers (on the catalog's worker ports), routes and status codes as it grows."""
    scale = SCALES[size]
    catalog = _catalog()
    ports = [int(p) for p in catalog["worker_ports"]]
    backend_port = int(catalog["backend_port"])
    backend_routes = tuple(f"/api/v1/route/{i}" for i in range(scale.backend_routes))
    worker_routes = tuple(f"/worker/{i}" for i in range(scale.worker_routes))
    instances = [
        Instance("ktrdr-backend", f"backend-{b}:{backend_port}", "backend", backend_routes)
        for b in range(scale.backends)
    ]
    for w in range(scale.workers):
        host, port = divmod(w, len(ports))
        job = f"ktrdr-workers-{w % scale.worker_jobs}"
        instances.append(
            Instance(job, f"worker-host-{host}:{ports[port]}", "worker", worker_routes)
        )
    return Topology(size, tuple(instances), STATUS_CODES[: scale.status_codes])


def _labels(pairs: dict[str, str]) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in pairs.items()) + "}"


@dataclass(frozen=True)
class Series:
    """One synthetic series: its name and labels, and how its value moves."""

    text: str  # `name{labels}` as written in OpenMetrics
    base: float
    slope: float  # per sample: > 0 for counters, 0 for gauges
    long_window: bool


def _histogram(
    name: str, labels: dict[str, str], per_sample: float, long: bool
) -> Iterator[Series]:
    # Cumulative buckets: a share of the requests falls under each boundary.
    bounds = [*OTEL_BUCKETS, "+Inf"]
    for i, le in enumerate(bounds):
        share = min(1.0, (i + 1) / (len(bounds) - 2))
        le_text = f"{float(le)}" if le != "+Inf" else "+Inf"
        yield Series(
            f"{name}_bucket{_labels({**labels, 'le': le_text})}", 0, per_sample * share, long
        )
    yield Series(f"{name}_count{_labels(labels)}", 0, per_sample, long)
    yield Series(f"{name}_sum{_labels(labels)}", 0, per_sample * 40.0, long)


def series_of(topology: Topology) -> Iterator[Series]:
    """Every series the topology exports, following the catalog's metrics and labels."""
    catalog = _catalog()
    for n, inst in enumerate(topology.instances):
        target = {"job": inst.job, "instance": inst.instance}
        per_instance = (
            ("up", 1.0, 0.0), ("scrape_duration_seconds", 0.01, 0.0),
            ("process_cpu_seconds_total", 0.0, 0.5 + n % 7 / 10),
            ("process_resident_memory_bytes", 2.0e8 + n * 1e6, 0.0),
            ("process_virtual_memory_bytes", 1.0e9, 0.0), ("process_open_fds", 40.0, 0.0),
            ("process_max_fds", 1048576.0, 0.0), ("process_start_time_seconds", 1.7e9, 0.0),
        )  # fmt: skip
        for name, base, slope in per_instance:
            yield Series(f"{name}{_labels(target)}", base, slope, False)
        for gc in ("python_gc_collections_total", "python_gc_objects_collected_total",
                   "python_gc_objects_uncollectable_total"):  # fmt: skip
            for generation in ("0", "1", "2"):
                yield Series(f"{gc}{_labels({**target, 'generation': generation})}", 0, 1, False)
        yield Series(f"python_info{_labels({**target, 'version': '3.11.7'})}", 1, 0, False)
        yield Series(f"target_info{_labels({**target, 'service_name': inst.job})}", 1, 0, False)
        for route in inst.routes:
            for method in HTTP_METHODS[:1]:
                route_labels = {**target, "http_method": method, "http_target": route,
                                "http_scheme": "http", "http_flavor": "1.1"}  # fmt: skip
                yield Series(f"http_server_active_requests{_labels(route_labels)}", 1, 0, False)
                for status in topology.status_codes:
                    labels = {**route_labels, "http_status_code": status}
                    rate = 15.0 if status.startswith("2") else 0.3
                    for hist in ("http_server_duration_milliseconds",
                                 "http_server_request_size_bytes",
                                 "http_server_response_size_bytes"):  # fmt: skip
                        yield from _histogram(hist, labels, rate, False)
        if inst.role == "backend":
            types = catalog_values(catalog, "ktrdr_operations_total", "operation_type")
            statuses = catalog_values(catalog, "ktrdr_operations_total", "status")
            for worker_type in ("backtesting", "training"):
                labels = {**target, "worker_type": worker_type}
                yield Series(f"ktrdr_workers_registered_total{_labels(labels)}", 4, 0, False)
                yield Series(f"ktrdr_workers_available{_labels(labels)}", 2, 0, False)
            yield Series(f"ktrdr_operations_active{_labels(target)}", 3, 0, False)
            for op in types:
                for status in statuses:
                    labels = {**target, "operation_type": op, "status": status}
                    yield Series(f"ktrdr_operations_total{_labels(labels)}", 0, 0.05, True)
                    yield from _histogram_op(labels)


def _histogram_op(labels: dict[str, str]) -> Iterator[Series]:
    name = "ktrdr_operation_duration_seconds"
    bounds = [1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, "+Inf"]
    for i, le in enumerate(bounds):
        le_text = f"{float(le)}" if le != "+Inf" else "+Inf"
        share = (i + 1) / len(bounds)
        yield Series(f"{name}_bucket{_labels({**labels, 'le': le_text})}", 0, 0.05 * share, True)
    yield Series(f"{name}_count{_labels(labels)}", 0, 0.05, True)
    yield Series(f"{name}_sum{_labels(labels)}", 0, 0.05 * 90, True)


def catalog_values(catalog: dict, metric: str, label: str) -> list[str]:
    entry = next(m for m in catalog["metrics"] if m["name"] == metric)
    return [str(v) for v in entry["labels"][label]["values"]]


def count_series(topology: Topology) -> int:
    return sum(1 for _ in series_of(topology))


def _write_series(out: TextIO, series: Series, timestamps: list[int]) -> None:
    if series.slope == 0:
        value = repr(series.base)
        out.write("".join(f"{series.text} {value} {t}\n" for t in timestamps))
    else:
        out.write(
            "".join(
                f"{series.text} {series.base + series.slope * i:.2f} {t}\n"
                for i, t in enumerate(timestamps)
            )
        )


def write_openmetrics(
    topology: Topology, path: Path, end_s: int, span_s: int, long_span_s: int, step_s: int
) -> int:
    """Write every series' samples from end - span to end, every step_s seconds (long-window
    metrics from end - long_span), untyped, each series contiguous and in time order (what
    the backfiller needs). Returns the number of series."""
    short = list(range(end_s - span_s, end_s + 1, step_s))
    long = list(range(end_s - long_span_s, end_s + 1, step_s))
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for series in series_of(topology):
            _write_series(out, series, long if series.long_window else short)
            count += 1
        out.write("# EOF\n")
    return count
