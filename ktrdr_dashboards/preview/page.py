"""One self-contained HTML page per dashboard: header (title, time range, variables, links)
and every panel in a CSS grid that places it at its `gridPos` the way Grafana's grid does (a
collapsed row's panels under its header, as Grafana shows them when the row is opened).
The charting library and the page script are inlined, and a Content-Security-Policy forbids
loading anything, so the page shows the same offline as in CI."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ktrdr_dashboards import model as dashboard_model
from ktrdr_dashboards.preview import frames as preview_frames
from ktrdr_dashboards.preview.frames import TargetResult

# Nothing may be fetched at view time: scripts and styles are inline, images data: only.
CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"
# The live preview's page also asks its own server whether a rebuild happened.
LIVE_CSP = CSP + "; connect-src 'self'"


@dataclass(frozen=True)
class PageContext:
    """What the header says about where the data came from, and the sibling pages."""

    from_ms: int
    to_ms: int
    data_note: str  # e.g. "synthetic telemetry (environment local), Prometheus 2.42"
    pages: Mapping[str, str]  # dashboard title -> preview file name, for dashboard links


@dataclass(frozen=True)
class Placed:
    """A panel and the grid cells the page draws it on."""

    panel: Mapping[str, Any]
    grid: dict[str, int]  # x, y, w, h in Grafana's grid units
    collapsed_row: str | None = None  # title of the collapsed row that keeps the panel


def _grid(panel: Mapping[str, Any]) -> dict[str, int]:
    grid = panel.get("gridPos") or {}
    return {k: int(grid.get(k, 0)) for k in ("x", "y", "w", "h")}


def layout(model: Mapping[str, Any]) -> list[Placed]:
    """Every panel of the model's walk (model.panels_with_rows) where the page draws it: each
    top-level panel at its gridPos, and the panels a collapsed row keeps inside it right under
    the row's header, as Grafana places them when the row is opened (the highest on the line
    below the header, the others where they stand relative to it); the panels below the row
    move down by the lines those take."""
    placed: list[Placed] = []
    shift = 0  # lines added above the current panel by the collapsed rows opened so far
    opened: tuple[int, int] | None = None  # an opened row's first line, its panels' top line
    bottom = 0  # the lowest line its panels reach
    for row, panel in dashboard_model.panels_with_rows(model):
        grid = _grid(panel)
        if row is None:
            if opened:
                shift += bottom - opened[0]
                opened = None
            grid["y"] += shift
            placed.append(Placed(panel, grid))
            inside = [_grid(c) for c in panel.get("panels") or [] if isinstance(c, dict)]
            if inside:
                opened = (grid["y"] + 1, min(c["y"] for c in inside))
                bottom = opened[0]
        elif opened:
            grid["y"] = opened[0] + grid["y"] - opened[1]
            bottom = max(bottom, grid["y"] + grid["h"])
            placed.append(Placed(panel, grid, str(row.get("title", ""))))
    return placed


def _asset(name: str) -> str:
    return (resources.files("ktrdr_dashboards.preview") / "assets" / name).read_text(
        encoding="utf-8"
    )


def _inline_script(source: str) -> str:
    # Inside <script>, "</script" would end the element early.
    return source.replace("</script", "<\\/script")


def _script_json(value: Any) -> str:
    # Inside <script>, "</" would end the element early.
    return json.dumps(value, sort_keys=True).replace("</", "<\\/")


@dataclass(frozen=True)
class Bundle:
    """The page script and its stylesheet, bundled by esbuild (preview_bundle)."""

    script: str
    style: str


def panel_script_data(panel: Mapping[str, Any], targets: Sequence[TargetResult]) -> dict[str, Any]:
    """What the page script gets for one panel: the panel JSON as built (without its queries)
    and the data frames its queries returned."""
    return {
        "id": panel.get("id"),
        "panel": {k: v for k, v in panel.items() if k != "targets"},
        "frames": preview_frames.panel_frames(targets),
    }


def _panel_html(placed: Placed, targets: Sequence[TargetResult]) -> str:
    panel, grid = placed.panel, placed.grid
    # CSS grid lines are 1-based; a span keeps w/h exactly as Grafana's grid units.
    style = (
        f"grid-column: {grid['x'] + 1} / span {grid['w']}; "
        f"grid-row: {grid['y'] + 1} / span {grid['h']};"
    )
    attributes = (
        f'data-panel-id="{panel.get("id")}" data-type="{html.escape(str(panel.get("type")))}" '
        f'data-grid="{grid["x"]},{grid["y"]},{grid["w"]},{grid["h"]}" style="{style}"'
    )
    if placed.collapsed_row is not None:
        attributes += f' data-collapsed-row="{html.escape(placed.collapsed_row)}"'
    title = html.escape(str(panel.get("title", "")))
    if panel.get("type") == "row":
        heading = f'<h2 class="panel-title">{title}</h2>'
        if not panel.get("collapsed"):
            return f'<section class="row-panel" {attributes}>{heading}</section>'
        # Grafana shows a collapsed row's header with how many panels it keeps.
        inside = [c for c in panel.get("panels") or [] if isinstance(c, dict)]
        count = f"({len(inside)} panel{'s' * (len(inside) != 1)})"
        return (
            f'<section class="row-panel collapsed" data-collapsed="true" {attributes}>'
            f'{heading}<span class="row-count">{count}</span></section>'
        )
    errors = "".join(
        f'<div class="panel-errors">{html.escape(e)}</div>'
        for e in preview_frames.panel_errors(targets)
    )
    description = html.escape(str(panel.get("description", "")), quote=True)
    return (
        f'<section class="panel" {attributes}>'
        f'<div class="panel-header"><h2 class="panel-title" title="{description}">{title}</h2>'
        f'</div>{errors}<div class="panel-body"></div></section>'
    )


def _variables_html(model: Mapping[str, Any]) -> str:
    items = []
    for variable in (model.get("templating") or {}).get("list") or []:
        if variable.get("hide") == 2:
            continue
        current = (variable.get("current") or {}).get("text", "")
        text = ", ".join(current) if isinstance(current, list) else str(current)
        label = variable.get("label") or variable.get("name")
        items.append(
            f'<span class="variable" data-variable="{html.escape(str(variable.get("name")))}">'
            f'<span class="label">{html.escape(str(label))}</span>'
            f'<span class="value">{html.escape(text)}</span></span>'
        )
    return "".join(items)


def _links_html(model: Mapping[str, Any], context: PageContext, tagged: Mapping[str, list]) -> str:
    """Dashboard links: a `dashboards` link lists the dashboards with its tags (as preview
    pages); a `link` keeps its Grafana URL."""
    items = []
    for link in model.get("links") or []:
        if link.get("type") == "dashboards":
            for title in sorted({t for tag in link.get("tags") or [] for t in tagged.get(tag, [])}):
                if title != model.get("title") and title in context.pages:
                    items.append(
                        f'<a class="dashboard-link" href="{html.escape(context.pages[title])}">'
                        f"{html.escape(title)}</a>"
                    )
        else:
            items.append(
                f'<a class="dashboard-link" href="{html.escape(str(link.get("url", "")))}" '
                f'title="{html.escape(str(link.get("tooltip", "")))}">'
                f"{html.escape(str(link.get('title', '')))} ↗</a>"
            )
    return "".join(items)


def _utc(ms: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def render(
    model: Mapping[str, Any],
    targets: Mapping[int, Sequence[TargetResult]],
    context: PageContext,
    tagged: Mapping[str, list],
    bundle: Bundle,
    live: bool = False,
) -> str:
    """The preview page of one dashboard, every panel where `layout` puts it (a collapsed row's
    panels under its header). `targets` maps panel id -> its query results; `tagged` maps
    tag -> dashboard titles; `bundle` is the page script, inlined; `live` adds the live
    preview's reload (assets/live.js)."""
    placed = layout(model)
    script_data = {
        "range": {"from": context.from_ms, "to": context.to_ms},
        "panels": [
            panel_script_data(p.panel, targets.get(p.panel.get("id"), []))
            for p in placed
            if p.panel.get("type") != "row"
        ],
    }
    title = html.escape(str(model.get("title", "")))
    time = model.get("time") or {}
    live_script = f"<script>{_asset('live.js')}</script>" if live else ""
    grid = "\n".join(_panel_html(p, targets.get(p.panel.get("id"), [])) for p in placed)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{LIVE_CSP if live else CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — preview</title>
<style>{bundle.style}</style>
<style>{_asset("preview.css")}</style>
</head><body>
<header class="dashboard-header">
<h1>{title}</h1>
<div class="meta"><span>uid {html.escape(str(model.get("uid", "")))}</span>
<span>time {html.escape(str(time.get("from")))} → {html.escape(str(time.get("to")))}
({_utc(context.from_ms)} to {_utc(context.to_ms)})</span>
<span>refresh {html.escape(str(model.get("refresh", "")))}</span>
<span>data: {html.escape(context.data_note)}</span></div>
<div class="variables">{_variables_html(model)}</div>
<div class="links">{_links_html(model, context, tagged)}</div>
</header>
<main class="dashboard-grid">
{grid}
</main>
<script id="preview-data" type="application/json">{_script_json(script_data)}</script>
<script>{_inline_script(bundle.script)}</script>{live_script}
</body></html>
"""


def index(pages: Sequence[tuple[str, str, str]]) -> str:
    """The index page: (title, html file, png file) per dashboard."""
    items = "\n".join(
        f'<li><a href="{html.escape(page)}">{html.escape(title)}</a> '
        f'(<a href="{html.escape(png)}">PNG</a>)<br><a href="{html.escape(page)}">'
        f'<img src="{html.escape(png)}" alt="{html.escape(title)}" width="480"></a></li>'
        for title, page, png in pages
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>KTRDR dashboard previews</title>
<style>body {{ background: #111217; color: #ccccdc; font-family: sans-serif; margin: 16px; }}
a {{ color: #6e9fff; }} li {{ margin: 0 0 24px; list-style: none; }}
img {{ border: 1px solid rgba(204,204,220,.2); margin-top: 6px; }}</style></head><body>
<h1>KTRDR dashboard previews</h1>
<ul>
{items}
</ul>
</body></html>
"""


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
