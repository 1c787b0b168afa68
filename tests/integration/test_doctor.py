"""`doctor` against a real Prometheus (Debian's) loaded with the synthetic KTRDR telemetry:
a complete set-up is reported healthy (exit 0); a missing metric, a job label that differs
between `up` and the metrics, recording rules that are absent, and recording rules that are
loaded but failing or never evaluated are each found on the right panel with the right
reason (exit 1). One Prometheus per set-up, started once for this module, always stopped."""

from __future__ import annotations

import contextlib
import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from ktrdr_dashboards import build, cli, modes
from ktrdr_dashboards.doctor import client, diagnose, report
from ktrdr_dashboards.doctor.commands import run_doctor
from ktrdr_dashboards.errors import DashboardError
from ktrdr_dashboards.localprom import backfill, server
from ktrdr_dashboards.synthetic import telemetry

REPO_ROOT = Path(__file__).resolve().parents[2]
STEP_S = 15
RULES_NAME = "ktrdr-recording.yml"
SYSTEM, OPERATIONS, WORKERS = "ktrdr-system-overview", "ktrdr-operations", "ktrdr-worker-status"


# Requests per scrape of every service: some 4xx and 5xx, so the error panels have data.
HTTP_REQUESTS = (
    ("GET", "/api/v1/operations", "200", 30.0),
    ("GET", "/api/v1/operations", "404", 0.6),
    ("POST", "/api/v1/backtests/start", "500", 0.25),
)


def _write_telemetry(path: Path, end_s: int, edit: Callable[[str], str | None]) -> None:
    raw = path.with_suffix(".raw")
    data = telemetry.Telemetry(telemetry.telemetry_for("1k").topology, HTTP_REQUESTS)
    telemetry.write_openmetrics(data, raw, end_s, telemetry.SPAN_S, telemetry.LONG_SPAN_S, STEP_S)
    with raw.open(encoding="utf-8") as src, path.open("w", encoding="utf-8") as out:
        for line in src:
            kept = edit(line)
            if kept is not None:
                out.write(kept)
    raw.unlink()


def _wait_for_rule_evaluations(api: server.Server, deadline_s: float = 60) -> None:
    """Until every rule group that runs at most every minute has evaluated once (a group first
    runs up to one interval after Prometheus starts)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        groups = api.get("/api/v1/rules", {}).get("groups") or []
        pending = [
            g
            for g in groups
            if float(g.get("interval") or 0) <= 60
            and str(g.get("lastEvaluation", "")).startswith("0001-")
        ]
        if not pending:
            return
        time.sleep(0.5)
    raise AssertionError(f"rule groups not evaluated within {deadline_s} s")


@contextlib.contextmanager
def _prometheus(
    work: Path,
    rules: str | None,
    *,
    backfill_rules: str | None,
    edit: Callable[[str], str | None] = lambda line: line,
) -> Iterator[str]:
    """A Prometheus over telemetry ending now (minus the rules' backfill), with `rules` loaded."""
    work.mkdir(parents=True)
    end_s = int(time.time()) // STEP_S * STEP_S
    openmetrics, data_dir = work / "telemetry.om.txt", work / "data"
    _write_telemetry(openmetrics, end_s, edit)
    backfill.backfill(openmetrics, data_dir)
    if backfill_rules:
        start_s = end_s - telemetry.LONG_SPAN_S
        backfill.add_recordings(backfill_rules, data_dir, work, start_s, end_s)
    config = server.CONFIG
    if rules:
        (work / RULES_NAME).write_text(rules, encoding="utf-8")
        config += f"rule_files:\n  - {work / RULES_NAME}\n"
    with server.running(data_dir, work, config) as api:
        if rules:
            _wait_for_rule_evaluations(api)
        yield api.url


@pytest.fixture(scope="module")
def recording_rules() -> str:
    output = build.evaluate(build.Project(root=REPO_ROOT))
    rules = modes.mode_of(output).recording_rules
    assert rules, "the default build reads recording rules"
    return rules


@pytest.fixture(scope="module")
def healthy(tmp_path_factory, recording_rules: str) -> Iterator[str]:
    work = tmp_path_factory.mktemp("healthy") / "prometheus"
    with _prometheus(work, recording_rules, backfill_rules=recording_rules) as url:
        yield url


@pytest.fixture(scope="module")
def rules_absent(tmp_path_factory) -> Iterator[str]:
    work = tmp_path_factory.mktemp("absent") / "prometheus"
    with _prometheus(work, None, backfill_rules=None) as url:
        yield url


# The request-rate recording fails at every evaluation (rate() drops the metric name, so the
# _count and _sum series collide); the others are in a group that runs once a year, so it has
# not run since Prometheus started.
BROKEN_EXPR = 'sum by (job) (rate({__name__=~"http_server_duration_milliseconds_(count|sum)"}[5m]))'


def _stale_rules(rules: str) -> str:
    group = yaml.safe_load(rules)["groups"][0]
    first, *rest = group["rules"]
    broken = {"name": "ktrdr-recording-failing", "rules": [{**first, "expr": BROKEN_EXPR}]}
    yearly = {"name": group["name"], "interval": "1y", "rules": rest}
    return yaml.safe_dump({"groups": [broken, yearly]}, sort_keys=False)


@pytest.fixture(scope="module")
def rules_stale(tmp_path_factory, recording_rules: str) -> Iterator[str]:
    work = tmp_path_factory.mktemp("stale") / "prometheus"
    with _prometheus(work, _stale_rules(recording_rules), backfill_rules=None) as url:
        yield url


def _faulty(line: str) -> str | None:
    """Telemetry without resident memory, and the HTTP histogram under another job than `up`."""
    if line.startswith("process_resident_memory_bytes{"):
        return None
    if line.startswith("http_server_duration_milliseconds"):
        return re.sub(r'job="[^"]*"', 'job="otel-collector"', line)
    return line


@pytest.fixture(scope="module")
def data_faults(tmp_path_factory, recording_rules: str) -> Iterator[str]:
    work = tmp_path_factory.mktemp("faults") / "prometheus"
    with _prometheus(work, recording_rules, backfill_rules=recording_rules, edit=_faulty) as url:
        yield url


def doctor(url: str) -> diagnose.Report:
    return run_doctor(build.Project(root=REPO_ROOT), url)


def panel(found: diagnose.Report, uid: str, title: str) -> diagnose.PanelReport:
    (match,) = [p for d, p in found.panels() if d.uid == uid and p.title == title]
    return match


def reason(item: diagnose.PanelReport) -> str:
    problem = item.problem()
    assert problem is not None, f"{item.title}: no reason given"
    return problem.reason


# ---------------------------------------------------------------- a healthy set-up


def test_a_complete_setup_is_healthy_and_exits_0(healthy: str, capsys) -> None:
    assert cli.main(["doctor", "--prometheus", healthy]) == 0
    out = capsys.readouterr().out
    assert "ok         recording-rules: 6 recordings loaded, healthy and recorded" in out
    assert "ok         scrape-interval: scrape interval ktrdr-backend 15s" in out
    assert "all 27 panels have data; set-up healthy" in out


def test_json_lists_every_panel_of_every_dashboard(healthy: str, capsys) -> None:
    assert cli.main(["doctor", "--prometheus", healthy, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["empty_panels"] == 0
    assert {d["uid"] for d in data["dashboards"]} == {SYSTEM, OPERATIONS, WORKERS}
    statuses = {p["status"] for d in data["dashboards"] for p in d["panels"]}
    assert statuses == {"ok"}
    jobs = next(d for d in data["dashboards"] if d["uid"] == SYSTEM)["variables"]["job"]
    assert jobs == ["ktrdr-backend", "ktrdr-workers-0"]


# ---------------------------------------------------------------- faults


def test_rules_absent_names_each_panel_reading_a_recording(rules_absent: str, capsys) -> None:
    found = doctor(rules_absent)
    check = next(c for c in found.checks if c.name == "recording-rules")
    assert check.status == "problem"
    assert check.message == "6 of 6 recordings the dashboards read are not loaded"
    assert "rule_files" in check.fix and "ktrdr-recording.yml" in check.fix
    percentiles = panel(found, SYSTEM, "Response Time Percentiles")
    assert percentiles.status == diagnose.NO_DATA
    assert reason(percentiles) == (
        "recording rule job:http_server_duration_milliseconds_bucket:rate5m is not loaded in "
        "Prometheus"
    )
    # `or vector(0)` would show 0: not empty, but wrong, and said so.
    requests = panel(found, SYSTEM, "Requests/sec")
    assert requests.status == diagnose.INCOMPLETE
    assert "job:http_server_duration_milliseconds_count:rate5m is not loaded" in reason(requests)
    assert panel(found, SYSTEM, "Healthy Services").status == diagnose.PANEL_OK
    assert panel(found, WORKERS, "Worker CPU Usage").status == diagnose.PANEL_OK
    assert cli.main(["doctor", "--prometheus", rules_absent]) == 1
    assert "NO DATA    Response Time Percentiles: recording rule" in capsys.readouterr().out


def test_apply_refuses_to_push_when_the_prometheus_lacks_the_rules(
    rules_absent: str, tmp_path: Path, capsys, monkeypatch
) -> None:
    # Checked before Grafana is contacted: no Grafana is configured here.
    monkeypatch.delenv("GRAFANA_URL", raising=False)
    out = tmp_path / "build"
    assert cli.main(["build", "--out", str(out)]) == 0
    capsys.readouterr()
    assert cli.main(["apply", "--build", str(out), "--prometheus", rules_absent]) == 1
    err = capsys.readouterr().err
    assert f"error: Prometheus {rules_absent}: 6 of 6 recordings the dashboards read" in err
    assert "— load build/prometheus/rules/ktrdr-recording.yml" in err


def test_failing_and_never_evaluated_rules_are_stale(rules_stale: str) -> None:
    found = doctor(rules_stale)
    by_service = panel(found, SYSTEM, "Request Rate by Service")
    assert by_service.status == diagnose.NO_DATA
    assert reason(by_service).startswith(
        "recording rule job:http_server_duration_milliseconds_count:rate5m (group "
        "ktrdr-recording-failing) fails: vector cannot contain metrics with the same labelset"
    )
    duration = panel(found, OPERATIONS, "Operation Duration")
    assert duration.status == diagnose.PARTIAL  # the mean is raw, the P95 is recorded
    assert reason(duration) == (
        "recording rule group ktrdr-recording is stale: never evaluated since it was loaded "
        "(every 1y, expected within two intervals)"
    )
    check = next(c for c in found.checks if c.name == "recording-rules")
    assert check.status == "problem" and "more)" in check.message
    assert not found.ok


def test_a_missing_metric_and_a_wrong_job_name_name_their_panels(data_faults: str) -> None:
    found = doctor(data_faults)
    memory = panel(found, SYSTEM, "Memory Usage by Service")
    assert memory.status == diagnose.NO_DATA
    assert reason(memory) == (
        "process_resident_memory_bytes (a KTRDR metric of the telemetry catalog) has no series "
        "in Prometheus over the dashboard's range"
    )
    assert panel(found, WORKERS, "Worker Health Matrix").status == diagnose.PARTIAL
    by_service = panel(found, SYSTEM, "Request Rate by Service")
    assert by_service.status == diagnose.NO_DATA
    assert reason(by_service) == (
        "series of job:http_server_duration_milliseconds_count:rate5m have job otel-collector; "
        "none is one of $job's (ktrdr-backend, ktrdr-workers-0): `up` and this metric disagree "
        "on job"
    )
    status = panel(found, OPERATIONS, "HTTP Status Distribution")
    assert status.status == diagnose.NO_DATA and "have job otel-collector" in reason(status)
    assert panel(found, SYSTEM, "CPU Usage by Service").status == diagnose.PANEL_OK
    assert found.empty_panels() >= 4
    assert 'panels would show "No data"' in report.text(found)


# ---------------------------------------------------------------- without a server


def test_credentials_come_from_the_environment_never_the_url(monkeypatch) -> None:
    with pytest.raises(client.PrometheusError, match="--prometheus carries credentials"):
        client.Prometheus.connect("http://user:secret@prometheus:9090")
    monkeypatch.setenv(client.TOKEN_ENV, "s3cret-token")
    api = client.Prometheus.connect("http://prometheus:9090")
    assert api.headers == {"Authorization": "Bearer s3cret-token"}
    assert "s3cret-token" not in repr(api)


def test_an_unreachable_prometheus_is_one_line_with_a_fix(capsys) -> None:
    port = server.free_port()  # nothing listens there
    assert cli.main(["doctor", "--prometheus", f"http://127.0.0.1:{port}", "--timeout", "2"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: cannot reach Prometheus at http://127.0.0.1:{port}")
    assert "\n" not in err and "— check the URL" in err


def test_a_scrape_interval_slower_than_the_datasource_assumes_is_a_problem() -> None:
    check = diagnose.scrape_check({"": 15.0, "ktrdr-workers": 60.0}, ["ktrdr-workers"], 15.0)
    assert check.status == "problem"
    assert "fewer than 4 scrapes" in check.message
    assert check.fix.startswith("set timeInterval: 1m in provisioning/datasources/ktrdr.yaml")
    assert isinstance(client.PrometheusError("x"), DashboardError)
