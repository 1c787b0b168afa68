"""`fmt`: jsonnetfmt over the Jsonnet sources (`--check` reports instead of rewriting)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ktrdr_dashboards import tools
from ktrdr_dashboards.errors import DashboardError, Location


def format_files(paths: Sequence[Path], check: bool) -> list[Path]:
    """Format (or with `check`, find unformatted) files; returns the files that were or would
    be changed. A syntax error is a DashboardError naming the file."""
    changed: list[Path] = []
    for path in tools.jsonnet_files(paths):
        result = tools.run("jsonnetfmt", ["--test" if check else "-i", str(path)])
        if result.returncode == 0:
            continue
        if check and not result.stderr.strip():
            changed.append(path)
            continue
        raise DashboardError(
            result.stderr.strip().splitlines()[0] if result.stderr.strip() else "jsonnetfmt failed",
            location=Location(file=str(path)),
            fix="fix the Jsonnet syntax",
        )
    return changed


def command(args: argparse.Namespace) -> int:
    """`fmt`: rewrite in place, or with --check name each unformatted file."""
    changed = format_files([Path(p) for p in args.paths], check=args.check)
    for path in changed:
        print(f"{path}: not formatted — run `nox -s fmt`", file=sys.stderr)
    return 1 if args.check and changed else 0
