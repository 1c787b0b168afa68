"""Command line: `python -m ktrdr_dashboards COMMAND`. Each command is a thin wrapper over a
module function; every DashboardError becomes one line on stderr and exit code 1."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from ktrdr_dashboards import (
    bench_cli,
    jsonnet,
    preview_cli,
    querytest_cli,
    release_cli,
    roundtrip_cli,
    rules_cli,
)
from ktrdr_dashboards import build as build_module
from ktrdr_dashboards.deploy import live_cli
from ktrdr_dashboards.doctor import cli as doctor_cli
from ktrdr_dashboards.errors import DashboardError
from ktrdr_dashboards.jsonnet import format as fmt
from ktrdr_dashboards.validate.gate import ValidationError

REPO_ROOT = Path(__file__).resolve().parent.parent


def _project(args: argparse.Namespace) -> build_module.Project:
    return build_module.Project(
        root=Path(args.root).resolve(), jpath=tuple(Path(p).resolve() for p in args.jpath)
    )


def _gate_options(args: argparse.Namespace) -> dict:
    return {
        "grafana_schema": Path(args.grafana_schema) if args.grafana_schema else None,
        "exclusions_file": Path(args.exclusions) if args.exclusions else None,
    }


def _cmd_build(args: argparse.Namespace) -> int:
    output = build_module.build(_project(args), Path(args.out), **_gate_options(args))
    for dashboard in output.dashboards:
        panels = len(dashboard.model.get("panels", []))
        print(
            f"built {args.out}/dashboards/{dashboard.name}.json ({dashboard.uid}, {panels} panels)"
        )
    print(f"wrote {len(output.files)} files to {args.out}/")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from ktrdr_dashboards import validate

    project = _project(args)
    output = build_module.evaluate(project)
    findings = validate.check_project(project, output, **_gate_options(args))
    if args.format == "json":
        print(validate.render(findings, "json"))
    elif findings:
        print(validate.render(findings, "text"), file=sys.stderr)
        print(f"{len(findings)} findings", file=sys.stderr)
    else:
        print(f"validated {len(output.dashboards)} dashboards and provisioning: no findings")
    return 1 if findings else 0


def _gate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--grafana-schema",
        metavar="PATH",
        help="also validate each dashboard against this JSON Schema (Grafana's official one)",
    )
    parser.add_argument(
        "--exclusions",
        metavar="FILE",
        help="justified exceptions (default: validation-exclusions.yaml in the project root)",
    )


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
    parser.add_argument(
        "--engine",
        choices=tuple(jsonnet.ENGINES),
        default=None,
        help=f"Jsonnet engine (default: ${jsonnet.ENGINE_ENV}, else {jsonnet.DEFAULT_ENGINE})",
    )


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="ktrdr-dashboards", description=__doc__)
    commands = top.add_subparsers(dest="command", required=True)

    build_parser = commands.add_parser("build", help="compile, validate and write build/")
    _common(build_parser)
    build_parser.add_argument("--out", default="build", help="output folder (default: build)")
    _gate_arguments(build_parser)
    build_parser.set_defaults(run=_cmd_build)

    validate_parser = commands.add_parser(
        "validate", help="check dashboards, queries and provisioning; write nothing"
    )
    _common(validate_parser)
    _gate_arguments(validate_parser)
    validate_parser.add_argument("--format", choices=("text", "json"), default="text")
    validate_parser.set_defaults(run=_cmd_validate)

    fmt_parser = commands.add_parser("fmt", help="format Jsonnet sources with jsonnetfmt")
    fmt_parser.add_argument("paths", nargs="+", help="files or folders")
    fmt_parser.add_argument("--check", action="store_true", help="report, do not rewrite")
    fmt_parser.set_defaults(run=_cmd_fmt)

    release_cli.add_commands(commands, _common, _project)
    roundtrip_cli.add_commands(commands, _common, _project)
    preview_cli.add_commands(commands, _common, _project)
    rules_cli.add_commands(commands, _common, _project)
    querytest_cli.add_commands(commands, _common, _project)
    bench_cli.add_commands(commands, REPO_ROOT)
    live_cli.add_commands(commands, _common, _project)
    doctor_cli.add_commands(commands, _common, _project)
    return top


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        jsonnet.use(getattr(args, "engine", None))
        return run(args)
    except ValidationError as error:
        # One line per finding, as `validate` prints them.
        print(str(error), file=sys.stderr)
        print(f"{len(error.findings)} findings; nothing was written", file=sys.stderr)
        return 1
    except DashboardError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
