"""The telemetry catalog (`data/telemetry.yaml`): which series exist, their type and labels.
Histograms expand to their `_bucket`/`_count`/`_sum` series, each a counter."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

from ktrdr_dashboards.promql import durations

COUNTER_TYPES = frozenset({"counter"})
DEFAULT_PATH = Path(str(resources.files("ktrdr_dashboards") / "data" / "telemetry.yaml"))


@dataclass(frozen=True)
class Series:
    """One series name a query can select, e.g. `http_server_duration_milliseconds_bucket`."""

    name: str
    type: str  # counter | gauge | info (histogram parts are counters)
    family: str  # the catalog metric it belongs to
    labels: frozenset[str]  # every label, target labels included
    values: dict[str, tuple[str, ...]]  # known label values (KTRDR metrics)

    @property
    def is_counter(self) -> bool:
        return self.type in COUNTER_TYPES


@dataclass(frozen=True)
class Catalog:
    series: dict[str, Series]
    data: dict  # the whole file, for tools that need the environments

    def get(self, name: str) -> Series | None:
        return self.series.get(name)

    def with_recorded(self, recorded: Mapping[str, frozenset[str]]) -> Catalog:
        """This catalog plus the series recording rules write (name -> labels kept): already
        rates or quantiles, so gauges, which panels read when `useRecordingRules` is on."""
        extra = {name: Series(name, "gauge", name, labels, {}) for name, labels in recorded.items()}
        return Catalog(series={**self.series, **extra}, data=self.data)


def _expand(metric: dict, target_labels: list[str]) -> list[Series]:
    labels = dict(metric.get("labels") or {})
    values = {
        k: tuple(str(v) for v in (spec or {}).get("values", [])) for k, spec in labels.items()
    }
    values = {k: v for k, v in values.items() if v}
    base = frozenset([*labels, *target_labels])
    name, kind = metric["name"], metric["type"]
    if kind == "histogram":
        return [
            Series(f"{name}_bucket", "counter", name, base | {"le"}, values),
            Series(f"{name}_count", "counter", name, base, values),
            Series(f"{name}_sum", "counter", name, base, values),
        ]
    return [Series(name, kind, name, base, values)]


# libyaml's parser where PyYAML has it: the catalog is the largest YAML a build reads.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=4)
def load(path: Path = DEFAULT_PATH) -> Catalog:
    """The catalog (read once per process: callers treat it as immutable)."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    target_labels = list(data.get("target_labels") or [])
    series: dict[str, Series] = {}
    for metric in data["metrics"]:
        for item in _expand(metric, target_labels):
            series[item.name] = item
    return Catalog(series=series, data=data)


@functools.lru_cache(maxsize=1)
def scrape_interval_seconds() -> int:
    """How often every KTRDR environment is scraped (the catalog's `scrape_interval`): the one
    figure the synthetic telemetry, previews, bench and query truth sample at. The config's
    `scrapeInterval` and the datasource's `timeInterval` say the same (a unit test holds
    the three together)."""
    return int(durations.seconds(str(load().data.get("scrape_interval", "15s"))))
