"""The gate as a user meets it: the real dashboards pass with no findings and no exclusions;
a broken dashboard dropped into jsonnet/ stops `build`, names the file and leaves build/ as it
was; `validate` prints one line per finding or JSON; the exclusions file needs reasons."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ktrdr_dashboards import build, cli
from ktrdr_dashboards.validate import EXCLUSIONS_NAME, check_project
from ktrdr_dashboards.validate import gate as lint

REPO_ROOT = Path(__file__).resolve().parents[2]

BROKEN_HEADER = """local ktrdr = import 'ktrdr/ktrdr.libsonnet';
local p = ktrdr.panels;
local stat(expr) = p.stat('Broken Stat', 'A panel with a problem.', 'none', expr) + p.size(12, 4);
"""
BROKEN = {
    "layout/overlap": (
        "ktrdr.dashboard({ uid: 'ktrdr-broken', title: 'KTRDR Broken' }, 'Broken.',"
        " [ktrdr.variables.datasource, ktrdr.variables.job],"
        " [ktrdr.layout.section('Broken', [stat('sum(up)')])])"
        " + { panels+: [p.stat('Second Stat', 'On top of the first.', 'none', 'sum(up)')"
        " + { id: 99, gridPos: { x: 6, y: 1, w: 12, h: 4 } }] }"
    ),
    "telemetry/metric": (
        "ktrdr.dashboard({ uid: 'ktrdr-broken', title: 'KTRDR Broken' }, 'Broken.',"
        " [ktrdr.variables.datasource, ktrdr.variables.job],"
        " [ktrdr.layout.section('Broken', [stat('sum(ktrdr_jobs_running)')])])"
    ),
    "telemetry/counter-type": (
        "ktrdr.dashboard({ uid: 'ktrdr-broken', title: 'KTRDR Broken' }, 'Broken.',"
        " [ktrdr.variables.datasource, ktrdr.variables.job],"
        " [ktrdr.layout.section('Broken', [stat('sum(ktrdr_operations_total)')])])"
    ),
    "links/dashboard-uid": (
        "ktrdr.dashboard({ uid: 'ktrdr-broken', title: 'KTRDR Broken' }, 'Broken.',"
        " [ktrdr.variables.datasource, ktrdr.variables.job],"
        " [ktrdr.layout.section('Broken', [stat('sum(up)')"
        " + p.dataLinks([ktrdr.links.toDashboard({ uid: 'ktrdr-nope', title: 'Nope' })])])])"
    ),
}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_the_three_dashboards_pass_with_no_findings_and_no_exclusions():
    project = build.Project(root=REPO_ROOT)
    findings = check_project(project, build.evaluate(project))
    assert [f.line() for f in findings] == []
    exclusions = yaml.safe_load((REPO_ROOT / EXCLUSIONS_NAME).read_text())
    assert exclusions == {"exclusions": []}


@pytest.mark.parametrize("rule", sorted(BROKEN))
def test_a_broken_dashboard_stops_the_build_and_leaves_build_untouched(
    rule: str, project_copy: Path, capsys: pytest.CaptureFixture[str]
):
    out = project_copy / "build"
    assert cli.main(["build", "--root", str(project_copy), "--out", str(out)]) == 0
    before = snapshot(out)
    (project_copy / "jsonnet" / "broken.jsonnet").write_text(BROKEN_HEADER + BROKEN[rule] + "\n")
    capsys.readouterr()

    code = cli.main(["build", "--root", str(project_copy), "--out", str(out)])

    err = capsys.readouterr().err
    assert code == 1
    flagged = [line for line in err.splitlines() if f": {rule}: " in line]
    assert flagged, err
    assert all(
        line.startswith("jsonnet/broken.jsonnet: dashboard ktrdr-broken") for line in flagged
    )
    assert "nothing was written" in err
    assert snapshot(out) == before


def test_validate_prints_json_for_tools(project_copy: Path, capsys: pytest.CaptureFixture[str]):
    (project_copy / "jsonnet" / "broken.jsonnet").write_text(
        BROKEN_HEADER + BROKEN["telemetry/metric"] + "\n"
    )
    code = cli.main(["validate", "--root", str(project_copy), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert report["count"] == len(report["findings"]) == 1
    finding = report["findings"][0]
    assert finding["rule"] == "telemetry/metric"
    assert (finding["file"], finding["dashboard"], finding["panel"]) == (
        "jsonnet/broken.jsonnet",
        "ktrdr-broken",
        "Broken Stat",
    )
    assert finding["line"].startswith(
        'jsonnet/broken.jsonnet: dashboard ktrdr-broken, panel "Broken Stat"'
    )


def _broken_project(project_copy: Path) -> tuple[build.Project, build.BuildOutput]:
    (project_copy / "jsonnet" / "broken.jsonnet").write_text(
        BROKEN_HEADER + BROKEN["telemetry/metric"] + "\n"
    )
    project = build.Project(root=project_copy)
    return project, build.evaluate(project)


def test_an_exclusion_matches_by_uid_panel_id_and_rule(project_copy: Path):
    project, output = _broken_project(project_copy)
    [finding] = check_project(project, output)
    exclusions = project_copy / EXCLUSIONS_NAME
    entry = {
        "uid": "ktrdr-broken",
        "panel_id": finding.location.panel_id,
        "rule": "telemetry/metric",
    }
    exclusions.write_text(
        yaml.safe_dump({"exclusions": [{**entry, "reason": "metric ships next week"}]})
    )
    assert check_project(project, output) == []

    # The same entry on another panel id hides nothing, and is reported as stale.
    exclusions.write_text(
        yaml.safe_dump(
            {"exclusions": [{**entry, "panel_id": 42, "reason": "metric ships next week"}]}
        )
    )
    assert [f.rule for f in check_project(project, output)] == [
        "telemetry/metric",
        "exclusions/unused",
    ]


def test_an_exclusion_without_a_reason_is_an_error(project_copy: Path):
    project, output = _broken_project(project_copy)
    [finding] = check_project(project, output)
    entry = {
        "uid": "ktrdr-broken",
        "panel_id": finding.location.panel_id,
        "rule": "telemetry/metric",
    }
    (project_copy / EXCLUSIONS_NAME).write_text(yaml.safe_dump({"exclusions": [entry]}))
    lines = [f.line() for f in check_project(project, output)]
    assert lines[-1] == (
        "validation-exclusions.yaml (entry 1): exclusions/entry: missing reason — give uid, "
        "panel_id (omit for the dashboard itself), rule and the reason it is justified"
    )
    assert any(": telemetry/metric: " in line for line in lines)


def test_settings_come_from_the_jsonnet_config():
    settings = lint.settings_from_config(build.evaluate(build.Project(root=REPO_ROOT)).config)
    assert settings.datasource_variable == "datasource"
    assert "1h" in settings.declared_windows and "$__range" in settings.declared_windows
    assert settings.scrape_interval_seconds == 15


def test_a_duplicate_uid_names_the_uid_and_both_files_before_anything_else(
    project_copy: Path, capsys: pytest.CaptureFixture[str]
):
    source = (project_copy / "jsonnet" / "operations.jsonnet").read_text()
    (project_copy / "jsonnet" / "ops-copy.jsonnet").write_text(source)
    capsys.readouterr()

    code = cli.main(["build", "--root", str(project_copy), "--out", str(project_copy / "build")])

    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err == [
        "error: jsonnet/ops-copy.jsonnet: dashboard ktrdr-operations: uid ktrdr-operations is "
        "also the uid of jsonnet/operations.jsonnet — give each dashboard its own uid"
    ]
    assert not (project_copy / "build").exists()
