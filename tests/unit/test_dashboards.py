"""The three KTRDR dashboards: every panel the seed README names, with the right type,
unit, thresholds and query; variables, links and the diagnostic workflows."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ktrdr_dashboards import tools

SYSTEM, WORKERS, OPERATIONS = "ktrdr-system-overview", "ktrdr-worker-status", "ktrdr-operations"

GREEN_LOW = [("green", None), ("yellow", 1), ("red", 5)]

# (dashboard uid, panel title, panel type, unit, threshold steps or None to not check)
SEED_PANELS = [
    (SYSTEM, "Healthy Services", "stat", "none", [("red", None), ("yellow", 2), ("green", 4)]),
    (SYSTEM, "Requests/sec", "stat", "reqps", None),
    (SYSTEM, "Error Rate", "stat", "percent", GREEN_LOW),
    (SYSTEM, "P95 Latency", "stat", "ms", [("green", None), ("yellow", 100), ("red", 500)]),
    (SYSTEM, "Request Rate by Service", "timeseries", "reqps", None),
    (SYSTEM, "Response Time Percentiles", "timeseries", "ms", None),
    (SYSTEM, "Errors by Status Code", "timeseries", "reqps", None),
    (SYSTEM, "Active Services", "table", None, None),
    (SYSTEM, "CPU Usage by Service", "timeseries", "percent", None),
    (SYSTEM, "Memory Usage by Service", "timeseries", "bytes", None),
    (WORKERS, "Registered Workers", "stat", "none", None),
    (WORKERS, "Available Workers", "stat", "none", [("red", None), ("yellow", 2), ("green", 4)]),
    (WORKERS, "Backtest Workers", "stat", "none", None),
    (WORKERS, "Training Workers", "stat", "none", None),
    (WORKERS, "Healthy Workers", "stat", "none", None),
    (WORKERS, "Worker Health Matrix", "table", None, None),
    (WORKERS, "Worker CPU Usage", "timeseries", "percent", None),
    (WORKERS, "Worker Memory Usage", "timeseries", "bytes", None),
    (WORKERS, "Worker Availability Timeline", "state-timeline", None, None),
    (OPERATIONS, "Operations/Hour", "stat", "none", None),
    (OPERATIONS, "Backtests/Hour", "stat", "none", None),
    (OPERATIONS, "Training/Hour", "stat", "none", None),
    (OPERATIONS, "Success Rate", "stat", "percent", [("red", None), ("yellow", 80), ("green", 95)]),
    (OPERATIONS, "Operations by Type", "piechart", None, None),
    (OPERATIONS, "Operation Duration", "timeseries", "s", None),
    (OPERATIONS, "Success vs Failure Rate", "timeseries", None, None),
    (OPERATIONS, "HTTP Status Distribution", "table", None, None),
]

# A query's meaning, as patterns its expressions must contain (regex, whitespace-tolerant).
QUERY_MEANING = {
    (SYSTEM, "Healthy Services"): [r'sum\(up\{job=~"\$job"\}\)'],
    (SYSTEM, "Requests/sec"): [r"sum\(rate\(http_server_duration_milliseconds_count\{"],
    (SYSTEM, "Error Rate"): [
        r'http_status_code=~"5\.\."',
        r"100 \*",
        r"or vector\(0\)",  # 0 %, not empty, without traffic
    ],
    (SYSTEM, "P95 Latency"): [r"histogram_quantile\(0\.95, sum by \(le\) \(rate\("],
    (SYSTEM, "Request Rate by Service"): [r"sum by \(job\) \(rate\("],
    (SYSTEM, "Response Time Percentiles"): [
        r"histogram_quantile\(0\.50?, sum by \(le\)",
        r"histogram_quantile\(0\.95, sum by \(le\)",
        r"histogram_quantile\(0\.99, sum by \(le\)",
    ],
    (SYSTEM, "Errors by Status Code"): [r"sum by \(http_status_code\)"],
    (SYSTEM, "Active Services"): [r"up\{", r"time\(\) - process_start_time_seconds"],
    (WORKERS, "Registered Workers"): [r"^sum\(ktrdr_workers_registered_total\)$"],
    (WORKERS, "Available Workers"): [r"^sum\(ktrdr_workers_available\)$"],
    (WORKERS, "Backtest Workers"): [r'ktrdr_workers_registered_total\{worker_type="backtesting"\}'],
    (WORKERS, "Training Workers"): [r'ktrdr_workers_registered_total\{worker_type="training"\}'],
    (WORKERS, "Worker Health Matrix"): [
        r"up\{",
        r"process_cpu_seconds_total",
        r"process_resident_memory_bytes",
        r'"port"',
    ],
    (WORKERS, "Worker Availability Timeline"): [r'up\{job=~"\$job", instance=~"\$instance"\}'],
    (OPERATIONS, "Operations/Hour"): [r"sum\(increase\(ktrdr_operations_total\[1h\]\)\)"],
    (OPERATIONS, "Success Rate"): [
        # A window over the counters, never the lifetime totals.
        r'increase\(ktrdr_operations_total\{status="completed"\}\[1h\]\)',
        r"/ sum\(increase\(ktrdr_operations_total\[1h\]\)\)",
    ],
    (OPERATIONS, "Operations by Type"): [r"sum by \(operation_type\) \(increase\("],
    (OPERATIONS, "Operation Duration"): [r"ktrdr_operation_duration_seconds_(sum|bucket)"],
    (OPERATIONS, "Success vs Failure Rate"): [r"sum by \(status\) \(rate\(ktrdr_operations_total"],
    (OPERATIONS, "HTTP Status Distribution"): [r"sum by \(http_status_code\)"],
}


def panel(dashboards: dict[str, dict], uid: str, title: str) -> dict:
    matches = [p for p in dashboards[uid]["panels"] if p.get("title") == title]
    assert len(matches) == 1, f"{uid}: expected one panel titled {title!r}, found {len(matches)}"
    return matches[0]


def expressions(panel_model: dict) -> list[str]:
    return [t["expr"] for t in panel_model.get("targets", [])]


def test_three_dashboards_with_seed_uids(dashboards):
    assert set(dashboards) == {SYSTEM, WORKERS, OPERATIONS}


@pytest.mark.parametrize("uid", [SYSTEM, WORKERS, OPERATIONS])
def test_dashboard_defaults_follow_the_seed(dashboards, uid):
    board = dashboards[uid]
    assert board["refresh"] == "30s"
    assert board["time"] == {"from": "now-1h", "to": "now"}
    assert board["timezone"] == "browser"
    assert board["schemaVersion"] == 42  # Grafana 13's classic model: no migration on load
    assert "ktrdr" in board["tags"]


@pytest.mark.parametrize("uid", [SYSTEM, WORKERS, OPERATIONS])
def test_panels_carry_the_targeted_grafanas_plugin_version(dashboards, uid):
    # Grafana 13 writes its own version on core panels; Grafonnet's "v11.4.0" would make it
    # run every panel migration since 11.4 each time the dashboard loads.
    versions = {p.get("pluginVersion") for p in dashboards[uid]["panels"] if p["type"] != "row"}
    assert versions == {"13.2.3"}


@pytest.mark.parametrize(("uid", "title", "kind", "unit", "steps"), SEED_PANELS)
def test_seed_panel_present_with_type_unit_thresholds(dashboards, uid, title, kind, unit, steps):
    found = panel(dashboards, uid, title)
    assert found["type"] == kind
    defaults = found.get("fieldConfig", {}).get("defaults", {})
    if unit is not None:
        assert defaults.get("unit") == unit
    if steps is not None:
        got = [(s["color"], s["value"]) for s in defaults["thresholds"]["steps"]]
        assert got == steps
    assert found.get("description"), "every panel says what it shows"
    assert found["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
    assert all(t["datasource"]["uid"] == "${datasource}" for t in found["targets"])


@pytest.mark.parametrize(("key", "patterns"), sorted(QUERY_MEANING.items()))
def test_panel_query_means_what_the_title_says(query_modes, key, patterns):
    # The raw expressions say what a panel computes; the default build reads the same
    # expressions recorded (query truth proves both modes show the same values).
    exprs = expressions(panel(query_modes["raw"].models, *key))
    for pattern in patterns:
        assert any(re.search(pattern, e) for e in exprs), f"{key}: no query matches {pattern}"


def test_response_time_percentiles_has_p50_p95_p99(dashboards):
    found = panel(dashboards, SYSTEM, "Response Time Percentiles")
    assert [t["legendFormat"] for t in found["targets"]] == ["P50", "P95", "P99"]


def test_up_down_status_in_health_tables_and_timeline(dashboards):
    """Tables show Up/Down as a coloured `status` column; the timeline maps 0/1 to Down/Up."""
    for uid, title in [(SYSTEM, "Active Services"), (WORKERS, "Worker Health Matrix")]:
        table = panel(dashboards, uid, title)
        status_query = table["targets"][0]["expr"]
        assert '"status", "Up"' in status_query and '"status", "Down"' in status_query
        organize = table["transformations"][-1]["options"]
        assert organize["renameByName"]["status"] == "Status"
        (text,) = table["fieldConfig"]["defaults"]["mappings"]
        assert text["options"]["Up"]["color"] == "green"
        assert text["options"]["Down"]["color"] == "red"
    timeline = panel(dashboards, WORKERS, "Worker Availability Timeline")
    (numeric,) = timeline["fieldConfig"]["defaults"]["mappings"]
    assert numeric["options"]["0"]["text"] == "Down" and numeric["options"]["1"]["text"] == "Up"


def test_no_query_hard_codes_a_job_name(dashboards):
    """Job names differ between KTRDR environments; only the $job variable selects jobs."""
    for uid, board in dashboards.items():
        for p in board["panels"]:
            for expr in expressions(p):
                for matcher in re.findall(r'\bjob\s*(?:=~|!~|!=|=)\s*"([^"]*)"', expr):
                    assert matcher == "$job", f"{uid} {p['title']}: {expr}"


def test_rate_windows_are_rate_interval_or_declared(dashboards, built):
    config = built.config
    allowed = {"$__rate_interval", *config["windows"].values()}
    for board in dashboards.values():
        for p in board["panels"]:
            for expr in expressions(p):
                # A range selector closes a function call: `...[window])`.
                for window in re.findall(r"\[([^\[\]]+)\]\s*\)", expr):
                    assert window in allowed, f"{p['title']}: window {window} in {expr}"


def test_variables_datasource_job_and_worker_instance(dashboards):
    for uid in dashboards:
        variables = {v["name"]: v for v in dashboards[uid]["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource"
        assert variables["datasource"]["query"] == "prometheus"
        job = variables["job"]
        assert job["multi"] and job["includeAll"] and job["refresh"] == 2
        assert "job" in job["query"] and "$job" not in job["query"]
    instance = {v["name"]: v for v in dashboards[WORKERS]["templating"]["list"]}["instance"]
    assert instance["multi"] and instance["includeAll"]
    assert "500[3-8]" in instance["query"]


def test_dashboards_link_to_each_other_keeping_time_and_variables(dashboards):
    for board in dashboards.values():
        bar = [link for link in board["links"] if link["type"] == "dashboards"]
        assert bar and bar[0]["tags"] == ["ktrdr"]
        assert bar[0]["keepTime"] and bar[0]["includeVars"]


def data_link_urls(board: dict) -> list[tuple[str, str]]:
    return [
        (p["title"], link["url"])
        for p in board["panels"]
        for link in p.get("fieldConfig", {}).get("defaults", {}).get("links", [])
    ]


def test_drill_downs_from_worker_and_request_panels(dashboards):
    system = dict(data_link_urls(dashboards[SYSTEM]))
    assert system["Healthy Services"].startswith(f"/d/{WORKERS}?")
    assert system["Active Services"].startswith(f"/d/{WORKERS}?")
    assert system["Requests/sec"].startswith(f"/d/{OPERATIONS}?")
    assert system["Request Rate by Service"].startswith(f"/d/{OPERATIONS}?")
    workers = dict(data_link_urls(dashboards[WORKERS]))
    assert workers["Worker Health Matrix"].startswith(f"/d/{OPERATIONS}?")
    for _, url in data_link_urls(dashboards[SYSTEM]) + data_link_urls(dashboards[WORKERS]):
        assert "${__url_time_range}" in url and "${job:queryparam}" in url


def test_operations_links_to_jaeger_traces_in_explore(dashboards):
    board = dashboards[OPERATIONS]
    jaeger = [link for link in board["links"] if link["type"] == "link"]
    assert jaeger and jaeger[0]["url"].startswith("/explore?")
    assert '"uid":"jaeger"' in jaeger[0]["url"]
    assert '"service":"ktrdr-api"' in jaeger[0]["url"]
    links = dict(data_link_urls(board))
    assert links["Success Rate"].startswith("/explore?")


def test_panel_ids_unique_and_targets_have_ref_ids(dashboards):
    for board in dashboards.values():
        ids = [p["id"] for p in board["panels"]]
        assert ids == list(range(1, len(ids) + 1))
        for p in board["panels"]:
            refs = [t["refId"] for t in p.get("targets", [])]
            assert refs == [chr(ord("A") + i) for i in range(len(refs))]


def markdown_section(text: str, heading: str) -> str:
    start = text.index(heading)
    following = re.search(r"^## ", text[start + len(heading) :], re.MULTILINE)
    return text[start : start + len(heading) + following.start()] if following else text[start:]


ALERTS_WORKFLOW = '## "Is the system healthy?" (with alerts)'


def test_alert_workflow_steps_name_existing_panels(dashboards, repo_root):
    section = markdown_section((repo_root / "docs" / "alerts.md").read_text(), ALERTS_WORKFLOW)
    named = set(re.findall(r"(?<!\*)\*([A-Z][^*]+)\*(?!\*)", section))
    titles = {p["title"] for board in dashboards.values() for p in board["panels"]}
    links = {link["title"] for board in dashboards.values() for link in board["links"]}
    assert named, "workflows name their panels in *italics*"
    assert named <= titles | links, f"steps naming no panel: {sorted(named - titles - links)}"


@pytest.mark.integration  # runs the jsonnet CLI
@pytest.mark.parametrize("name", ["system-overview", "worker-status", "operations"])
def test_each_source_evaluates_standalone_with_the_jsonnet_cli(built, repo_root, name):
    """`jsonnet -J lib jsonnet/NAME.jsonnet` gives the same dashboard as the build."""
    jsonnet = tools.require("jsonnet")
    result = subprocess.run(
        [jsonnet, "-J", "lib", f"jsonnet/{name}.jsonnet"],
        cwd=repo_root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    model = next(d.model for d in built.dashboards if d.name == name)
    assert json.loads(result.stdout) == model


def test_jsonnet_cli_is_required_not_skipped(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(
        tools.ToolMissingError, match="apt-get install -y --no-install-recommends jsonnet"
    ):
        tools.require("jsonnet")
    assert shutil.which("jsonnet") is None


def test_workflow_alerts_exist(built, repo_root):
    section = markdown_section((repo_root / "docs" / "alerts.md").read_text(), ALERTS_WORKFLOW)
    named = set(re.findall(r"`(Ktrdr\w+)`", section))
    rules = "".join(v for k, v in built.files.items() if k.startswith("prometheus/rules/"))
    defined = set(re.findall(r"alert: (Ktrdr\w+)", rules))
    assert {"KtrdrServicesDown", "KtrdrHighErrorRate", "KtrdrHighP95Latency"} <= named
    assert named <= defined, sorted(named - defined)
