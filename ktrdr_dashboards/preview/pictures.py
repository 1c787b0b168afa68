"""Pictures for docs/previews.md: for each panel type the dashboards use (in collapsed rows
too), its first panel as the preview draws it, next to what its panel JSON asks for (field
config, options, transformations), as one small PNG per type in docs/previews/."""

from __future__ import annotations

import html
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ktrdr_dashboards import build
from ktrdr_dashboards import model as dashboard_model
from ktrdr_dashboards.preview import browser
from ktrdr_dashboards.preview import bundle as preview_bundle
from ktrdr_dashboards.preview import data as preview_data
from ktrdr_dashboards.preview import page as preview_page
from ktrdr_dashboards.preview import run as preview

OUT_DIR = Path("docs/previews")
SCALE = 0.6  # pictures are kept small
STYLE = f"""<style>html {{ zoom: {SCALE}; }} header.dashboard-header {{ display: none; }}
main.dashboard-grid {{ margin-top: 16px; }}
pre.intent {{ position: absolute; top: 16px; left: 51%; right: 16px; bottom: 16px; margin: 0;
  padding: 8px; font: 11px/1.35 "DejaVu Sans Mono", monospace; color: #ccccdc;
  background: #181b1f; border: 1px solid rgba(204,204,220,0.12); overflow: hidden;
  white-space: pre-wrap; }}</style>"""


def intent(panel: Mapping[str, Any]) -> str:
    """What the panel JSON asks Grafana to show, without queries, links and layout."""
    wanted = {k: panel[k] for k in ("fieldConfig", "options", "transformations") if k in panel}
    defaults = dict(wanted.get("fieldConfig", {}).get("defaults", {}))
    defaults.pop("links", None)
    if "fieldConfig" in wanted:
        wanted["fieldConfig"] = {**wanted["fieldConfig"], "defaults": defaults}
    return f"{panel['type']} — {panel['title']}\n" + json.dumps(wanted, indent=1, sort_keys=True)


def write(project: build.Project, out_dir: Path) -> list[Path]:
    """docs/previews/<type>.png for every panel type; returns the files written."""
    bundle = preview_bundle.bundle(project.root)
    dashboards = build.evaluate(project).dashboards
    firsts: dict[str, tuple[str, dict]] = {}
    for dashboard in dashboards:
        for panel in dashboard_model.panels(dashboard.model):
            if panel.get("type") != "row":
                firsts.setdefault(panel["type"], (dashboard.name, panel))
    data = {d.name: d for d in preview_data.evaluate([(d.name, d.model) for d in dashboards])}
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for kind, (name, panel) in sorted(firsts.items()):
        placed = {**panel, "gridPos": {"x": 0, "y": 0, "w": 12, "h": panel["gridPos"]["h"]}}
        item = data[name]
        context = preview_page.PageContext(item.from_ms, item.to_ms, "", {})
        model = {"title": panel["title"], "panels": [placed]}
        page = preview_page.render(model, item.targets, context, {}, bundle)
        page = page.replace("</head>", STYLE + "</head>", 1).replace(
            "</main>", f'</main><pre class="intent">{html.escape(intent(panel))}</pre>', 1
        )
        html_path = out_dir / f"{kind}.html"
        html_path.write_text(page, encoding="utf-8")
        height = 32 + max(panel["gridPos"]["h"], 8) * preview.ROW_PX  # room for the JSON
        png = out_dir / f"{kind}.png"
        size = (int(preview.WIDTH_PX * SCALE), int(height * SCALE))
        browser.screenshot(html_path, png, *size)
        html_path.unlink()
        written.append(png)
    return written
