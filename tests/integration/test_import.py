"""`import`: a Grafana export becomes a formatted Jsonnet source on the builder library that
compiles back to the same dashboard, ignoring only what Grafana regenerates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ktrdr_dashboards import cli
from ktrdr_dashboards.build import Project
from ktrdr_dashboards.compile import dashboards as jsonnet_compile
from ktrdr_dashboards.compile.dashboards import render_json
from ktrdr_dashboards.roundtrip import exports, semdiff

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "import"
EXPORTS = ("reference-shape.json", "api-wrapper.json", "external-share.json")
BUILT = ("ktrdr-system-overview", "ktrdr-worker-status", "ktrdr-operations")


def run_import(root: Path, *args: str) -> int:
    return cli.main(["import", "--root", str(root), *args])


def expected_model(root: Path, export: Path) -> dict:
    """The export as a plain model, placeholders bound, as `import` reads it."""
    project = Project(root=root)
    bindings = exports.project_bindings(project.library(), project.provisioning_dir)
    return exports.load(export, bindings).model


def compiled(root: Path, name: str) -> dict:
    source = root / "jsonnet" / f"{name}.jsonnet"
    return jsonnet_compile.compile_file(source, Project(root=root).library()).model


def assert_round_trip(root: Path, export: Path, name: str) -> str:
    run_import(root, str(export), name)
    written = (root / "jsonnet" / f"{name}.jsonnet").read_text()
    want, got = expected_model(root, export), compiled(root, name)
    assert semdiff.diff(want, got) == []
    # Independently of the diff: equal as JSON once the regenerated keys are gone.
    assert render_json(exports.strip_regenerated(got)) == render_json(
        exports.strip_regenerated(want)
    )
    return written


@pytest.fixture
def built_exports(dashboards: dict[str, dict], tmp_path: Path) -> dict[str, Path]:
    """The three KTRDR dashboards as the current sources build them, saved as exports."""
    paths = {}
    for uid in BUILT:
        path = tmp_path / f"{uid}.json"
        path.write_text(render_json(dashboards[uid]))
        paths[uid] = path
    return paths


@pytest.mark.parametrize("uid", BUILT)
def test_built_dashboards_round_trip(project_copy, built_exports, dashboards, uid):
    written = assert_round_trip(project_copy, built_exports[uid], "roundtrip")
    # KTRDR conventions are used where they give exactly the exported value.
    assert "ktrdr.variables.datasource" in written
    assert "ktrdr.queries." in written
    for panel in dashboards[uid]["panels"]:
        assert f".new({json.dumps(panel['title'])[1:-1]!r}" in written.replace('"', "'")


@pytest.mark.parametrize("name", EXPORTS)
def test_exports_round_trip(project_copy, name):
    written = assert_round_trip(project_copy, FIXTURES / name, "roundtrip")
    assert written.startswith("// ")
    assert "g.dashboard.new(" in written


def test_written_file_is_formatted_and_built_from_builder_calls(project_copy):
    run_import(project_copy, str(FIXTURES / "reference-shape.json"), "reference")
    source = project_copy / "jsonnet" / "reference.jsonnet"
    assert cli.main(["fmt", "--check", str(source)]) == 0
    text = source.read_text()
    compact = "".join(text.split())  # calls regardless of how jsonnetfmt broke the lines
    for call in (
        "g.panel.stat.new('Success Rate')",
        "g.panel.table.queryOptions.transformation.withId('organize')",
        "g.panel.table.standardOptions.override.byName.new('Status')",
        "g.panel.stateTimeline.standardOptions.withMappings([ktrdr.panels.upDown,])",
        "g.panel.stat.standardOptions.thresholds.withSteps("
        "ktrdr.panels.thresholds.higherIsBetter(ktrdr.config.thresholds.successRatePercent))",
        "g.query.prometheus.withLegendFormat('{{instance}}')",
    ):
        assert "".join(call.split()) in compact
    # Keys without a setter are small fragments, never the panel as one literal.
    assert "{ options+: { tooltip+: { hideZeros: false } } }" in text
    assert "'Worker Health Matrix', type:" not in text


def test_same_export_gives_the_same_file(project_copy, tmp_path):
    export = FIXTURES / "api-wrapper.json"
    run_import(project_copy, str(export), "first")
    reordered = tmp_path / "reordered.json"
    reordered.write_text(json.dumps(json.loads(export.read_text()), sort_keys=True))
    run_import(project_copy, str(reordered), "second")
    first = (project_copy / "jsonnet" / "first.jsonnet").read_text()
    assert first == (project_copy / "jsonnet" / "second.jsonnet").read_text()


def test_external_share_binds_inputs_to_the_datasource_variable(project_copy):
    run_import(project_copy, str(FIXTURES / "external-share.json"), "shared")
    model = compiled(project_copy, "shared")
    text = json.dumps(model)
    assert "${DS_" not in text
    assert model["templating"]["list"][0]["name"] == "datasource"
    assert {p["datasource"]["uid"] for p in model["panels"]} == {"${datasource}"}
    assert '"datasource":"jaeger"' in model["links"][0]["url"]


def test_default_name_from_uid_and_refusal_to_overwrite(project_copy, capsys):
    export = str(FIXTURES / "api-wrapper.json")
    run_import(project_copy, export)
    target = project_copy / "jsonnet" / "capacity.jsonnet"  # uid ktrdr-capacity
    assert target.is_file()
    target.write_text("// edited by hand\n")
    capsys.readouterr()
    assert run_import(project_copy, export) == 1
    assert "already exists" in capsys.readouterr().err
    assert target.read_text() == "// edited by hand\n"
    run_import(project_copy, export, "--force")
    assert "g.dashboard.new('KTRDR Capacity')" in target.read_text()


def test_gate_findings_are_reported_and_the_file_is_kept(project_copy, capsys):
    # Made in the UI: three of its panels have no description.
    code = run_import(project_copy, str(FIXTURES / "api-wrapper.json"), "capacity")
    err = capsys.readouterr().err
    assert code == 1
    assert 'panel "Requests by Job"' in err and "identity/description" in err
    assert (project_copy / "jsonnet" / "capacity.jsonnet").is_file()


def test_complete_export_passes_the_gate(project_copy, built_exports, capsys):
    code = run_import(project_copy, str(built_exports["ktrdr-operations"]), "operations", "--force")
    assert code == 0, capsys.readouterr().err
    assert "validation: no findings" in capsys.readouterr().out


def test_missing_jsonnetfmt_is_a_clear_failure(project_copy, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert run_import(project_copy, str(FIXTURES / "reference-shape.json"), "x") == 1
    assert "apt-get install -y --no-install-recommends jsonnet" in capsys.readouterr().err
    assert not (project_copy / "jsonnet" / "x.jsonnet").exists()
