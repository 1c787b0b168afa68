"""Prometheus rules generated from the dashboards' config: promtool accepts them, every alert and
recording rule is unit-tested with promtool (coverage enforced), each alert links to the panel
that shows it and fires exactly when that panel leaves green, one threshold moves panel and
alert together, the recording-rule switch, and the rules in releases and installs."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
import yaml
from release_support import committed_copy

from ktrdr_dashboards import build, cli, jsonnet
from ktrdr_dashboards.alerting import rule_tests as ruletest
from ktrdr_dashboards.alerting import rules
from ktrdr_dashboards.errors import DashboardError, ToolMissingError
from ktrdr_dashboards.promql import expand as promql
from ktrdr_dashboards.release import install as install_module
from ktrdr_dashboards.release import publish as release_module

RULES_PREFIX = f"{rules.RULES_DIR}/"
# The health checks of the README's workflows -> the panel that shows each.
PANEL_OF_ALERT = {
    "KtrdrServicesDown": ("ktrdr-system-overview", "Healthy Services"),
    "KtrdrHighErrorRate": ("ktrdr-system-overview", "Error Rate"),
    "KtrdrHighP95Latency": ("ktrdr-system-overview", "P95 Latency"),
    "KtrdrNoAvailableWorkers": ("ktrdr-worker-status", "Available Workers"),
    "KtrdrOperationsFailing": ("ktrdr-operations", "Success Rate"),
    "KtrdrWorkerDown": ("ktrdr-worker-status", "Worker Health Matrix"),
}
# Alerts on a stat coloured by config.thresholds: they must agree with its colours. (The
# others have no band to agree with: KtrdrNoAvailableWorkers is per worker type while
# Available Workers colours the total, KtrdrWorkerDown links to a table.)
BANDED_ALERTS = {
    "KtrdrServicesDown",
    "KtrdrHighErrorRate",
    "KtrdrHighP95Latency",
    "KtrdrOperationsFailing",
}
# `(<panel expression>) <op> <threshold>`, as alerts.libsonnet writes every alert.
ALERT_COMPARISON = re.compile(r"\) (?P<op><|<=|==|>=|>) (?P<value>-?[0-9.]+)$")
COMPARE = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "==": lambda a, b: a == b,
    ">=": lambda a, b: a >= b,
    ">": lambda a, b: a > b,
}


def rule_files(output: build.BuildOutput) -> dict[str, str]:
    """Rule file name -> YAML text, as the build wrote them."""
    return {
        path.removeprefix(RULES_PREFIX): text
        for path, text in output.files.items()
        if path.startswith(RULES_PREFIX)
    }


def rules_by_id(output: build.BuildOutput) -> dict[ruletest.RuleId, dict]:
    return ruletest.rules_of({n: yaml.safe_load(t) for n, t in rule_files(output).items()})


def alerts(output: build.BuildOutput) -> list[dict]:
    return [rule for rid, rule in rules_by_id(output).items() if rid.kind == "alert"]


def all_panels(model: dict) -> list[dict]:
    found = []
    for panel in model.get("panels", []):
        found += [panel, *panel.get("panels", [])]
    return found


def panel_titled(model: dict, title: str) -> dict:
    (panel,) = [p for p in all_panels(model) if p.get("title") == title]
    return panel


def config_override(folder: Path, repo_root: Path, patch: str) -> Path:
    """A --jpath folder whose ktrdr/config.libsonnet is the real config + `patch`."""
    (folder / "ktrdr").mkdir(parents=True)
    real = repo_root / "lib" / "ktrdr" / "config.libsonnet"
    (folder / "ktrdr" / "config.libsonnet").write_text(f"(import '{real}') + {patch}\n")
    return folder


def config(repo_root: Path) -> dict:
    lib = repo_root / "lib"
    value = jsonnet.evaluate_snippet(
        lib / "<config>", "import 'ktrdr/config.libsonnet'", jsonnet.LibraryPath(search=(lib,))
    )
    assert isinstance(value, dict)
    return value


@pytest.fixture(scope="module")
def unit_tests(repo_root: Path) -> dict[str, dict]:
    return ruletest.load_tests(repo_root / "tests" / "rules")


@pytest.fixture(scope="module")
def raw_build(repo_root: Path, tmp_path_factory) -> build.BuildOutput:
    """The real sources compiled with config.useRecordingRules off (raw expressions)."""
    folder = config_override(
        tmp_path_factory.mktemp("raw"), repo_root, "{ useRecordingRules: false }"
    )
    return build.evaluate(build.Project(root=repo_root, jpath=(folder,)))


def target_list(model: dict) -> list[dict]:
    return [t for p in all_panels(model) for t in p.get("targets", [])]


# ---------------------------------------------------------------- promtool check and tests


def test_build_generates_rule_files_promtool_accepts(built: build.BuildOutput):
    files = rule_files(built)
    assert sorted(files) == ["ktrdr-alerts.yml", "ktrdr-recording.yml"]
    report = rules.check(files)
    for name, text in files.items():
        assert text.endswith("\n")
        count = sum(len(g["rules"]) for g in yaml.safe_load(text)["groups"])
        assert f"Checking {RULES_PREFIX}{name}\n  SUCCESS: {count} rules found" in report


def test_alerts_cover_every_health_check_with_severity_and_annotations(built):
    found = alerts(built)
    assert {rule["alert"] for rule in found} == set(PANEL_OF_ALERT)
    for rule in found:
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert set(rule["annotations"]) == {"summary", "description", "dashboard"}, rule["alert"]
        assert "$" not in rule["expr"], f"{rule['alert']} uses a Grafana variable: {rule['expr']}"


def test_every_rule_passes_its_promtool_unit_tests_and_every_rule_is_covered(
    built, unit_tests, capsys
):
    result = ruletest.run(rule_files(built), unit_tests)
    assert result.ok, result.output
    rows = ruletest.coverage(rules_by_id(built), unit_tests)
    report = ruletest.table(rows)
    with capsys.disabled():
        print(f"\nPrometheus rule test coverage\n{report}")
    assert not [row for row in rows if row.missing()], report
    assert {row.rule.kind for row in rows} == {"alert", "record"}


def test_coverage_names_an_alert_without_tests_or_without_a_resolve(built, unit_tests):
    without_worker_down = copy.deepcopy(unit_tests)
    for test in without_worker_down.values():
        for group in test.get("tests") or []:
            group["alert_rule_test"] = [
                case
                for case in group.get("alert_rule_test") or []
                if case["alertname"] != "KtrdrWorkerDown"
            ]
    rows = {
        row.rule.label(): row for row in ruletest.coverage(rules_by_id(built), without_worker_down)
    }
    assert rows["KtrdrWorkerDown (warning)"].missing() == ["fires", "does not fire", "resolves"]
    assert not rows["KtrdrServicesDown (warning)"].missing()

    # Quiet only before it fires: firing and not firing are shown, resolving is not.
    never_resolves = copy.deepcopy(unit_tests)
    for group in never_resolves["workers.yaml"]["tests"]:
        group["alert_rule_test"] = group["alert_rule_test"][:-1]
    rows = {row.rule.label(): row for row in ruletest.coverage(rules_by_id(built), never_resolves)}
    assert rows["KtrdrNoAvailableWorkers (warning)"].missing() == ["resolves"]


def test_coverage_names_a_recording_rule_without_samples(built, unit_tests):
    stripped = copy.deepcopy(unit_tests)
    for test in stripped.values():
        for group in test.get("tests") or []:
            group.pop("promql_expr_test", None)
    rows = ruletest.coverage(rules_by_id(built), stripped)
    missing = {row.rule.name for row in rows if row.missing() == ["samples checked"]}
    assert missing == {rid.name for rid in rules_by_id(built) if rid.kind == "record"}


def test_promtool_missing_is_an_error_naming_the_package(monkeypatch, tmp_path, built):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(
        ToolMissingError, match="apt-get install -y --no-install-recommends prometheus"
    ):
        rules.check(rule_files(built))


# ---------------------------------------------------------------- alerts and their panels


def test_each_alert_links_to_the_panel_that_shows_it(built, dashboards):
    for rule in alerts(built):
        link = urlparse(rule["annotations"]["dashboard"])
        uid = link.path.removeprefix("/d/")
        (panel_id,) = parse_qs(link.query)["viewPanel"]
        assert link.path == f"/d/{uid}" and uid in dashboards, rule["annotations"]["dashboard"]
        (panel,) = [p for p in all_panels(dashboards[uid]) if p.get("id") == int(panel_id)]
        assert (uid, panel["title"]) == PANEL_OF_ALERT[rule["alert"]]


def panel_colour(steps: list[dict], value: float) -> str:
    """The colour Grafana gives `value`: the last step whose lower bound it reaches."""
    colour = steps[0]["color"]
    for step in steps[1:]:
        if value >= step["value"]:
            colour = step["color"]
    return colour


def test_each_alert_fires_exactly_when_its_panel_shows_its_colour(built, dashboards):
    """warning: the panel is yellow or red; critical: it is red. Checked at every step and
    threshold and just either side of each, so a threshold on one side alone shows up."""
    bad = {"warning": {"yellow", "red"}, "critical": {"red"}}
    checked = 0
    for rule in alerts(built):
        if rule["alert"] not in BANDED_ALERTS:
            continue
        uid, title = PANEL_OF_ALERT[rule["alert"]]
        steps = panel_titled(dashboards[uid], title)["fieldConfig"]["defaults"]["thresholds"][
            "steps"
        ]
        assert {s["color"] for s in steps} >= {"yellow", "red"}, title
        comparison = ALERT_COMPARISON.search(rule["expr"])
        assert comparison, rule["expr"]
        op, threshold = comparison["op"], float(comparison["value"])
        edges = {threshold, *(s["value"] for s in steps[1:])}
        for value in sorted({e + d for e in edges for d in (-0.01, 0.0, 0.01)}):
            fires = COMPARE[op](value, threshold)
            shows = panel_colour(steps, value) in bad[rule["labels"]["severity"]]
            assert fires == shows, (rule["alert"], rule["labels"]["severity"], value)
        checked += 1
    assert checked == 8  # four stats, a warning and a critical each


def test_a_renamed_panel_stops_the_build_instead_of_leaving_a_stale_link(project_copy: Path):
    source = project_copy / "jsonnet" / "system-overview.jsonnet"
    text = source.read_text()
    assert "p.stat('Error Rate'," in text
    source.write_text(text.replace("p.stat('Error Rate',", "p.stat('Server Errors',"))
    with pytest.raises(
        DashboardError, match='panel "Error Rate" of dashboard ktrdr-system-overview'
    ):
        build.evaluate(build.Project(root=project_copy))


def test_one_threshold_moves_the_panel_colour_and_the_alert_together(
    built, repo_root, tmp_path, unit_tests
):
    old = config(repo_root)["thresholds"]["errorRatePercent"]["warning"]
    new = old + 1
    patch = f"{{ thresholds+: {{ errorRatePercent+: {{ warning: {new} }} }} }}"
    folder = config_override(tmp_path, repo_root, patch)
    moved = build.evaluate(build.Project(root=repo_root, jpath=(folder,)))

    def yellow_from(output: build.BuildOutput) -> list[float]:
        model = next(d.model for d in output.dashboards if d.uid == "ktrdr-system-overview")
        steps = panel_titled(model, "Error Rate")["fieldConfig"]["defaults"]["thresholds"]["steps"]
        return [s["value"] for s in steps if s["color"] == "yellow"]

    def warning_alert(output: build.BuildOutput) -> dict:
        rid = ruletest.RuleId("alert", "KtrdrHighErrorRate", "warning")
        return rules_by_id(output)[rid]

    assert yellow_from(built) == [old] and yellow_from(moved) == [new]
    assert warning_alert(built)["expr"].endswith(f">= {old}")
    assert warning_alert(moved)["expr"].endswith(f">= {new}")
    assert f"(threshold {new} %)" in warning_alert(moved)["annotations"]["description"]
    # Nothing else moved: one dashboard and the alert file changed, and the Kubernetes
    # resources that carry them, no other file.
    changed = {p for p in built.files if built.files[p] != moved.files[p]}
    assert changed == {
        "dashboards/system-overview.json",
        f"{RULES_PREFIX}ktrdr-alerts.yml",
        "kubernetes/helm-sidecar/configmap-ktrdr-system-overview.yaml",
        "kubernetes/grafana-operator/grafanadashboard-ktrdr-system-overview.yaml",
        "kubernetes/grafana-resources/dashboard-ktrdr-system-overview.yaml",
        "kubernetes/grafana-manifests/grafanamanifest-ktrdr-system-overview.yaml",
        "kubernetes/prometheus-operator/prometheusrule-ktrdr.yaml",
    }
    # And the unit tests notice: the 1.79 % error rate no longer warns.
    result = ruletest.run(rule_files(moved), unit_tests)
    assert not result.ok and "alertname: KtrdrHighErrorRate" in result.output


# ---------------------------------------------------------------- recording rules switch


def recorded_names(output: build.BuildOutput) -> set[str]:
    return {rid.name for rid in rules_by_id(output) if rid.kind == "record"}


def target_exprs(output: build.BuildOutput) -> dict[str, str]:
    return {
        f"{d.uid}/{p['title']}/{t['refId']}": t["expr"]
        for d in output.dashboards
        for p in all_panels(d.model)
        for t in p.get("targets", [])
    }


def reads(expr: str, name: str) -> bool:
    return re.search(rf"(?<![\w:]){re.escape(name)}(?![\w:])", expr) is not None


def test_with_the_switch_off_no_panel_reads_a_recording(raw_build):
    names = recorded_names(raw_build)
    assert names
    assert not [k for k, e in target_exprs(raw_build).items() if any(reads(e, n) for n in names)]


def test_by_default_panels_read_every_recording_and_still_parse(built, raw_build):
    names = recorded_names(built)
    assert names == recorded_names(raw_build)
    exprs = target_exprs(built)
    for name in names:
        users = [key for key, expr in exprs.items() if reads(expr, name)]
        assert users, f"no panel reads {name}"
        for key in users:
            # Recordings keep `job`, so the Service variable still filters them.
            if name.startswith("job"):
                assert re.search(re.escape(name) + r'\{job=~"\$job"', exprs[key]), key
    # Panels without a recording are the same in both modes.
    plain = target_exprs(raw_build)
    unchanged = {k for k, e in exprs.items() if not any(reads(e, n) for n in names)}
    assert unchanged and all(exprs[k] == plain[k] for k in unchanged)
    expanded = [
        promql.expand(t["expr"], promql.variables_of(d.model))
        for d in built.dashboards
        for p in all_panels(d.model)
        for t in p.get("targets", [])
    ]
    assert promql.check_with_promtool(expanded).errors == {}


def test_with_the_switch_off_the_gate_passes_the_raw_build(repo_root, tmp_path):
    """Both modes build: the default one reads recordings (the gate knows them from the rule
    files, they are in no exporter's catalog), the switch turned off builds the raw one."""
    folder = config_override(tmp_path / "override", repo_root, "{ useRecordingRules: false }")
    project = build.Project(root=repo_root, jpath=(folder,))
    build.build(project, tmp_path / "out")
    models = [json.loads(p.read_text()) for p in (tmp_path / "out" / "dashboards").glob("*.json")]
    assert len(models) == 3
    assert not any("job:" in t["expr"] for model in models for t in target_list(model))


@pytest.mark.parametrize("mode", ["recorded", "raw"])
def test_alerts_pass_the_same_unit_tests_in_both_modes(mode, built, raw_build, unit_tests):
    output = built if mode == "recorded" else raw_build
    names = recorded_names(output)
    reading = {r["alert"] for r in alerts(output) if any(reads(r["expr"], n) for n in names)}
    if mode == "recorded":
        assert reading >= {"KtrdrHighErrorRate", "KtrdrHighP95Latency", "KtrdrOperationsFailing"}
    else:
        assert not reading
    result = ruletest.run(rule_files(output), unit_tests)
    assert result.ok, result.output


# ---------------------------------------------------------------- build, release, install


def test_build_writes_the_rule_files_and_a_broken_rule_writes_nothing(
    project_copy: Path, repo_root: Path, tmp_path: Path, built, capsys
):
    out = tmp_path / "build"
    assert cli.main(["build", "--root", str(project_copy), "--out", str(out)]) == 0
    for name, text in rule_files(built).items():
        assert (out / RULES_PREFIX / name).read_text() == text
    before = {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}
    capsys.readouterr()

    broken = config_override(
        tmp_path / "broken", project_copy, "{ rules+: { rateWindow: '5 min' } }"
    )
    argv = ["build", "--root", str(project_copy), "--out", str(out), "--jpath", str(broken)]
    assert cli.main(argv) == 1
    err = capsys.readouterr().err
    assert "alerting/promtool: promtool: group " in err and "nothing was written" in err
    assert {p: p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()} == before


def test_release_ships_the_rules_in_the_manifest_and_install_places_them(tmp_path, monkeypatch):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    root = committed_copy(tmp_path / "repo")
    result = release_module.release(build.Project(root=root), root / "build")
    verified = release_module.verify(result.tarball)
    built_rules = {
        path: (root / "build" / path).read_bytes()
        for path in sorted(rule_files(build.evaluate(build.Project(root=root))))
        for path in [f"{RULES_PREFIX}{path}"]
    }
    assert built_rules
    listed = {entry["path"] for entry in verified.manifest["files"]}
    for path, data in built_rules.items():
        shipped = f"etc/{path}"  # etc/prometheus/rules/<name>.yml
        assert shipped in listed and verified.files[shipped] == data

    target = tmp_path / "host"
    install_module.install(result.tarball, target)
    for path, data in built_rules.items():
        assert (target / "etc" / path).read_bytes() == data


def test_recorded_series_labels_are_what_prometheus_records(built, unit_tests):
    """rules.recorded_series (for checks that must know recorded series) names each
    recording with the labels its samples carry in the unit tests."""
    declared = rules.recorded_series(rule_files(built))
    assert set(declared) == recorded_names(built)
    seen: dict[str, set[frozenset[str]]] = {}
    for test in unit_tests.values():
        for group in test.get("tests") or []:
            for case in group.get("promql_expr_test") or []:
                for sample in case.get("exp_samples") or []:
                    name, _, labels = sample["labels"].partition("{")
                    keys = frozenset(re.findall(r"(\w+)=", labels))
                    seen.setdefault(name, set()).add(keys)
    assert seen.keys() == declared.keys()
    assert all(seen[name] == {labels} for name, labels in declared.items()), (seen, declared)
