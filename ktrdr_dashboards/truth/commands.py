"""`querytest`: run the behaviour specs and the environment check against freshly compiled
dashboards and print the coverage table (what `nox -s test` asserts, for a person)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ktrdr_dashboards import build, modes
from ktrdr_dashboards.truth import queries as querytest


def querytest_command(args: argparse.Namespace, project: build.Project) -> int:
    specs = Path(args.specs) if args.specs else Path(args.root) / "tests" / "specs"
    passed = True
    # Both modes: recording rules (the default) and raw expressions.
    for mode in modes.both(project):
        text, ok = querytest.report(mode.models, specs, mode.recording_rules)
        print(f"== dashboards reading {mode.name} series ==\n{text}\n")
        passed = passed and ok
    return 0 if passed else 1
