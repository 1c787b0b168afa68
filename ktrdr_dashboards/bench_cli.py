"""`bench`: print build and query cost figures (issue #7; docs/PERFORMANCE.md)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ktrdr_dashboards.bench.telemetry import SCALES


def _cmd_bench(args: argparse.Namespace) -> int:
    from ktrdr_dashboards import bench

    figures, costs = bench.run(
        Path(args.root).resolve(),
        runs=args.runs,
        generated=args.dashboards,
        sizes=args.sizes,
        refreshes=args.refreshes,
        parts=args.only or ("build", "queries"),
    )
    if args.json:
        Path(args.json).write_text(bench.as_json(figures, costs), encoding="utf-8")
    return 0


def add_commands(commands: argparse._SubParsersAction, repo_root: Path) -> None:
    bench = commands.add_parser("bench", help="print build speed and Prometheus query cost")
    bench.add_argument("--root", default=str(repo_root), help="project root (default: this repo)")
    bench.add_argument("--runs", type=int, default=3, help="fresh-process runs per build figure")
    bench.add_argument("--dashboards", type=int, default=100, help="size of the generated set")
    bench.add_argument(
        "--sizes", nargs="+", default=["1k", "10k", "100k"], choices=sorted(SCALES),
        help="telemetry sizes (approximate series counts)",
    )  # fmt: skip
    bench.add_argument("--refreshes", type=int, default=5, help="full refreshes per dashboard")
    bench.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    bench.add_argument("--only", nargs="+", choices=["build", "queries"], help="run only these")
    bench.set_defaults(run=_cmd_bench)
