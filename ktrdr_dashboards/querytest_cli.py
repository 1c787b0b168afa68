"""`querytest`: run the behaviour specs and the environment check against freshly compiled
dashboards and print the coverage table (what `nox -s test` asserts, for a person)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from ktrdr_dashboards import build, modes
from ktrdr_dashboards.truth import queries as querytest

ProjectOf = Callable[[argparse.Namespace], build.Project]


def _cmd_querytest(project: ProjectOf) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        specs = Path(args.specs) if args.specs else Path(args.root) / "tests" / "specs"
        passed = True
        # Both modes: recording rules (the default) and raw expressions.
        for mode in modes.both(project(args)):
            text, ok = querytest.report(mode.models, specs, mode.recording_rules)
            print(f"== dashboards reading {mode.name} series ==\n{text}\n")
            passed = passed and ok
        return 0 if passed else 1

    return run


def add_commands(
    commands: argparse._SubParsersAction,
    common: Callable[[argparse.ArgumentParser], None],
    project: ProjectOf,
) -> None:
    parser = commands.add_parser(
        "querytest",
        help="prove every panel's query with promtool: specs, coverage, environments",
    )
    common(parser)
    parser.add_argument("--specs", help="folder of behaviour specs (default: tests/specs)")
    parser.set_defaults(run=_cmd_querytest(project))
