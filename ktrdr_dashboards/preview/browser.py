"""Headless Chromium (Debian `chromium`) for previews and browser tests: a fresh profile per
run and every network feature off, so it loads the local page and nothing else."""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

from ktrdr_dashboards import tools
from ktrdr_dashboards.errors import DashboardError

# Without the background-networking flags Chromium tries to reach Google's hosts at start.
FLAGS = (
    "--headless",
    "--no-sandbox",  # runs as root in CI
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--virtual-time-budget=5000",  # let the page script finish before the snapshot
)
TIMEOUT_S = 120


def _run(page: Path, width: int, height: int, *action: str) -> str:
    chromium = tools.require("chromium")
    with tempfile.TemporaryDirectory(prefix="ktrdr-chromium-") as profile:
        command = [
            chromium,
            *FLAGS,
            f"--user-data-dir={profile}",
            f"--window-size={width},{height}",
            *action,
            page.resolve().as_uri(),
        ]
        run = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S)
    if run.returncode != 0:
        tail = (run.stderr or run.stdout).strip().splitlines()[-1:]
        raise DashboardError(f"chromium failed on {page}: {' '.join(tail) or run.returncode}")
    return run.stdout


def screenshot(page: Path, png: Path, width: int, height: int) -> Path:
    """A PNG of the page at width x height CSS pixels."""
    png.parent.mkdir(parents=True, exist_ok=True)
    _run(page, width, height, f"--screenshot={png.resolve()}")
    if not png.exists():
        raise DashboardError(f"chromium wrote no screenshot of {page}")
    return png


def dump_dom(page: Path, width: int, height: int) -> str:
    """The page's DOM after its scripts ran, serialized as HTML."""
    return _run(page, width, height, "--dump-dom")
