"""Previews in a real browser: every panel where Grafana's grid puts it, its title visible,
no overlaps, no console errors, data drawn, a screenshot that is not blank, and what a viewer
sees (<name>.seen.json, recorded by the page) matching what the panel JSON asks of Grafana.

Headless Chromium loads each generated page with a probe script prepended; the probe records
what the browser laid out (getBoundingClientRect) and every error, and writes it into the DOM
that `--dump-dom` prints. Expected colours come from the panel JSON and Grafana's own theme
(the pinned @grafana/data, asked through node), not from a copy in the tests."""

from __future__ import annotations

import json
import os
import re
import subprocess
from itertools import combinations
from pathlib import Path

import pytest
from PIL import Image

from ktrdr_dashboards import build, tools
from ktrdr_dashboards.errors import ToolMissingError
from ktrdr_dashboards.preview import browser
from ktrdr_dashboards.preview import bundle as preview_bundle
from ktrdr_dashboards.preview import frames as preview_frames
from ktrdr_dashboards.preview import page as preview_page
from ktrdr_dashboards.preview import run as preview
from ktrdr_dashboards.preview.frames import TargetResult

REPO_ROOT = Path(__file__).resolve().parents[2]

# Grafana's grid: 24 columns; 30 px rows; 8 px between columns and between rows.
COLUMNS, CELL_HEIGHT, MARGIN = 24, 30, 8
TOLERANCE_PX = 1.0  # Grafana rounds to whole pixels, the browser keeps fractions

# Grafana's colour of a name in its default (dark) theme, from the pinned @grafana/data.
THEME_COLOURS = """
globalThis.navigator = { language: "en-US", languages: ["en-US"] };
const g = require("@grafana/data");
const theme = g.createTheme();
const out = {};
for (const name of process.argv.slice(1)) {
  const colour = theme.visualization.getColorByName(name);
  out[name] = g.colorManipulator.asHexString(colour).toUpperCase();
}
console.log(JSON.stringify(out));
"""

PROBE = (
    "<script>"
    + (Path(__file__).resolve().parents[1] / "preview_probe.js").read_text()
    + "</script>"
)

_REPORT = re.compile(r'<script type="application/json" id="probe-report">(.*?)</script>', re.S)


def probe(page: Path, height: int) -> dict:
    """Load `page` with the probe first in <head>; return what the probe measured."""
    probed = page.with_name(f"probed-{page.name}")
    probed.write_text(page.read_text(encoding="utf-8").replace("<head>", "<head>" + PROBE, 1))
    dom = browser.dump_dom(probed, preview.WIDTH_PX, height)
    match = _REPORT.search(dom)
    assert match, f"the probe wrote no report for {page.name}"
    return json.loads(match.group(1))


def expected_rect(grid_pos: dict, grid_width: float) -> dict:
    """Where Grafana's grid (react-grid-layout) puts a panel, relative to the grid."""
    column = (grid_width - MARGIN * (COLUMNS - 1)) / COLUMNS
    return {
        "x": (column + MARGIN) * grid_pos["x"],
        "y": (CELL_HEIGHT + MARGIN) * grid_pos["y"],
        "w": column * grid_pos["w"] + MARGIN * (grid_pos["w"] - 1),
        "h": CELL_HEIGHT * grid_pos["h"] + MARGIN * (grid_pos["h"] - 1),
    }


def overlap(a: dict, b: dict) -> float:
    width = min(a["x"] + a["w"], b["x"] + b["w"]) - max(a["x"], b["x"])
    height = min(a["y"] + a["h"], b["y"] + b["h"]) - max(a["y"], b["y"])
    return max(0.0, width) * max(0.0, height)


def grafana_colours(*names: str) -> dict[str, str]:
    """name -> #RRGGBB as Grafana draws it (dark theme)."""
    env = {**os.environ, "NODE_PATH": str(REPO_ROOT / preview_bundle.NODE_MODULES)}
    run = subprocess.run(
        ["node", "-e", THEME_COLOURS, *names], capture_output=True, text=True, env=env, check=True
    )
    return json.loads(run.stdout)


def panel_of(model: dict, title: str) -> dict:
    return next(p for p in model["panels"] if p.get("title") == title)


def seen_of(seen: dict, name: str, title: str) -> dict:
    return next(p for p in seen[name]["panels"] if p["title"] == title)


def number_in(text: str) -> float:
    return float(re.match(r"-?[\d.]+", text).group(0))


@pytest.fixture(scope="module")
def previews(tmp_path_factory: pytest.TempPathFactory) -> dict[str, preview.PreviewPage]:
    out = tmp_path_factory.mktemp("preview")
    pages = preview.preview(build.Project(root=REPO_ROOT), out)
    return {page.name: page for page in pages}


@pytest.fixture(scope="module")
def models() -> dict[str, dict]:
    return {d.name: d.model for d in build.evaluate(build.Project(root=REPO_ROOT)).dashboards}


@pytest.fixture(scope="module")
def seen(previews: dict[str, preview.PreviewPage]) -> dict[str, dict]:
    return {name: json.loads(page.seen.read_text()) for name, page in previews.items()}


@pytest.fixture(scope="module")
def reports(previews: dict[str, preview.PreviewPage], models: dict[str, dict]) -> dict[str, dict]:
    return {
        name: probe(page.html, preview.page_height(models[name])) for name, page in previews.items()
    }


def test_a_page_and_a_png_per_dashboard_linked_from_the_index(previews, models):
    assert set(previews) == set(models)
    index = (next(iter(previews.values())).html.parent / "index.html").read_text()
    for page in previews.values():
        assert page.html.is_file() and page.png.is_file()
        assert f'href="{page.html.name}"' in index and f'src="{page.png.name}"' in index
        assert page.title in index


def test_every_panel_title_is_visible_where_its_grid_pos_puts_it(reports, models):
    for name, model in models.items():
        report = reports[name]
        measured = {p["id"]: p for p in report["panels"]}
        for panel in model["panels"]:
            where = f"{name}: {panel['title']!r}"
            seen = measured.get(panel["id"])
            assert seen is not None, f"{where} is not on the page"
            assert seen["title"] == panel["title"], where
            assert seen["titleVisible"] and seen["titleInside"], f"{where}: title hidden"
            assert seen["titleFits"], f"{where}: title cut off"
            expected = expected_rect(panel["gridPos"], report["gridWidth"])
            for key, value in expected.items():
                assert seen["rect"][key] == pytest.approx(value, abs=TOLERANCE_PX), (
                    f"{where}: {key} is {seen['rect'][key]:.1f}, gridPos says {value:.1f}"
                )


def test_no_panel_overlaps_another(reports):
    for name, report in reports.items():
        for a, b in combinations(report["panels"], 2):
            assert overlap(a["rect"], b["rect"]) == 0, (
                f"{name}: {a['title']!r} overlaps {b['title']!r}"
            )


def test_pages_load_without_console_errors_and_finish_drawing(reports):
    for name, report in reports.items():
        assert report["errors"] == [], name
        assert report["rendered"] == "true", f"{name}: the page script did not finish"


def test_every_panel_shows_data(reports, models):
    """No "No data" and no query error on any panel; each type drew its kind of content."""
    for name, model in models.items():
        measured = {p["id"]: p for p in reports[name]["panels"]}
        for panel in model["panels"]:
            seen, where = measured[panel["id"]], f"{name}: {panel['title']!r}"
            assert seen["noData"] == 0 and seen["queryErrors"] == [], where
            kind = panel["type"]
            if kind == "stat":
                assert seen["stats"] > 0, where
            elif kind == "table":
                assert seen["tableRows"] > 0, where
            elif kind in ("timeseries", "piechart", "state-timeline"):
                assert seen["chartShapes"] > 0, where


def test_seen_json_lists_every_panel_with_its_title_and_type(previews, seen, models):
    for name, model in models.items():
        assert previews[name].seen.name == f"{name}.seen.json"
        expected = [(p["title"], p["type"]) for p in model["panels"] if p["type"] != "row"]
        assert [(p["title"], p["type"]) for p in seen[name]["panels"]] == expected, name
        for panel in seen[name]["panels"]:
            assert "notRendered" not in panel and "noData" not in panel, (name, panel["title"])


def test_stat_values_are_coloured_by_their_thresholds(seen, models):
    for name, model in models.items():
        for panel in (p for p in model["panels"] if p["type"] == "stat"):
            steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
            colours = grafana_colours(*(step["color"] for step in steps))
            for stat in seen_of(seen, name, panel["title"])["stats"]:
                value = number_in(stat["text"])
                step = [s for s in steps if s["value"] is None or value >= s["value"]][-1]
                assert stat["colour"] == colours[step["color"]], (
                    f"{name}: {panel['title']!r} = {stat['text']} should be {step['color']}"
                )


def test_uptime_is_shown_in_grafanas_duration_unit(seen, models):
    """Active Services: the Uptime column (unit s) of the backend, started three days before
    the preview's "now", reads as Grafana writes 259200 s."""
    assert (
        panel_of(models["system-overview"], "Active Services")["fieldConfig"]["defaults"]["unit"]
        == "s"
    )
    table = seen_of(seen, "system-overview", "Active Services")["table"]
    uptime, service = table["columns"].index("Uptime"), table["columns"].index("Service")
    backend = next(row for row in table["rows"] if row[service]["text"] == "ktrdr-backend")
    assert backend[uptime]["text"] == "3 days"


def test_status_cells_carry_the_value_mappings_text_and_colour(seen, models):
    for name, title in (
        ("system-overview", "Active Services"),
        ("worker-status", "Worker Health Matrix"),
    ):
        mapping = panel_of(models[name], title)["fieldConfig"]["defaults"]["mappings"][0]
        colours = grafana_colours(*(m["color"] for m in mapping["options"].values()))
        table = seen_of(seen, name, title)["table"]
        status = table["columns"].index("Status")
        cells = [row[status] for row in table["rows"]]
        assert cells, f"{name}: {title} has no rows"
        for cell in cells:
            assert cell["colour"] == colours[mapping["options"][cell["text"]]["color"]], (
                name,
                cell,
            )


def test_operation_counts_are_whole_numbers(seen, models):
    panel = panel_of(models["operations"], "Operations by Type")
    assert panel["fieldConfig"]["defaults"]["decimals"] == 0
    slices = seen_of(seen, "operations", "Operations by Type")["slices"]
    assert slices and all(re.fullmatch(r"\d+", s["value"]) for s in slices), slices
    for name in ("Operations/Hour", "Backtests/Hour", "Training/Hour"):
        text = seen_of(seen, "operations", name)["stats"][0]["text"]
        assert re.fullmatch(r"\d+", text), (name, text)


def test_series_colours_follow_the_panels_overrides(seen, models):
    """Success vs Failure Rate: each outcome in the colour its override names."""
    panel = panel_of(models["operations"], "Success vs Failure Rate")
    fixed = {}
    for override in panel["fieldConfig"]["overrides"]:
        colour = next(
            p["value"]["fixedColor"] for p in override["properties"] if p["id"] == "color"
        )
        for series in override["matcher"]["options"]["names"]:
            fixed[series] = colour
    colours = grafana_colours(*fixed.values())
    legend = seen_of(seen, "operations", "Success vs Failure Rate")["legend"]
    drawn = {s["name"]: s["colour"] for s in legend["series"]}
    assert set(drawn) == set(fixed)
    for series, colour in fixed.items():
        assert drawn[series] == colours[colour], series


def test_legends_show_the_calculations_the_panels_ask_for(seen, models):
    for name, model in models.items():
        for panel in (p for p in model["panels"] if p["type"] == "timeseries"):
            calcs = panel["options"]["legend"]["calcs"]
            legend = seen_of(seen, name, panel["title"])["legend"]
            assert len(legend["calcs"]) == len(calcs), (name, panel["title"])
            for series in legend["series"]:
                assert len(series["calcs"]) == len(calcs) and all(series["calcs"]), series
            # palette-classic: series take Grafana's classic palette in order
            if not panel["fieldConfig"]["overrides"]:
                colours = [s["colour"] for s in legend["series"]]
                assert len(set(colours)) == len(colours), (name, panel["title"])


def test_an_outage_shows_as_a_down_band_in_the_mappings_colour(seen, models):
    panel = next(p for p in models["worker-status"]["panels"] if p["type"] == "state-timeline")
    options = panel["fieldConfig"]["defaults"]["mappings"][0]["options"]
    colours = grafana_colours(*(m["color"] for m in options.values()))
    by_text = {m["text"]: colours[m["color"]] for m in options.values()}
    rows = seen_of(seen, "worker-status", panel["title"])["timeline"]
    bands = [band for row in rows for band in row["bands"]]
    assert {b["text"] for b in bands} == {"Up", "Down"}
    for band in bands:
        assert band["colour"] == by_text[band["text"]], band


def test_screenshots_show_every_panel(previews, reports, models):
    """The PNG is the whole page, and inside every panel there is more than a flat fill."""
    for name, page in previews.items():
        image = Image.open(page.png).convert("RGB")
        assert image.size == (preview.WIDTH_PX, preview.page_height(models[name]))
        for panel in reports[name]["panels"]:
            box = panel["page"]
            area = (
                int(box["x"]),
                int(box["y"]),
                int(box["x"] + box["w"]),
                int(box["y"] + box["h"]),
            )
            colours = image.crop(area).getcolors(maxcolors=1 << 16) or []
            assert len(colours) > 8, f"{name}: {panel['title']!r} is blank in {page.png.name}"


def _page(tmp_path: Path, panels: list[dict], targets: dict, bundle=None) -> Path:
    model = {"title": "Fixture", "uid": "fixture", "panels": panels}
    context = preview_page.PageContext(0, 3_600_000, "none", {})
    bundle = bundle or preview_bundle.bundle(REPO_ROOT)
    page = tmp_path / "fixture.html"
    page.write_text(preview_page.render(model, targets, context, {}, bundle), encoding="utf-8")
    return page


def _panel(panel_id: int, kind: str, title: str, y: int, **extra) -> dict:
    grid = {"x": 0, "y": y, "w": 12, "h": 6}
    return {"id": panel_id, "type": kind, "title": title, "gridPos": grid, **extra}


def test_the_probe_catches_overlaps_script_errors_and_misplaced_panels(tmp_path):
    """The checks above can fail: a page with two panels on the same cells and a script that
    throws is reported as such."""
    first, second = _panel(1, "text", "First", 0), _panel(2, "text", "Second", 2)
    second["gridPos"]["x"] = 6
    broken = preview_page.Bundle("throw new Error('page script failed');", "")
    report = probe(_page(tmp_path, [first, second], {}, broken), 400)
    assert any("page script failed" in e for e in report["errors"])
    first, second = report["panels"]
    assert overlap(first["rect"], second["rect"]) > 0
    assert not second["titleVisible"] or not first["titleVisible"]


def test_what_the_preview_cannot_draw_is_shown_and_listed_never_drawn_wrong(tmp_path):
    """A panel type without a renderer, and an option of a known type that the preview does
    not draw, each show a "not rendered: <reason>" box and say so in what was seen."""
    bars = {"defaults": {"unit": "none", "custom": {"drawStyle": "bars"}}, "overrides": []}
    panels = [_panel(1, "gauge", "Gauge", 0), _panel(2, "timeseries", "Bars", 6, fieldConfig=bars)]
    seen = preview.seen(_page(tmp_path, panels, {}), 800)
    reasons = {p["title"]: p.get("notRendered") for p in seen["panels"]}
    assert reasons == {
        "Gauge": "not rendered: panel type gauge",
        "Bars": "not rendered: timeseries drawStyle bars",
    }


def test_a_collapsed_rows_panels_are_drawn_under_its_header_and_push_the_rest_down(tmp_path):
    """A collapsed row keeps its panels inside it, at the places they had when it was last
    open: the page draws them, with their data, from the line under the row's header (the row
    marked collapsed), and the panels below the row move down to make room."""
    config = {"defaults": {"unit": "none"}, "overrides": []}

    def stat(panel_id: int, title: str, x: int, y: int, h: int) -> dict:
        panel = _panel(
            panel_id, "stat", title, y, fieldConfig=config, options={"graphMode": "none"}
        )
        panel["gridPos"].update(x=x, h=h)
        return panel

    inside = [stat(11, "Inside A", 0, 30, 6), stat(12, "Inside B", 12, 30, 4),
              stat(13, "Inside C", 0, 36, 3)]  # fmt: skip
    row = {"id": 10, "type": "row", "title": "Details", "collapsed": True,
           "gridPos": {"x": 0, "y": 6, "w": 24, "h": 1}, "panels": inside}  # fmt: skip
    panels = [stat(1, "Above", 0, 0, 6), row, stat(2, "Below", 0, 7, 5)]
    result = [{"metric": {}, "value": [3600, "7"]}]
    targets = {p["id"]: [TargetResult("A", "x", True, result)] for p in [*inside, panels[0]]}
    targets[2] = [TargetResult("A", "x", True, result)]
    page = _page(tmp_path, panels, targets)
    # By hand: the row's panels from line 7 (their top, 30, becomes 7; C stays 6 lines below
    # A), down to line 16; "Below" moves from 7 to 16.
    where = {1: (0, 0, 6), 10: (0, 6, 1), 11: (0, 7, 6), 12: (12, 7, 4), 13: (0, 13, 3),
             2: (0, 16, 5)}  # fmt: skip
    report = probe(page, preview.HEADER_PX + 22 * preview.ROW_PX)
    assert report["errors"] == [] and report["rendered"] == "true"
    measured = {p["id"]: p for p in report["panels"]}
    assert sorted(measured) == sorted(where)
    for panel_id, (x, y, h) in where.items():
        w = 24 if panel_id == 10 else 12
        expected = expected_rect({"x": x, "y": y, "w": w, "h": h}, report["gridWidth"])
        seen_panel = measured[panel_id]
        assert seen_panel["titleVisible"], seen_panel["title"]
        for key, value in expected.items():
            assert seen_panel["rect"][key] == pytest.approx(value, abs=TOLERANCE_PX), (
                f"{seen_panel['title']}: {key} {seen_panel['rect'][key]:.1f}, expected {value:.1f}"
            )
    assert [p["id"] for p in report["panels"] if p["collapsed"]] == [10]
    for a, b in combinations(report["panels"], 2):
        assert overlap(a["rect"], b["rect"]) == 0, (a["title"], b["title"])
    seen = preview.seen(page, preview.HEADER_PX + 22 * preview.ROW_PX)
    drawn = {p["title"]: p for p in seen["panels"]}
    for title in ("Inside A", "Inside B", "Inside C"):
        assert drawn[title]["collapsedRow"] == "Details", title
        assert drawn[title]["stats"][0]["text"] == "7", title
    assert "collapsedRow" not in drawn["Above"] and "collapsedRow" not in drawn["Below"]


def test_a_unit_unknown_to_grafana_shows_the_number_with_the_unit_after_it(tmp_path):
    config = {"defaults": {"unit": "widgets", "decimals": 0}, "overrides": []}
    options = {"graphMode": "none"}
    panel = _panel(1, "stat", "Widgets", 0, fieldConfig=config, options=options)
    result = [{"metric": {}, "value": [3600, "42"]}]
    targets = {1: [TargetResult("A", "widgets", True, result)]}
    seen = preview.seen(_page(tmp_path, [panel], targets), 400)
    assert seen["panels"][0]["stats"][0]["text"] == "42 widgets"


def test_a_panel_without_data_says_no_data(tmp_path):
    config = {"defaults": {"unit": "none"}, "overrides": []}
    stat = _panel(1, "stat", "Empty", 0, fieldConfig=config, options={"graphMode": "none"})
    panels = [stat, _panel(2, "timeseries", "Empty lines", 6, fieldConfig=config)]
    targets = {1: [TargetResult("A", "x", True, [])], 2: [TargetResult("A", "x", False, [])]}
    seen = preview.seen(_page(tmp_path, panels, targets), 800)
    assert [p.get("noData") for p in seen["panels"]] == ["No data", "No data"], seen


def test_a_missing_chromium_is_an_error_naming_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setattr(tools.shutil, "which", lambda program: None)
    with pytest.raises(
        ToolMissingError, match="apt-get install -y --no-install-recommends chromium"
    ):
        browser.screenshot(tmp_path / "page.html", tmp_path / "page.png", 800, 600)


def test_frames_carry_the_legend_and_the_step_as_grafanas_prometheus_source_does():
    result = [{"metric": {"__name__": "up", "instance": "w:1"}, "values": [[60, "1"], [75, "0"]]}]
    target = TargetResult("A", "up", False, result, "{{instance}} up", step_s=15)
    (frame,) = preview_frames.panel_frames([target])
    time, value = frame["fields"]
    assert time["values"] == [60_000, 75_000] and time["config"] == {"interval": 15_000}
    assert value["values"] == [1.0, 0.0]
    assert value["config"] == {"displayNameFromDS": "w:1 up"}
    assert value["labels"] == {"__name__": "up", "instance": "w:1"}
