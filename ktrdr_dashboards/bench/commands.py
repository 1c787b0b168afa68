"""`bench`: print build and query cost figures (docs/PERFORMANCE.md); never judges them."""

from __future__ import annotations

import argparse
from pathlib import Path

from ktrdr_dashboards import bench
from ktrdr_dashboards.errors import DashboardError
from ktrdr_dashboards.synthetic.telemetry import SCALES


def bench_command(args: argparse.Namespace) -> int:
    unknown = sorted(set(args.sizes) - set(SCALES))
    if unknown:
        raise DashboardError(
            f"unknown telemetry size {', '.join(unknown)}",
            fix=f"choose from {', '.join(sorted(SCALES))}",
        )
    figures, costs = bench.run(
        Path(args.root).resolve(),
        runs=args.runs,
        generated=tuple(args.dashboards),
        engines=tuple(args.engines),
        sizes=args.sizes,
        refreshes=args.refreshes,
        parts=args.only or ("build", "queries", "import", "convert"),
    )
    if args.json:
        Path(args.json).write_text(bench.as_json(figures, costs), encoding="utf-8")
    return 0
