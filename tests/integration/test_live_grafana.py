"""`apply`, `pull` and `diff --live` against a live Grafana: a local server speaking Grafana's
documented HTTP API (tests/fake_grafana.py), as Grafana 11 and as Grafana 12, with faults."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from fake_grafana import PASSWORD, TOKEN, USER, VIEWER_TOKEN, FakeGrafana, Fault

from ktrdr_dashboards import build, cli
from ktrdr_dashboards.deploy import apply as apply_module
from ktrdr_dashboards.deploy import grafana as grafana_module
from ktrdr_dashboards.errors import DashboardError

UIDS = ["ktrdr-operations", "ktrdr-system-overview", "ktrdr-worker-status"]
SECRETS = (TOKEN, PASSWORD, VIEWER_TOKEN)


@pytest.fixture(params=[11, 12], ids=["grafana11", "grafana12"])
def grafana(request, monkeypatch):
    server = FakeGrafana(request.param).start()
    for name in ("GRAFANA_USER", "GRAFANA_PASSWORD", "GRAFANA_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GRAFANA_URL", server.url)
    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)
    # Retries keep their number; only the pauses between them are cut short.
    monkeypatch.setattr(grafana_module, "BACKOFF_SECONDS", 0.01)
    yield server
    server.stop()


@pytest.fixture
def build_dir(tmp_path: Path, built: build.BuildOutput) -> Path:
    out = tmp_path / "build"
    build.write_tree(out, built.files)
    return out


class Run:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err
        self.lines = out.splitlines()


@pytest.fixture
def run(capsys):
    def invoke(*args: str) -> Run:
        code = cli.main(list(args))
        captured = capsys.readouterr()
        for secret in SECRETS:
            assert secret not in captured.out + captured.err
        return Run(code, captured.out, captured.err)

    return invoke


def posts(server: FakeGrafana) -> list[str]:
    return [path for method, path in server.requests if method == "POST"]


def retitle(title: str, new: str):
    def change(model: dict) -> None:
        next(p for p in model["panels"] if p.get("title") == title)["title"] = new

    return change


# ---------------------------------------------------------------- apply


def test_apply_creates_folder_and_dashboards_then_is_idempotent(grafana, build_dir, run):
    first = run("apply", "--build", str(build_dir))
    assert first.code == 0, first.err
    assert "folder KTRDR (uid ktrdr): created" in first.lines
    for uid in UIDS:
        assert any(line.startswith(f"{uid} (") and line.endswith("created, version 1")
                   for line in first.lines)  # fmt: skip
    assert first.lines[-1] == "3 dashboards: 3 created"
    assert grafana.folders["ktrdr"]["title"] == "KTRDR"
    assert {s.folder_uid for s in grafana.dashboards.values()} == {"ktrdr"}

    again = run("apply", "--build", str(build_dir))
    assert again.code == 0
    assert again.lines[-1] == "3 dashboards: 3 unchanged"
    assert len(posts(grafana)) == 4  # the folder and three dashboards, once


def test_each_push_records_its_content_hash_in_grafana(grafana, build_dir, run):
    assert run("apply", "--build", str(build_dir)).code == 0
    model = json.loads((build_dir / "dashboards" / "operations.json").read_text())
    newest = grafana.dashboards["ktrdr-operations"].versions[-1]
    assert newest["message"] == apply_module.MARKER + apply_module.content_hash(model)


def test_apply_refuses_a_dashboard_changed_in_grafana_and_shows_the_diff(grafana, build_dir, run):
    run("apply", "--build", str(build_dir))
    grafana.ui_save("ktrdr-operations", retitle("Success Rate", "Success %"), "try a title")
    changed = grafana.live("ktrdr-operations")

    refused = run("apply", "--build", str(build_dir))
    assert refused.code == 1
    assert refused.lines[1].startswith(
        "ktrdr-operations (KTRDR Operations): refused — changed in Grafana since apply pushed "
        'it (version 2, by admin, "try a title")'
    )
    assert '  panels["Success Rate"].title: "Success Rate" → "Success %"' in refused.lines
    assert refused.lines[-1] == "3 dashboards: 1 refused, 2 unchanged"
    assert "refused: ktrdr-operations" in refused.err
    assert grafana.live("ktrdr-operations") == changed

    forced = run("apply", "--build", str(build_dir), "--force")
    assert forced.code == 0
    assert any("updated (forced over changes made in Grafana), version 3" in line
               for line in forced.lines)  # fmt: skip
    titles = [p["title"] for p in grafana.live("ktrdr-operations")["panels"]]
    assert "Success Rate" in titles and "Success %" not in titles
    assert run("apply", "--build", str(build_dir)).lines[-1] == "3 dashboards: 3 unchanged"


def test_a_changed_build_updates_what_apply_pushed(grafana, build_dir, run):
    run("apply", "--build", str(build_dir))
    path = build_dir / "dashboards" / "worker-status.json"
    model = json.loads(path.read_text())
    model["refresh"] = "1m"
    path.write_text(json.dumps(model))
    result = run("apply", "--build", str(build_dir))
    assert result.code == 0
    assert "ktrdr-worker-status (KTRDR Worker Status): updated, version 2" in result.lines
    assert grafana.live("ktrdr-worker-status")["refresh"] == "1m"


def test_dry_run_prints_what_would_change_and_changes_nothing(grafana, build_dir, run):
    result = run("apply", "--build", str(build_dir), "--dry-run")
    assert result.code == 0
    assert "folder KTRDR (uid ktrdr): would be created" in result.lines
    assert result.lines[-1] == "dry run, nothing changed: 3 dashboards: 3 would be created"
    assert posts(grafana) == [] and grafana.dashboards == {} and grafana.folders == {}

    run("apply", "--build", str(build_dir))
    grafana.ui_save("ktrdr-operations", retitle("Success Rate", "Success %"))
    before = grafana.live("ktrdr-operations")
    forced = run("apply", "--build", str(build_dir), "--dry-run", "--force")
    assert "  --- grafana ktrdr-operations version 2" in forced.lines
    assert '  panels["Success %"].title: "Success %" → "Success Rate"' in forced.lines
    assert grafana.live("ktrdr-operations") == before


def test_a_save_between_read_and_push_is_refused_not_overwritten(grafana, build_dir, run):
    run("apply", "--build", str(build_dir))
    path = build_dir / "dashboards" / "operations.json"
    model = json.loads(path.read_text())
    model["refresh"] = "1m"
    path.write_text(json.dumps(model))
    grafana.faults.append(
        Fault("GET", "/api/dashboards/uid/ktrdr-operations", "ui-save-after-read")
    )
    result = run("apply", "--build", str(build_dir))
    assert result.code == 1
    assert any(
        line.startswith("ktrdr-operations (KTRDR Operations): refused — changed in Grafana "
                        "while apply ran (HTTP 412: The dashboard has been changed by someone")
        for line in result.lines
    )  # fmt: skip
    assert grafana.live("ktrdr-operations")["description"] == "edited in the UI meanwhile"


def test_a_failure_part_way_says_what_was_applied_and_a_rerun_finishes(grafana, build_dir, run):
    run("apply", "--build", str(build_dir))
    for uid in UIDS:  # a changed build, so every dashboard needs a save
        path = build_dir / "dashboards" / f"{uid.removeprefix('ktrdr-')}.json"
        model = json.loads(path.read_text())
        model["refresh"] = "1m"
        path.write_text(json.dumps(model))
    # The first save goes through, then Grafana fails every save.
    grafana.faults.append(Fault("POST", "/api/dashboards/db", "500", times=99, skip=1))
    failed = run("apply", "--build", str(build_dir))
    assert failed.code == 1
    assert failed.err.count("\n") == 1
    assert failed.err.startswith(
        f"error: Grafana at {grafana.url} is unreachable: POST /api/dashboards/db: "
        "HTTP 500: Internal Server Error (4 attempts)"
    )
    assert failed.err.endswith(
        "stopped at ktrdr-system-overview; applied: ktrdr-operations; not applied: "
        "ktrdr-system-overview, ktrdr-worker-status — run apply again to finish: what is "
        "applied already is left as it is\n"
    )
    assert "ktrdr-operations (KTRDR Operations): updated, version 2" in failed.lines
    assert grafana.live("ktrdr-system-overview")["refresh"] == "30s"

    grafana.faults.clear()
    grafana.faults.append(Fault("POST", "/api/dashboards/db", "500", times=1))  # retried
    finished = run("apply", "--build", str(build_dir))
    assert finished.code == 0, finished.err
    assert finished.lines[-1] == "3 dashboards: 1 unchanged, 2 updated"
    assert {grafana.live(uid)["refresh"] for uid in UIDS} == {"1m"}


def test_a_500_is_retried_and_then_succeeds(grafana, build_dir, run):
    grafana.faults.append(Fault("GET", "/api/folders/ktrdr", "500", times=2))
    result = run("apply", "--build", str(build_dir))
    assert result.code == 0, result.err
    assert grafana.requests.count(("GET", "/api/folders/ktrdr")) == 3


# ---------------------------------------------------------------- diff --live


def test_diff_live_exits_1_with_the_panel_diff_when_grafana_differs(grafana, build_dir, run):
    missing = run("diff", "--live", "--build", str(build_dir))
    assert missing.code == 1
    assert "ktrdr-operations: not in Grafana (apply creates it)" in missing.lines

    run("apply", "--build", str(build_dir))
    same = run("diff", "--live", "--build", str(build_dir))
    assert same.code == 0
    assert same.lines[-1] == "3 dashboards: 0 differ from Grafana"

    grafana.ui_save("ktrdr-worker-status", retitle("Healthy Workers", "Workers Up"))
    drift = run("diff", "--live", "worker-status", "--build", str(build_dir))
    assert drift.code == 1
    assert drift.lines[1:] == [
        f"--- {build_dir}/dashboards/worker-status.json",
        "+++ grafana ktrdr-worker-status version 2",
        'panels["Healthy Workers"].title: "Healthy Workers" → "Workers Up"',
        "1 difference",
        "1 dashboards: 1 differ from Grafana",
    ]


# ---------------------------------------------------------------- pull


def test_pull_writes_exports_of_what_grafana_serves(grafana, build_dir, tmp_path, run):
    run("apply", "--build", str(build_dir))
    grafana.ui_save("ktrdr-operations", retitle("Success Rate", "Success %"))
    out = tmp_path / "pulled"
    one = run("pull", "ktrdr-operations", "--out", str(out))
    assert one.code == 0
    assert one.lines[-1] == f"pulled {out}/ktrdr-operations.json"
    assert json.loads((out / "ktrdr-operations.json").read_text()) == grafana.live(
        "ktrdr-operations"
    )
    every = run("pull", "--all", "--out", str(out))
    assert sorted(p.name for p in out.iterdir()) == [f"{uid}.json" for uid in UIDS]
    assert every.code == 0


def test_pull_of_an_unknown_or_malformed_uid_writes_nothing(grafana, build_dir, tmp_path, run):
    run("apply", "--build", str(build_dir))
    out = tmp_path / "pulled"
    unknown = run("pull", "ktrdr-operations", "no-such-board", "--out", str(out))
    assert unknown.code == 1
    assert "has no dashboard with uid no-such-board" in unknown.err
    assert not out.exists()
    malformed = run("pull", "../../etc", "--out", str(out))
    assert malformed.code == 1
    assert "`../../etc` is not a Grafana dashboard uid" in malformed.err


def test_an_oversized_answer_is_refused_unread(grafana, build_dir, tmp_path, run, monkeypatch):
    run("apply", "--build", str(build_dir))
    monkeypatch.setattr(grafana_module, "MAX_ANSWER_BYTES", 4096)
    result = run("pull", "ktrdr-operations", "--out", str(tmp_path / "pulled"))
    assert result.code == 1
    assert "answered GET /api/dashboards/uid/ktrdr-operations with" in result.err
    assert "bytes" in result.err
    assert not (tmp_path / "pulled").exists()


def test_customization_loop_ui_change_pull_import_build_apply(
    grafana, build_dir, project_copy, tmp_path, run
):
    """Change in the UI → pull --import → build → apply: the change is in the sources, and
    apply has nothing to overwrite; the next change of the sources is pushed, not refused."""
    run("apply", "--build", str(build_dir))
    grafana.ui_save("ktrdr-worker-status", retitle("Healthy Workers", "Workers Up"), "ui edit")
    root = ["--root", str(project_copy)]
    refused = run("pull", "ktrdr-worker-status", "--import", *root, "--out", str(tmp_path / "p"))
    assert refused.code == 1
    assert "worker-status.jsonnet: already exists — pass another NAME, or --force" in refused.err

    pulled = run(
        "pull", "ktrdr-worker-status", "--import", "--force", *root, "--out", str(tmp_path / "p")
    )
    assert pulled.code == 0, pulled.err
    source = project_copy / "jsonnet" / "worker-status.jsonnet"
    assert pulled.lines[-1] == f"imported {tmp_path}/p/ktrdr-worker-status.json → {source}"
    assert "Workers Up" in source.read_text()

    assert run("build", *root, "--out", str(build_dir)).code == 0
    assert run("diff", "--live", "--build", str(build_dir)).code == 0
    adopted = run("apply", "--build", str(build_dir))
    assert adopted.code == 0
    assert (
        "ktrdr-worker-status (KTRDR Worker Status): unchanged (recorded as applied), version 3"
        in adopted.lines
    )

    path = build_dir / "dashboards" / "worker-status.json"
    model = json.loads(path.read_text())
    model["refresh"] = "1m"
    path.write_text(json.dumps(model))
    pushed = run("apply", "--build", str(build_dir))
    assert "ktrdr-worker-status (KTRDR Worker Status): updated, version 4" in pushed.lines


# ---------------------------------------------------------------- bad input


def test_basic_auth_works_and_a_refused_password_is_named(grafana, build_dir, run, monkeypatch):
    monkeypatch.delenv("GRAFANA_TOKEN")
    monkeypatch.setenv("GRAFANA_USER", USER)
    monkeypatch.setenv("GRAFANA_PASSWORD", PASSWORD)
    assert run("apply", "--build", str(build_dir)).code == 0
    monkeypatch.setenv("GRAFANA_PASSWORD", "wrong")
    refused = run("apply", "--build", str(build_dir))
    assert refused.code == 1
    assert refused.err == (
        f"error: Grafana at {grafana.url} refused GRAFANA_USER/GRAFANA_PASSWORD (HTTP 401: "
        "Invalid API key); no dashboard was changed — check GRAFANA_USER and GRAFANA_PASSWORD\n"
    )


def test_a_refused_token_is_one_line(grafana, build_dir, run, monkeypatch):
    monkeypatch.setenv("GRAFANA_TOKEN", "glsa_wrong")
    result = run("diff", "--live", "--build", str(build_dir))
    assert result.code == 1
    assert result.err == (
        f"error: Grafana at {grafana.url} refused GRAFANA_TOKEN (HTTP 401: Invalid API key) — "
        "set GRAFANA_TOKEN to a valid service account token\n"
    )


def test_a_token_without_write_access_is_named(grafana, build_dir, run, monkeypatch):
    monkeypatch.setenv("GRAFANA_TOKEN", VIEWER_TOKEN)
    result = run("apply", "--build", str(build_dir))
    assert result.code == 1
    assert result.err.startswith(
        "error: GRAFANA_TOKEN is not allowed to create folder KTRDR (HTTP 403: You'll need "
        "additional permissions"
    )
    assert "; no dashboard was changed — give its user or service account the Editor" in result.err


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"GRAFANA_URL": ""}, "GRAFANA_URL is not set"),
        ({"GRAFANA_URL": "grafana:3000"}, "GRAFANA_URL is not an http(s) URL"),
        ({"GRAFANA_URL": "http://admin:pw@grafana:3000"}, "GRAFANA_URL carries a user name"),
        ({"GRAFANA_TOKEN": ""}, "no Grafana credential in the environment"),
        ({"GRAFANA_TOKEN": "", "GRAFANA_USER": "admin"}, "GRAFANA_PASSWORD is not set"),
        ({"GRAFANA_TIMEOUT": "soon"}, "GRAFANA_TIMEOUT is not a number of seconds"),
    ],
)
def test_a_missing_or_malformed_setting_is_named(
    grafana, build_dir, run, monkeypatch, env, message
):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    result = run("apply", "--build", str(build_dir))
    assert result.code == 1
    assert result.err.startswith(f"error: {message}")
    assert result.out == "" and grafana.requests == []


def test_settings_never_show_the_credential():
    settings = grafana_module.settings_from_env(
        {"GRAFANA_URL": "http://g:3000/", "GRAFANA_TOKEN": TOKEN}
    )
    assert TOKEN not in repr(settings) and settings.url == "http://g:3000"
    with pytest.raises(DashboardError, match="no Grafana credential in the environment"):
        grafana_module.settings_from_env({"GRAFANA_URL": "http://g:3000"})


def test_an_unreachable_grafana_is_one_line(grafana, build_dir, run, monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("GRAFANA_URL", f"http://127.0.0.1:{port}")
    result = run("apply", "--build", str(build_dir))
    assert result.code == 1
    assert result.err == (
        f"error: Grafana at http://127.0.0.1:{port} is unreachable: GET /api/health: connection "
        "refused (4 attempts) — check GRAFANA_URL and that Grafana runs, or raise GRAFANA_TIMEOUT\n"
    )


def test_a_slow_grafana_times_out(grafana, build_dir, run, monkeypatch):
    monkeypatch.setenv("GRAFANA_TIMEOUT", "0.2")
    grafana.faults.append(Fault("GET", "/api/health", "slow", times=4, seconds=1.0))
    result = run("diff", "--live", "--build", str(build_dir))
    assert result.code == 1
    assert result.err.startswith(
        f"error: Grafana at {grafana.url} is unreachable: GET /api/health: no answer within "
        "0.2 s (4 attempts)"
    )


def test_a_server_that_is_not_grafana_is_one_line(grafana, build_dir, run):
    grafana.not_grafana = True
    result = run("apply", "--build", str(build_dir))
    assert result.code == 1
    assert result.err == (
        f"error: GRAFANA_URL ({grafana.url}) answers but is not Grafana: GET /api/health gave "
        "HTTP 404 — set GRAFANA_URL to Grafana's root URL (its login page's address without "
        "/login)\n"
    )


def test_a_web_page_instead_of_json_is_refused(grafana, build_dir, run):
    run("apply", "--build", str(build_dir))
    grafana.faults.append(Fault("GET", "/api/dashboards/uid/", "html"))
    result = run("diff", "--live", "--build", str(build_dir))
    assert result.code == 1
    assert result.err.startswith(
        f"error: GRAFANA_URL ({grafana.url}) answers but is not Grafana: GET "
        "/api/dashboards/uid/ktrdr-operations gave HTTP 200 text/html"
    )


def test_a_provisioned_dashboard_is_refused_not_overwritten(grafana, build_dir, run):
    run("apply", "--build", str(build_dir))
    grafana.dashboards["ktrdr-operations"].provisioned = True
    path = build_dir / "dashboards" / "operations.json"
    model = json.loads(path.read_text())
    model["refresh"] = "1m"
    path.write_text(json.dumps(model))
    result = run("apply", "--build", str(build_dir))
    assert result.code == 1
    assert any(
        line.startswith("ktrdr-operations (KTRDR Operations): refused — Grafana provisions it")
        for line in result.lines
    )


def test_pull_import_reports_what_the_gate_finds_in_the_imported_source(
    grafana, build_dir, project_copy, tmp_path, run
):
    run("apply", "--build", str(build_dir))

    def undescribe(model: dict) -> None:
        del next(p for p in model["panels"] if p.get("title") == "Healthy Workers")["description"]

    grafana.ui_save("ktrdr-worker-status", undescribe)
    result = run(
        "pull", "ktrdr-worker-status", "--import", "--force", "--root", str(project_copy),
        "--out", str(tmp_path / "p"),
    )  # fmt: skip
    assert result.code == 1
    assert result.err.splitlines() == [
        'jsonnet/worker-status.jsonnet: dashboard ktrdr-worker-status, panel "Healthy Workers" '
        "(id 6): identity/description: panel has no description — say what the panel shows and "
        "how to read it (panelOptions.withDescription)",
        "1 findings: complete the imported sources, then build",
    ]
