"""`preview`: for each built dashboard a self-contained HTML page that draws it as Grafana
lays it out, with data from a real Prometheus, a PNG of it from headless Chromium, and an
index page linking them, all in build/preview/."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ktrdr_dashboards import browser, build, modes, preview_data, preview_frames, preview_page
from ktrdr_dashboards.errors import DashboardError

# The pinned charting library, installed by `npm ci` in preview/ (package-lock.json).
CHARTING_LIBRARY = Path("preview/node_modules/echarts/dist/echarts.min.js")
PAGE_MARGIN_PX = 16  # each side of the grid (preview.css)
WIDTH_PX = preview_data.GRID_WIDTH_PX + 2 * PAGE_MARGIN_PX
HEADER_PX = 150  # room for title, meta, variables and links above the grid
ROW_PX = 30 + 8  # Grafana's GRID_CELL_HEIGHT + GRID_CELL_VMARGIN


@dataclass(frozen=True)
class PreviewPage:
    name: str
    title: str
    html: Path
    png: Path


def charting_library(root: Path) -> str:
    path = root / CHARTING_LIBRARY
    if not path.is_file():
        raise DashboardError(
            f"{CHARTING_LIBRARY} is missing",
            fix="install the pinned charting library: npm ci --prefix preview (nox does)",
        )
    return path.read_text(encoding="utf-8")


def page_height(model: Mapping[str, Any]) -> int:
    """Window height that shows the whole dashboard: header plus the grid's lowest panel."""
    bottom = max(
        (p["gridPos"]["y"] + p["gridPos"]["h"] for p in model.get("panels") or []), default=0
    )
    return HEADER_PX + bottom * ROW_PX + PAGE_MARGIN_PX


def _tagged(models: Mapping[str, Mapping[str, Any]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for model in models.values():
        for tag in model.get("tags") or []:
            found.setdefault(tag, []).append(str(model.get("title")))
    return found


def render_pages(
    models: Mapping[str, Mapping[str, Any]],
    data: list[preview_data.DashboardData],
    library: str,
    note: str,
) -> dict[str, str]:
    """name -> HTML of each dashboard's preview page."""
    files = {name: f"{name}.html" for name in models}
    pages = {str(models[name].get("title")): files[name] for name in models}
    tagged = _tagged(models)
    out = {}
    for item in data:
        model = models[item.name]
        views = {
            panel["id"]: preview_frames.panel_view(panel, item.targets.get(panel["id"], []))
            for panel in model.get("panels") or []
        }
        context = preview_page.PageContext(item.from_ms, item.to_ms, note, pages)
        out[item.name] = preview_page.render(model, views, context, tagged, library)
    return out


def preview(project: build.Project, out_dir: Path, screenshots: bool = True) -> list[PreviewPage]:
    """Write build/preview/<name>.html (+ .png) for every dashboard and index.html."""
    library = charting_library(project.root)
    output = build.evaluate(project)
    dashboards = output.dashboards
    models = {d.name: d.model for d in dashboards}
    rules = modes.mode_of(output).recording_rules  # the series they read, backfilled
    data = preview_data.evaluate([(d.name, d.model) for d in dashboards], recording_rules=rules)
    note = (
        f"synthetic telemetry (environment {preview_data.ENVIRONMENT}) in Prometheus, "
        "queried as Grafana queries it"
    )
    html_by_name = render_pages(models, data, library, note)
    out_dir.mkdir(parents=True, exist_ok=True)
    pages = []
    for name, text in html_by_name.items():
        html_path, png_path = out_dir / f"{name}.html", out_dir / f"{name}.png"
        preview_page.write(html_path, text)
        if screenshots:
            browser.screenshot(html_path, png_path, WIDTH_PX, page_height(models[name]))
        pages.append(PreviewPage(name, str(models[name].get("title")), html_path, png_path))
    index = [(p.title, p.html.name, p.png.name) for p in pages]
    preview_page.write(out_dir / "index.html", preview_page.index(index))
    return pages
