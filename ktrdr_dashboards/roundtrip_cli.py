"""Command line for `import` and `diff`, the way back from the Grafana UI to the sources; kept
apart from cli.py so that file only registers them. `diff` exits 0 when the dashboards are
semantically equal and 1 when they differ, like diff(1)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from ktrdr_dashboards import build as build_module
from ktrdr_dashboards.errors import DashboardError
from ktrdr_dashboards.roundtrip import exports, importer, semdiff


def _bindings(project: build_module.Project) -> exports.Bindings:
    return exports.project_bindings(project.library(), project.provisioning_dir)


def _cmd_import(
    args: argparse.Namespace, project: Callable[[argparse.Namespace], build_module.Project]
) -> int:
    result = importer.import_dashboard(project(args), Path(args.file), args.name, args.force)
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


def _cmd_diff(
    args: argparse.Namespace, project: Callable[[argparse.Namespace], build_module.Project]
) -> int:
    if args.live:
        from ktrdr_dashboards.deploy import live_cli

        return live_cli.diff_live(args)
    if not args.a:
        raise DashboardError(
            "diff needs a dashboard A, or --live", fix="diff EXPORT, diff A B, diff --live"
        )
    bindings = _bindings(project(args))
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
    lines = semdiff.diff(left.model, right.model)
    print(f"--- {left.label}\n+++ {right.label}")
    for line in lines:
        print(line)
    count = f"{len(lines)} difference" + ("" if len(lines) == 1 else "s")
    print(count if lines else "no semantic differences")
    return 1 if lines else 0


def add_commands(
    commands: argparse._SubParsersAction,
    common: Callable[[argparse.ArgumentParser], None],
    project: Callable[[argparse.Namespace], build_module.Project],
) -> None:
    """Register `import` and `diff`; `common` adds --root/--jpath, `project` reads them."""
    import_parser = commands.add_parser(
        "import", help="write jsonnet/NAME.jsonnet from a dashboard exported from Grafana"
    )
    common(import_parser)
    import_parser.add_argument("file", help="exported JSON (plain, API wrapper or shared)")
    import_parser.add_argument(
        "name", nargs="?", help="source name (default: from the uid, without `ktrdr-`)"
    )
    import_parser.add_argument(
        "--force", action="store_true", help="overwrite an existing jsonnet/NAME.jsonnet"
    )
    import_parser.set_defaults(run=lambda args: _cmd_import(args, project))

    diff_parser = commands.add_parser(
        "diff", help="semantic, panel-level diff of two dashboards (exit 1 when they differ)"
    )
    common(diff_parser)
    diff_parser.add_argument("a", nargs="?", help="a file, a build output name or a uid in build/")
    diff_parser.add_argument(
        "b", nargs="?", help="the same kinds; omitted: the build of A's uid, compared to A"
    )
    diff_parser.add_argument("--build", default="build", help="build folder (default: build)")
    diff_parser.add_argument(
        "--live",
        action="store_true",
        help="compare the build (A: one uid or name) with what Grafana serves (GRAFANA_URL, ...)",
    )
    diff_parser.set_defaults(run=lambda args: _cmd_diff(args, project))
