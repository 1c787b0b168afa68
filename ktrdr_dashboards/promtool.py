"""The only place that runs promtool, Prometheus' own parser, rule checker, rule-test engine
and TSDB tool (Debian package `prometheus`). Each function returns promtool's completed
process; callers read its output. A missing promtool is ToolMissingError naming the install."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from ktrdr_dashboards import tools

Run = subprocess.CompletedProcess[str]


def check_rules(paths: Sequence[Path | str], lint: bool = True) -> Run:
    """`promtool check rules`: every rule file parses (lint off: parse errors only)."""
    return tools.run(
        "promtool", ["check", "rules", *([] if lint else ["--lint=none"]), *map(str, paths)]
    )


def test_rules(paths: Sequence[Path | str], cwd: Path) -> Run:
    """`promtool test rules` over rule-test files, whose `rule_files` are relative to `cwd`."""
    return tools.run("promtool", ["test", "rules", *map(str, paths)], cwd=cwd)


def create_blocks(source: str, args: Sequence[str]) -> Run:
    """`promtool tsdb create-blocks-from SOURCE ARGS` (openmetrics or rules)."""
    return tools.run("promtool", ["tsdb", "create-blocks-from", source, *args])
