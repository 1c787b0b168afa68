"""Command line: `python -m ktrdr_dashboards COMMAND`. Each command is a thin wrapper over a
module function; every DashboardError becomes one line on stderr and exit code 1."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ktrdr_dashboards import build as build_module
from ktrdr_dashboards import fmt
from ktrdr_dashboards.errors import DashboardError

REPO_ROOT = Path(__file__).resolve().parent.parent


def _project(args: argparse.Namespace) -> build_module.Project:
    return build_module.Project(
        root=Path(args.root).resolve(), jpath=tuple(Path(p).resolve() for p in args.jpath)
    )


def _cmd_build(args: argparse.Namespace) -> int:
    output = build_module.build(_project(args), Path(args.out))
    for dashboard in output.dashboards:
        panels = len(dashboard.model.get("panels", []))
        print(f"built {args.out}/dashboards/{dashboard.name}.json ({dashboard.uid}, {panels} panels)")
    print(f"wrote {len(output.files)} files to {args.out}/")
    return 0


def _cmd_fmt(args: argparse.Namespace) -> int:
    changed = fmt.format_files([Path(p) for p in args.paths], check=args.check)
    for path in changed:
        print(f"{path}: not formatted — run `nox -s fmt`", file=sys.stderr)
    return 1 if args.check and changed else 0


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", default=str(REPO_ROOT), help="project root (default: this repo)")
    parser.add_argument(
        "--jpath",
        "-J",
        action="append",
        default=[],
        metavar="DIR",
        help="extra Jsonnet library path searched before lib/ (e.g. vendored upstream Grafonnet)",
    )


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="ktrdr-dashboards", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    build_parser = commands.add_parser("build", help="compile, validate and write build/")
    _common(build_parser)
    build_parser.add_argument("--out", default="build", help="output folder (default: build)")
    build_parser.set_defaults(run=_cmd_build)

    fmt_parser = commands.add_parser("fmt", help="format Jsonnet sources with jsonnetfmt")
    fmt_parser.add_argument("paths", nargs="+", help="files or folders")
    fmt_parser.add_argument("--check", action="store_true", help="report, do not rewrite")
    fmt_parser.set_defaults(run=_cmd_fmt)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except DashboardError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
