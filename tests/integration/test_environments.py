"""No "No data" in any KTRDR environment: synthetic telemetry of every scrape topology in the
telemetry catalog (jobs, instances, ports), every target of every built dashboard evaluated
by promtool on it; each returns data and lists every service or worker of the environment."""

from __future__ import annotations

import copy
import re

import pytest

from ktrdr_dashboards import modes
from ktrdr_dashboards.synthetic import environments
from ktrdr_dashboards.truth import queries as querytest

TOPOLOGIES = environments.topologies()


@pytest.fixture(scope="module")
def targets(dashboards: dict[str, dict]) -> list[querytest.Target]:
    return querytest.dashboard_targets(dashboards.values())


def test_the_catalog_describes_every_ktrdr_scrape_topology() -> None:
    # ktrdr-telemetry.md: ktrdr-backend + ktrdr-workers; ktrdr-workers-b/-c/ktrdr-gpu-worker
    # on 5003-5008; the older `backend` (and `ktrdr-api`) with ktrdr-workers.
    jobs = {topology.name: set(topology.jobs) for topology in TOPOLOGIES}
    assert {"ktrdr-backend", "ktrdr-workers"} in jobs.values()
    assert {"backend", "ktrdr-workers"} in jobs.values()
    assert any(
        {"ktrdr-workers-b", "ktrdr-workers-c", "ktrdr-gpu-worker"} <= j for j in jobs.values()
    )
    ports = {t.instance.rsplit(":", 1)[1] for topo in TOPOLOGIES for t in topo.of_role("worker")}
    assert ports == {"5003", "5004", "5005", "5006", "5007", "5008"}


@pytest.mark.parametrize("mode", [modes.RECORDED, modes.RAW])
@pytest.mark.parametrize("topology", TOPOLOGIES, ids=[t.name for t in TOPOLOGIES])
def test_every_panel_shows_every_service_in_the_environment(
    topology: environments.Topology, mode: str, query_modes: dict[str, modes.Mode]
) -> None:
    built = query_modes[mode]
    targets = querytest.dashboard_targets(built.models.values())
    results = querytest.environment_results(built.models, targets, topology, built.recording_rules)
    problems = querytest.environment_problems(targets, topology, results)
    assert not problems, "\n".join(problems)
    # The health counts are the environment's size: all instances, and the workers.
    healthy = results[("ktrdr-system-overview", "Healthy Services", "A")]
    assert [s.value for s in healthy] == [len(topology.targets)]
    workers = results[("ktrdr-worker-status", "Healthy Workers", "A")]
    assert [s.value for s in workers] == [len(topology.of_role("worker"))]


# The reference's bugs, one job regex each: every one must fail in some environment.
HARD_CODED_JOBS = {
    "reference regex ktrdr.* (misses `backend`)": 'job=~"ktrdr.*"',
    "reference regex backend|ktrdr-workers (misses ktrdr-backend)": 'job=~"backend|ktrdr-workers"',
}


@pytest.mark.parametrize("selector", HARD_CODED_JOBS.values(), ids=HARD_CODED_JOBS.keys())
def test_a_hard_coded_job_fails_in_some_environment(
    selector: str, dashboards: dict[str, dict], recording_rules: str
) -> None:
    models = copy.deepcopy(dashboards)
    panel = next(
        p for p in models["ktrdr-system-overview"]["panels"] if p.get("title") == "Healthy Services"
    )
    panel["targets"][0]["expr"] = re.sub(r'job=~"\$job"', selector, panel["targets"][0]["expr"])
    targets = [
        t
        for t in querytest.dashboard_targets(models.values())
        if t.panel in ("Healthy Services", "Request Rate by Service")
    ]
    failing = []
    for topology in TOPOLOGIES:
        results = querytest.environment_results(models, targets, topology, recording_rules)
        healthy = results[("ktrdr-system-overview", "Healthy Services", "A")]
        problems = querytest.environment_problems(targets, topology, results)
        if [s.value for s in healthy] != [len(topology.targets)] or problems:
            failing.append(topology.name)
    assert failing, f"{selector} passed in every environment"


def test_a_worker_variable_that_misses_ports_fails(
    dashboards: dict[str, dict], recording_rules: str
) -> None:
    # The local environment's ports only (5003-5006) in the Worker variable's query.
    models = copy.deepcopy(dashboards)
    variable = next(
        v for v in models["ktrdr-worker-status"]["templating"]["list"] if v["name"] == "instance"
    )
    query = variable["query"]
    field = "query" if isinstance(query, dict) else None
    text = query[field] if field else query
    narrowed = text.replace("500[3-8]", "500[3-6]")
    assert narrowed != text
    if field:
        query[field] = narrowed
    else:
        variable["query"] = narrowed
    targets = [
        t
        for t in querytest.dashboard_targets(models.values())
        if t.panel == "Worker Availability Timeline"
    ]
    two_hosts = next(t for t in TOPOLOGIES if t.name == "two-hosts")
    results = querytest.environment_results(models, targets, two_hosts, recording_rules)
    problems = querytest.environment_problems(targets, two_hosts, results)
    assert any(
        'panel "Worker Availability Timeline"' in p and "worker-host-b:5007" in p for p in problems
    ), problems
