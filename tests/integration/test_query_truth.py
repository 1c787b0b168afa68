"""Query truth: every panel of the built dashboards evaluated by promtool against the
behaviour specs in tests/specs, 100 % of the targets covered, and proof that a broken query
fails naming its panel."""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from ktrdr_dashboards import build, modes, tools
from ktrdr_dashboards.truth import queries as querytest

SPEC_DIR = Path(__file__).resolve().parents[1] / "specs"
SPECS = sorted(SPEC_DIR.glob("*.yaml"))


@pytest.fixture(scope="module")
def targets(dashboards: dict[str, dict]) -> list[querytest.Target]:
    return querytest.dashboard_targets(dashboards.values())


def test_promtool_is_installed_or_the_error_says_how() -> None:
    # A missing promtool fails every test below with this message; never a skip.
    assert tools.require("promtool").endswith("promtool")


def test_the_default_build_reads_recording_rules(query_modes: dict[str, modes.Mode]) -> None:
    # Fast by default; the raw mode stays one switch away (and is proven below too).
    assert sorted(query_modes) == [modes.RAW, modes.RECORDED]
    assert modes.mode_of(query_modes[modes.RECORDED].output).recording_rules
    assert query_modes[modes.RAW].recording_rules is None


@pytest.mark.parametrize("mode", [modes.RECORDED, modes.RAW])
@pytest.mark.parametrize("spec_path", SPECS, ids=[p.stem for p in SPECS])
def test_spec_holds_for_the_built_dashboard(
    spec_path: Path, mode: str, query_modes: dict[str, modes.Mode]
) -> None:
    # Recorded: the build's recording rules are evaluated on the spec's input series first,
    # so every panel is proven reading the series a Prometheus with those rules holds.
    built = query_modes[mode]
    targets = querytest.dashboard_targets(built.models.values())
    spec = querytest.load_spec(spec_path)
    result = querytest.run_spec(spec, built.models, targets, built.recording_rules)
    assert result.cases > 0
    assert not result.failures, "\n".join(f.message() for f in result.failures)


def test_recorded_panels_without_the_recordings_fail_naming_the_panel(
    dashboards: dict[str, dict], targets: list[querytest.Target]
) -> None:
    # The recorded mode is only proven because the rules run: without them its panels fail.
    spec = querytest.load_spec(SPEC_DIR / "system-overview.yaml")
    result = querytest.run_spec(spec, dashboards, targets, recording_rules=None)
    failed = {f.case.target.panel for f in result.failures}
    assert "Response Time Percentiles" in failed and "Healthy Services" not in failed


def test_every_target_of_every_dashboard_has_an_expectation(
    dashboards: dict[str, dict], targets: list[querytest.Target]
) -> None:
    rows = querytest.coverage(querytest.load_specs(SPEC_DIR), targets)
    table = querytest.coverage_table(rows)
    print(table)  # shown with `pytest -s` and in the report of a failure
    assert {row.dashboard for row in rows} == set(dashboards)
    assert all(row.percent == 100.0 for row in rows), table


def test_a_new_panel_without_a_spec_fails_coverage(dashboards: dict[str, dict]) -> None:
    models = copy.deepcopy(dashboards)
    panel = next(p for p in models["ktrdr-operations"]["panels"] if p.get("targets"))
    models["ktrdr-operations"]["panels"].append({**panel, "title": "Active Operations"})
    rows = querytest.coverage(
        querytest.load_specs(SPEC_DIR), querytest.dashboard_targets(models.values())
    )
    table = querytest.coverage_table(rows)
    assert 'untested: dashboard ktrdr-operations, panel "Active Operations", target A' in table
    assert [r.percent < 100 for r in rows] == [r.dashboard == "ktrdr-operations" for r in rows]


def test_an_expectation_naming_no_panel_is_an_error(
    targets: list[querytest.Target], tmp_path: Path
) -> None:
    spec = tmp_path / "typo.yaml"
    spec.write_text(
        "dashboard: ktrdr-system-overview\nscenarios:\n  - name: s\n    series: []\n"
        "    expect:\n      - {panel: Eror Rate, at: 1m, samples: []}\n",
        encoding="utf-8",
    )
    with pytest.raises(querytest.SpecError, match="no panel 'Eror Rate'"):
        querytest.coverage([querytest.load_spec(spec)], targets)


# ---------------------------------------------------------------- breaking one query


def _sub(pattern: str, replacement: str) -> Callable[[str], str]:
    def mutate(expr: str) -> str:
        changed = re.sub(pattern, replacement, expr)
        assert changed != expr, f"mutation {pattern!r} does not apply to: {expr}"
        return changed

    return mutate


# (what breaks, spec, dashboard uid, panel title, refId, how the query is broken)
MUTATIONS = [
    (
        "P95 without sum by (le)",
        "system-overview",
        "ktrdr-system-overview",
        "P95 Latency",
        "A",
        _sub(r"sum by \(le\) ", ""),
    ),
    (
        "P99 summed by the wrong labels",
        "system-overview",
        "ktrdr-system-overview",
        "Response Time Percentiles",
        "C",
        _sub(r"sum by \(le\)", "sum by (le, job)"),
    ),
    (
        "Error Rate empty without traffic",
        "system-overview",
        "ktrdr-system-overview",
        "Error Rate",
        "A",
        _sub(r" or vector\(0\)$", ""),
    ),
    (
        "request rate that does not undo counter resets",
        "system-overview",
        "ktrdr-system-overview",
        "Request Rate by Service",
        "A",
        _sub(r"\brate\(", "delta("),
    ),
    (
        "uptime the wrong way round",
        "system-overview",
        "ktrdr-system-overview",
        "Active Services",
        "B",
        _sub(r"time\(\) - (process_start_time_seconds\{[^}]*\})", r"\1 - time()"),
    ),
    (
        "Success Rate over lifetime counters",
        "operations",
        "ktrdr-operations",
        "Success Rate",
        "A",
        _sub(r"increase\((ktrdr_operations_total[^\[]*)\[1h\]\)", r"\1"),
    ),
    (
        "Operations/Hour over a swapped window",
        "operations",
        "ktrdr-operations",
        "Operations/Hour",
        "A",
        _sub(r"\[1h\]", "[60s]"),
    ),
    (
        "mean duration including failed operations",
        "operations",
        "ktrdr-operations",
        "Operation Duration",
        "A",
        _sub(r'\{status="completed"\}', ""),
    ),
    (
        "Training Workers reading the other type",
        "worker-status",
        "ktrdr-worker-status",
        "Training Workers",
        "A",
        _sub(r'worker_type="training"', 'worker_type="backtesting"'),
    ),
    (
        "Healthy Workers counting the backend",
        "worker-status",
        "ktrdr-worker-status",
        "Healthy Workers",
        "A",
        _sub(r', instance=~"[^"]*"', ""),
    ),
    (
        "availability timeline with the job hard-coded",
        "worker-status",
        "ktrdr-worker-status",
        "Worker Availability Timeline",
        "A",
        _sub(r'job=~"[^"]*"', 'job="ktrdr-backend"'),
    ),
]


@pytest.mark.parametrize(
    ("spec", "uid", "panel", "ref_id", "mutate"),
    [m[1:] for m in MUTATIONS],
    ids=[m[0] for m in MUTATIONS],
)
def test_breaking_one_query_fails_naming_the_panel(
    query_modes: dict[str, modes.Mode],
    spec: str,
    uid: str,
    panel: str,
    ref_id: str,
    mutate: Callable[[str], str],
) -> None:
    # The raw expressions: each mutation breaks the PromQL a panel computes itself.
    models = copy.deepcopy(query_modes[modes.RAW].models)
    target = next(
        t
        for p in models[uid]["panels"]
        if p.get("title") == panel
        for t in p.get("targets", [])
        if t["refId"] == ref_id
    )
    target["expr"] = mutate(target["expr"])
    result = querytest.run_spec(
        querytest.load_spec(SPEC_DIR / f"{spec}.yaml"),
        models,
        querytest.dashboard_targets(models.values()),
    )
    failed = {(f.case.target.panel, f.case.target.ref_id) for f in result.failures}
    assert failed == {(panel, ref_id)}
    message = result.failures[0].message()
    assert f'dashboard {uid}, panel "{panel}", target {ref_id}' in message
    assert "expected:" in message and "got:" in message


def test_a_query_broken_in_lib_fails_naming_the_panel(project_copy: Path) -> None:
    # End to end through the sources: P95 Latency and Response Time Percentiles share one
    # builder; dropping its `sum by (le)` must fail both panels.
    queries = project_copy / "lib" / "ktrdr" / "queries.libsonnet"
    text = queries.read_text(encoding="utf-8")
    assert "sum by (le) (%s)" in text
    queries.write_text(text.replace("sum by (le) (%s)", "(%s)"), encoding="utf-8")
    built = modes.mode_of(build.evaluate(build.Project(root=project_copy)))
    result = querytest.run_spec(
        querytest.load_spec(SPEC_DIR / "system-overview.yaml"),
        built.models,
        querytest.dashboard_targets(built.models.values()),
        built.recording_rules,
    )
    assert {f.case.target.panel for f in result.failures} == {
        "P95 Latency",
        "Response Time Percentiles",
    }


def test_floats_compare_within_the_stated_tolerance() -> None:
    exact = querytest.Sample.of({}, 666.6666667)
    assert querytest.same_samples([exact], [querytest.Sample.of({}, 666.666666666666)])
    assert not querytest.same_samples([exact], [querytest.Sample.of({}, 666.67)])
    nan = querytest.Sample.of({}, float("nan"))
    assert querytest.same_samples([nan], [nan])
    assert not querytest.same_samples([exact], [])
