"""Previews in a real browser: every panel where Grafana's grid puts it, its title visible,
no overlaps, no console errors, data drawn, and a screenshot that is not blank.

Headless Chromium loads each generated page with a probe script prepended; the probe records
what the browser laid out (getBoundingClientRect) and every error, and writes it into the DOM
that `--dump-dom` prints."""

from __future__ import annotations

import json
import re
from itertools import combinations
from pathlib import Path

import pytest
from PIL import Image

from ktrdr_dashboards import browser, build, preview, preview_frames, preview_page, tools
from ktrdr_dashboards.errors import ToolMissingError

REPO_ROOT = Path(__file__).resolve().parent.parent

# Grafana's grid: 24 columns; 30 px rows; 8 px between columns and between rows.
COLUMNS, CELL_HEIGHT, MARGIN = 24, 30, 8
TOLERANCE_PX = 1.0  # Grafana rounds to whole pixels, the browser keeps fractions

# Grafana's dark-theme colours of the threshold names these dashboards use.
GRAFANA_COLOURS = {"green": "#73BF69", "yellow": "#FADE2A", "red": "#F2495C", "blue": "#5794F2"}

PROBE = "<script>" + (Path(__file__).parent / "preview_probe.js").read_text() + "</script>"

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


def hex_rgb(colour: str) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


@pytest.fixture(scope="module")
def previews(tmp_path_factory: pytest.TempPathFactory) -> dict[str, preview.PreviewPage]:
    out = tmp_path_factory.mktemp("preview")
    pages = preview.preview(build.Project(root=REPO_ROOT), out)
    return {page.name: page for page in pages}


@pytest.fixture(scope="module")
def models() -> dict[str, dict]:
    return {d.name: d.model for d in build.evaluate(build.Project(root=REPO_ROOT)).dashboards}


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
                assert seen["stats"] and all(s["value"] != "" for s in seen["stats"]), where
            elif kind == "table":
                assert seen["tableRows"] > 0, where
            elif kind in ("timeseries", "piechart", "state-timeline"):
                assert seen["chartShapes"] > 0, where


def test_stat_values_are_coloured_by_their_thresholds(reports, models):
    for name, model in models.items():
        measured = {p["id"]: p for p in reports[name]["panels"]}
        for panel in (p for p in model["panels"] if p["type"] == "stat"):
            steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
            for stat in measured[panel["id"]]["stats"]:
                value = float(stat["value"])
                step = [s for s in steps if s["value"] is None or value >= s["value"]][-1]
                assert stat["colour"] == hex_rgb(GRAFANA_COLOURS[step["color"]]), (
                    f"{name}: {panel['title']!r} = {value} should be {step['color']}"
                )


def test_an_outage_shows_as_a_down_band_on_the_availability_timeline(reports, models):
    model = models["worker-status"]
    panel = next(p for p in model["panels"] if p["type"] == "state-timeline")
    texts = {p["id"]: p for p in reports["worker-status"]["panels"]}[panel["id"]]["chartTexts"]
    assert "Down" in texts and "Up" in texts


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


def test_the_probe_catches_overlaps_script_errors_and_misplaced_panels(tmp_path, previews):
    """The checks above can fail: a page with two panels on the same cells and a script that
    throws is reported as such."""
    model = {
        "title": "Broken",
        "uid": "broken",
        "panels": [
            {
                "id": 1,
                "type": "text",
                "title": "First",
                "gridPos": {"x": 0, "y": 0, "w": 12, "h": 4},
            },
            {
                "id": 2,
                "type": "text",
                "title": "Second",
                "gridPos": {"x": 6, "y": 2, "w": 12, "h": 4},
            },
        ],
    }
    views = {1: preview_frames.PanelView("text"), 2: preview_frames.PanelView("text")}
    context = preview_page.PageContext(0, 3_600_000, "none", {})
    library = "throw new Error('charting library failed');"
    page = tmp_path / "broken.html"
    page.write_text(preview_page.render(model, views, context, {}, library), encoding="utf-8")
    report = probe(page, 400)
    assert any("charting library failed" in e for e in report["errors"])
    first, second = report["panels"]
    assert overlap(first["rect"], second["rect"]) > 0
    assert not second["titleVisible"] or not first["titleVisible"]


def test_a_missing_chromium_is_an_error_naming_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setattr(tools.shutil, "which", lambda program: None)
    with pytest.raises(
        ToolMissingError, match="apt-get install -y --no-install-recommends chromium"
    ):
        browser.screenshot(tmp_path / "page.html", tmp_path / "page.png", 800, 600)


def test_merge_joins_rows_on_the_fields_every_query_has():
    """As Grafana's `merge`: the status query (with a `status` label) and the uptime query
    (without it) give one row per instance, not two (Active Services, Worker Health Matrix)."""
    status = [
        {"Time": 1, "job": "ktrdr-backend", "instance": "backend:8000", "status": "Up", "A": 1},
        {"Time": 1, "job": "ktrdr-workers", "instance": "w:5003", "status": "Down", "A": 0},
    ]
    uptime = [{"Time": 1, "job": "ktrdr-backend", "instance": "backend:8000", "B": 3600.0}]
    rows = preview_frames._merge([status, uptime])
    assert rows == [
        {"Time": 1, "job": "ktrdr-backend", "instance": "backend:8000", "status": "Up", "A": 1,
         "B": 3600.0},
        {"Time": 1, "job": "ktrdr-workers", "instance": "w:5003", "status": "Down", "A": 0},
    ]  # fmt: skip
