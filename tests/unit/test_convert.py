"""Classic ↔ schema v2: the built dashboards, the import fixtures, hand-written v2 exports and
generated dashboards convert both ways with no semantic difference, and every v2 spec the
converter writes is valid against the published schema."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ktrdr_dashboards import convert
from ktrdr_dashboards.roundtrip import exports, semdiff

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def v2_resource(name: str) -> dict:
    return json.loads((FIXTURES / "v2" / name).read_text(encoding="utf-8"))


def test_built_dashboards_go_to_v2_valid_against_both_schemas(dashboards: dict[str, dict]):
    for uid, model in dashboards.items():
        assert convert.schema_errors(convert.to_v2(model)) == [], uid
        beta = convert.to_v2(model, version="v2beta1")
        assert convert.schema_errors(beta, "v2beta1") == [], uid


def test_built_dashboards_come_back_from_v2_unchanged(dashboards: dict[str, dict]):
    for uid, model in dashboards.items():
        back = convert.to_classic(convert.to_v2(model), uid)
        assert semdiff.diff(model, back) == [], uid
        titles = [p.get("title") for p in model["panels"]]
        assert [p.get("title") for p in back["panels"]] == titles


def test_built_panels_are_elements_in_layout_order(dashboards: dict[str, dict]):
    model = dashboards["ktrdr-worker-status"]
    spec = convert.to_v2(model)
    rows = spec["layout"]["spec"]["rows"]
    assert [r["spec"]["title"] for r in rows] == ["Capacity", "Health", "Resources"]
    first = rows[0]["spec"]["layout"]["spec"]["items"][0]["spec"]
    element = spec["elements"][first["element"]["name"]]["spec"]
    assert element["title"] == "Registered Workers"
    assert (first["x"], first["y"]) == (0, 0)  # y counts from the row, not the dashboard
    query = element["data"]["spec"]["queries"][0]["spec"]["query"]
    assert query["group"] == "prometheus"
    assert query["datasource"] == {"name": "${datasource}"}
    assert spec["cursorSync"] == "Crosshair"


@pytest.mark.parametrize(
    "name", ["api-wrapper.json", "external-share.json", "reference-shape.json"]
)
def test_import_fixtures_round_trip(name: str):
    raw = json.loads((FIXTURES / "import" / name).read_text(encoding="utf-8"))
    model = {k: v for k, v in raw.get("dashboard", raw).items() if k not in exports.SHARING_KEYS}
    spec = convert.to_v2(model)
    assert convert.schema_errors(spec) == []
    assert semdiff.diff(model, convert.to_classic(spec, model.get("uid"))) == []


def test_a_tabbed_v2_export_is_laid_out_as_rows_for_the_classic_model():
    resource = v2_resource("tabs.json")
    classic = convert.to_classic(resource["spec"], resource["metadata"]["name"])
    layout = [
        (p["type"], p["title"], p.get("collapsed"), [c["title"] for c in p.get("panels", [])])
        for p in classic["panels"]
        if p["type"] == "row"
    ]
    assert layout == [
        ("row", "Capacity", False, []),
        ("row", "Resources / CPU", False, []),
        ("row", "Resources / Memory", True, ["Worker Memory Usage"]),
        ("row", "About", False, []),
    ]
    auto = {p["title"]: p["gridPos"] for p in classic["panels"] if p["type"] != "row"}
    assert auto["Notes"]["w"] == auto["Healthy Workers"]["w"] == 12  # two columns
    assert auto["Notes"]["y"] == auto["Healthy Workers"]["y"]
    assert convert.v2_only(resource["spec"]) == [
        'tabs "Capacity", "Resources", "About"',
        'rows "CPU", "Memory" inside a row or tab',
        "an auto grid",
    ]


def test_a_tabbed_v2_export_comes_back_with_its_layout():
    spec = v2_resource("tabs.json")["spec"]
    classic = convert.to_classic(spec, "ktrdr-worker-tabs")
    again = convert.to_v2(classic, convert.v2_layout(spec))
    assert again == spec


def test_v2_without_v2_only_constructs_round_trips_through_classic():
    spec = v2_resource("tabs.json")["spec"]
    # The same panels as plain rows: nothing the classic model cannot hold.
    tabs = spec["layout"]["spec"]["tabs"]
    rows = [
        {
            "kind": "RowsLayoutRow",
            "spec": {"title": "Capacity", "collapse": False, "layout": tabs[0]["spec"]["layout"]},
        },
        *tabs[1]["spec"]["layout"]["spec"]["rows"],
    ]
    plain = copy.deepcopy(spec)
    plain["layout"] = {"kind": "RowsLayout", "spec": {"rows": rows}}
    for name in ("panel-5", "panel-6"):
        del plain["elements"][name]
    assert convert.v2_only(plain) == [] and convert.v2_layout(plain) is None
    assert convert.to_v2(convert.to_classic(plain, "x")) == plain


def test_panels_unknown_to_v2_are_refused_with_the_panel_named(dashboards: dict[str, dict]):
    model = copy.deepcopy(dashboards["ktrdr-operations"])
    model["panels"][1]["legacyThing"] = 1
    title = model["panels"][1]["title"]
    with pytest.raises(convert.ConversionError) as caught:
        convert.to_v2(model)
    assert str(caught.value).startswith(f'dashboard ktrdr-operations, panel "{title}": ')
    assert "'legacyThing' has no place in a schema v2 panel" in str(caught.value)


def test_a_layout_naming_a_missing_panel_is_refused(dashboards: dict[str, dict]):
    layout = {
        "kind": "TabsLayout",
        "spec": {
            "tabs": [
                {
                    "kind": "TabsLayoutTab",
                    "spec": {
                        "title": "T",
                        "layout": {
                            "kind": "GridLayout",
                            "spec": {
                                "items": [
                                    {
                                        "kind": "GridLayoutItem",
                                        "spec": {
                                            "x": 0,
                                            "y": 0,
                                            "width": 1,
                                            "height": 1,
                                            "element": {
                                                "kind": "ElementReference",
                                                "name": "panel-999",
                                            },
                                        },
                                    }
                                ]
                            },
                        },
                    },
                }
            ]
        },
    }
    with pytest.raises(convert.ConversionError, match="refers to panel-999, which is no panel"):
        convert.to_v2(dashboards["ktrdr-operations"], layout)


def test_schema_errors_name_the_path():
    spec = v2_resource("tabs.json")["spec"]
    broken = copy.deepcopy(spec)
    broken["cursorSync"] = "Sometimes"
    del broken["elements"]["panel-1"]["spec"]["vizConfig"]
    errors = convert.schema_errors(broken)
    assert any(e.startswith("spec.cursorSync: 'Sometimes' is not one of") for e in errors)
    assert "spec.elements.panel-1.spec: 'vizConfig' is a required property" in errors


# ---------------------------------------------------------------- generated dashboards

_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12)
_PANEL_TYPES = ("stat", "timeseries", "table", "piechart", "state-timeline", "text", "gauge")
_SOURCE = {"type": "prometheus", "uid": "${datasource}"}


@st.composite
def _panel(draw) -> dict:
    width, height = draw(st.integers(1, 24)), draw(st.integers(1, 12))
    refs = draw(st.lists(st.sampled_from("ABCDE"), unique=True, max_size=3))
    panel = {
        "type": draw(st.sampled_from(_PANEL_TYPES)),
        "title": draw(_TEXT),
        "datasource": dict(_SOURCE),
        "targets": [
            {
                "refId": ref,
                "datasource": dict(_SOURCE),
                "expr": draw(_TEXT),
                **({"instant": True} if draw(st.booleans()) else {}),
            }
            for ref in refs
        ],
        "options": {"legend": {"showLegend": draw(st.booleans())}},
        "fieldConfig": {
            "defaults": {"unit": draw(st.sampled_from(["none", "percent", "s"]))},
            "overrides": [],
        },
        "gridPos": {"w": width, "h": height},
    }
    if not refs:
        del panel["datasource"], panel["targets"]
    if draw(st.booleans()):
        panel["description"] = draw(_TEXT.filter(bool))
    if draw(st.booleans()):
        panel["transformations"] = [{"id": "organize", "options": {"renameByName": {}}}]
    if draw(st.booleans()):
        panel["maxDataPoints"] = draw(st.integers(1, 2000))
    if draw(st.booleans()):
        panel["repeat"], panel["repeatDirection"] = "job", draw(st.sampled_from("hv"))
    return panel


def _wrap(panels: list[dict], top: int) -> int:
    """Lay panels left to right over 24 columns from `top`; the bottom."""
    x, y, line = 0, top, 0
    for panel in panels:
        grid = panel["gridPos"]
        if x + grid["w"] > 24:
            x, y, line = 0, y + line, 0
        grid.update(x=x, y=y)
        x, line = x + grid["w"], max(line, grid["h"])
    return y + line


@st.composite
def _variable(draw, name: str) -> dict:
    kind = draw(st.sampled_from(["query", "custom", "constant", "textbox", "interval"]))
    variable: dict = {"type": kind, "name": name, "label": draw(_TEXT.filter(bool))}
    if kind == "query":
        variable.update(
            datasource=dict(_SOURCE), query=f"label_values(up, {name})", refresh=2, sort=1
        )
        if draw(st.booleans()):
            variable.update(multi=True, includeAll=True)
    else:
        variable["query"] = draw(_TEXT.filter(bool))
    if kind == "interval":
        variable["refresh"] = 2  # an interval follows the time range: Grafana always says so
        if draw(st.booleans()):
            variable.update(auto=True, auto_count=draw(st.integers(0, 100)), auto_min="1m")
    if draw(st.booleans()):
        variable["hide"] = 2
    return variable


@st.composite
def classic_dashboards(draw) -> dict:
    ids = iter(range(1, 1000))
    panels: list[dict] = []
    top = draw(st.lists(_panel(), max_size=3))
    y = _wrap(top, 0)
    for panel in top:
        panel["id"] = next(ids)
    panels += top
    for title in draw(st.lists(_TEXT, max_size=3)):
        collapsed = draw(st.booleans())
        row = {
            "type": "row",
            "title": title,
            "collapsed": collapsed,
            "id": next(ids),
            "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
            "panels": [],
        }
        children = draw(st.lists(_panel(), max_size=3))
        bottom = _wrap(children, y + 1)
        for child in children:
            child["id"] = next(ids)
        panels.append(row)
        if collapsed:
            row["panels"] = children
            y += 1
        else:
            panels += children
            y = max(y + 1, bottom)
    names = draw(
        st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,7}", fullmatch=True), unique=True, max_size=3)
    )
    return {
        "uid": "generated",
        "title": draw(_TEXT),
        "tags": draw(st.lists(_TEXT, max_size=2)),
        "time": {"from": "now-1h", "to": "now"},
        "timezone": draw(st.sampled_from(["browser", "utc"])),
        "graphTooltip": draw(st.integers(0, 2)),
        "annotations": {"list": []},
        "templating": {"list": [draw(_variable(name)) for name in names]},
        "links": [],
        "panels": panels,
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(classic_dashboards())
def test_generated_dashboards_round_trip_through_v2(model: dict):
    spec = convert.to_v2(model)
    assert convert.schema_errors(spec) == []
    assert semdiff.diff(model, convert.to_classic(spec, "generated")) == []
