"""Every format Grafana 11 to 13 exports in — Classic JSON, V1 and V2 Resources, a bare v2 spec,
JSON or YAML — imports as a source that builds the same dashboard, and `diff` sees meaning,
not format. A V2 export laid out in tabs comes back out of the build as v2 with the same tabs,
rows and panels, and as rows for Grafana 11/12."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ktrdr_dashboards import cli, convert
from ktrdr_dashboards.build import Project
from ktrdr_dashboards.compile import dashboards as jsonnet_compile
from ktrdr_dashboards.compile.dashboards import render_json
from ktrdr_dashboards.roundtrip import exports, semdiff

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "import"
EVERY_EXPORT = sorted(p.name for p in FIXTURES.iterdir() if p.suffix in (".json", ".yaml"))
NEW_FORMATS = ("v1-resource.json", "v1-resource.yaml", "v2-tabs.yaml", "v2-external.json")
NEW_FORMATS += ("v2-spec.json",)
V2_ONLY = ("v2-tabs.yaml", "v2-external.json")


@pytest.fixture(scope="module")
def bindings() -> exports.Bindings:
    project = Project(root=REPO_ROOT)
    return exports.project_bindings(project.library(), project.provisioning_dir)


def built(root: Path, name: str) -> jsonnet_compile.CompiledDashboard:
    source = root / "jsonnet" / f"{name}.jsonnet"
    return jsonnet_compile.compile_file(source, Project(root=root).library())


def resource(spec: dict, name: str | None) -> dict:
    metadata = {"name": name} if name else {}
    return {
        "apiVersion": "dashboard.grafana.app/v2",
        "kind": "Dashboard",
        "metadata": metadata,
        "spec": spec,
    }


@pytest.mark.parametrize("name", EVERY_EXPORT)
def test_every_export_goes_classic_v2_classic_with_no_semantic_difference(name, bindings):
    loaded = exports.load(FIXTURES / name, bindings)
    spec = convert.to_v2(loaded.model, loaded.layout)
    assert convert.schema_errors(spec) == []
    back = convert.to_classic(spec, loaded.model.get("uid"))
    assert semdiff.diff(loaded.model, back, loaded.layout, convert.v2_layout(spec)) == []


@pytest.mark.parametrize("name", NEW_FORMATS)
def test_each_format_imports_as_a_source_that_builds_the_same_dashboard(
    project_copy, name, bindings
):
    export = FIXTURES / name
    cli.main(["import", "--root", str(project_copy), str(export), "imported"])
    source = project_copy / "jsonnet" / "imported.jsonnet"
    text = source.read_text(encoding="utf-8")
    assert cli.main(["fmt", "--check", str(source)]) == 0
    # Only a source with v2-only constructs needs lib/v2.libsonnet: the rest builds with
    # upstream Grafonnet as any source does.
    assert ("import 'v2.libsonnet'" in text) == (name in V2_ONLY)
    want = exports.load(export, bindings)
    got = built(project_copy, "imported")
    assert (got.v2_layout is not None) == (name in V2_ONLY)
    assert semdiff.diff(want.model, got.model, want.layout, got.v2_layout) == []


def titles_by_section(spec: dict) -> list:
    """The layout as (section title, [titles of its panels or sections]) trees."""
    names = {n: e["spec"]["title"] for n, e in spec["elements"].items()}

    def layout(value: dict) -> object:
        inner = value["spec"]
        if value["kind"] in ("GridLayout", "AutoGridLayout"):
            return [names[item["spec"]["element"]["name"]] for item in inner["items"]]
        key = "rows" if value["kind"] == "RowsLayout" else "tabs"
        return [
            (value["kind"], s["spec"].get("title"), layout(s["spec"]["layout"])) for s in inner[key]
        ]

    return [layout(spec["layout"])]


def test_a_v2_export_in_tabs_comes_back_out_of_the_build_with_its_tabs(project_copy, bindings):
    export = FIXTURES / "v2-tabs.yaml"
    original = yaml.safe_load(export.read_text(encoding="utf-8"))["spec"]
    cli.main(["import", "--root", str(project_copy), str(export), "tabs"])
    compiled = built(project_copy, "tabs")
    spec = convert.to_v2(compiled.model, compiled.v2_layout)
    assert convert.schema_errors(spec) == []
    assert titles_by_section(spec) == titles_by_section(original)
    assert titles_by_section(spec) == [
        [
            ("TabsLayout", "Overview", ["Operations Started", "Success Rate"]),
            (
                "TabsLayout",
                "Workers",
                [
                    ("RowsLayout", "Health", ["Worker Up"]),
                    ("RowsLayout", "Latency", ["Operation Duration p95"]),
                ],
            ),
            ("TabsLayout", "Per worker", ["Worker CPU", "Worker Memory", "Runbook"]),
        ]
    ]
    # The same dashboard as the export, compared as `diff` compares two V2 Resources.
    out = project_copy / "built-tabs.json"
    out.write_text(json.dumps(resource(spec, "ktrdr-operations-tabs")), encoding="utf-8")
    assert cli.main(["diff", "--root", str(project_copy), str(export), str(out)]) == 0
    # For Grafana 11 and 12 the tabs are rows, with the same panels.
    rows = [p["title"] for p in compiled.model["panels"] if p["type"] == "row"]
    assert rows == ["Overview", "Workers / Health", "Workers / Latency", "Per worker"]
    assert "v2Layout" not in render_json(compiled.model)


@pytest.fixture
def build_dir(dashboards: dict[str, dict], tmp_path: Path) -> Path:
    out = tmp_path / "build"
    (out / "dashboards").mkdir(parents=True)
    for uid, model in dashboards.items():
        (out / "dashboards" / f"{uid.removeprefix('ktrdr-')}.json").write_text(render_json(model))
    return out


def test_v1_and_v2_resources_of_each_built_dashboard_show_no_difference(
    dashboards, build_dir, tmp_path, capsys
):
    for uid, model in dashboards.items():
        v1 = {
            "apiVersion": "dashboard.grafana.app/v1",
            "kind": "Dashboard",
            "metadata": {"name": uid, "namespace": "default", "resourceVersion": "7"},
            "spec": {k: v for k, v in model.items() if k != "uid"},
        }
        forms = {
            "v1.json": json.dumps(v1),
            "v1.yaml": yaml.safe_dump(v1, allow_unicode=True),
            "v2.json": json.dumps(resource(convert.to_v2(model), uid)),
            "v2.yaml": yaml.safe_dump(resource(convert.to_v2(model), uid), allow_unicode=True),
        }
        for suffix, text in forms.items():
            export = tmp_path / f"{uid}-{suffix}"
            export.write_text(text, encoding="utf-8")
            capsys.readouterr()
            code = cli.main(["diff", str(export), "--build", str(build_dir)])
            out = capsys.readouterr().out.splitlines()
            assert (code, out[-1]) == (0, "no semantic differences"), (uid, suffix, out)


def test_a_grafana_13_edit_of_a_tab_is_one_line_of_diff(project_copy, tmp_path, capsys):
    export = FIXTURES / "v2-tabs.yaml"
    edited = yaml.safe_load(export.read_text(encoding="utf-8"))
    tabs = edited["spec"]["layout"]["spec"]["tabs"]
    tabs[0]["spec"]["title"] = "Summary"
    edited["spec"]["elements"]["panel-12"]["spec"]["vizConfig"]["spec"]["fieldConfig"]["defaults"][
        "max"
    ] = 110
    other = tmp_path / "edited.yaml"
    other.write_text(yaml.safe_dump(edited), encoding="utf-8")
    assert cli.main(["diff", "--root", str(project_copy), str(export), str(other)]) == 1
    assert capsys.readouterr().out.splitlines()[2:] == [
        'panels["Overview"].title: "Overview" → "Summary"',
        'panels["Success Rate"].fieldConfig.defaults.max: 100 → 110',
        'dashboard.layout.spec.tabs[0].spec.title: "Overview" → "Summary"',
        "3 differences",
    ]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda spec: spec["layout"]["spec"]["tabs"][0]["spec"].update(collapse=True),
            'tab "Overview": the tab field "collapse", which lib/v2.libsonnet cannot write',
        ),
        (
            lambda spec: spec["elements"]["panel-17"].update(kind="Widget"),
            "element panel-17 is a 'Widget', which the classic model has not",
        ),
        (
            lambda spec: spec["layout"]["spec"]["tabs"][1]["spec"]["layout"].update(
                kind="MasonryLayout"
            ),
            "layout kind 'MasonryLayout' is none of",
        ),
    ],
)
def test_what_cannot_be_expressed_is_refused_in_one_line_and_nothing_is_written(
    project_copy, tmp_path, capsys, edit, message
):
    document = yaml.safe_load((FIXTURES / "v2-tabs.yaml").read_text(encoding="utf-8"))
    edit(document["spec"])
    export = tmp_path / "export.yaml"
    export.write_text(yaml.safe_dump(document), encoding="utf-8")
    before = sorted(p.name for p in (project_copy / "jsonnet").iterdir())
    capsys.readouterr()
    assert cli.main(["import", "--root", str(project_copy), str(export), "refused"]) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
    assert lines[0].startswith(f"error: {export}: dashboard ktrdr-operations-tabs")
    assert sorted(p.name for p in (project_copy / "jsonnet").iterdir()) == before


def test_a_yaml_export_is_data_too(project_copy, tmp_path, capfd):
    attack = "ok\nassert std.trace('X: ' + importstr '/etc/hostname', true);\n//"
    document = yaml.safe_load((FIXTURES / "v2-tabs.yaml").read_text(encoding="utf-8"))
    document["spec"]["title"] = attack
    document["spec"]["layout"]["spec"]["tabs"][0]["spec"]["title"] = attack
    export = tmp_path / "attack.yaml"
    export.write_text(yaml.safe_dump(document), encoding="utf-8")
    capfd.readouterr()
    cli.main(["import", "--root", str(project_copy), str(export), "attack"])
    err = capfd.readouterr().err
    assert "TRACE" not in err and "X: " not in err
    compiled = built(project_copy, "attack")
    assert compiled.model["title"] == attack
    assert compiled.v2_layout is not None
    assert compiled.v2_layout["spec"]["tabs"][0]["spec"]["title"] == attack
