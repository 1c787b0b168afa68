"""Benchmarks: build speed and memory on every Jsonnet engine side by side, at the real size
and at scale, what each dashboard costs a real Prometheus at realistic telemetry sizes, and
what importing a schema v2 export costs (`import_cost`) and converting dashboards to v2
(`convert_cost`). They print figures next to their
targets and never assert times."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from ktrdr_dashboards.bench import build_bench, convert_cost, import_cost, query_cost, report
from ktrdr_dashboards.jsonnet import ENGINES


def query_variants(repo_root: Path) -> list[query_cost.Variant]:
    """The real dashboards as the build makes them (reading the recording rules it writes,
    which the bench backfills), then the same dashboards in the other mode of the
    `useRecordingRules` switch, as a deployment would build them."""
    from ktrdr_dashboards import build, modes

    variants = []
    for mode in modes.both(build.Project(root=repo_root)):
        default = not variants
        suffix = "" if default else f" ({mode.name})"
        dashboards = [(d.name, d.model) for d in mode.output.dashboards]
        variants.append(query_cost.Variant(suffix, dashboards, mode.recording_rules))
    return variants


def run(
    repo_root: Path,
    *,
    runs: int = 3,
    generated: int | Sequence[int] = (100, 1000),
    engines: Sequence[str] = tuple(ENGINES),
    sizes: Sequence[str] = ("1k", "10k", "100k"),
    refreshes: int = 5,
    parts: Sequence[str] = ("build", "queries", "import", "convert"),
    print_line=print,
) -> tuple[list[build_bench.BuildFigure], list[query_cost.DashboardCost]]:
    """Measure and print both tables; returns the figures (the smoke test checks their shape).
    `generated`: sizes of the generated projects (each compiled + validated on every engine;
    sizes from build_bench.ONE_RUN_FROM run once). An engine that is not installed is named
    with its install command and left out."""
    figures: list[build_bench.BuildFigure] = []
    if "build" in parts:
        sizes_generated = [generated] if isinstance(generated, int) else list(generated)
        missing = build_bench.missing_engines(engines)
        present = [e for e in engines if e not in missing]
        print_line(f"measuring engines {', '.join(present) or 'none'} ...")
        figures = build_bench.measure_engines(repo_root, present, sizes_generated, runs)
        for line in report.build_lines(figures, missing):
            print_line(line)
        print_line("")
    if "import" in parts:
        for line in import_cost.lines(import_cost.measure(repo_root, runs)):
            print_line(line)
        print_line("")
    if "convert" in parts:
        for line in convert_cost.lines(convert_cost.measure(repo_root, runs)):
            print_line(line)
        print_line("")
    if "queries" not in parts:
        return figures, []
    # Whole minutes, so the telemetry and every query line up on the same step grid.
    end_s = int(time.time()) // 60 * 60
    costs: list[query_cost.DashboardCost] = []
    variants = query_variants(repo_root)
    for size in sizes:
        costs += query_cost.measure_size(size, variants, refreshes, end_s)
    for line in report.query_lines(costs):
        print_line(line)
    return figures, costs


def as_json(figures, costs) -> str:
    """Figures as JSON (for docs/PERFORMANCE.md updates and comparisons between runs)."""
    from dataclasses import asdict

    return json.dumps(
        {"build": [asdict(f) for f in figures], "queries": [asdict(c) for c in costs]}, indent=2
    )
