"""Rules on the queries: each expression, expanded as Grafana expands it, parses with promtool;
windows are $__rate_interval or declared; every selector matches the telemetry catalog."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

import promql_parser
import yaml

from ktrdr_dashboards.errors import Location
from ktrdr_dashboards.promql import analysis
from ktrdr_dashboards.promql import expand as promql
from ktrdr_dashboards.validate.catalog import Catalog
from ktrdr_dashboards.validate.core import (
    Context,
    DashboardSource,
    Facts,
    Finding,
    Inputs,
    Settings,
    dashboard_location,
    panels,
    project_check,
    targets,
    variables,
)

# Grafana's Prometheus variable query functions that wrap a selector or an expression.
_LABEL_VALUES = re.compile(
    r"^\s*label_values\(\s*(?P<selector>.+?)\s*,\s*(?P<label>\w+)\s*\)\s*$", re.S
)
_QUERY_RESULT = re.compile(r"^\s*query_result\(\s*(?P<expr>.+)\s*\)\s*$", re.S)
# libyaml's parser where PyYAML has it.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CATALOG_FIX = (
    "use a metric of ktrdr_dashboards/data/telemetry.yaml (add it there only if KTRDR exports it)"
)


@dataclass(frozen=True)
class Query:
    expr: str  # as written in the dashboard
    location: Location
    variables: Mapping[str, promql.Variable]
    what: str = ""  # prefix for messages, e.g. "variable `job` query: "
    check_windows: bool = True
    label: str | None = None  # label_values(selector, label): the label asked for


@dataclass(frozen=True)
class Prepared:
    """A query whose variables are all defined, expanded for promtool and analysed, ready for
    the project's one promtool run and the catalog (small: no variables)."""

    location: Location
    what: str
    check_windows: bool
    label: str | None
    expanded: str  # as promtool parses it
    analysis: analysis.Analysis | str  # or why the selector analysis cannot parse it


@dataclass(frozen=True)
class DashboardQueries:
    queries: list[Prepared]
    variables: dict[str, promql.Variable]  # for the README's examples


def _dashboard_queries(source: DashboardSource) -> Iterator[Query]:
    values = promql.variables_of(source.model)
    for item in variables(source):
        if item.get("type") != "query":
            continue
        raw = item.get("query")
        raw = raw.get("query") if isinstance(raw, dict) else raw
        if not isinstance(raw, str):
            continue
        what = f"variable `{item.get('name')}` query: "
        where = dashboard_location(source)
        if match := _LABEL_VALUES.match(raw):
            yield Query(match["selector"], where, values, what, False, match["label"])
        elif match := _QUERY_RESULT.match(raw):
            yield Query(match["expr"], where, values, what)
    for ref in panels(source):
        for target, where in targets(ref):
            if isinstance(target.get("expr"), str) and not target.get("hide"):
                yield Query(target["expr"], where, values)


def _readme_queries(inputs: Inputs, facts: Facts) -> Iterator[Query]:
    if inputs.readme:
        name, text = inputs.readme
        all_values: dict[str, promql.Variable] = {}
        for found in facts.dashboards:
            all_values.update(found.variables)
        for line, expr in promql.markdown_examples(text):
            yield Query(expr, Location(file=f"{name}:{line}"), all_values, "example: ", False)


def _prepared(query: Query, context: promql.QueryContext) -> Prepared:
    try:
        found: analysis.Analysis | str = analysis.analyze(query.expr, query.variables, context)
    except ValueError as error:
        found = str(error)
    expanded = promql.expand(query.expr, query.variables, context)
    return Prepared(query.location, query.what, query.check_windows, query.label, expanded, found)


def _query_context(settings: Settings) -> promql.QueryContext:
    return promql.QueryContext(scrape_interval_seconds=settings.scrape_interval_seconds)


def _prepare(source: DashboardSource, context: Context) -> DashboardQueries:
    """The dashboard's queries, expanded and analysed where the dashboard is judged; unknown
    variables are reported by links/variable, and their queries are not parsed here."""
    query_context = _query_context(context.settings)
    queries = [_prepared(q, query_context) for q in _dashboard_queries(source) if _all_defined(q)]
    return DashboardQueries(queries, promql.variables_of(source.model))


def _normalized(window: str) -> str:
    if window.startswith("$"):
        return window
    return promql_parser.display_duration(promql_parser.parse_duration(window))


@project_check(
    ("promql/parse", "every query, expanded as Grafana expands it, parses with promtool"),
    ("promql/analyze", "every query parses for the selector analysis too"),
    (
        "promql/rate-window",
        "rate/irate/increase use $__rate_interval or a window the config declares",
    ),
    ("telemetry/metric", "every selector names a metric of the telemetry catalog"),
    ("telemetry/label", "every label matcher names a label the metric has"),
    ("telemetry/label-value", "a matcher on a label with known values can match one of them"),
    ("telemetry/counter-type", "counters only under rate/irate/increase; gauges never (by type)"),
    ("alerting/promtool", "the alert and recording rule files pass `promtool check rules`"),
    gather_dashboard=_prepare,
)
def queries(inputs: Inputs, facts: Facts) -> Iterator[Finding]:
    query_context = _query_context(inputs.settings)
    readme = [
        _prepared(q, query_context) for q in _readme_queries(inputs, facts) if _all_defined(q)
    ]
    parseable = [q for found in facts.dashboards for q in found.queries] + readme
    groups = [
        group
        for text in inputs.rule_files.values()
        for group in (yaml.load(text, Loader=_LOADER) or {}).get("groups", [])
    ]
    parsed = promql.check_with_promtool([q.expanded for q in parseable], groups)
    for line in parsed.rule_errors:
        yield Finding(
            "alerting/promtool",
            Location(file="lib/ktrdr/prometheus-rules.libsonnet (prometheus/rules/)"),
            f"promtool: {line}",
            "fix the rule's expression or fields in lib/ktrdr/; nothing was written",
        )
    allowed = {"$__rate_interval"} | {_normalized(w) for w in inputs.settings.declared_windows}
    for index, query in enumerate(parseable):
        if index in parsed.errors:
            yield Finding(
                "promql/parse",
                query.location,
                f"{query.what}promtool: {parsed.errors[index]}",
                "fix the expression (lib/ktrdr/queries.libsonnet); it is checked after "
                "Grafana's variable expansion",
            )
            continue
        found = query.analysis
        if isinstance(found, str):
            yield Finding(
                "promql/analyze",
                query.location,
                f"{query.what}the selector analysis cannot parse what promtool accepts: {found}",
                "use functions both promtool and promql-parser know "
                "(not the deprecated holt_winters)",
            )
            continue
        for selector in found.selectors:
            yield from _selector_findings(
                query, selector, inputs.catalog, allowed if query.check_windows else None
            )
        if query.label and found.selectors:
            series = inputs.catalog.get(found.selectors[0].metric or "")
            if series and query.label not in series.labels:
                yield _label_finding(query, series.name, query.label, series.labels)


def _all_defined(query: Query) -> bool:
    from ktrdr_dashboards.validate.checks.dashboard import BUILTIN_VARIABLES

    names = set(promql.variable_names(query.expr))
    return all(n in query.variables or n in BUILTIN_VARIABLES or n.isdigit() for n in names)


def _label_finding(query: Prepared, metric: str, label: str, labels: frozenset[str]) -> Finding:
    return Finding(
        "telemetry/label",
        query.location,
        f"{query.what}{metric} has no label {label} (it has: {', '.join(sorted(labels))})",
        "match on a label the metric has (see ktrdr_dashboards/data/telemetry.yaml)",
    )


def _selector_findings(
    query: Prepared, selector: analysis.Selector, catalog: Catalog, allowed_windows: set[str] | None
) -> Iterator[Finding]:
    where, what = query.location, query.what
    windowed = selector.function in analysis.WINDOWED_COUNTER_FUNCTIONS
    if windowed and allowed_windows is not None and selector.window not in allowed_windows:
        yield Finding(
            "promql/rate-window",
            where,
            f"{what}{selector.function}() over [{selector.window}] on {selector.metric}; "
            f"allowed: {', '.join(sorted(allowed_windows))}",
            "use $__rate_interval, or declare the window in lib/ktrdr/config.libsonnet "
            "`windows` if it is part of the panel's meaning",
        )
    if selector.metric is None:
        yield Finding("telemetry/metric", where, f"{what}a selector names no metric", _CATALOG_FIX)
        return
    series = catalog.get(selector.metric)
    if series is None:
        close = difflib.get_close_matches(selector.metric, list(catalog.series), n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        yield Finding(
            "telemetry/metric",
            where,
            f"{what}metric {selector.metric} is not in the telemetry catalog{hint}",
            _CATALOG_FIX,
        )
        return
    for matcher in selector.matchers:
        if matcher.label not in series.labels:
            yield _label_finding(query, series.name, matcher.label, series.labels)
            continue
        known = series.values.get(matcher.label)
        if known and matcher.op in ("=", "=~") and not _matches_any(matcher, known):
            yield Finding(
                "telemetry/label-value",
                where,
                f"{what}{series.name}{{{matcher.label}{matcher.op}"
                f'"{matcher.value}"}} matches none of {", ".join(known)}',
                "use a value KTRDR emits (see ktrdr_dashboards/data/telemetry.yaml)",
            )
    if query.label is not None:
        return  # label_values() reads labels: any metric type is fine there
    under_counter_function = selector.function in analysis.COUNTER_FUNCTIONS
    if series.is_counter and not under_counter_function:
        yield Finding(
            "telemetry/counter-type",
            where,
            f"{what}{series.name} is a counter used without rate()/increase(); its raw value "
            "only says how much since the process started",
            "wrap it: rate(x[$__rate_interval]) or increase(x[<declared window>])",
        )
    elif not series.is_counter and under_counter_function:
        yield Finding(
            "telemetry/counter-type",
            where,
            f"{what}{series.name} is a {series.type} (by the catalog, whatever its name) under "
            f"{selector.function}()",
            "use the gauge's value directly (or deriv()/delta() for its change)",
        )


def _matches_any(matcher: analysis.Matcher, known: tuple[str, ...]) -> bool:
    if matcher.op == "=":
        return matcher.value in known
    try:
        pattern = re.compile(matcher.value)
    except re.error:
        return True  # RE2 syntax Python lacks: promtool already judged the regex
    return any(pattern.fullmatch(value) for value in known)
