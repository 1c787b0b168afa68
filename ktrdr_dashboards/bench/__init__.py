"""Benchmarks (issue #7): build speed and memory at scale, and what each dashboard costs a
real Prometheus at realistic telemetry sizes. They print figures and never assert times."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from ktrdr_dashboards.bench import build_bench, queries, report


def query_variants(repo_root: Path) -> list[queries.Variant]:
    """The real dashboards as the build makes them (reading the recording rules it writes,
    which the bench backfills), then the same dashboards in the other mode of the
    `useRecordingRules` switch, as a deployment would build them."""
    from ktrdr_dashboards import build, modes

    variants = []
    for mode in modes.both(build.Project(root=repo_root)):
        default = not variants
        suffix = "" if default else f" ({mode.name})"
        dashboards = [(d.name, d.model) for d in mode.output.dashboards]
        variants.append(queries.Variant(suffix, dashboards, mode.recording_rules))
    return variants


def run(
    repo_root: Path,
    *,
    runs: int = 5,
    generated: int = 100,
    sizes: Sequence[str] = ("1k", "10k", "100k"),
    refreshes: int = 5,
    parts: Sequence[str] = ("build", "queries"),
    print_line=print,
) -> tuple[list[build_bench.BuildFigure], list[queries.DashboardCost]]:
    """Measure and print both tables; returns the figures (the smoke test checks their shape)."""
    figures: list[build_bench.BuildFigure] = []
    if "build" in parts:
        figures = build_bench.measure_build(repo_root, generated, runs)
        for line in report.build_lines(figures):
            print_line(line)
        print_line("")
    if "queries" not in parts:
        return figures, []
    # Whole minutes, so the telemetry and every query line up on the same step grid.
    end_s = int(time.time()) // 60 * 60
    costs: list[queries.DashboardCost] = []
    variants = query_variants(repo_root)
    for size in sizes:
        costs += queries.measure_size(size, variants, refreshes, end_s)
    for line in report.query_lines(costs):
        print_line(line)
    return figures, costs


def as_json(figures, costs) -> str:
    """Figures as JSON (for docs/PERFORMANCE.md updates and comparisons between runs)."""
    from dataclasses import asdict

    return json.dumps(
        {"build": [asdict(f) for f in figures], "queries": [asdict(c) for c in costs]}, indent=2
    )
