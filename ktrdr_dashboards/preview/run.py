"""`preview`: for each built dashboard a self-contained HTML page that draws it as Grafana
lays it out and displays it (@grafana/data in the page), with data from a real Prometheus; what
the page shows once drawn in headless Chromium (<name>.seen.json); a PNG of it; and an index
page linking them, all in build/preview/."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ktrdr_dashboards import build, modes
from ktrdr_dashboards.errors import DashboardError
from ktrdr_dashboards.preview import browser
from ktrdr_dashboards.preview import bundle as preview_bundle
from ktrdr_dashboards.preview import data as preview_data
from ktrdr_dashboards.preview import page as preview_page

PAGE_MARGIN_PX = 16  # each side of the grid (preview.css)
WIDTH_PX = preview_data.GRID_WIDTH_PX + 2 * PAGE_MARGIN_PX
HEADER_PX = 150  # room for title, meta, variables and links above the grid
ROW_PX = 30 + 8  # Grafana's GRID_CELL_HEIGHT + GRID_CELL_VMARGIN
_SEEN = re.compile(r'<script type="application/json" id="preview-seen">(.*?)</script>', re.S)


@dataclass(frozen=True)
class PreviewPage:
    name: str
    title: str
    html: Path
    png: Path
    seen: Path


def page_height(model: Mapping[str, Any]) -> int:
    """Window height that shows the whole dashboard: header plus the grid's lowest panel (a
    collapsed row's panels included, drawn under its header)."""
    placed = preview_page.layout(model)
    bottom = max((p.grid["y"] + p.grid["h"] for p in placed), default=0)
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
    bundle: preview_page.Bundle,
    note: str,
    live: bool = False,
) -> dict[str, str]:
    """name -> HTML of each dashboard's preview page."""
    files = {name: f"{name}.html" for name in models}
    pages = {str(models[name].get("title")): files[name] for name in models}
    tagged = _tagged(models)
    out = {}
    for item in data:
        context = preview_page.PageContext(item.from_ms, item.to_ms, note, pages)
        out[item.name] = preview_page.render(
            models[item.name], item.targets, context, tagged, bundle, live
        )
    return out


def seen(page: Path, height: int) -> dict[str, Any]:
    """What the page shows once the browser drew it, as the page itself recorded it."""
    match = _SEEN.search(browser.dump_dom(page, WIDTH_PX, height))
    if not match:
        raise DashboardError(f"{page}: the page did not finish drawing (no #preview-seen)")
    return json.loads(match.group(1))


def write_seen(path: Path, view: Mapping[str, Any]) -> None:
    preview_page.write(path, json.dumps(view, indent=2, sort_keys=True, ensure_ascii=False) + "\n")


def preview(
    project: build.Project,
    out_dir: Path,
    screenshots: bool = True,
    data_source: preview_data.DataSource | None = None,
    live: bool = False,
) -> list[PreviewPage]:
    """Write build/preview/<name>.html, .seen.json (+ .png) for every dashboard and
    index.html. `data_source` answers the queries (default: a Prometheus started for this
    call); `live` makes the pages reload when the live preview rebuilt them."""
    bundle = preview_bundle.bundle(project.root)
    output = build.evaluate(project)
    dashboards = output.dashboards
    models = {d.name: d.model for d in dashboards}
    named = [(d.name, d.model) for d in dashboards]
    if data_source:
        data = data_source(named)
    else:  # the recorded series the dashboards read are backfilled beside the raw ones
        rules = modes.mode_of(output).recording_rules
        data = preview_data.evaluate(named, recording_rules=rules)
    note = (
        f"synthetic telemetry (environment {preview_data.ENVIRONMENT}) in Prometheus, "
        "queried as Grafana queries it"
    )
    html_by_name = render_pages(models, data, bundle, note, live)
    out_dir.mkdir(parents=True, exist_ok=True)
    pages = []
    for name, text in html_by_name.items():
        html_path, png_path = out_dir / f"{name}.html", out_dir / f"{name}.png"
        seen_path = out_dir / f"{name}.seen.json"
        preview_page.write(html_path, text)
        height = page_height(models[name])
        write_seen(seen_path, {"dashboard": name, **seen(html_path, height)})
        if screenshots:
            browser.screenshot(html_path, png_path, WIDTH_PX, height)
        title = str(models[name].get("title"))
        pages.append(PreviewPage(name, title, html_path, png_path, seen_path))
    index = [(p.title, p.html.name, p.png.name) for p in pages]
    preview_page.write(out_dir / "index.html", preview_page.index(index))
    return pages
