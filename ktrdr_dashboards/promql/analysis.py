"""What a PromQL expression selects and how: each series selector with its label matchers,
the function it is the (range) argument of, and the window written there. Built on the
`promql-parser` AST; promtool remains the authority on whether an expression parses."""

from __future__ import annotations

import datetime
import functools
from collections.abc import Mapping
from dataclasses import dataclass

import promql_parser

from ktrdr_dashboards.promql import expand as promql

# Functions whose argument is a counter's range: the only place a raw counter belongs.
COUNTER_FUNCTIONS = frozenset({"rate", "irate", "increase", "resets"})
# Functions that turn a counter into a per-window value: their window is checked.
WINDOWED_COUNTER_FUNCTIONS = ("rate", "irate", "increase")
# Window macros as written in a query; analysis expands each to a sentinel duration no one
# writes by hand, so the window found in the AST can be named as it was written.
WINDOW_MACROS = ("__rate_interval", "__interval", "__range")
_SENTINEL_MS = 987_654_321


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str  # "=", "!=", "=~", "!~"
    value: str


@dataclass(frozen=True)
class Selector:
    metric: str | None
    matchers: tuple[Matcher, ...]
    function: str | None  # function whose argument this selector's range (or itself) is
    window: str | None  # as written: "$__rate_interval", "1h"; None for an instant selector


@dataclass(frozen=True)
class Analysis:
    selectors: tuple[Selector, ...]


def _op(op: object) -> str:
    # MatchOp.Re/NotRe carry their compiled regex (and are unhashable): compare by name.
    name = str(op).split(".")[-1].split("(")[0]
    return {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}.get(name, name)


def _window_names() -> dict[datetime.timedelta, str]:
    return {
        datetime.timedelta(milliseconds=_SENTINEL_MS + i): f"${name}"
        for i, name in enumerate(WINDOW_MACROS)
    }


def _written(window: datetime.timedelta) -> str:
    return _window_names().get(window) or promql_parser.display_duration(window)


def _selector(
    vs: promql_parser.VectorSelector, function: str | None, window: str | None
) -> Selector:
    groups = [list(vs.matchers.matchers), *[list(g) for g in vs.matchers.or_matchers]]
    matchers = tuple(Matcher(m.name, _op(m.op), m.value) for group in groups for m in group)
    metric = vs.name
    if metric is None:  # {__name__="x"} names the metric by matcher
        metric = next((m.value for m in matchers if m.label == "__name__" and m.op == "="), None)
    return Selector(metric, tuple(m for m in matchers if m.label != "__name__"), function, window)


def _collect(node: object, function: str | None, found: list[Selector]) -> None:
    if isinstance(node, promql_parser.VectorSelector):
        found.append(_selector(node, function, None))
    elif isinstance(node, promql_parser.MatrixSelector):
        found.append(_selector(node.vector_selector, function, _written(node.range)))
    elif isinstance(node, promql_parser.SubqueryExpr):
        inner = node.expr
        if isinstance(inner, promql_parser.VectorSelector):  # rate(x[5m:1m]) ranges x
            found.append(_selector(inner, function, _written(node.range)))
        else:
            _collect(inner, None, found)
    elif isinstance(node, promql_parser.Call):
        for arg in node.args:
            _collect(arg, node.func.name, found)
    elif isinstance(node, promql_parser.AggregateExpr):
        _collect(node.expr, None, found)
        if node.param is not None:
            _collect(node.param, None, found)
    elif isinstance(node, promql_parser.BinaryExpr):
        _collect(node.lhs, None, found)
        _collect(node.rhs, None, found)
    elif isinstance(node, promql_parser.ParenExpr | promql_parser.UnaryExpr):
        _collect(node.expr, None, found)


def analyze(
    expr: str,
    variables: Mapping[str, promql.Variable],
    context: promql.QueryContext | None = None,
) -> Analysis:
    """Selectors of `expr` after Grafana's expansion. Raises ValueError when the analyzer
    cannot parse the expanded expression."""
    return _analysis(promql.expand(expr, variables, context, extra=_SENTINELS))


_SENTINELS = {name: f"{_SENTINEL_MS + i}ms" for i, name in enumerate(WINDOW_MACROS)}


@functools.lru_cache(maxsize=4096)
def _analysis(expanded: str) -> Analysis:
    """The selectors of an expanded expression, worked out once per process: dashboards
    built from one query library repeat their expressions."""
    found: list[Selector] = []
    _collect(promql_parser.parse(expanded), None, found)
    return Analysis(selectors=tuple(found))
