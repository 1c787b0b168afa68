"""Data for a local Prometheus, written while it does not run: TSDB blocks from an OpenMetrics
file, and the series recording rules would have written over the same span (`add_recordings`,
which previews, the bench and the doctor tests all use)."""

from __future__ import annotations

from pathlib import Path

from ktrdr_dashboards import promtool
from ktrdr_dashboards.errors import DashboardError
from ktrdr_dashboards.localprom import server


def backfill(openmetrics: Path, data_dir: Path) -> None:
    """Write TSDB blocks from an OpenMetrics file into data_dir (the server must not run)."""
    run = promtool.create_blocks("openmetrics", [str(openmetrics), str(data_dir)])
    if run.returncode != 0:
        lines = (run.stderr or run.stdout).strip().splitlines()
        raise DashboardError(f"promtool backfill failed: {lines[-1] if lines else run.returncode}")


def backfill_rules(rules_file: Path, server_url: str, start_s: int, end_s: int, out: Path) -> None:
    """Evaluate recording rules over [start, end] against a running server into new blocks in
    `out` (moved into the data dir while the server is stopped)."""
    run = promtool.create_blocks(
        "rules",
        [
            f"--url={server_url}", f"--start={start_s}",
            f"--end={end_s}", f"--eval-interval={server.EVERY}", f"--output-dir={out}", "--quiet",
            str(rules_file),
        ],
    )  # fmt: skip
    if run.returncode != 0:
        lines = (run.stderr or run.stdout).strip().splitlines()
        raise DashboardError(f"promtool rules backfill failed: {lines[-1] if lines else ''}")


def add_recordings(rules: str, data_dir: Path, work: Path, start_s: int, end_s: int) -> None:
    """Backfill recording rules (YAML text) over [start_s, end_s] of the raw data in
    `data_dir`, as a Prometheus that had evaluated them all along would hold them: rules only
    record from when they are loaded, so without this every panel reading a recording would
    show "No data" over a backfilled range. Starts (and stops) a server over the raw data."""
    rules_file = work / "recording.rules.yml"
    rules_file.write_text(rules, encoding="utf-8")
    out = work / "recorded-blocks"
    with server.running(data_dir, work) as running:
        backfill_rules(rules_file, running.url, start_s, end_s, out)
    for block in sorted(out.iterdir()):
        block.rename(data_dir / block.name)
    rules_file.unlink()
