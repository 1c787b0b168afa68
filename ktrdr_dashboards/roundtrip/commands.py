"""Command line for `import` and `diff`, the way back from the Grafana UI to the sources; kept
apart from cli.py so that file only registers them. `diff` exits 0 when the dashboards are
semantically equal and 1 when they differ, like diff(1)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ktrdr_dashboards import build as build_module
from ktrdr_dashboards.errors import DashboardError
from ktrdr_dashboards.project import Project
from ktrdr_dashboards.roundtrip import exports, importer, semdiff


def _bindings(project: build_module.Project) -> exports.Bindings:
    return exports.project_bindings(project.library(), project.provisioning_dir)


def import_command(args: argparse.Namespace, project: Project) -> int:
    result = importer.import_dashboard(project, Path(args.file), args.name, args.force)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {result.path}")
    if not result.findings:
        print("validation: no findings")
        return 0
    # The file stays: a dashboard made in the UI usually lacks what the gate asks for
    # (descriptions, the datasource variable); the user completes the source.
    for line in result.findings:
        print(line, file=sys.stderr)
    print(f"{len(result.findings)} findings: complete {result.path}, then build", file=sys.stderr)
    return 1


def diff_command(args: argparse.Namespace, project: Project) -> int:
    if not args.a:
        raise DashboardError(
            "diff needs a dashboard A, or --live", fix="diff EXPORT, diff A B, diff --live"
        )
    bindings = _bindings(project)
    build_dir = Path(args.build)
    left = semdiff.resolve(args.a, build_dir, bindings)
    right = (
        semdiff.resolve(args.b, build_dir, bindings)
        if args.b
        else semdiff.counterpart(left, build_dir, bindings)
    )
    if args.b is None:
        # An export alone is compared as "what the build has → what Grafana has".
        left, right = right, left
    lines = semdiff.diff(left.model, right.model, left.layout, right.layout)
    print(f"--- {left.label}\n+++ {right.label}")
    for line in lines:
        print(line)
    count = f"{len(lines)} difference" + ("" if len(lines) == 1 else "s")
    print(count if lines else "no semantic differences")
    return 1 if lines else 0
