"""`apply`, `pull` and `diff --live` against a live Grafana: a local server speaking Grafana's
documented HTTP APIs (tests/fake_grafana.py) as Grafana 11 (legacy /api), 12 (/apis v1beta1
and v2beta1) and 13 (/apis v1 and v2, UI saves stored as schema v2), with faults."""

from __future__ import annotations

import copy
import json
import socket
from pathlib import Path

import pytest
from fake_grafana import PASSWORD, TOKEN, USER, VIEWER_TOKEN, FakeGrafana, Fault

from ktrdr_dashboards import build, cli
from ktrdr_dashboards.deploy import apis
from ktrdr_dashboards.deploy import grafana as grafana_module
from ktrdr_dashboards.deploy import live as live_module
from ktrdr_dashboards.errors import DashboardError

UIDS = ["ktrdr-operations", "ktrdr-system-overview", "ktrdr-worker-status"]
SECRETS = (TOKEN, PASSWORD, VIEWER_TOKEN)
FIRST_LINES = {
    11: "Grafana 11.6.0 at {url}: dashboards and folders via the legacy /api",
    12: "Grafana 12.2.0 at {url}: dashboards via dashboard.grafana.app/v1beta1+v2beta1, "
    "folders via folder.grafana.app/v1beta1",
    13: "Grafana 13.3.0 at {url}: dashboards via dashboard.grafana.app/v1+v2, "
    "folders via folder.grafana.app/v1",
}


@pytest.fixture
def serve(monkeypatch):
    """Start a fake Grafana of a major version and point the environment at it."""
    servers: list[FakeGrafana] = []
    for name in ("GRAFANA_USER", "GRAFANA_PASSWORD", "GRAFANA_TIMEOUT", "GRAFANA_NAMESPACE"):
        monkeypatch.delenv(name, raising=False)
    # Retries keep their number; only the pauses between them are cut short.
    monkeypatch.setattr(grafana_module, "BACKOFF_SECONDS", 0.01)

    def start(major: int, namespace: str = "default") -> FakeGrafana:
        server = FakeGrafana(major, namespace).start()
        servers.append(server)
        monkeypatch.setenv("GRAFANA_URL", server.url)
        monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(params=[11, 12, 13], ids=["grafana11", "grafana12", "grafana13"])
def grafana(request, serve):
    return serve(request.param)


@pytest.fixture(params=[12, 13], ids=["grafana12", "grafana13"])
def grafana_apis(request, serve):
    return serve(request.param)


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


def writes(server: FakeGrafana) -> list[str]:
    """Paths written (not dry runs)."""
    return [
        path
        for method, path in server.requests
        if method in ("POST", "PUT") and not path.endswith("?dryRun=All")
    ]


def read_path(server: FakeGrafana, uid: str) -> str:
    """Where a client reads a dashboard first on this Grafana."""
    if server.major == 11:
        return f"/api/dashboards/uid/{uid}"
    version = "v1" if server.major == 13 else "v1beta1"
    return f"/apis/dashboard.grafana.app/{version}/namespaces/default/dashboards/{uid}"


def save_path(server: FakeGrafana) -> str:
    if server.major == 11:
        return "/api/dashboards/db"
    version = "v1" if server.major == 13 else "v1beta1"
    return f"/apis/dashboard.grafana.app/{version}/namespaces/default/dashboards/"


def retitle(title: str, new: str):
    """A classic model change: a panel retitled."""

    def change(model: dict) -> None:
        next(p for p in model["panels"] if p.get("title") == title)["title"] = new

    return change


def retitle_v2(title: str, new: str):
    """The same change made to a v2 spec, as the UI of a Grafana with dynamic dashboards
    saves it: the element's title."""

    def change(spec: dict) -> None:
        element = next(e for e in spec["elements"].values() if e["spec"]["title"] == title)
        element["spec"]["title"] = new

    return change


def add_tab_v2(title: str):
    """The UI turns the layout into tabs: what there was in a first tab, a new empty one."""

    def change(spec: dict) -> None:
        spec["layout"] = {
            "kind": "TabsLayout",
            "spec": {
                "tabs": [
                    {
                        "kind": "TabsLayoutTab",
                        "spec": {"title": "Overview", "layout": spec["layout"]},
                    },
                    {
                        "kind": "TabsLayoutTab",
                        "spec": {
                            "title": title,
                            "layout": {"kind": "GridLayout", "spec": {"items": []}},
                        },
                    },
                ]
            },
        }

    return change


def add_row(title: str):
    """The UI of a classic dashboard adds an empty row at the bottom."""

    def change(model: dict) -> None:
        bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in model["panels"])
        model["panels"].append(
            {"type": "row", "title": title, "collapsed": False, "id": 99, "panels": [],
             "gridPos": {"h": 1, "w": 24, "x": 0, "y": bottom}}
        )  # fmt: skip

    return change


def ui_retitle(server: FakeGrafana, uid: str, title: str, new: str, message: str = "") -> None:
    """A panel retitled in the UI: saved as v2 on Grafana 13 (dynamic dashboards), as v1
    before."""
    if server.dynamic_dashboards:
        server.ui_save_v2(uid, retitle_v2(title, new), message)
    else:
        server.ui_save(uid, retitle(title, new), message)


def change_build(build_dir: Path, name: str, **fields: object) -> None:
    path = build_dir / "dashboards" / f"{name}.json"
    model = json.loads(path.read_text())
    model.update(fields)
    path.write_text(json.dumps(model))


# ---------------------------------------------------------------- discovery


def test_the_first_line_says_what_the_server_speaks(grafana, build_dir, run):
    result = run("diff", "--live", "--build", str(build_dir))
    assert result.lines[0] == FIRST_LINES[grafana.major].format(url=grafana.url)
    apis_used = [path for _, path in grafana.requests if path.startswith("/apis")]
    if grafana.major == 11:  # only alpha versions: the legacy API after one look
        assert apis_used == ["/apis"]
    else:  # after discovery, dashboards only through /apis
        assert len(apis_used) > 1
        assert not [p for _, p in grafana.requests if p.startswith("/api/dashboards")]


def test_a_grafana_that_serves_its_web_app_at_apis_is_spoken_to_over_the_legacy_api(
    serve, build_dir, run
):
    server = serve(13)
    server.faults.append(Fault("GET", "/apis", "html"))  # only the discovery request
    result = run("apply", "--build", str(build_dir))
    assert result.code == 0, result.err
    assert result.lines[0].endswith("dashboards and folders via the legacy /api")
    assert writes(server)[-1] == "/api/dashboards/db"


def test_the_namespace_comes_from_grafanas_settings(serve, build_dir, run):
    server = serve(13, namespace="org-2")
    result = run("apply", "--build", str(build_dir))
    assert result.code == 0, result.err
    assert result.lines[0].endswith(", namespace org-2")
    assert "/apis/dashboard.grafana.app/v1/namespaces/org-2/dashboards" in writes(server)


def test_grafana_namespace_overrides_and_an_unknown_namespace_is_one_line(
    serve, build_dir, run, monkeypatch
):
    server = serve(13)
    monkeypatch.setenv("GRAFANA_NAMESPACE", "org-7")
    result = run("apply", "--build", str(build_dir))
    assert result.code == 1
    assert result.err == (
        f"error: Grafana at {server.url} has no namespace org-7 for folder.grafana.app/v1 (GET "
        "/apis/folder.grafana.app/v1/namespaces/org-7/folders/ktrdr: HTTP 404 NotFound: "
        'namespaces "org-7" not found); no dashboard was changed — set GRAFANA_NAMESPACE to '
        "your organisation's namespace (default for org 1, org-<id>, stacks-<id> on Grafana "
        "Cloud), or unset it\n"
    )
    monkeypatch.setenv("GRAFANA_NAMESPACE", "Org 7")
    malformed = run("apply", "--build", str(build_dir))
    assert malformed.err.startswith("error: GRAFANA_NAMESPACE 'Org 7' is not a namespace")


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
    assert {s.family for s in grafana.dashboards.values()} == {"v1"}

    again = run("apply", "--build", str(build_dir))
    assert again.code == 0
    assert again.lines[-1] == "3 dashboards: 3 unchanged"
    assert len(writes(grafana)) == 4  # the folder and three dashboards, once


def test_each_push_records_its_content_hash_in_grafana(grafana, build_dir, run):
    assert run("apply", "--build", str(build_dir)).code == 0
    model = json.loads((build_dir / "dashboards" / "operations.json").read_text())
    stored = grafana.dashboards["ktrdr-operations"]
    if grafana.major == 11:
        recorded = live_module.content_hash(model)
        assert stored.versions[-1]["message"] == live_module.MARKER + recorded
    else:
        recorded = live_module.resource_hash(model)
        assert stored.annotations[live_module.HASH_ANNOTATION] == recorded
        assert stored.annotations["grafana.app/message"] == live_module.MARKER + recorded


def test_apply_refuses_a_dashboard_changed_in_grafana_and_shows_the_diff(grafana, build_dir, run):
    run("apply", "--build", str(build_dir))
    ui_retitle(grafana, "ktrdr-operations", "Success Rate", "Success %", "try a title")
    changed = grafana.live("ktrdr-operations")

    refused = run("apply", "--build", str(build_dir))
    assert refused.code == 1
    by = "admin" if grafana.major == 11 else "user:admin"
    assert refused.lines[1].startswith(
        "ktrdr-operations (KTRDR Operations): refused — changed in Grafana since apply pushed "
        f'it (version 2, by {by}, "try a title")'
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
    change_build(build_dir, "worker-status", refresh="1m")
    result = run("apply", "--build", str(build_dir))
    assert result.code == 0
    assert "ktrdr-worker-status (KTRDR Worker Status): updated, version 2" in result.lines
    assert grafana.live("ktrdr-worker-status")["refresh"] == "1m"


def test_dry_run_prints_what_would_change_and_changes_nothing(grafana, build_dir, run):
    result = run("apply", "--build", str(build_dir), "--dry-run")
    assert result.code == 0
    assert "folder KTRDR (uid ktrdr): would be created" in result.lines
    assert result.lines[-1] == "dry run, nothing changed: 3 dashboards: 3 would be created"
    assert writes(grafana) == [] and grafana.dashboards == {} and grafana.folders == {}

    run("apply", "--build", str(build_dir))
    ui_retitle(grafana, "ktrdr-operations", "Success Rate", "Success %")
    before = copy.deepcopy(grafana.dashboards["ktrdr-operations"])
    count = len(writes(grafana))
    forced = run("apply", "--build", str(build_dir), "--dry-run", "--force")
    label = "version 2 (schema v2)" if grafana.major == 13 else "version 2"
    assert f"  --- grafana ktrdr-operations {label}" in forced.lines
    assert '  panels["Success %"].title: "Success %" → "Success Rate"' in forced.lines
    assert grafana.dashboards["ktrdr-operations"] == before
    assert len(writes(grafana)) == count
    if grafana.major > 11:  # Grafana itself checked the write it would make
        assert any(p.endswith("ktrdr-operations?dryRun=All") for _, p in grafana.requests)


def test_a_save_between_read_and_push_is_refused_not_overwritten(grafana, build_dir, run):
    run("apply", "--build", str(build_dir))
    change_build(build_dir, "operations", refresh="1m")
    grafana.faults.append(
        Fault("GET", read_path(grafana, "ktrdr-operations"), "ui-save-after-read")
    )
    result = run("apply", "--build", str(build_dir))
    assert result.code == 1
    conflict = (
        "HTTP 412: The dashboard has been changed by someone"
        if grafana.major == 11
        else "HTTP 409: Operation cannot be fulfilled on dashboards.dashboard.grafana.app "
        '"ktrdr-operations": the object has been modified'
    )
    assert any(
        line.startswith("ktrdr-operations (KTRDR Operations): refused — changed in Grafana "
                        f"while apply ran ({conflict}")
        for line in result.lines
    )  # fmt: skip
    assert grafana.live("ktrdr-operations")["description"] == "edited in the UI meanwhile"


def test_a_failure_part_way_says_what_was_applied_and_a_rerun_finishes(grafana, build_dir, run):
    run("apply", "--build", str(build_dir))
    for uid in UIDS:  # a changed build, so every dashboard needs a save
        change_build(build_dir, uid.removeprefix("ktrdr-"), refresh="1m")
    # The first save goes through, then Grafana fails every save.
    method = "POST" if grafana.major == 11 else "PUT"
    grafana.faults.append(Fault(method, save_path(grafana), "500", times=99, skip=1))
    failed = run("apply", "--build", str(build_dir))
    assert failed.code == 1
    assert failed.err.count("\n") == 1
    where = (
        "POST /api/dashboards/db"
        if grafana.major == 11
        else f"PUT {save_path(grafana)}ktrdr-system-overview"
    )
    assert failed.err.startswith(
        f"error: Grafana at {grafana.url} is unreachable: {where}: "
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
    grafana.faults.append(Fault(method, save_path(grafana), "500", times=1))  # retried
    finished = run("apply", "--build", str(build_dir))
    assert finished.code == 0, finished.err
    assert finished.lines[-1] == "3 dashboards: 1 unchanged, 2 updated"
    assert {grafana.live(uid)["refresh"] for uid in UIDS} == {"1m"}


def test_a_500_is_retried_and_then_succeeds(grafana, build_dir, run):
    if grafana.major == 11:
        folder = "/api/folders/ktrdr"
    else:
        version = "v1" if grafana.major == 13 else "v1beta1"
        folder = f"/apis/folder.grafana.app/{version}/namespaces/default/folders/ktrdr"
    grafana.faults.append(Fault("GET", folder, "500", times=2))
    result = run("apply", "--build", str(build_dir))
    assert result.code == 0, result.err
    assert grafana.requests.count(("GET", folder)) == 3


def test_a_refused_write_shows_grafanas_status_message(grafana, build_dir, run):
    change_build(build_dir, "operations", title="")
    result = run("apply", "--build", str(build_dir), "operations")
    assert result.code == 1
    said = (
        "HTTP 400: Dashboard title cannot be empty"
        if grafana.major == 11
        else 'HTTP 422 Invalid: Dashboard.dashboard.grafana.app "ktrdr-operations" is invalid: '
        "spec.title: Required"
    )
    assert said in result.err and result.err.count("\n") == 1
    assert "no dashboard was changed" in result.err
    assert grafana.dashboards == {}


# ---------------------------------------------------------------- schema v2 in Grafana


def test_a_ui_save_stored_as_v2_is_seen_refused_pulled_and_overwritten(
    serve, build_dir, tmp_path, run
):
    """Grafana 13 with dynamic dashboards: a UI save stores v2, which the legacy API no longer
    serves (406); diff --live, apply, pull and apply --force read and write it as v2."""
    grafana = serve(13)
    run("apply", "--build", str(build_dir))
    grafana.ui_save_v2("ktrdr-worker-status", retitle_v2("Healthy Workers", "Workers Up"))
    assert grafana.dashboards["ktrdr-worker-status"].family == "v2"

    drift = run("diff", "--live", "worker-status", "--build", str(build_dir))
    assert drift.code == 1
    assert drift.lines[1:] == [
        f"--- {build_dir}/dashboards/worker-status.json",
        "+++ grafana ktrdr-worker-status version 2 (schema v2)",
        'panels["Healthy Workers"].title: "Healthy Workers" → "Workers Up"',
        "1 difference",
        "1 dashboards: 1 differ from Grafana",
    ]
    refused = run("apply", "--build", str(build_dir))
    assert refused.code == 1 and "refused: ktrdr-worker-status" in refused.err

    out = tmp_path / "pulled"
    pulled = run("pull", "ktrdr-worker-status", "--out", str(out))
    assert pulled.code == 0, pulled.err
    export = json.loads((out / "ktrdr-worker-status.json").read_text())
    assert "Workers Up" in [p.get("title") for p in export["panels"]]
    assert export["schemaVersion"] == 42
    stored = json.loads((out / "ktrdr-worker-status.v2.json").read_text())
    assert stored["apiVersion"] == "dashboard.grafana.app/v2"
    assert stored["spec"] == grafana.stored_v2("ktrdr-worker-status")

    forced = run("apply", "--build", str(build_dir), "--force")
    assert forced.code == 0, forced.err
    assert (
        "ktrdr-worker-status (KTRDR Worker Status): updated (forced over changes made in "
        "Grafana), version 3" in forced.lines
    )
    assert grafana.dashboards["ktrdr-worker-status"].family == "v2"  # never downgraded
    assert run("diff", "--live", "--build", str(build_dir)).code == 0
    assert run("apply", "--build", str(build_dir)).lines[-1] == "3 dashboards: 3 unchanged"


def test_a_dashboard_re_saved_as_v2_unchanged_shows_no_difference(grafana_apis, build_dir, run):
    grafana = grafana_apis
    run("apply", "--build", str(build_dir))
    for uid in UIDS:
        grafana.ui_save_v2(uid, lambda spec: None, "opened and saved")
    assert {s.family for s in grafana.dashboards.values()} == {"v2"}
    count = len(writes(grafana))

    same = run("diff", "--live", "--build", str(build_dir))
    assert same.code == 0, same.out
    assert same.lines[-1] == "3 dashboards: 0 differ from Grafana"
    again = run("apply", "--build", str(build_dir))
    assert again.lines[-1] == "3 dashboards: 3 unchanged"
    assert len(writes(grafana)) == count  # nothing written

    change_build(build_dir, "operations", refresh="1m")  # still apply's: updated, as v2
    updated = run("apply", "--build", str(build_dir))
    assert "ktrdr-operations (KTRDR Operations): updated, version 3" in updated.lines
    assert grafana.dashboards["ktrdr-operations"].family == "v2"
    assert grafana.live("ktrdr-operations")["refresh"] == "1m"


def test_tabs_added_in_the_ui_are_read_as_v2_and_named_in_the_diff(grafana_apis, build_dir, run):
    """A v1 read of a tabbed dashboard reports a failed conversion (with a storedVersion not
    to be trusted): it is read again as v2."""
    grafana = grafana_apis
    run("apply", "--build", str(build_dir))
    grafana.ui_save_v2("ktrdr-worker-status", add_tab_v2("Notes"))
    grafana.ui_save_v2("ktrdr-worker-status", retitle_v2("Healthy Workers", "Workers Up"))

    drift = run("diff", "--live", "worker-status", "--build", str(build_dir))
    assert drift.code == 1
    assert 'panels["Healthy Workers"].title: "Healthy Workers" → "Workers Up"' in drift.lines
    assert 'panels["Notes"] added (row, x=0 y=31 w=24 h=1)' in drift.lines
    assert 'panels["Health"].title: "Health" → "Overview / Health"' in drift.lines
    assert (
        'layout: classic rows and grid → tabs "Overview", "Notes"; rows "Capacity", "Health", '
        '"Resources" inside a row or tab'
    ) in drift.lines

    refused = run("apply", "--build", str(build_dir))
    assert refused.code == 1
    forced = run("apply", "--build", str(build_dir), "--force")
    assert forced.code == 0, forced.err
    assert grafana.dashboards["ktrdr-worker-status"].family == "v2"
    assert grafana.stored_v2("ktrdr-worker-status")["layout"]["kind"] == "RowsLayout"
    assert run("diff", "--live", "--build", str(build_dir)).code == 0


def test_a_build_with_a_v2_layout_is_created_as_v2_where_grafana_speaks_it(grafana, build_dir, run):
    """The build's v2 resource carries the layout; new dashboards go in as v1 otherwise."""
    spec = json.loads((Path(__file__).parents[1] / "fixtures" / "v2" / "tabs.json").read_text())
    from ktrdr_dashboards import convert

    classic = convert.to_classic(spec["spec"], "ktrdr-worker-tabs")
    classic["schemaVersion"] = 39
    (build_dir / "dashboards" / "worker-tabs.json").write_text(json.dumps(classic))
    resource = {**spec, "metadata": {"name": "ktrdr-worker-tabs"}}
    resources = build_dir / "kubernetes" / "grafana-resources"
    (resources / "dashboard-ktrdr-worker-tabs.yaml").write_text(json.dumps(resource))

    created = run("apply", "--build", str(build_dir), "worker-tabs")
    assert created.code == 0, created.err
    stored = grafana.dashboards["ktrdr-worker-tabs"]
    if grafana.major == 11:
        assert stored.family == "v1"
    else:
        assert stored.family == "v2"
        assert stored.spec["layout"]["kind"] == "TabsLayout"
        path = save_path(grafana).replace("/v1", "/v2").removesuffix("/")
        assert path in writes(grafana)
    assert run("diff", "--live", "worker-tabs", "--build", str(build_dir)).code == 0
    assert run("apply", "--build", str(build_dir), "worker-tabs").lines[-1] == (
        "1 dashboards: 1 unchanged"
    )


def test_the_legacy_api_answers_406_for_a_dashboard_stored_as_v2(serve, build_dir, run):
    grafana = serve(13)
    run("apply", "--build", str(build_dir))
    grafana.ui_save_v2("ktrdr-operations", lambda spec: None)
    grafana.faults.append(Fault("GET", "/apis", "html"))  # /apis hidden, as behind a proxy
    result = run("diff", "--live", "--build", str(build_dir))
    assert result.code == 1
    assert result.err.startswith(
        f"error: Grafana at {grafana.url} keeps a dashboard in a schema its legacy /api cannot "
        "serve: read dashboard ktrdr-operations: HTTP 406: dashboard api version not supported, "
        "use /apis/dashboard.grafana.app/v2/namespaces/default/dashboards/ktrdr-operations"
    )


def test_a_provisioned_dashboard_is_refused_not_overwritten(grafana, build_dir, run):
    run("apply", "--build", str(build_dir))
    grafana.dashboards["ktrdr-operations"].provisioned = True
    change_build(build_dir, "operations", refresh="1m")
    result = run("apply", "--build", str(build_dir))
    assert result.code == 1
    assert any(
        line.startswith("ktrdr-operations (KTRDR Operations): refused — Grafana provisions it")
        for line in result.lines
    )
    assert grafana.live("ktrdr-operations")["refresh"] == "30s"


# ---------------------------------------------------------------- diff --live


def test_diff_live_exits_1_with_the_panel_diff_when_grafana_differs(grafana, build_dir, run):
    missing = run("diff", "--live", "--build", str(build_dir))
    assert missing.code == 1
    assert "ktrdr-operations: not in Grafana (apply creates it)" in missing.lines

    run("apply", "--build", str(build_dir))
    same = run("diff", "--live", "--build", str(build_dir))
    assert same.code == 0
    assert same.lines[-1] == "3 dashboards: 0 differ from Grafana"

    ui_retitle(grafana, "ktrdr-worker-status", "Healthy Workers", "Workers Up")
    drift = run("diff", "--live", "worker-status", "--build", str(build_dir))
    assert drift.code == 1
    schema = " (schema v2)" if grafana.major == 13 else ""
    assert drift.lines[1:] == [
        f"--- {build_dir}/dashboards/worker-status.json",
        f"+++ grafana ktrdr-worker-status version 2{schema}",
        'panels["Healthy Workers"].title: "Healthy Workers" → "Workers Up"',
        "1 difference",
        "1 dashboards: 1 differ from Grafana",
    ]


# ---------------------------------------------------------------- pull


def test_pull_writes_exports_of_what_grafana_serves(grafana, build_dir, tmp_path, run, monkeypatch):
    run("apply", "--build", str(build_dir))
    grafana.ui_save("ktrdr-operations", retitle("Success Rate", "Success %"))
    out = tmp_path / "pulled"
    one = run("pull", "ktrdr-operations", "--out", str(out))
    assert one.code == 0
    assert one.lines[-1] == f"pulled {out}/ktrdr-operations.json"
    pulled = json.loads((out / "ktrdr-operations.json").read_text())
    expected = grafana.live("ktrdr-operations")
    if grafana.major > 11:  # the resource's spec: no legacy id and version
        expected = {k: v for k, v in expected.items() if k not in ("id", "version")}
    assert pulled == expected
    monkeypatch.setattr(apis, "LIST_PAGE", 2)  # --all lists page by page
    every = run("pull", "--all", "--out", str(out))
    assert sorted(p.name for p in out.iterdir()) == [f"{uid}.json" for uid in UIDS]
    assert every.code == 0
    if grafana.major > 11:
        lists = [p for m, p in grafana.requests if m == "GET" and p.endswith("/dashboards")]
        assert len(lists) == 2


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
    assert f"answered GET {read_path(grafana, 'ktrdr-operations')} with" in result.err
    assert "bytes" in result.err
    assert not (tmp_path / "pulled").exists()


def test_customization_loop_ui_change_pull_import_build_apply(
    grafana, build_dir, project_copy, tmp_path, run
):
    """Change in the UI → pull --import → build → apply: the change is in the sources, and
    apply has nothing to overwrite; the next change of the sources is pushed, not refused."""
    run("apply", "--build", str(build_dir))
    ui_retitle(grafana, "ktrdr-worker-status", "Healthy Workers", "Workers Up", "ui edit")
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
    # Over /apis only the annotation is written (same generation); the legacy API saves anew.
    version = 3 if grafana.major == 11 else 2
    assert (
        "ktrdr-worker-status (KTRDR Worker Status): unchanged (recorded as applied), "
        f"version {version}" in adopted.lines
    )
    assert adopted.lines[-1] == "3 dashboards: 3 unchanged"

    change_build(build_dir, "worker-status", refresh="1m")
    pushed = run("apply", "--build", str(build_dir))
    assert pushed.code == 0, pushed.out
    assert any(
        line.startswith("ktrdr-worker-status (KTRDR Worker Status): updated, version")
        for line in pushed.lines
    )


def test_customization_loop_with_a_tab_added_in_the_ui(
    grafana_apis, build_dir, project_copy, tmp_path, run
):
    grafana = grafana_apis
    run("apply", "--build", str(build_dir))
    grafana.ui_save_v2("ktrdr-worker-status", add_tab_v2("Notes"))
    grafana.ui_save_v2("ktrdr-worker-status", retitle_v2("Healthy Workers", "Workers Up"))
    root = ["--root", str(project_copy)]
    drift = run("diff", "--live", "--build", str(build_dir))
    assert drift.code == 1
    assert 'panels["Healthy Workers"].title: "Healthy Workers" → "Workers Up"' in drift.lines
    assert any(line.startswith('layout: classic rows and grid → tabs "Overview", "Notes"')
               for line in drift.lines)  # fmt: skip
    assert run("apply", "--build", str(build_dir)).code == 1
    out = ["--out", str(tmp_path / "p")]
    assert run("pull", "ktrdr-worker-status", "--import", "--force", *root, *out).code == 0
    assert run("build", *root, "--out", str(build_dir)).code == 0
    assert run("diff", "--live", "--build", str(build_dir)).code == 0
    assert run("apply", "--build", str(build_dir)).lines[-1] == "3 dashboards: 3 unchanged"


@pytest.mark.parametrize("major", [11, 12])
def test_customization_loop_with_a_row_added_by_a_classic_ui(
    serve, major, build_dir, project_copy, tmp_path, run
):
    """Grafana 11, and 12 without dynamic dashboards: the UI saves v1; a row added and a panel
    retitled come back through pull --import."""
    grafana = serve(major)
    run("apply", "--build", str(build_dir))
    grafana.ui_save("ktrdr-worker-status", add_row("Notes"))
    grafana.ui_save("ktrdr-worker-status", retitle("Healthy Workers", "Workers Up"))
    drift = run("diff", "--live", "--build", str(build_dir))
    assert drift.code == 1
    assert 'panels["Notes"] added (row, x=0 y=31 w=24 h=1)' in drift.lines
    assert 'panels["Healthy Workers"].title: "Healthy Workers" → "Workers Up"' in drift.lines
    assert run("apply", "--build", str(build_dir)).code == 1
    root = ["--root", str(project_copy)]
    out = ["--out", str(tmp_path / "p")]
    imported = run("pull", "ktrdr-worker-status", "--import", "--force", *root, *out)
    assert imported.code == 0, imported.err
    assert run("build", *root, "--out", str(build_dir)).code == 0
    assert run("diff", "--live", "--build", str(build_dir)).code == 0
    assert run("apply", "--build", str(build_dir)).lines[-1] == "3 dashboards: 3 unchanged"


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
        "Invalid API key) — check GRAFANA_USER and GRAFANA_PASSWORD\n"
    )


def test_a_refused_token_is_one_line(grafana, build_dir, run, monkeypatch):
    monkeypatch.setenv("GRAFANA_TOKEN", "glsa_wrong")
    result = run("diff", "--live", "--build", str(build_dir))
    assert result.code == 1
    assert result.err == (
        f"error: Grafana at {grafana.url} refused GRAFANA_TOKEN (HTTP 401: Invalid API key) — "
        "set GRAFANA_TOKEN to a valid service account token\n"
    )


def test_a_token_without_write_access_is_named_with_the_permission(
    grafana, build_dir, run, monkeypatch
):
    monkeypatch.setenv("GRAFANA_TOKEN", VIEWER_TOKEN)
    result = run("apply", "--build", str(build_dir))
    assert result.code == 1
    assert result.err.startswith(
        "error: GRAFANA_TOKEN is not allowed to create folder KTRDR: it needs folders:create "
        "(HTTP 403: "
    )
    assert result.err.endswith(
        "; no dashboard was changed — give its user or service account folders:create (the "
        "Editor role has it)\n"
    )

    monkeypatch.setenv("GRAFANA_TOKEN", TOKEN)
    run("apply", "--build", str(build_dir))
    change_build(build_dir, "operations", refresh="1m")
    monkeypatch.setenv("GRAFANA_TOKEN", VIEWER_TOKEN)
    update = run("apply", "--build", str(build_dir))
    assert update.err.startswith(
        "error: GRAFANA_TOKEN is not allowed to update dashboard ktrdr-operations: it needs "
        "dashboards:write on the KTRDR folder (HTTP 403: "
    ) or update.err.startswith(
        "error: GRAFANA_TOKEN is not allowed to save dashboard ktrdr-operations: it needs "
        "dashboards:write on the KTRDR folder (HTTP 403: "
    )


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


def test_an_unreachable_grafana_is_one_line(serve, build_dir, run, monkeypatch):
    serve(13)
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


def test_a_tls_failure_is_one_line_and_not_retried(serve, build_dir, run, monkeypatch):
    server = serve(13)
    monkeypatch.setenv("GRAFANA_URL", server.url.replace("http://", "https://"))
    result = run("diff", "--live", "--build", str(build_dir))
    assert result.code == 1
    https = server.url.replace("http://", "https://")
    assert result.err.startswith(
        f"error: Grafana at {https}: TLS failed on GET /api/health: the server does not speak "
        "TLS there — "
    )
    assert result.err.endswith(
        "— check GRAFANA_URL's scheme (http or https); for a certificate signed by your own "
        "CA, export REQUESTS_CA_BUNDLE=/path/to/ca.pem\n"
    )
    assert result.err.count("\n") == 1


def test_a_slow_grafana_times_out(serve, build_dir, run, monkeypatch):
    grafana = serve(13)
    monkeypatch.setenv("GRAFANA_TIMEOUT", "0.2")
    grafana.faults.append(Fault("GET", "/api/health", "slow", times=4, seconds=1.0))
    result = run("diff", "--live", "--build", str(build_dir))
    assert result.code == 1
    assert result.err.startswith(
        f"error: Grafana at {grafana.url} is unreachable: GET /api/health: no answer within "
        "0.2 s (4 attempts)"
    )


def test_a_server_that_is_not_grafana_is_one_line(serve, build_dir, run):
    grafana = serve(13)
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
    grafana.faults.append(Fault("GET", read_path(grafana, "ktrdr-operations"), "html"))
    result = run("diff", "--live", "--build", str(build_dir))
    assert result.code == 1
    assert result.err.startswith(
        f"error: GRAFANA_URL ({grafana.url}) answers but is not Grafana: GET "
        f"{read_path(grafana, 'ktrdr-operations')} gave HTTP 200 text/html"
    )
