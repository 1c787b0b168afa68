"""lib/v2.libsonnet: one layout gives both the classic panels Grafana 11/12 read (tabs laid
out as rows, ids numbered as g.dashboard.withPanels numbers them) and the hidden v2 layout
whose element references name those panels; the conversion reads the same panels back."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ktrdr_dashboards import convert, jsonnet
from ktrdr_dashboards.roundtrip import semdiff

LIB = Path(__file__).resolve().parents[2] / "lib"

PANELS = """
local stat(title, w=6, h=4, x=0, y=0) =
  g.panel.stat.new(title) + g.panel.stat.panelOptions.withGridPos(h=h, w=w, x=x, y=y);
"""


def evaluate(body: str, library: Path = LIB) -> dict:
    """`body` (a dashboard) with g and v2 bound, as [model, v2Layout]."""
    snippet = (
        "local g = import 'g.libsonnet';\nlocal v2 = import 'v2.libsonnet';\n"
        + PANELS
        + f"local d = {body};\n"
        + "{ model: d, layout: d.v2Layout, hidden: !std.objectHas(d, 'v2Layout') }"
    )
    value = jsonnet.evaluate_snippet(
        library / "<test>", snippet, jsonnet.LibraryPath(search=(library,))
    )
    assert isinstance(value, dict)
    return value


TABS = """
g.dashboard.new('Tabs')
+ v2.dashboard.withLayout(v2.tabs.new([
  v2.tab.new('Capacity', [stat('A', w=12), stat('B', w=12, x=12)]),
  v2.tab.new('Resources', v2.rows.new([
    v2.row.new('CPU', [stat('C', w=24, h=8)]),
    v2.row.new('Memory', [stat('D', w=24, h=8)]) + v2.row.withCollapse(),
  ])),
  v2.tab.new('About', v2.autoGrid.new([stat('E'), stat('F'), stat('G')])
                      + v2.autoGrid.withMaxColumnCount(2) + v2.autoGrid.withRowHeightMode('short'))
  + v2.tab.withRepeat('instance')
  + v2.tab.withConditionalRendering(v2.conditionalRendering.new([
    v2.conditionalRendering.variable.new('instance', 'notEquals', ''),
  ])),
]))
"""


def shape(panels: list[dict]) -> list[tuple]:
    return [
        (
            p["type"],
            p["title"],
            p["gridPos"],
            [(c["title"], c["gridPos"]) for c in p.get("panels", [])],
        )
        for p in panels
    ]


def test_tabs_are_laid_out_as_rows_for_the_classic_model():
    result = evaluate(TABS)
    assert result["hidden"]  # never part of the classic JSON
    assert shape(result["model"]["panels"]) == [
        ("row", "Capacity", {"h": 1, "w": 24, "x": 0, "y": 0}, []),
        ("stat", "A", {"h": 4, "w": 12, "x": 0, "y": 1}, []),
        ("stat", "B", {"h": 4, "w": 12, "x": 12, "y": 1}, []),
        ("row", "Resources / CPU", {"h": 1, "w": 24, "x": 0, "y": 5}, []),
        ("stat", "C", {"h": 8, "w": 24, "x": 0, "y": 6}, []),
        ("row", "Resources / Memory", {"h": 1, "w": 24, "x": 0, "y": 14},
         [("D", {"h": 8, "w": 24, "x": 0, "y": 15})]),
        ("row", "About", {"h": 1, "w": 24, "x": 0, "y": 15}, []),
        ("stat", "E", {"h": 5, "w": 12, "x": 0, "y": 16}, []),
        ("stat", "F", {"h": 5, "w": 12, "x": 12, "y": 16}, []),
        ("stat", "G", {"h": 5, "w": 12, "x": 0, "y": 21}, []),
    ]  # fmt: skip
    about = result["model"]["panels"][6]
    assert about["repeat"] == "instance"
    assert "conditionalRendering" not in str(result["model"])


def test_ids_are_those_g_dashboard_with_panels_gives_and_the_layout_names_them():
    result = evaluate(TABS)
    classic = result["model"]["panels"]
    renumbered = evaluate(
        "g.dashboard.new('x') + g.dashboard.withPanels("
        + f"(({TABS}).panels))".replace("\n", " ")
        + " + { v2Layout:: {} }"
    )["model"]["panels"]
    assert [p["id"] for p in classic] == [p["id"] for p in renumbered]
    assert [c["id"] for c in classic[5]["panels"]] == [c["id"] for c in renumbered[5]["panels"]]
    by_id = {p["id"]: p["title"] for p in classic}
    by_id.update({c["id"]: c["title"] for p in classic for c in p.get("panels", [])})
    referenced = [by_id[int(name.removeprefix("panel-"))] for name in _references(result["layout"])]
    assert referenced == ["A", "B", "C", "D", "E", "F", "G"]


def _references(layout: object) -> list[str]:
    if isinstance(layout, dict):
        if layout.get("kind") == "ElementReference":
            return [layout["name"]]
        return [name for value in layout.values() for name in _references(value)]
    if isinstance(layout, list):
        return [name for value in layout for name in _references(value)]
    return []


def test_the_conversion_reads_the_same_dashboard_back_from_the_v2_the_layout_gives():
    result = evaluate(TABS)
    model, layout = result["model"], result["layout"]
    spec = convert.to_v2(model, layout)
    assert convert.schema_errors(spec) == []
    tab = spec["layout"]["spec"]["tabs"][2]["spec"]
    assert tab["repeat"] == {"mode": "variable", "value": "instance"}
    assert tab["conditionalRendering"]["spec"]["items"][0]["kind"] == (
        "ConditionalRenderingVariable"
    )
    back = convert.to_classic(spec)
    assert shape(back["panels"]) == shape(model["panels"])
    assert semdiff.diff(model, back, layout, convert.v2_layout(spec)) == []


@pytest.mark.parametrize(
    ("mode", "custom", "height"),
    [("short", None, 5), ("standard", None, 9), ("tall", None, 14), ("custom", 240, 8),
     ("custom", 135, 4), ("custom", 165, 6), ("custom", 30, 3)],
)  # fmt: skip
def test_auto_grid_rows_are_as_tall_as_the_conversion_makes_them(mode, custom, height):
    extra = f" + v2.autoGrid.withRowHeight({custom})" if custom else ""
    result = evaluate(
        "g.dashboard.new('x') + v2.dashboard.withLayout(v2.rows.new([v2.row.new('R', "
        f"v2.autoGrid.new([stat('A'), stat('B')]) + v2.autoGrid.withRowHeightMode('{mode}')"
        f"{extra})]))"
    )
    panels = result["model"]["panels"]
    assert [p["gridPos"]["h"] for p in panels[1:]] == [height, height]
    back = convert.to_classic(convert.to_v2(result["model"], result["layout"]))
    assert shape(back["panels"]) == shape(panels)


def test_v2_libsonnet_needs_no_g_libsonnet(tmp_path: Path):
    """It works beside upstream Grafonnet, whose g.libsonnet it must not shadow or need."""
    shutil.copy2(LIB / "v2.libsonnet", tmp_path / "v2.libsonnet")
    snippet = (
        "local v2 = import 'v2.libsonnet';\n"
        "local p(t) = { type: 'stat', title: t, gridPos: { h: 4, w: 6, x: 0, y: 0 } };\n"
        "local d = { title: 'x' } + v2.dashboard.withLayout(v2.tabs.new([\n"
        "  v2.tab.new('One', [p('A')]), v2.tab.new('Two', [p('B')])]));\n"
        "[d, d.v2Layout]"
    )
    model, layout = jsonnet.evaluate_snippet(
        tmp_path / "<test>", snippet, jsonnet.LibraryPath(search=(tmp_path,))
    )
    assert [p["title"] for p in model["panels"]] == ["One", "A", "Two", "B"]
    assert layout["kind"] == "TabsLayout"
