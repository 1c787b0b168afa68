"""One scrape interval: the config the dashboards are built from, the datasource Grafana
derives `$__rate_interval` from, and the telemetry catalog the synthetic data, previews, bench
and query truth sample at all say the same. A change to one that misses another fails here."""

from __future__ import annotations

from pathlib import Path

import yaml

from ktrdr_dashboards.promql import durations
from ktrdr_dashboards.promql.expand import QueryContext
from ktrdr_dashboards.validate import Settings, catalog


def test_config_datasource_and_catalog_agree_on_the_scrape_interval(built, repo_root: Path):
    config = int(durations.seconds(built.config["scrapeInterval"]))
    text = (repo_root / "provisioning" / "datasources" / "ktrdr.yaml").read_text()
    prometheus = next(d for d in yaml.safe_load(text)["datasources"] if d["type"] == "prometheus")
    datasource = int(durations.seconds(prometheus["jsonData"]["timeInterval"]))
    assert config == datasource == catalog.scrape_interval_seconds()


def test_the_defaults_of_the_query_context_and_the_gate_are_that_interval():
    every = catalog.scrape_interval_seconds()
    assert QueryContext().scrape_interval_seconds == every
    assert Settings().scrape_interval_seconds == every
