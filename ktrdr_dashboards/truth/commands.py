"""The proofs as commands, for a person: `querytest` runs the behaviour specs and the
environment check against freshly compiled dashboards and prints the coverage table;
`test-rules` checks the Prometheus rules, runs their promtool unit tests and prints which
rules the tests cover (exit 1 on a failing test or an uncovered rule)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from ktrdr_dashboards import build, modes
from ktrdr_dashboards.alerting import rule_tests as ruletest
from ktrdr_dashboards.alerting import rules
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


def rule_files(output: build.BuildOutput) -> dict[str, str]:
    prefix = f"{rules.RULES_DIR}/"
    return {p.removeprefix(prefix): t for p, t in output.files.items() if p.startswith(prefix)}


def test_rules_command(args: argparse.Namespace, project: build.Project) -> int:
    files = rule_files(build.evaluate(project))
    rules.check(files)  # a rule that does not parse stops here, in promtool's words
    tests_dir = Path(args.tests) if args.tests else project.root / "tests" / "rules"
    tests = ruletest.load_tests(tests_dir)
    result = ruletest.run(files, tests)
    print(result.output, file=sys.stdout if result.ok else sys.stderr)
    documents = {name: yaml.safe_load(text) for name, text in files.items()}
    rows = ruletest.coverage(ruletest.rules_of(documents), tests)
    print(ruletest.table(rows))
    gaps = [row.rule.label() for row in rows if row.missing()]
    if gaps:
        print(f"not covered by {tests_dir}: {', '.join(gaps)}", file=sys.stderr)
    return 0 if result.ok and not gaps else 1
