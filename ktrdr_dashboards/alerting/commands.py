"""`test-rules`: build the Prometheus rules, check them, run their promtool unit tests and print
which rules the tests cover (exit 1 on a failing test or an uncovered rule)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from ktrdr_dashboards import build as build_module
from ktrdr_dashboards.alerting import rule_tests as ruletest
from ktrdr_dashboards.alerting import rules


def rule_files(output: build_module.BuildOutput) -> dict[str, str]:
    prefix = f"{rules.RULES_DIR}/"
    return {p.removeprefix(prefix): t for p, t in output.files.items() if p.startswith(prefix)}


def test_rules_command(args: argparse.Namespace, project: build_module.Project) -> int:
    # evaluate() already ran `promtool check rules`: a rule that does not parse stops here.
    files = rule_files(build_module.evaluate(project))
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
