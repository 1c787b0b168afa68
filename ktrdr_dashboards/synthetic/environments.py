"""Every series the telemetry catalog (`data/telemetry.yaml`) says a KTRDR environment exports,
for the scrape topologies the catalog describes (which jobs and instances, backend or worker).
Data in, data out: `series_of(topology)` yields each series with its labels and a linear value
model (counters grow at a steady rate, gauges hold a level), which `promtool_input` turns into
promtool test input and `write_openmetrics` into an OpenMetrics file for `promtool tsdb
create-blocks-from openmetrics` (bigger topologies: `telemetry`)."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

from ktrdr_dashboards.validate import catalog as catalog_module

# The catalog's KTRDR business metrics are exported by the backend only (telemetry.yaml,
# "backend only, prometheus_client"); every other metric by every service.
BACKEND_ONLY_PREFIX = "ktrdr_"

# Labels whose values the catalog does not list: what a KTRDR service serves. One request
# kind per line: the mix gives every HTTP panel something (2xx, 4xx and 5xx).
HTTP_REQUESTS = (
    # (method, target, status code, requests per scrape)
    ("GET", "/api/v1/operations", "200", 30.0),
    ("GET", "/api/v1/unknown", "404", 1.5),
    ("POST", "/api/v1/backtests/start", "500", 0.3),
)
HTTP_CLIENT_CALLS = (("POST", "http://backend:8000/api/v1/workers/register", "200", 0.2),)
# OpenTelemetry's default histogram boundaries (ms and bytes alike).
OTEL_BUCKETS = (0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000)
# Mean of each histogram's observations, for the bucket shares (exponential distribution).
HISTOGRAM_MEANS = {
    "http_server_duration_milliseconds": 80.0,
    "http_client_duration_milliseconds": 40.0,
    "http_server_request_size_bytes": 300.0,
    "http_server_response_size_bytes": 2000.0,
    "ktrdr_operation_duration_seconds": 120.0,
}
# Operations ending per scrape by status (a few an hour, mostly completed).
OPERATIONS_PER_SCRAPE = {"completed": 0.02, "failed": 0.002, "cancelled": 0.001}
# Levels of gauges and growth of counters, per catalog metric (per scrape for counters).
LEVELS = {
    "up": 1.0,
    "scrape_duration_seconds": 0.01,
    "process_cpu_seconds_total": 0.75,  # 5 % of a core at a 15 s scrape interval
    "process_resident_memory_bytes": 2.0e8,
    "process_virtual_memory_bytes": 1.0e9,
    "process_open_fds": 40.0,
    "process_max_fds": 1048576.0,
    "python_gc_collections_total": 1.0,
    "python_gc_objects_collected_total": 20.0,
    "python_gc_objects_uncollectable_total": 0.0,
    "ktrdr_operations_active": 2.0,
    "http_server_active_requests": 1.0,
}
PROCESS_AGE_S = 3600.0  # every process started an hour before the first sample
INFO_LABELS = {
    "python_info": {"implementation": "CPython", "major": "3", "minor": "11", "version": "3.11.7"},
    "target_info": {"telemetry_sdk_language": "python", "telemetry_sdk_name": "opentelemetry"},
}


@dataclass(frozen=True)
class ScrapeTarget:
    job: str
    instance: str
    role: str  # "backend" | "worker"


@dataclass(frozen=True)
class Topology:
    """One KTRDR environment as Prometheus scrapes it."""

    name: str
    description: str
    targets: tuple[ScrapeTarget, ...]

    @property
    def jobs(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(t.job for t in self.targets))

    def of_role(self, role: str) -> tuple[ScrapeTarget, ...]:
        return tuple(t for t in self.targets if t.role == role)


def topologies(catalog: catalog_module.Catalog | None = None) -> list[Topology]:
    """The environments of the catalog, in its order."""
    data = (catalog or catalog_module.load()).data
    return [
        Topology(
            name=str(env["name"]),
            description=str(env.get("description", "")),
            targets=tuple(
                ScrapeTarget(str(job["job"]), str(instance), str(job["role"]))
                for job in env["jobs"]
                for instance in job["instances"]
            ),
        )
        for env in data["environments"]
    ]


@dataclass(frozen=True)
class SyntheticSeries:
    """One series and its values: `start + step * i` at the i-th scrape (a counter's rate
    or a gauge's level, step 0). Timestamps are seconds from the first scrape."""

    name: str
    labels: tuple[tuple[str, str], ...]
    start: float
    step: float = 0.0

    def selector(self) -> str:
        pairs = ", ".join(f'{k}="{v}"' for k, v in self.labels)
        return f"{self.name}{{{pairs}}}"

    def value(self, scrape: int) -> float:
        return self.start + self.step * scrape

    def openmetrics_name(self) -> str:
        """`name{labels}` as OpenMetrics writes it: Prometheus' OpenMetrics parser (promtool's
        backfill) rejects the space after a comma that `selector()` has."""
        pairs = ",".join(f'{k}="{v}"' for k, v in self.labels)
        return f"{self.name}{{{pairs}}}"


def _exp_share(le: float, mean: float) -> float:
    return 1.0 - math.exp(-le / mean)


def _histogram(
    name: str, labels: Mapping[str, str], per_scrape: float, buckets: Sequence[float]
) -> Iterator[SyntheticSeries]:
    mean = HISTOGRAM_MEANS.get(name, 100.0)
    for le in buckets:
        share = _exp_share(float(le), mean)
        yield SyntheticSeries(
            f"{name}_bucket", _sorted({**labels, "le": str(le)}), 0.0, per_scrape * share
        )
    yield SyntheticSeries(f"{name}_bucket", _sorted({**labels, "le": "+Inf"}), 0.0, per_scrape)
    yield SyntheticSeries(f"{name}_count", _sorted(labels), 0.0, per_scrape)
    yield SyntheticSeries(f"{name}_sum", _sorted(labels), 0.0, per_scrape * mean)


def _sorted(labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


def _label_sets(
    metric: Mapping, target: ScrapeTarget, http_requests: Sequence[tuple] = HTTP_REQUESTS
) -> Iterator[tuple[dict[str, str], float]]:
    """(labels, per-scrape rate or level) for each series of a catalog metric on a target."""
    name = metric["name"]
    base = {"job": target.job, "instance": target.instance}
    known = {
        label: [str(v) for v in (spec or {}).get("values", [])]
        for label, spec in (metric.get("labels") or {}).items()
    }
    if name.startswith("http_server"):
        for method, path, code, rate in http_requests:
            labels = {**base, "http_method": method, "http_target": path, "http_scheme": "http"}
            if name != "http_server_active_requests":
                labels["http_status_code"] = code
            yield labels, rate
    elif name.startswith("http_client"):
        for method, url, code, rate in HTTP_CLIENT_CALLS:
            yield {**base, "http_method": method, "http_url": url, "http_status_code": code}, rate
    elif name in INFO_LABELS:
        yield {**base, **INFO_LABELS[name], "service_name": target.job}, 1.0
    elif known and all(known.values()):
        for combination in itertools.product(*known.values()):
            labels = {**base, **dict(zip(known, combination, strict=True))}
            status = labels.get("status")
            yield labels, OPERATIONS_PER_SCRAPE[status] if status else LEVELS.get(name, 1.0)
    else:
        yield base, LEVELS.get(name, 1.0)


def _workers_of_type(topology: Topology, worker_type: str) -> int:
    # Half the workers backtest, half train (local: 5003-5004 and 5005-5006).
    workers = len(topology.of_role("worker"))
    backtesting = (workers + 1) // 2
    return backtesting if worker_type == "backtesting" else workers - backtesting


def series_of(
    topology: Topology,
    catalog: catalog_module.Catalog | None = None,
    http_requests: Sequence[tuple[str, str, str, float]] = HTTP_REQUESTS,
) -> Iterator[SyntheticSeries]:
    """Every series of every target of `topology`, following the catalog's metrics, types
    and label values. `http_requests` ((method, target, status code, requests per scrape)
    that every service serves) is a scaling knob: the benchmarks pass more routes and codes."""
    cat = catalog or catalog_module.load()
    for target in topology.targets:
        for metric in cat.data["metrics"]:
            name, kind = metric["name"], metric["type"]
            if name.startswith(BACKEND_ONLY_PREFIX) and target.role != "backend":
                continue
            for labels, level in _label_sets(metric, target, http_requests):
                if kind == "histogram":
                    buckets = metric.get("buckets") or OTEL_BUCKETS
                    yield from _histogram(name, labels, level, buckets)
                elif kind == "counter":
                    yield SyntheticSeries(name, _sorted(labels), 0.0, level)
                elif name == "process_start_time_seconds":
                    yield SyntheticSeries(name, _sorted(labels), -PROCESS_AGE_S)
                elif name in ("ktrdr_workers_registered_total", "ktrdr_workers_available"):
                    count = _workers_of_type(topology, labels["worker_type"])
                    available = count if name.endswith("_total") else count // 2
                    yield SyntheticSeries(name, _sorted(labels), float(available))
                else:
                    yield SyntheticSeries(name, _sorted(labels), level)


def _number(value: float) -> str:
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def promtool_values(series: SyntheticSeries, scrapes: int) -> str:
    """Values in promtool's expanding notation for `scrapes` samples (`0+1.5x240`)."""
    step = f"+{_number(series.step)}" if series.step >= 0 else f"-{_number(-series.step)}"
    return f"{_number(series.start)}{step}x{scrapes - 1}"


def promtool_input(series: Iterable[SyntheticSeries], scrapes: int) -> list[tuple[str, str]]:
    """(series, values) pairs for a promtool test's `input_series`."""
    return [(s.selector(), promtool_values(s, scrapes)) for s in series]


def write_openmetrics(
    series: Iterable[SyntheticSeries], out: TextIO, timestamps_s: Sequence[int]
) -> int:
    """Write every series' samples at `timestamps_s` as OpenMetrics text (each series
    contiguous and in time order, as the backfiller needs), timestamp gauges shifted to the
    first timestamp; returns the number of series written."""
    count = 0
    origin = timestamps_s[0] if timestamps_s else 0
    for item in series:
        shift = origin if item.name == "process_start_time_seconds" else 0
        text = item.openmetrics_name()
        out.write(
            "".join(f"{text} {item.value(i) + shift} {t}\n" for i, t in enumerate(timestamps_s))
        )
        count += 1
    out.write("# EOF\n")
    return count
