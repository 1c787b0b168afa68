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
