"""Prometheus rule files from the same Jsonnet config as the dashboards: evaluate
lib/ktrdr/prometheus-rules.libsonnet, render each file as YAML, and check it with promtool."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import promql_parser
import yaml

from ktrdr_dashboards import model as dashboard_model
from ktrdr_dashboards import promtool, yamltext
from ktrdr_dashboards.errors import DashboardError, Location

ENTRY = Path("lib/ktrdr/prometheus-rules.libsonnet")
# Folder under build/ (and, in a release, under etc/) that holds the rule files.
RULES_DIR = "prometheus/rules"
HEADER = (
    "# Generated from lib/ktrdr/ (config.libsonnet thresholds, queries.libsonnet expressions)\n"
    "# by `python -m ktrdr_dashboards build`; edit the sources, not this file.\n"
)
# Keys of a rule in the order Prometheus' documentation shows them, annotations in reading
# order; anything else after, sorted.
_RULE_KEYS = ("record", "alert", "expr", "for", "labels", "annotations")
_ANNOTATION_KEYS = ("summary", "description", "dashboard")


def panel_index(models: Iterable[Mapping]) -> dict[str, dict[str, list[int]]]:
    """uid -> panel title -> ids of the panels with that title (rows' nested panels included),
    what alerts.libsonnet needs to link an alert to its panel."""
    index: dict[str, dict[str, list[int]]] = {}
    for model in models:
        titles = index.setdefault(str(model.get("uid", "")), {})
        for panel in dashboard_model.panels(model):
            if isinstance(panel.get("id"), int) and isinstance(panel.get("title"), str):
                titles.setdefault(panel["title"], []).append(panel["id"])
    return index


def documents(value: object) -> dict[str, dict]:
    """File name -> rule file document, from the value of `ENTRY` as the build evaluated it."""
    if not isinstance(value, dict) or not all(isinstance(d, dict) for d in value.values()):
        raise DashboardError(
            "does not evaluate to an object of rule files",
            location=Location(file=str(ENTRY)),
            fix='return { "<name>.yml": { groups: [...] } }',
        )
    return value


def _ordered(mapping: Mapping, first: Sequence[str]) -> dict:
    known = {key: mapping[key] for key in first if key in mapping}
    return known | {key: mapping[key] for key in sorted(mapping) if key not in known}


def _ordered_rule(rule: Mapping) -> dict:
    ordered = _ordered(rule, _RULE_KEYS)
    if isinstance(ordered.get("annotations"), Mapping):
        ordered["annotations"] = _ordered(ordered["annotations"], _ANNOTATION_KEYS)
    return ordered


# libyaml's emitter where PyYAML has it: the same text as safe_dump's, written in C.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def render(document: Mapping) -> str:
    """One rule file as YAML: groups and rules in source order, each rule's keys in a fixed
    order, other mappings sorted, no line folding, newline-terminated, so the same sources
    give the same bytes."""
    groups = [
        {
            **{k: v for k, v in group.items() if k != "rules"},
            "rules": [_ordered_rule(r) for r in group.get("rules", [])],
        }
        for group in document.get("groups", [])
    ]
    body = yaml.dump(
        {"groups": groups},
        Dumper=_DUMPER,
        sort_keys=False,
        width=10**6,
        allow_unicode=True,
        default_flow_style=False,
    )
    return HEADER + body


def check(files: Mapping[str, str]) -> str:
    """`promtool check rules` over rule files (name -> YAML text); its report on success,
    DashboardError with promtool's own message otherwise."""
    if not files:
        return ""
    with tempfile.TemporaryDirectory(prefix="ktrdr-rules-") as tmp:
        paths = []
        for name, text in sorted(files.items()):
            path = Path(tmp) / name
            path.write_text(text, encoding="utf-8")
            paths.append(str(path))
        run = promtool.check_rules(paths)
    output = (run.stdout + run.stderr).replace(f"{tmp}/", f"{RULES_DIR}/")
    if run.returncode != 0:
        problems = [line.strip() for line in output.splitlines() if line.strip()]
        failed = [line for line in problems if "FAILED" in line or "error" in line.lower()]
        raise DashboardError(
            "promtool check rules failed: " + "; ".join(failed or problems[-1:]),
            location=Location(file=f"{ENTRY} ({RULES_DIR}/)"),
            fix="fix the rule's expression or fields in lib/ktrdr/; nothing was written",
        )
    return output


def build_files(value: object) -> dict[str, str]:
    """`prometheus/rules/<name>` -> YAML for build/; the validation gate checks them with
    promtool in the same run as the dashboards' queries."""
    rendered = {name: render(doc) for name, doc in documents(value).items()}
    return {f"{RULES_DIR}/{name}": text for name, text in sorted(rendered.items())}


def _outermost_by(expr: object) -> set[str]:
    """The labels of the outermost `by (...)` aggregation of a parsed expression (pre-order:
    an aggregation before what it aggregates), or none."""
    if isinstance(expr, promql_parser.AggregateExpr):
        modifier = expr.modifier
        if modifier is not None and str(modifier.type).endswith("By"):
            return set(modifier.labels)
        return set()
    children = {
        promql_parser.Call: lambda e: list(e.args),
        promql_parser.BinaryExpr: lambda e: [e.lhs, e.rhs],
        promql_parser.ParenExpr: lambda e: [e.expr],
    }
    for kind, of in children.items():
        if isinstance(expr, kind):
            for child in of(expr):
                found = _outermost_by(child)
                if found:
                    return found
    return set()


def recorded_series(files: Mapping[str, str]) -> dict[str, frozenset[str]]:
    """Series the recording rules write (rule files: name -> YAML) and the labels each keeps:
    those of its outermost `by (...)` aggregation, without `le` once histogram_quantile has
    consumed it. For checks that must know recorded series as well as exported ones."""
    series: dict[str, frozenset[str]] = {}
    for text in files.values():
        for group in (yamltext.load(text) or {}).get("groups", []):
            for rule in group.get("rules", []):
                if "record" not in rule:
                    continue
                try:
                    labels = _outermost_by(promql_parser.parse(rule["expr"]))
                except ValueError:  # the gate's promtool check reports the broken rule
                    labels = set()
                if rule["expr"].startswith("histogram_quantile("):
                    labels.discard("le")
                series[rule["record"]] = frozenset(labels - {""})
    return series
