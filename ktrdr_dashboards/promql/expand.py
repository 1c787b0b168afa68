"""PromQL as Grafana sends it: expand Grafana's variables and macros the way Grafana's
Prometheus datasource does, and check expressions with promtool, the parser of the Prometheus
version the team runs. The expansion rules live here once; the query-truth tests reuse them."""

from __future__ import annotations

import functools
import json
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ktrdr_dashboards import promtool

# Grafana's variable syntax (templateSrv): $var, [[var]] or [[var:fmt]], ${var}, ${var.path},
# ${var:fmt}.
VARIABLE = re.compile(
    r"\$(?P<plain>\w+)"
    r"|\[\[(?P<old>\w+?)(?::(?P<oldfmt>\w+))?\]\]"
    r"|\$\{(?P<braced>\w+)(?:\.(?P<path>[^:^}]+))?(?::(?P<fmt>[^}]+))?\}"
)

# Grafana's roundInterval(): the `$__interval` a raw interval (ms) is rounded to.
_ROUNDING_MS = (
    (15, 10), (35, 20), (75, 50), (150, 100), (350, 200), (750, 500), (1500, 1000),
    (3500, 2000), (7500, 5000), (12500, 10000), (17500, 15000), (25000, 20000),
    (45000, 30000), (90000, 60000), (210000, 120000), (450000, 300000), (750000, 600000),
    (1050000, 900000), (1500000, 1200000), (2700000, 1800000), (5400000, 3600000),
    (9000000, 7200000), (16200000, 10800000), (32400000, 21600000), (86400000, 43200000),
    (604800000, 86400000), (1814400000, 604800000), (3628800000, 2592000000),
)  # fmt: skip
_YEAR_MS = 31536000000


def round_interval_ms(raw_ms: float) -> int:
    return next((rounded for limit, rounded in _ROUNDING_MS if raw_ms < limit), _YEAR_MS)


def seconds_to_hms(seconds: float) -> str:
    """Grafana's rangeUtil.secondsToHms: the largest whole unit, e.g. 15s, 1m, 2h."""
    for unit, size in (("y", 31536000), ("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    if seconds >= 1 and float(seconds).is_integer():
        return f"{int(seconds)}s"
    return f"{round(seconds * 1000)}ms"


@dataclass(frozen=True)
class QueryContext:
    """What Grafana knows when it runs a panel's query. Defaults: the KTRDR dashboards' last
    hour, a ~1000 px wide panel, the 15 s scrape interval of every KTRDR environment."""

    range_seconds: int = 3600
    max_data_points: int = 1000
    scrape_interval_seconds: int = 15  # datasource `timeInterval`: the floor of $__interval
    to_ms: int = 1_700_000_000_000

    @property
    def interval_ms(self) -> int:
        raw = round_interval_ms(self.range_seconds * 1000 / self.max_data_points)
        return max(raw, self.scrape_interval_seconds * 1000)

    @property
    def rate_interval_seconds(self) -> int:
        # max($__interval + scrape interval, 4 * scrape interval): at least four scrapes.
        interval_s = self.interval_ms // 1000
        scrape = self.scrape_interval_seconds
        return max(interval_s + scrape, 4 * scrape)

    def macros(self) -> dict[str, str]:
        """The built-in variables Grafana's Prometheus datasource fills in."""
        return dict(_macros(self))


@functools.lru_cache(maxsize=64)
def _macros(context: QueryContext) -> dict[str, str]:
    """QueryContext.macros, worked out once for each context (expand runs for every query;
    the result is never changed)."""
    rate_interval = context.rate_interval_seconds
    return {
        "__interval": seconds_to_hms(context.interval_ms / 1000),
        "__interval_ms": str(context.interval_ms),
        "__rate_interval": f"{rate_interval}s",
        "__rate_interval_ms": str(rate_interval * 1000),
        "__range": f"{context.range_seconds}s",
        "__range_s": str(context.range_seconds),
        "__range_ms": str(context.range_seconds * 1000),
        "__from": str(context.to_ms - context.range_seconds * 1000),
        "__to": str(context.to_ms),
    }


@dataclass(frozen=True)
class Variable:
    """A dashboard template variable as far as expansion needs it."""

    name: str
    values: tuple[str, ...]  # current selection, `$__all` resolved
    multi_or_all: bool = False  # Grafana regex-escapes and joins such values


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _variable_items(model: Mapping) -> list[dict]:
    """The template variables of a model that are objects (a malformed one is skipped)."""
    items = _list(_dict(model.get("templating")).get("list"))
    return [item for item in items if isinstance(item, dict)]


def variables_of(model: Mapping) -> dict[str, Variable]:
    """Template variables of a dashboard model with their current values. A query variable
    whose current value is All and whose options Grafana only knows at run time expands to
    its `allValue`, else to `.*`, so the expression still parses."""
    found: dict[str, Variable] = {}
    for item in _variable_items(model):
        name = item.get("name")
        if not isinstance(name, str):
            continue
        current = _dict(item.get("current")).get("value", "")
        values = [current] if isinstance(current, str) else [str(v) for v in _list(current)]
        multi_or_all = bool(item.get("multi") or item.get("includeAll"))
        if "$__all" in values:
            options = [
                str(o.get("value"))
                for o in _list(item.get("options"))
                if isinstance(o, dict) and o.get("value") not in (None, "$__all")
            ]
            values = [item["allValue"]] if item.get("allValue") else options or [".*"]
            if not options or item.get("allValue"):
                multi_or_all = False  # allValue is used verbatim, not escaped
        found[name] = Variable(name, tuple(values), multi_or_all)
    return found


# Grafana's Prometheus variable query: `label_values(selector, label)` or `label_values(label)`.
_LABEL_VALUES = re.compile(
    r"^\s*label_values\(\s*(?:(?P<selector>.+),\s*)?(?P<label>\w+)\s*\)\s*$", re.S
)

# Answers a variable query as the data source would: (selector or None, label) -> values.
LabelValues = Callable[[str | None, str], Sequence[str]]


def default_selection(
    model: Mapping, label_values: LabelValues, context: QueryContext | None = None
) -> dict[str, Variable]:
    """Template variables as Grafana sends them on load with each one's saved selection, where
    a query variable on All (without a custom all value) stands for every value its own query
    finds: `label_values` answers the query after the variables before it are expanded
    (chained variables, e.g. `$instance` over `$job`), the variable's `regex` filters, and the
    values join as a regex alternation of the escaped values, e.g. `(backend|ktrdr-workers)`."""
    variables = variables_of(model)
    for item in _variable_items(model):
        query = item.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        current = _dict(item.get("current")).get("value")
        on_all = "$__all" in ([current] if isinstance(current, str) else _list(current))
        match = _LABEL_VALUES.match(expand(str(query or ""), variables, context))
        if item.get("type") != "query" or not on_all or item.get("allValue") or not match:
            continue
        found = label_values(match.group("selector"), match.group("label"))
        if item.get("regex"):
            pattern = re.compile(str(item["regex"]).strip("/"))
            hits = [pattern.search(v) for v in found]
            found = [(h.group(1) if h.groups() else h.group(0)) for h in hits if h]
        variables[item["name"]] = Variable(item["name"], tuple(sorted(set(found))), True)
    return variables


def _regex_escape(value: str) -> str:
    # Grafana's prometheusSpecialRegexEscape, as the string that lands inside a PromQL string.
    return re.sub(
        r"[$^*{}\[\]'+?.()|]", lambda m: "\\\\" + m.group(0), value.replace("\\", "\\\\\\\\")
    )


def _js_regex_escape(value: str) -> str:
    # Grafana's regexEscape (the `:regex` format): JavaScript's special characters only.
    return re.sub(r"[\\^$*+?.()|\[\]{}/]", lambda m: "\\" + m.group(0), value)


def _format(variable: Variable, fmt: str | None) -> str:
    values = list(variable.values)
    if fmt in (None, ""):
        if not variable.multi_or_all:
            return values[0] if values else ""
        escaped = [_regex_escape(v) for v in values]
        return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"
    formats = {
        "raw": lambda: ",".join(values),
        "text": lambda: " + ".join(values),
        "csv": lambda: ",".join(values),
        "pipe": lambda: "|".join(values),
        "regex": lambda: (
            _js_regex_escape(values[0])
            if len(values) == 1
            else "(" + "|".join(map(_js_regex_escape, values)) + ")"
        ),
        "glob": lambda: values[0] if len(values) == 1 else "{" + ",".join(values) + "}",
        "json": lambda: "[" + ",".join(f'"{v}"' for v in values) + "]",
        "doublequote": lambda: ",".join(f'"{v}"' for v in values),
        "singlequote": lambda: ",".join(f"'{v}'" for v in values),
        "queryparam": lambda: "&".join(f"var-{variable.name}={v}" for v in values),
    }
    return formats.get(fmt, formats["glob"])()


def variable_names(text: str) -> list[str]:
    """Every variable name referenced in `text`, in order (macros included)."""
    return [
        m.group("plain") or m.group("old") or m.group("braced") for m in VARIABLE.finditer(text)
    ]


def expand(
    expr: str,
    variables: Mapping[str, Variable],
    context: QueryContext | None = None,
    extra: Mapping[str, str] | None = None,
) -> str:
    """`expr` as Grafana sends it to Prometheus. Unknown variables stay as written (Grafana
    leaves them too), so the parser then names them. `extra` maps names to literal text
    and wins over everything (used to mark windows for analysis)."""
    macros = _macros(context or QueryContext())

    def replace(match: re.Match[str]) -> str:
        name = match.group("plain") or match.group("old") or match.group("braced")
        fmt = match.group("fmt") or match.group("oldfmt")
        if extra and name in extra:
            return extra[name]
        if name in macros:
            return macros[name]
        if name in variables:
            return _format(variables[name], fmt)
        return match.group(0)

    return VARIABLE.sub(replace, expr)


@dataclass
class ParseResult:
    errors: dict[int, str] = field(default_factory=dict)  # index of the expression -> message
    rule_errors: list[str] = field(default_factory=list)  # promtool's lines on the rule groups


_PROMTOOL_LINE = re.compile(
    r'rule \d+, "check_(?P<index>\d+)": (?:could not parse expression: )?(?P<message>.*)$'
)
_RULE_LINE = re.compile(r'group "(?P<group>[^"]+)", rule \d+, "(?P<rule>[^"]+)": (?P<message>.*)$')


def check_with_promtool(expressions: Sequence[str], groups: Sequence[Mapping] = ()) -> ParseResult:
    """Parse every expression with `promtool check rules` in one run: one generated rules
    file, one recording rule per expression, beside the project's own alert and recording
    rule groups (`groups`), so a build runs promtool once. Errors map back by index; errors
    in the rule groups come back as promtool's lines."""
    result = ParseResult()
    if not expressions and not groups:
        return result
    rules = [{"record": f"check_{i}", "expr": expr} for i, expr in enumerate(expressions)]
    document = {"groups": [{"name": "dashboard-queries", "rules": rules}, *groups]}
    with tempfile.TemporaryDirectory(prefix="ktrdr-promql-") as tmp:
        path = Path(tmp) / "queries.rules.yaml"
        # JSON is YAML to promtool, and written many times faster than YAML for the thousands
        # of expressions of a large project; promtool's messages name rules, not lines.
        path.write_text(json.dumps(document), encoding="utf-8")
        run = promtool.check_rules([path], lint=False)
    if run.returncode == 0:
        return result
    for line in (run.stdout + "\n" + run.stderr).splitlines():
        match = _PROMTOOL_LINE.search(line)
        if match:
            result.errors[int(match.group("index"))] = match.group("message").strip()
            continue
        match = _RULE_LINE.search(line)
        if match:
            result.rule_errors.append(match.group(0).strip())
    if not result.errors and not result.rule_errors:
        # promtool failed without naming a rule: never pass silently
        output = (run.stderr or run.stdout).strip().splitlines()
        raise RuntimeError(
            f"promtool check rules failed: {output[-1] if output else run.returncode}"
        )
    return result


_FENCE = re.compile(r"^```promql[ \t]*\n(?P<body>.*?)^```", re.MULTILINE | re.DOTALL)


def markdown_examples(text: str) -> list[tuple[int, str]]:
    """(line number, expression) of every example in the ```promql blocks of a Markdown text.
    In a block, expressions are separated by blank or comment-only lines; `#` comments at the
    end of a line are PromQL comments and stay."""
    examples: list[tuple[int, str]] = []
    for block in _FENCE.finditer(text):
        first_line = text.count("\n", 0, block.start("body")) + 1
        current: list[str] = []
        start = first_line
        for offset, line in enumerate([*block.group("body").splitlines(), ""]):
            if line.strip() and not line.strip().startswith("#"):
                if not current:
                    start = first_line + offset
                current.append(line)
            elif current:
                examples.append((start, "\n".join(current)))
                current = []
    return examples
