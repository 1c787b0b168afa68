"""Query truth: every panel target of the built dashboards evaluated by promtool, the PromQL
engine of the Prometheus the team runs, against input series whose right answers are known.

A spec (`tests/specs/<dashboard>.yaml`) holds scenarios: input series in promtool's series
notation and, per panel (+ legend or refId), the samples expected at evaluation times. For
each scenario the harness expands the targets as Grafana would on load (variables on All
stand for every value their own query finds in the scenario's series), makes each target a
recording rule named after dashboard/panel/refId, and each expectation a `promql_expr_test`
on that rule; one `promtool test rules` run per spec file. promtool compares exactly; a
case it reports is compared again here within TOLERANCE, so results are exact where the
arithmetic is and float noise never fails a test, and a real failure names dashboard,
panel, target, expected and got.

The same machinery observes what a target returns (`observe`): an expectation of "no data"
that promtool reports as failed prints the result, which is how the environment check reads
every panel's data."""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import promql_parser
import yaml

from ktrdr_dashboards import promtool
from ktrdr_dashboards.errors import DashboardError, Location
from ktrdr_dashboards.promql import durations
from ktrdr_dashboards.promql import expand as promql
from ktrdr_dashboards.synthetic import environments
from ktrdr_dashboards.validate import catalog, core

# Floats are equal when within this relative difference (absolute near zero): the specs'
# values are computed by hand, the engine's in float64 with a different order of operations.
RELATIVE_TOLERANCE = 1e-6
ABSOLUTE_TOLERANCE = 1e-9

# Grafana's view of every query: the dashboards' default last hour on the 15 s scrape
# interval of every KTRDR environment, so `$__rate_interval` = max(4 x 15s, 15s + 15s) = 60s
# and `$__range` = 3600s (written down once, in validate.promql.QueryContext).
CONTEXT = promql.QueryContext(scrape_interval_seconds=catalog.scrape_interval_seconds())
SCRAPE_INTERVAL = f"{CONTEXT.scrape_interval_seconds}s"


class SpecError(DashboardError):
    """A spec that cannot be run as written (unknown panel, bad time, bad series)."""


# ---------------------------------------------------------------- targets of built dashboards


@dataclass(frozen=True)
class Target:
    """One query of a built dashboard, as written in its JSON."""

    dashboard: str  # uid
    panel: str  # title
    ref_id: str
    legend: str | None
    expr: str
    targets_in_panel: int

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.dashboard, self.panel, self.ref_id)

    def describe(self) -> str:
        legend = f" ({self.legend})" if self.legend else ""
        return f'dashboard {self.dashboard}, panel "{self.panel}", target {self.ref_id}{legend}'

    def rule_name(self) -> str:
        """A recording rule name that says whose query it is, e.g.
        `ktrdr_operations:success_rate:A`."""
        slug = [re.sub(r"[^a-z0-9]+", "_", part.lower()).strip("_") for part in self.key]
        return ":".join(slug)


def dashboard_targets(models: Iterable[Mapping]) -> list[Target]:
    """Every Prometheus target of every panel (rows and collapsed rows included)."""
    found: list[Target] = []
    for model in models:
        source = core.DashboardSource(file="", model=dict(model))
        for ref in core.panels(source):
            items = [t for t, _ in core.targets(ref) if t.get("expr")]
            for target in items:
                found.append(
                    Target(
                        dashboard=str(model.get("uid")),
                        panel=str(ref.panel.get("title")),
                        ref_id=str(target.get("refId") or "A"),
                        legend=target.get("legendFormat") or None,
                        expr=str(target["expr"]),
                        targets_in_panel=len(items),
                    )
                )
    names = [t.rule_name() for t in found]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise DashboardError(f"panels whose titles differ only in punctuation: {clashes}")
    return found


# ---------------------------------------------------------------- input series


def _unquote(value: str) -> str:
    # promtool prints label values as Go-quoted strings; the escapes that occur in them.
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), value)


# promql-parser's matcher operators (by name) as PromQL writes them.
_OPS = {"Equal": "=", "NotEqual": "!=", "Re": "=~", "NotRe": "!~"}


def parse_selector(text: str) -> tuple[str | None, list[tuple[str, str, str]]]:
    """`name{label op "value", ...}` -> (name, [(label, op, value)]), values unquoted, read by
    promql-parser; ValueError for anything that is not one series selector."""
    try:
        parsed = promql_parser.parse(text)
    except (ValueError, RuntimeError) as error:
        raise ValueError(f"not a series selector: {text} ({error})") from None
    if not isinstance(parsed, promql_parser.VectorSelector):
        raise ValueError(f"not a series selector: {text}")
    matchers = [(m.name, _OPS[str(m.op).split(".")[-1]], m.value) for m in parsed.matchers.matchers]
    return parsed.name, matchers


@dataclass(frozen=True)
class InputSeries:
    """One input series: `name{labels}` and its values in promtool's expanding notation
    (`0+10x240`, `1x120 0x120`, `_` missing, `stale`), one value per scrape interval."""

    series: str
    values: str

    @cached_property
    def labels(self) -> dict[str, str]:
        name, matchers = parse_selector(self.series)
        return {"__name__": name or "", **{label: value for label, _, value in matchers}}


def _matches(labels: Mapping[str, str], matchers: Sequence[tuple[str, str, str]]) -> bool:
    for label, op, value in matchers:
        have = labels.get(label, "")
        hit = re.fullmatch(value, have) is not None if op in ("=~", "!~") else have == value
        if hit != (op in ("=", "=~")):
            return False
    return True


def label_values_of(series: Sequence[InputSeries]) -> promql.LabelValues:
    """Answer Grafana's `label_values(selector, label)` from input series, as Prometheus
    answers it for the time range: the label's values on every series the selector matches."""
    all_labels = [s.labels for s in series]

    def answer(selector: str | None, label: str) -> list[str]:
        name, matchers = parse_selector(selector) if selector else (None, [])
        if name:
            matchers = [("__name__", "=", name), *matchers]
        return sorted(
            {lab[label] for lab in all_labels if label in lab and _matches(lab, matchers)}
        )

    return answer


# ---------------------------------------------------------------- samples


@dataclass(frozen=True)
class Sample:
    labels: tuple[tuple[str, str], ...]  # sorted, without __name__
    value: float

    @staticmethod
    def of(labels: Mapping[str, str], value: float) -> Sample:
        clean = tuple(sorted((k, str(v)) for k, v in labels.items() if k != "__name__"))
        return Sample(clean, float(value))

    def text(self) -> str:
        pairs = ", ".join(f'{k}="{v}"' for k, v in self.labels)
        return f"{{{pairs}}} {self.value:.10g}"


def same_samples(expected: Sequence[Sample], got: Sequence[Sample]) -> bool:
    """Same label sets, values within the tolerance (NaN equals NaN: a panel showing NaN was
    expected to)."""
    if sorted(s.labels for s in expected) != sorted(s.labels for s in got):
        return False
    by_labels = {s.labels: s.value for s in got}
    for sample in expected:
        value = by_labels[sample.labels]
        if math.isnan(sample.value) or math.isnan(value):
            if not (math.isnan(sample.value) and math.isnan(value)):
                return False
        elif not math.isclose(
            sample.value, value, rel_tol=RELATIVE_TOLERANCE, abs_tol=ABSOLUTE_TOLERANCE
        ):
            return False
    return True


def samples_text(samples: Sequence[Sample]) -> str:
    return ", ".join(s.text() for s in sorted(samples, key=lambda s: s.labels)) or "no data"


# ---------------------------------------------------------------- running promtool


@dataclass(frozen=True)
class Case:
    """One evaluation: a target's expanded query at a time, with the samples expected."""

    target: Target
    expr: str  # as Grafana sends it
    eval_time: str  # promtool duration from the start of the input series, e.g. "30m"
    expected: tuple[Sample, ...]


@dataclass(frozen=True)
class Run:
    """Input series and the cases evaluated on them: one promtool test file."""

    name: str
    series: tuple[InputSeries, ...]
    cases: tuple[Case, ...]


# The recording rules file as the build names it; with it, every run evaluates the recordings
# first (same times, same input series), so dashboards that read recorded series find them.
RECORDING_RULES_FILE = "ktrdr-recording.yml"


_CASE = re.compile(r'^\s*expr: "(?P<expr>.*?)  # case (?P<run>\d+)\.(?P<case>\d+)", time: ')
_GOT = re.compile(r"^\s*got: (?P<samples>.*)$")
_SAMPLE = re.compile(r"\{(?P<labels>(?:[^{}\"]|\"(?:[^\"\\]|\\.)*\")*)\} (?P<value>[^\s,]+)")
_LABEL = re.compile(r'(?P<name>\w+)="(?P<value>(?:[^"\\]|\\.)*)"')


def _parse_samples(text: str) -> tuple[Sample, ...]:
    if text.strip() == "nil":
        return ()
    return tuple(
        Sample.of(
            {m.group("name"): _unquote(m.group("value")) for m in _LABEL.finditer(s["labels"])},
            float(s.group("value")),
        )
        for s in _SAMPLE.finditer(text)
    )


def _rule_interval(run: Run) -> str:
    """How often promtool evaluates the rules: the largest step that lands on every eval
    time. Each evaluation costs time for every input series, and a rule only needs its value
    at the eval times (a series a rule stops producing is marked stale at the next one)."""
    times = [_seconds(case.eval_time) for case in run.cases]
    step = math.gcd(*times) if times else 0
    return f"{max(step, CONTEXT.scrape_interval_seconds)}s"


def _recording_groups(recording_rules: str | None) -> list[str]:
    if recording_rules is None:
        return []
    document = yaml.safe_load(recording_rules) or {}
    return [str(group["name"]) for group in document.get("groups") or []]


def _documents(runs: Sequence[Run], recording_rules: str | None = None) -> dict[str, dict]:
    """File name -> YAML document: a rules file and a test file per run, and the recording
    rules (YAML text as the build writes it) evaluated before each run's rules."""
    files: dict[str, dict] = {}
    recorded_groups = _recording_groups(recording_rules)
    for r, run in enumerate(runs):
        targets = {case.target.rule_name(): case.expr for case in run.cases}
        rules = [{"record": name, "expr": expr} for name, expr in targets.items()]
        files[f"rules-{r}.yaml"] = {
            "groups": [{"name": f"run-{r}", "interval": _rule_interval(run), "rules": rules}]
        }
        tests = [
            {
                # The comment names the case in promtool's report; the query reads the rule.
                "expr": f"{case.target.rule_name()}  # case {r}.{c}",
                "eval_time": case.eval_time,
                "exp_samples": [
                    {
                        "labels": "{"
                        + ", ".join(
                            f'{k}="{v}"'
                            for k, v in [("__name__", case.target.rule_name()), *s.labels]
                        )
                        + "}",
                        "value": s.value,
                    }
                    for s in case.expected
                ],
            }
            for c, case in enumerate(run.cases)
        ]
        files[f"test-{r}.yaml"] = {
            "rule_files": [RECORDING_RULES_FILE] * bool(recorded_groups) + [f"rules-{r}.yaml"],
            "evaluation_interval": _rule_interval(run),
            # Recordings first: a panel reading a recorded series sees this evaluation's value.
            "group_eval_order": [*recorded_groups, f"run-{r}"],
            "tests": [
                {
                    "interval": SCRAPE_INTERVAL,
                    "input_series": [{"series": s.series, "values": s.values} for s in run.series],
                    "promql_expr_test": tests,
                }
            ],
        }
    return files


def run_promtool(
    runs: Sequence[Run], keep_in: Path | None = None, recording_rules: str | None = None
) -> dict[tuple[int, int], tuple]:
    """Run every case with one `promtool test rules` call (with `recording_rules`, the
    build's recording rules YAML, loaded beside the cases). Returns what promtool reported as
    different from the expectation, by (run, case): the samples it got. A case not returned
    got exactly what it expected. Raises DashboardError when promtool fails otherwise."""
    if not any(run.cases for run in runs):
        return {}
    with tempfile.TemporaryDirectory(prefix="ktrdr-querytest-") as tmp:
        folder = keep_in or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        documents = _documents(runs, recording_rules)
        for name, document in documents.items():
            text = yaml.safe_dump(document, sort_keys=False, width=10**6)
            (folder / name).write_text(text, encoding="utf-8")
        if recording_rules is not None:
            (folder / RECORDING_RULES_FILE).write_text(recording_rules, encoding="utf-8")
        test_files = [name for name in documents if name.startswith("test-")]
        result = promtool.test_rules(test_files, cwd=folder)
    reported: dict[tuple[int, int], tuple] = {}
    current: tuple[int, int] | None = None
    for line in result.stderr.splitlines() + result.stdout.splitlines():
        case = _CASE.match(line)
        got = _GOT.match(line)
        if case:
            current = (int(case.group("run")), int(case.group("case")))
        elif got and current is not None:
            reported[current] = _parse_samples(got.group("samples"))
            current = None
    if result.returncode != 0 and not reported:
        output = (result.stderr + result.stdout).strip()
        raise DashboardError(f"promtool test rules failed: {output[-2000:]}")
    return reported


# ---------------------------------------------------------------- specs


def _seconds(text: str) -> int:
    return int(durations.seconds(text))


@dataclass(frozen=True)
class Expectation:
    panel: str
    ref_id: str | None
    legend: str | None
    eval_times: tuple[str, ...]
    samples: tuple[Sample, ...]

    def describe(self) -> str:
        which = f" legend {self.legend!r}" if self.legend else ""
        which += f" refId {self.ref_id}" if self.ref_id else ""
        return f'panel "{self.panel}"{which}'


@dataclass(frozen=True)
class Scenario:
    name: str
    series: tuple[InputSeries, ...]
    expectations: tuple[Expectation, ...]


@dataclass(frozen=True)
class Spec:
    path: Path
    dashboard: str
    scenarios: tuple[Scenario, ...]


def _value(raw: object, where: str) -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise SpecError(f"{where}: value must be a number or NaN, not {raw!r}")
    try:
        return float(raw)
    except ValueError:
        raise SpecError(f"{where}: value must be a number or NaN, not {raw!r}") from None


def _expectation(raw: Mapping, where: str) -> Expectation:
    unknown = set(raw) - {"panel", "refId", "legend", "at", "samples"}
    if unknown or "panel" not in raw or "at" not in raw or "samples" not in raw:
        raise SpecError(f"{where}: needs panel, at, samples (+ legend or refId); got {sorted(raw)}")
    times = raw["at"] if isinstance(raw["at"], list) else [raw["at"]]
    for time in times:
        try:
            seconds = _seconds(str(time))
        except ValueError as error:
            raise SpecError(f"{where}: {error}") from None
        if seconds % CONTEXT.scrape_interval_seconds:
            # Rules are evaluated every scrape interval; between two they show the older one.
            raise SpecError(f"{where}: at {time} is not a multiple of {SCRAPE_INTERVAL}")
    samples = tuple(
        Sample.of(item.get("labels") or {}, _value(item.get("value"), where))
        for item in raw["samples"] or []
    )
    return Expectation(
        panel=str(raw["panel"]),
        ref_id=str(raw["refId"]) if raw.get("refId") is not None else None,
        legend=str(raw["legend"]) if raw.get("legend") is not None else None,
        eval_times=tuple(str(t) for t in times),
        samples=samples,
    )


def load_spec(path: Path) -> Spec:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict) or "dashboard" not in data or "scenarios" not in data:
        raise SpecError(f"{path}: needs `dashboard` (uid) and `scenarios`")
    scenarios = []
    for i, raw in enumerate(data["scenarios"]):
        where = f"{path}: scenario {raw.get('name') or i}"
        series = tuple(InputSeries(str(s["series"]), str(s["values"])) for s in raw["series"])
        for item in series:
            try:
                item.labels  # noqa: B018 - parse now so a typo names its scenario
            except ValueError as error:
                raise SpecError(f"{where}: {error}") from None
        expectations = tuple(
            _expectation(e, f"{where}, expectation {n + 1}")
            for n, e in enumerate(raw.get("expect") or [])
        )
        scenarios.append(Scenario(str(raw.get("name") or i), series, expectations))
    return Spec(path, str(data["dashboard"]), tuple(scenarios))


def load_specs(folder: Path) -> list[Spec]:
    return [load_spec(path) for path in sorted(folder.glob("*.yaml"))]


def resolve(expectation: Expectation, dashboard: str, targets: Sequence[Target]) -> Target:
    """The target an expectation is about: by panel title, then legend or refId; a panel with
    one target needs neither."""
    in_panel = [t for t in targets if t.dashboard == dashboard and t.panel == expectation.panel]
    chosen = [
        t
        for t in in_panel
        if (expectation.ref_id is None or t.ref_id == expectation.ref_id)
        and (expectation.legend is None or t.legend == expectation.legend)
    ]
    if len(chosen) == 1 and (len(in_panel) == 1 or expectation.ref_id or expectation.legend):
        return chosen[0]
    if not in_panel:
        raise SpecError(f"dashboard {dashboard} has no panel {expectation.panel!r}")
    options = ", ".join(f"refId {t.ref_id} legend {t.legend!r}" for t in in_panel)
    raise SpecError(f"{expectation.describe()}: name one target of the panel: {options}")


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Failure:
    spec: Path
    scenario: str
    case: Case
    got: tuple[Sample, ...]

    def message(self) -> str:
        where = Location(
            file=str(self.spec),
            dashboard=self.case.target.dashboard,
            panel=self.case.target.panel,
            target=self.case.target.ref_id
            + (f" ({self.case.target.legend})" if self.case.target.legend else ""),
        ).describe()
        return (
            f"{where}: scenario {self.scenario!r} at {self.case.eval_time}\n"
            f"    query:    {self.case.expr}\n"
            f"    expected: {samples_text(self.case.expected)}\n"
            f"    got:      {samples_text(self.got)}"
        )


@dataclass
class SpecResult:
    spec: Spec
    cases: int = 0
    failures: list[Failure] = field(default_factory=list)


def _variables(
    models: Mapping[str, Mapping], dashboard: str, series: Sequence[InputSeries]
) -> dict[str, promql.Variable]:
    return promql.default_selection(models[dashboard], label_values_of(series), CONTEXT)


def run_spec(
    spec: Spec,
    models: Mapping[str, Mapping],
    targets: Sequence[Target],
    recording_rules: str | None = None,
) -> SpecResult:
    """Evaluate every expectation of a spec against the built dashboards (`models`: uid ->
    dashboard JSON), the build's recording rules (YAML) evaluated on the same input series;
    one promtool run for the spec file."""
    if spec.dashboard not in models:
        raise SpecError(f"{spec.path}: no built dashboard has uid {spec.dashboard!r}")
    runs: list[Run] = []
    for scenario in spec.scenarios:
        variables = _variables(models, spec.dashboard, scenario.series)
        cases = [
            Case(target, promql.expand(target.expr, variables, CONTEXT), time, e.samples)
            for e in scenario.expectations
            for target in [resolve(e, spec.dashboard, targets)]
            for time in e.eval_times
        ]
        runs.append(Run(scenario.name, scenario.series, tuple(cases)))
    reported = run_promtool(runs, recording_rules=recording_rules)
    result = SpecResult(spec)
    for r, run in enumerate(runs):
        for c, case in enumerate(run.cases):
            result.cases += 1
            got = reported.get((r, c), case.expected)
            if not same_samples(case.expected, got):
                result.failures.append(Failure(spec.path, run.name, case, got))
    return result


def observe(
    models: Mapping[str, Mapping],
    targets: Sequence[Target],
    series: Sequence[InputSeries],
    eval_time: str,
    recording_rules: str | None = None,
) -> dict[tuple[str, str, str], tuple[Sample, ...]]:
    """What every target returns at `eval_time` on `series`, each dashboard's variables on
    their default selection: target key -> samples (empty: the panel shows "No data")."""
    variables = {uid: _variables(models, uid, series) for uid in {t.dashboard for t in targets}}
    cases = [
        Case(
            target, promql.expand(target.expr, variables[target.dashboard], CONTEXT), eval_time, ()
        )
        for target in targets
    ]
    run = Run("observe", tuple(series), tuple(cases))
    reported = run_promtool([run], recording_rules=recording_rules)
    return {case.target.key: reported.get((0, c), ()) for c, case in enumerate(cases)}


# ---------------------------------------------------------------- coverage


@dataclass(frozen=True)
class CoverageRow:
    dashboard: str
    targets: int
    tested: int
    untested: tuple[Target, ...]

    @property
    def percent(self) -> float:
        return 100.0 * self.tested / self.targets if self.targets else 100.0


def coverage(specs: Sequence[Spec], targets: Sequence[Target]) -> list[CoverageRow]:
    """Per dashboard: how many targets at least one expectation covers."""
    tested = {
        resolve(e, spec.dashboard, targets).key
        for spec in specs
        for scenario in spec.scenarios
        for e in scenario.expectations
    }
    rows = []
    for dashboard in sorted({t.dashboard for t in targets}):
        mine = [t for t in targets if t.dashboard == dashboard]
        untested = tuple(t for t in mine if t.key not in tested)
        rows.append(CoverageRow(dashboard, len(mine), len(mine) - len(untested), untested))
    return rows


def coverage_table(rows: Sequence[CoverageRow]) -> str:
    total = CoverageRow("total", sum(r.targets for r in rows), sum(r.tested for r in rows), ())
    width = max(len(r.dashboard) for r in [*rows, total])
    lines = [f"{'dashboard':<{width}}  targets  tested  coverage"]
    for row in [*rows, total]:
        lines.append(
            f"{row.dashboard:<{width}}  {row.targets:>7}  {row.tested:>6}  {row.percent:>7.1f}%"
        )
    for row in rows:
        lines += [f"untested: {t.describe()}" for t in row.untested]
    return "\n".join(lines)


def check_project(
    models: Mapping[str, Mapping], spec_dir: Path, recording_rules: str | None = None
) -> tuple[list[SpecResult], list[CoverageRow]]:
    """Run every spec in `spec_dir` against the built dashboards; with the coverage rows."""
    targets = dashboard_targets(models.values())
    specs = load_specs(spec_dir)
    results = [run_spec(spec, models, targets, recording_rules) for spec in specs]
    return results, coverage(specs, targets)


# ---------------------------------------------------------------- environments


# The environment check reads every panel at t=1h of synthetic telemetry that starts at t=0:
# the dashboards' default range, so every window (1h, $__range) holds data from its start.
ENVIRONMENT_EVAL_TIME = "1h"


def environment_results(
    models: Mapping[str, Mapping],
    targets: Sequence[Target],
    topology: environments.Topology,
    recording_rules: str | None = None,
) -> dict[tuple[str, str, str], tuple[Sample, ...]]:
    """Every target's result on the synthetic telemetry of one KTRDR environment."""
    scrapes = _seconds(ENVIRONMENT_EVAL_TIME) // CONTEXT.scrape_interval_seconds + 1
    synthetic = environments.series_of(topology)
    series = [InputSeries(s, v) for s, v in environments.promtool_input(synthetic, scrapes)]
    return observe(models, targets, series, ENVIRONMENT_EVAL_TIME, recording_rules)


def environment_problems(
    targets: Sequence[Target],
    topology: environments.Topology,
    results: Mapping[tuple[str, str, str], Sequence[Sample]],
) -> list[str]:
    """What an operator of `topology` would miss: a target with no data (or NaN), or one
    that lists services or workers by job/instance and leaves some of the environment's out.
    A target that selects by the Worker variable (`$instance`) is about the workers."""
    problems = []
    for target in targets:
        samples = results[target.key]
        workers_only = "$instance" in target.expr
        scope = topology.of_role("worker") if workers_only else topology.targets
        expected = {"job": {t.job for t in scope}, "instance": {t.instance for t in scope}}
        if not samples:
            problems.append(f"{target.describe()}: No data in environment {topology.name}")
            continue
        if any(math.isnan(s.value) for s in samples):
            problems.append(f"{target.describe()}: NaN in environment {topology.name}")
        for label, wanted in expected.items():
            shown = {dict(s.labels)[label] for s in samples if label in dict(s.labels)}
            if shown and shown != wanted:
                problems.append(
                    f"{target.describe()}: in environment {topology.name} lists {label} "
                    f"{sorted(shown)}, expected {sorted(wanted)}"
                )
    return problems


def environment_table(rows: Sequence[tuple[str, int, int]]) -> str:
    """(environment, targets, targets with all the environment's data) as a table."""
    width = max([len("environment"), *(len(name) for name, _, _ in rows)])
    lines = [f"{'environment':<{width}}  targets  with data"]
    lines += [f"{name:<{width}}  {total:>7}  {ok:>9}" for name, total, ok in rows]
    return "\n".join(lines)


def report(
    models: Mapping[str, Mapping], spec_dir: Path, recording_rules: str | None = None
) -> tuple[str, bool]:
    """Everything `querytest` checks for one build, as the text to print and whether it all
    passed: the specs, their coverage of every target, and every environment of the catalog."""
    results, rows = check_project(models, spec_dir, recording_rules)
    targets = dashboard_targets(models.values())
    lines = [f.message() for r in results for f in r.failures]
    lines += ["", coverage_table(rows), ""]
    checked = []
    problems: list[str] = []
    for topology in environments.topologies():
        found = environment_problems(
            targets, topology, environment_results(models, targets, topology, recording_rules)
        )
        bad = {p.split(": ", 1)[0] for p in found}
        checked.append((topology.name, len(targets), len(targets) - len(bad)))
        problems += found
    lines += [environment_table(checked), *problems]
    cases = sum(r.cases for r in results)
    failures = sum(len(r.failures) for r in results)
    lines.append(f"\n{cases - failures}/{cases} expectations hold in {len(results)} spec files")
    passed = not failures and all(r.percent == 100.0 for r in rows) and not problems
    return "\n".join(lines).strip("\n"), passed
