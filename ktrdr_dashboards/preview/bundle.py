"""The previews' page script bundled with esbuild: `assets/preview.js` with @grafana/data (the
newest Grafana minor, whatever Grafana the dashboards target) and uPlot, all pinned in
preview/package-lock.json and installed by `npm ci --prefix preview`. The bundle is written
under build/ at preview time and never committed."""

from __future__ import annotations

import os
import subprocess
from importlib import resources
from pathlib import Path

from ktrdr_dashboards.errors import DashboardError
from ktrdr_dashboards.preview.page import Bundle

NODE_MODULES = Path("preview/node_modules")
ESBUILD = NODE_MODULES / ".bin/esbuild"
BUNDLE_DIR = Path("build/preview-bundle")
TIMEOUT_S = 120


def _entry() -> Path:
    return Path(str(resources.files("ktrdr_dashboards.preview") / "assets" / "preview.js"))


def bundle(root: Path) -> Bundle:
    """Bundle the page script into build/preview-bundle/ and return it."""
    esbuild, modules = root / ESBUILD, root / NODE_MODULES
    for needed in (esbuild, modules / "@grafana/data/package.json", modules / "uplot/package.json"):
        if not needed.exists():
            raise DashboardError(
                f"{needed.relative_to(root)} is missing",
                fix="install the pinned preview packages: npm ci --prefix preview (nox does)",
            )
    out_dir = root / BUNDLE_DIR
    command = [
        str(esbuild),
        str(_entry()),
        "--bundle",
        "--format=iife",
        "--minify",
        "--target=chrome110",
        "--legal-comments=none",
        "--log-level=error",
        f"--outdir={out_dir}",
    ]
    # The entry lives in the Python package, outside preview/: NODE_PATH tells esbuild where
    # the pinned packages are.
    env = {**os.environ, "NODE_PATH": str(modules.resolve())}
    run = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S, env=env)
    if run.returncode != 0:
        detail = (run.stderr or run.stdout).strip().splitlines()[:1]
        raise DashboardError(f"esbuild could not bundle the preview script: {' '.join(detail)}")
    script = (out_dir / "preview.js").read_text(encoding="utf-8")
    style = (out_dir / "preview.css").read_text(encoding="utf-8")
    return Bundle(script, style)
