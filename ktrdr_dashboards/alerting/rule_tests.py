"""Unit tests of the generated Prometheus rules: run `promtool test rules` over tests/rules/*.yaml
against the rule files a build produces, and report which rules the tests cover.

An alert (each severity on its own) is covered when a test shows it firing, not firing, and
resolving (firing, then not firing later on the same input series); a recording rule when a
test checks samples of its series. Test files name the rule files by their build names
(`rule_files: [ktrdr-recording.yml, ktrdr-alerts.yml]`); `exp_annotations` may leave out
`dashboard`, which is filled in from the rule, so the tests do not depend on panel ids (their
links are checked against the dashboards instead)."""

from __future__ import annotations

import copy
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ktrdr_dashboards import promtool
from ktrdr_dashboards.errors import DashboardError, Location
from ktrdr_dashboards.promql import durations

# ---------------------------------------------------------------- the rules under test


@dataclass(frozen=True)
class RuleId:
    kind: str  # "alert" or "record"
    name: str
    severity: str = ""  # alerts only

    def label(self) -> str:
        return f"{self.name} ({self.severity})" if self.severity else self.name


def rules_of(documents: Mapping[str, Mapping]) -> dict[RuleId, dict]:
    """Every rule of the rule files (name -> document), by identity."""
    found: dict[RuleId, dict] = {}
    for document in documents.values():
        for group in document.get("groups", []):
            for rule in group.get("rules", []):
                if "alert" in rule:
                    severity = str((rule.get("labels") or {}).get("severity", ""))
                    found[RuleId("alert", rule["alert"], severity)] = rule
                else:
                    found[RuleId("record", rule["record"])] = rule
    return found


# ---------------------------------------------------------------- test files


def load_tests(tests_dir: Path) -> dict[str, dict]:
    """tests/rules/*.yaml by file name."""
    files = sorted(tests_dir.glob("*.yaml"))
    if not files:
        raise DashboardError(
            "no rule unit tests found",
            location=Location(file=str(tests_dir)),
            fix="add promtool `test rules` files (*.yaml) there",
        )
    return {path.name: yaml.safe_load(path.read_text(encoding="utf-8")) for path in files}


def with_dashboard_links(test: Mapping, rules: Mapping[RuleId, dict]) -> dict:
    """`test` with each expected alert's missing `dashboard` annotation taken from its rule."""
    filled = copy.deepcopy(dict(test))
    for group in filled.get("tests") or []:
        for case in group.get("alert_rule_test") or []:
            for alert in case.get("exp_alerts") or []:
                annotations = alert.get("exp_annotations")
                severity = str((alert.get("exp_labels") or {}).get("severity", ""))
                rule = rules.get(RuleId("alert", str(case.get("alertname")), severity))
                if annotations is not None and "dashboard" not in annotations and rule:
                    link = (rule.get("annotations") or {}).get("dashboard")
                    if link is not None:
                        annotations["dashboard"] = link
    return filled


@dataclass
class RunResult:
    ok: bool
    output: str  # promtool's report


def run(rule_files: Mapping[str, str], tests: Mapping[str, Mapping]) -> RunResult:
    """`promtool test rules` over every test file, with the rule files (name -> YAML text)
    beside them as the tests name them."""
    rules = rules_of({name: yaml.safe_load(text) for name, text in rule_files.items()})
    with tempfile.TemporaryDirectory(prefix="ktrdr-ruletest-") as tmp:
        folder = Path(tmp)
        for name, text in rule_files.items():
            (folder / name).write_text(text, encoding="utf-8")
        paths = []
        for name, test in sorted(tests.items()):
            path = folder / name
            path.write_text(yaml.safe_dump(with_dashboard_links(test, rules), sort_keys=False))
            paths.append(path.name)
        result = promtool.test_rules(paths, cwd=folder)
    return RunResult(result.returncode == 0, (result.stdout + result.stderr).strip())


# ---------------------------------------------------------------- coverage


@dataclass
class Coverage:
    rule: RuleId
    fires: list[str] = field(default_factory=list)  # "file: eval_time" of each case
    quiet: list[str] = field(default_factory=list)
    resolves: list[str] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)  # recording rules

    def missing(self) -> list[str]:
        if self.rule.kind == "record":
            return [] if self.samples else ["samples checked"]
        wanted = {"fires": self.fires, "does not fire": self.quiet, "resolves": self.resolves}
        return [what for what, cases in wanted.items() if not cases]


def _mentions(expr: str, name: str) -> bool:
    return re.search(rf"(?<![\w:]){re.escape(name)}(?![\w:])", expr) is not None


def coverage(rules: Iterable[RuleId], tests: Mapping[str, Mapping]) -> list[Coverage]:
    """What the tests show of each rule, in the rules' order."""
    rows = {rule: Coverage(rule) for rule in rules}
    for file, test in sorted(tests.items()):
        for index, group in enumerate(test.get("tests") or []):
            where = f"{file}#{index + 1}"
            fired_at: dict[RuleId, list[float]] = {}
            quiet_at: dict[RuleId, list[float]] = {}
            for case in group.get("alert_rule_test") or []:
                at = durations.seconds(case.get("eval_time", 0))
                severities = {
                    str((a.get("exp_labels") or {}).get("severity", ""))
                    for a in case.get("exp_alerts") or []
                }
                for rule, row in rows.items():
                    if rule.kind != "alert" or rule.name != case.get("alertname"):
                        continue
                    label = f"{where} @{case.get('eval_time')}"
                    if rule.severity in severities:
                        row.fires.append(label)
                        fired_at.setdefault(rule, []).append(at)
                    else:
                        row.quiet.append(label)
                        quiet_at.setdefault(rule, []).append(at)
            for rule, times in fired_at.items():
                later = [t for t in quiet_at.get(rule, []) if t > min(times)]
                if later:
                    rows[rule].resolves.append(where)
            for case in group.get("promql_expr_test") or []:
                if not case.get("exp_samples"):
                    continue
                for rule, row in rows.items():
                    if rule.kind == "record" and _mentions(str(case.get("expr", "")), rule.name):
                        row.samples.append(f"{where} @{case.get('eval_time')}")
    return list(rows.values())


def table(rows: Iterable[Coverage]) -> str:
    """Coverage as a fixed-width table, one rule a line, gaps named."""
    lines = [("rule", "kind", "fires", "quiet", "resolves", "samples", "missing")]
    for row in rows:
        lines.append(
            (
                row.rule.label(),
                row.rule.kind,
                *(str(len(x)) if row.rule.kind == "alert" else "-" for x in (row.fires, row.quiet)),
                str(len(row.resolves)) if row.rule.kind == "alert" else "-",
                str(len(row.samples)) if row.rule.kind == "record" else "-",
                ", ".join(row.missing()) or "ok",
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )
