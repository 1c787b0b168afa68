"""`diff`: a semantic, panel-level diff that tells what a UI edit changed, with JSON paths."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from ktrdr_dashboards import cli
from ktrdr_dashboards.compile.dashboards import render_json
from ktrdr_dashboards.roundtrip import semdiff

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
BASE = FIXTURES / "import" / "reference-shape.json"
EXPECTED = json.loads((FIXTURES / "diff" / "expected.json").read_text())


def run_diff(*args: str) -> int:
    return cli.main(["diff", *args])


def panel(model: dict, title: str) -> dict:
    return next(p for p in model["panels"] if p.get("title") == title)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_edits_are_reported_exactly(name, capsys):
    assert run_diff(str(BASE), str(FIXTURES / "diff" / name)) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[2:-1] == EXPECTED[name]
    assert out[-1] == f"{len(EXPECTED[name])} difference"


def test_regenerated_keys_and_key_order_are_not_differences(tmp_path, capsys):
    model = json.loads(BASE.read_text())
    saved = copy.deepcopy(model)
    saved.update(id=99, version=40, iteration=1712345678901)
    for item in saved["panels"]:
        item["id"] = item.get("id", 0) + 100
        item["pluginVersion"] = "12.0.0"
    other = tmp_path / "saved.json"
    other.write_text(json.dumps({"dashboard": saved, "meta": {}}, sort_keys=True))
    assert run_diff(str(BASE), str(other)) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "no semantic differences"


def test_retitled_panel_is_matched_by_id_not_added_and_removed():
    model = json.loads(BASE.read_text())
    edited = copy.deepcopy(model)
    panel(edited, "Healthy Workers")["title"] = "Workers Up"
    assert semdiff.diff(model, edited) == [
        'panels["Healthy Workers"].title: "Healthy Workers" → "Workers Up"'
    ]


def test_added_removed_and_resized_panels():
    model = json.loads(BASE.read_text())
    edited = copy.deepcopy(model)
    edited["panels"] = [p for p in edited["panels"] if p["title"] != "Healthy Workers"]
    table = panel(edited, "Worker Health Matrix")
    table["gridPos"]["w"] = 24
    extra = {"type": "text", "title": "Runbook", "gridPos": {"h": 3, "w": 24, "x": 0, "y": 18}}
    edited["panels"].append(extra)
    assert semdiff.diff(model, edited) == [
        'panels["Healthy Workers"] removed (stat, x=6 y=1 w=6 h=4)',
        'panels["Worker Health Matrix"] resized: w=14 h=8 → w=24 h=8',
        'panels["Runbook"] added (text, x=0 y=18 w=24 h=3)',
    ]


def test_dashboard_fields_and_variables_by_name(dashboards):
    model = dashboards["ktrdr-operations"]
    edited = copy.deepcopy(model)
    edited["refresh"] = "1m"
    job = next(v for v in edited["templating"]["list"] if v["name"] == "job")
    job["label"] = "Job"
    before = next(v for v in model["templating"]["list"] if v["name"] == "job")["label"]
    assert semdiff.diff(model, edited) == [
        f'dashboard.refresh: "{model["refresh"]}" → "1m"',
        f'dashboard.templating.list["job"].label: "{before}" → "Job"',
    ]


@pytest.fixture
def build_dir(dashboards: dict[str, dict], tmp_path: Path) -> Path:
    """build/ as `build` writes it, from the current sources."""
    out = tmp_path / "build"
    (out / "dashboards").mkdir(parents=True)
    for uid, model in dashboards.items():
        (out / "dashboards" / f"{uid.removeprefix('ktrdr-')}.json").write_text(render_json(model))
    return out


def test_export_alone_is_compared_with_the_build_of_its_uid(
    build_dir, dashboards, tmp_path, capsys
):
    edited = copy.deepcopy(dashboards["ktrdr-operations"])
    steps = panel(edited, "Success Rate")["fieldConfig"]["defaults"]["thresholds"]["steps"]
    old = steps[-1]["value"]
    steps[-1]["value"] = old - 5
    edited.update(id=3, version=8)
    export = tmp_path / "export.json"
    export.write_text(json.dumps({"dashboard": edited, "meta": {"provisioned": True}}))
    assert run_diff(str(export), "--build", str(build_dir)) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"--- {build_dir / 'dashboards' / 'operations.json'}"
    path = f"steps[{len(steps) - 1}].value"
    assert out[2:-1] == [
        f'panels["Success Rate"].fieldConfig.defaults.thresholds.{path}: {old} → {old - 5}'
    ]


def test_sides_by_build_name_and_uid(build_dir, capsys):
    assert run_diff("operations", "ktrdr-operations", "--build", str(build_dir)) == 0
    assert run_diff("operations", "ktrdr-worker-status", "--build", str(build_dir)) == 1
    capsys.readouterr()
    assert run_diff("nothing-like-this", "--build", str(build_dir)) == 1
    assert "nor a dashboard name or uid" in capsys.readouterr().err


# ---------------------------------------------------------------- meaning, not format


def test_schema_version_and_fields_at_their_schema_default_are_not_differences():
    model = json.loads(BASE.read_text())
    model.pop("graphTooltip", None)
    model["panels"][1].pop("transparent", None)
    edited = copy.deepcopy(model)
    edited["schemaVersion"] = 42  # a Grafana 13 save
    edited["graphTooltip"] = 0  # the classic schema's default
    edited["timepicker"] = {"hidden": False}
    edited["panels"][1]["transparent"] = False
    edited["panels"][1]["links"] = []  # empty where schema v2 requires the field
    edited["preload"] = False  # v2's default of a field both models have
    assert semdiff.diff(model, edited) == []
    edited["graphTooltip"] = 2
    edited["panels"][1]["transparent"] = True
    title = model["panels"][1]["title"]
    assert semdiff.diff(model, edited) == [
        "dashboard.graphTooltip: 0 → 2",
        f"panels[{json.dumps(title)}].transparent: false → true",
    ]


def test_a_variable_field_at_its_v2_default_is_no_difference():
    model = json.loads(BASE.read_text())
    variable = {"type": "query", "name": "job", "query": "label_values(up, job)"}
    model["templating"] = {"list": [variable]}
    edited = copy.deepcopy(model)
    edited["templating"]["list"][0].update(hide=0, refresh=0, sort=0, regex="", options=[])
    assert semdiff.diff(model, edited) == []
    edited["templating"]["list"][0]["sort"] = 1
    assert semdiff.diff(model, edited) == ['dashboard.templating.list["job"].sort: 0 → 1']


def test_the_panel_datasource_is_not_compared_when_every_target_names_one():
    model = json.loads(BASE.read_text())
    stat = panel(model, "Healthy Workers")
    source = {"type": "prometheus", "uid": "${datasource}"}
    stat["datasource"] = source
    for target in stat["targets"]:
        target["datasource"] = source
    edited = copy.deepcopy(model)
    panel(edited, "Healthy Workers")["datasource"] = {"type": "datasource", "uid": "-- Mixed --"}
    assert semdiff.diff(model, edited) == []
    # A target without one queries the panel's: the same dashboard either way.
    del panel(edited, "Healthy Workers")["targets"][0]["datasource"]
    panel(edited, "Healthy Workers")["datasource"] = source
    assert semdiff.diff(model, edited) == []
    panel(edited, "Healthy Workers")["datasource"] = {"type": "prometheus", "uid": "other"}
    assert semdiff.diff(model, edited) == [
        'panels["Healthy Workers"].targets["A"].datasource.uid: "${datasource}" → "other"'
    ]


TABS = {
    "kind": "TabsLayout",
    "spec": {
        "tabs": [
            {
                "kind": "TabsLayoutTab",
                "spec": {
                    "title": "Overview",
                    "layout": {
                        "kind": "AutoGridLayout",
                        "spec": {
                            "columnWidthMode": "standard",
                            "rowHeightMode": "standard",
                            "items": [
                                {
                                    "kind": "AutoGridLayoutItem",
                                    "spec": {
                                        "element": {"kind": "ElementReference", "name": "panel-2"}
                                    },
                                }
                            ],
                        },
                    },
                },
            }
        ]
    },
}


def test_layouts_compare_by_the_panels_they_place_not_by_element_names():
    model = {"title": "t", "panels": [{"id": 2, "type": "stat", "title": "Up"}]}
    renumbered = {"title": "t", "panels": [{"id": 7, "type": "stat", "title": "Up"}]}
    other = copy.deepcopy(TABS)
    item = other["spec"]["tabs"][0]["spec"]["layout"]["spec"]["items"][0]["spec"]
    item["element"]["name"] = "panel-7"
    auto = other["spec"]["tabs"][0]["spec"]["layout"]["spec"]
    auto.update(maxColumnCount=3, fillScreen=False)  # the schema's defaults
    assert semdiff.diff(model, renumbered, TABS, other) == []
    other["spec"]["tabs"][0]["spec"]["title"] = "Summary"
    assert semdiff.diff(model, renumbered, TABS, other) == [
        'dashboard.layout.spec.tabs[0].spec.title: "Overview" → "Summary"'
    ]
    assert semdiff.diff(model, renumbered, TABS, None) == [
        'dashboard.layout: tabs "Overview"; an auto grid → (classic rows)'
    ]
