"""What the dashboards need from Prometheus, checked against a live one: the set-up (scrape
interval against the datasource's `timeInterval`, the recording rules the dashboards read)
and every panel (its queries as Grafana sends them on load, and for a query that returns
nothing, the first series it selects that is missing and why). Data in, findings out."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import yaml

from ktrdr_dashboards import model as dashboard_model
from ktrdr_dashboards import queryplan
from ktrdr_dashboards.promql import analysis, durations
from ktrdr_dashboards.promql import expand as promql

OK, PROBLEM, UNKNOWN = "ok", "problem", "unknown"
# Panel states: every target returns data; some targets return nothing; none does; data is
# shown but a series it reads is missing (e.g. `or vector(0)` shows 0 instead of No data).
PANEL_OK, PARTIAL, NO_DATA, INCOMPLETE = "ok", "partial", "no data", "incomplete"
# Prometheus' lookback: a recorded series not written for longer reads as absent.
LOOKBACK_S = 300
RULES_FILE = "build/prometheus/rules/ktrdr-recording.yml"
LOAD_RULES = (
    f"load {RULES_FILE} (a release installs it as etc/prometheus/rules/ktrdr-recording.yml) "
    "through rule_files in prometheus.yml, then reload Prometheus (SIGHUP or POST /-/reload); "
    "on Kubernetes apply the PrometheusRule; or build with useRecordingRules: false"
)


class Api(Protocol):
    url: str

    def get(self, path: str, params: Mapping[str, str | list[str]] | None = None) -> Any: ...


@dataclass(frozen=True)
class Problem:
    reason: str
    fix: str

    def as_dict(self) -> dict:
        return {"reason": self.reason, "fix": self.fix}


@dataclass(frozen=True)
class Check:
    """One fact about the set-up."""

    name: str
    status: str  # OK, PROBLEM or UNKNOWN
    message: str
    fix: str = ""

    def as_dict(self) -> dict:
        return {"check": self.name, "status": self.status, "message": self.message, "fix": self.fix}


@dataclass
class TargetReport:
    ref_id: str
    expr: str  # as sent
    has_data: bool
    metrics: dict[str, bool] = field(default_factory=dict)  # series name -> present
    problems: list[Problem] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "refId": self.ref_id,
            "expr": self.expr,
            "data": self.has_data,
            "metrics": self.metrics,
            "problems": [p.as_dict() for p in self.problems],
        }


@dataclass
class PanelReport:
    id: int | None
    title: str
    targets: list[TargetReport] = field(default_factory=list)

    @property
    def status(self) -> str:
        if not self.targets or all(t.has_data for t in self.targets):
            return INCOMPLETE if any(t.problems for t in self.targets) else PANEL_OK
        return NO_DATA if not any(t.has_data for t in self.targets) else PARTIAL

    def problem(self) -> Problem | None:
        """The first reason of its first target in trouble: the one line a person acts on."""
        troubled = [t for t in self.targets if not t.has_data] or self.targets
        return next((p for t in troubled for p in t.problems), None)

    def as_dict(self) -> dict:
        first = self.problem()
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            **(first.as_dict() if first else {"reason": "", "fix": ""}),
            "targets": [t.as_dict() for t in self.targets],
        }


@dataclass
class DashboardReport:
    uid: str
    title: str
    variables: dict[str, list[str]]
    panels: list[PanelReport] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "uid": self.uid,
            "title": self.title,
            "variables": self.variables,
            "panels": [p.as_dict() for p in self.panels],
        }


@dataclass
class Report:
    prometheus: str
    time_s: float
    checks: list[Check]
    dashboards: list[DashboardReport]

    def panels(self) -> list[tuple[DashboardReport, PanelReport]]:
        return [(d, p) for d in self.dashboards for p in d.panels]

    def empty_panels(self) -> int:
        return sum(p.status == NO_DATA for _, p in self.panels())

    @property
    def ok(self) -> bool:
        panels_ok = all(p.status == PANEL_OK for _, p in self.panels())
        return panels_ok and all(c.status != PROBLEM for c in self.checks)

    def as_dict(self) -> dict:
        return {
            "prometheus": self.prometheus,
            "time": self.time_s,
            "ok": self.ok,
            "empty_panels": self.empty_panels(),
            "checks": [c.as_dict() for c in self.checks],
            "dashboards": [d.as_dict() for d in self.dashboards],
        }


# ---------------------------------------------------------------- what Prometheus holds


def _seconds(text: str) -> float:
    """RFC 3339 time as Prometheus writes it (nanoseconds, `Z`) -> Unix seconds."""
    trimmed = re.sub(r"(\.\d{6})\d+", r"\1", text).replace("Z", "+00:00")
    return datetime.datetime.fromisoformat(trimmed).timestamp()


def _duration(seconds: float) -> str:
    return promql.seconds_to_hms(round(seconds)) if seconds >= 1 else f"{seconds:.1f}s"


@dataclass(frozen=True)
class RuleState:
    group: str
    file: str
    interval_s: float
    health: str
    last_error: str
    last_evaluation_s: float | None  # None: never evaluated


def loaded_recordings(api: Api) -> dict[str, RuleState]:
    """Recording rules Prometheus has loaded, by recorded name (the first group wins)."""
    found: dict[str, RuleState] = {}
    for group in (api.get("/api/v1/rules", {"type": "record"}) or {}).get("groups") or []:
        group_eval = str(group.get("lastEvaluation") or "")
        for rule in group.get("rules") or []:
            if rule.get("type") != "recording" or rule.get("name") in found:
                continue
            stamp = str(rule.get("lastEvaluation") or group_eval)
            seconds = _seconds(stamp) if stamp and not stamp.startswith("0001-") else None
            found[str(rule["name"])] = RuleState(
                group=str(group.get("name")),
                file=str(group.get("file", "")),
                interval_s=float(group.get("interval") or 0),
                health=str(rule.get("health") or "unknown"),
                last_error=str(rule.get("lastError") or ""),
                last_evaluation_s=seconds,
            )
    return found


def expected_recordings(rules_yaml: str | None) -> dict[str, str]:
    """Recorded name -> expression, from the recording rules the dashboards were built for."""
    if not rules_yaml:
        return {}
    document = yaml.safe_load(rules_yaml) or {}
    return {
        str(rule["record"]): str(rule["expr"])
        for group in document.get("groups") or []
        for rule in group.get("rules") or []
        if "record" in rule
    }


def recording_problem(
    name: str,
    expr: str,
    state: RuleState | None,
    names: set[str],
    first_sample_s: float | None,
    now_s: float,
    range_s: int,
) -> Problem | None:
    """Why the recorded series `name` would be missing (or missing part of the range)."""
    if state is None:
        return Problem(f"recording rule {name} is not loaded in Prometheus", LOAD_RULES)
    if state.health not in ("ok", "unknown"):
        return Problem(
            f"recording rule {name} (group {state.group}) fails: "
            f"{state.last_error or state.health}",
            f"load {RULES_FILE} as built (promtool checked it); see the Prometheus log",
        )
    if state.last_evaluation_s is None or now_s - state.last_evaluation_s > 2 * state.interval_s:
        when = (
            "never evaluated since it was loaded"
            if state.last_evaluation_s is None
            else f"last evaluated {_duration(now_s - state.last_evaluation_s)} ago"
        )
        return Problem(
            f"recording rule group {state.group} is stale: {when} (every "
            f"{_duration(state.interval_s)}, expected within two intervals)",
            "check Prometheus' rule evaluation (its log, prometheus_rule_group_iterations_missed_"
            "total); keep the group's interval at or below the global evaluation_interval",
        )
    if state.interval_s > LOOKBACK_S:
        return Problem(
            f"recording rule group {state.group} runs every {_duration(state.interval_s)}: its "
            f"series go stale between evaluations (Prometheus looks back {LOOKBACK_S // 60}m)",
            f"remove the group's interval ({RULES_FILE}) so it runs at the global "
            "evaluation_interval",
        )
    if name not in names:
        missing = [m for m in _metrics(expr) if m not in names]
        because = f": its input {missing[0]} has no series" if missing else ""
        return Problem(
            f"recorded series {name} has no samples in the last {_duration(range_s)}{because}",
            f"scrape the services that export {missing[0]}" if missing else LOAD_RULES,
        )
    if first_sample_s is not None and first_sample_s - (now_s - range_s) > 2 * state.interval_s:
        since = datetime.datetime.fromtimestamp(first_sample_s, datetime.UTC).strftime("%H:%M:%S")
        return Problem(
            f"recorded series {name} exists only since {since} UTC (rules start recording when "
            f"loaded): panels show nothing before",
            "backfill: promtool tsdb create-blocks-from rules --start <from> --end <now> "
            f"--url {'<prometheus>'} {RULES_FILE}, then move the blocks into Prometheus' data dir",
        )
    return None


def _metrics(expr: str) -> list[str]:
    try:
        found = analysis.analyze(expr, {}).selectors
    except ValueError:
        return []
    return list(dict.fromkeys(s.metric for s in found if s.metric))


def first_sample(api: Api, name: str, start_s: float, end_s: float, step_s: int) -> float | None:
    """When the series `name` first has a value in [start, end] (at `step_s` resolution)."""
    params = {
        "query": f"count({name})",
        "start": str(start_s),
        "end": str(end_s),
        "step": str(step_s),
    }
    result = api.get("/api/v1/query_range", params).get("result") or []
    stamps = [float(t) for series in result for t, _ in series.get("values") or []]
    return min(stamps) if stamps else None


def scrape_intervals(api: Api) -> dict[str, float] | None:
    """Scrape interval by job from the running configuration (None when it cannot be read)."""
    try:
        text = api.get("/api/v1/status/config").get("yaml", "")
    except Exception:  # managed Prometheus often hides its configuration
        return None
    config = yaml.safe_load(text) or {}
    default = (config.get("global") or {}).get("scrape_interval", "1m")
    return {
        str(job.get("job_name")): _prom_seconds(job.get("scrape_interval") or default)
        for job in config.get("scrape_configs") or []
    } | {"": _prom_seconds(default)}


def _prom_seconds(text: str) -> float:
    """A duration from Prometheus' own config; 0 when it is not one."""
    try:
        return durations.seconds(text)
    except ValueError:
        return 0.0


# ---------------------------------------------------------------- dashboards


@dataclass(frozen=True)
class Dashboard:
    uid: str
    title: str
    model: Mapping


class _Lookups:
    """Answers shared by every panel, each asked once."""

    def __init__(self, api: Api, start_s: float, end_s: float):
        self.api, self.start_s, self.end_s = api, start_s, end_s
        self._labels: dict[tuple[str | None, str], list[str]] = {}

    def label_values(self, selector: str | None, label: str) -> list[str]:
        key = (selector, label)
        if key not in self._labels:
            params: dict[str, str | list[str]] = {
                "start": str(self.start_s),
                "end": str(self.end_s),
            }
            if selector:
                params["match[]"] = selector
            self._labels[key] = list(self.api.get(f"/api/v1/label/{label}/values", params) or [])
        return self._labels[key]


def _returns_data(api: Api, expr: str, instant: bool, start_s: int, end_s: int, step: int):
    path, params = queryplan.request(expr, instant, start_s, end_s, step)
    return bool(api.get(path, params).get("result"))


def _variable_matchers(expr: str) -> list[list[tuple[str, str]]]:
    """Per selector of `expr` (in order): (label, variable name) of matchers set by a variable."""
    try:
        raw = analysis.analyze(expr, {}).selectors
    except ValueError:
        return []
    return [
        [(m.label, name) for m in s.matchers for name in promql.variable_names(m.value)]
        for s in raw
    ]


def target_problems(
    expr: str,
    variables: Mapping[str, promql.Variable],
    variable_queries: Mapping[str, str],
    names: set[str],
    recorded: Mapping[str, Problem | None],
    lookups: _Lookups,
    catalog_names: set[str],
) -> tuple[dict[str, bool], list[Problem]]:
    """The series a target selects, present or not, and why a selector finds nothing."""
    try:
        selectors = analysis.analyze(expr, variables).selectors
    except ValueError as error:
        return {}, [Problem(f"the query does not parse: {error}", "rebuild the dashboards")]
    by_variable = _variable_matchers(expr)
    metrics: dict[str, bool] = {}
    problems: list[Problem] = []
    for index, selector in enumerate(selectors):
        name = selector.metric
        if not name:
            continue
        if name in recorded:
            trouble = recorded[name]
            metrics[name] = trouble is None
            if trouble:
                problems.append(trouble)
                continue
        elif name not in names:
            metrics[name] = False
            known = (
                "a KTRDR metric of the telemetry catalog" if name in catalog_names else "a metric"
            )
            problems.append(
                Problem(
                    f"{name} ({known}) has no series in Prometheus over the dashboard's range",
                    f"scrape the services that export {name} (check /api/v1/targets and that "
                    "the exporter is enabled)",
                )
            )
            continue
        metrics[name] = True
        for label, variable in by_variable[index] if index < len(by_variable) else []:
            chosen = variables.get(variable)
            if chosen is None:
                continue
            if not chosen.values:
                problems.append(
                    Problem(
                        f"variable ${variable} lists nothing: {variable_queries.get(variable, '')}"
                        " finds no values",
                        "scrape the backend on port 8000 and the workers on 5003-5008 (the "
                        "variables select KTRDR services by port)",
                    )
                )
                continue
            matcher = next(m for m in selector.matchers if m.label == label)
            have = lookups.label_values(name, label)
            if not any(re.fullmatch(matcher.value, v) for v in have):
                shown = ", ".join(have[:5]) or "none"
                problems.append(
                    Problem(
                        f"series of {name} have {label} {shown}; none is one of ${variable}'s "
                        f"({', '.join(chosen.values)}): `up` and this metric disagree on {label}",
                        f"scrape each service under one {label} (its `up` and its metrics "
                        "share the label: check honor_labels and relabelling)",
                    )
                )
    return metrics, problems


def _variable_queries(model: Mapping) -> dict[str, str]:
    found = {}
    for item in (model.get("templating") or {}).get("list") or []:
        query = item.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        if item.get("type") == "query" and isinstance(query, str):
            found[str(item.get("name"))] = query
    return found


def diagnose_dashboard(
    api: Api,
    dashboard: Dashboard,
    now_s: int,
    names: set[str],
    recorded: Mapping[str, Problem | None],
    catalog_names: set[str],
) -> DashboardReport:
    range_s = queryplan.range_seconds(dashboard.model)
    lookups = _Lookups(api, now_s - range_s, now_s)
    variables = promql.default_selection(dashboard.model, lookups.label_values)
    queries_of = _variable_queries(dashboard.model)
    shown = {k: list(v.values) for k, v in variables.items() if k in queries_of}
    report = DashboardReport(dashboard.uid, dashboard.title, shown)
    for panel in dashboard_model.panels(dashboard.model):
        if not panel.get("targets"):
            continue
        step, targets = queryplan.panel_targets(panel, variables, range_s, now_s)
        item = PanelReport(panel.get("id"), str(panel.get("title", "")))
        for target, expr in targets:
            kinds = queryplan.kinds(target)
            try:
                has_data = any(
                    _returns_data(api, expr, kind, now_s - range_s, now_s, step) for kind in kinds
                )
                error = None
            except Exception as failure:  # a failing query is a finding, not a crash
                has_data, error = False, str(failure)
            metrics, problems = target_problems(
                str(target["expr"]), variables, queries_of, names, recorded, lookups, catalog_names
            )
            if error:
                problems.insert(0, Problem(f"the query fails: {error}", "see the Prometheus log"))
            if not has_data and not problems:
                problems.append(
                    Problem(
                        "the query returns nothing although every series it selects exists "
                        "(nothing happened in its window?)",
                        "none if that is expected; else compare the panel's query in Explore",
                    )
                )
            item.targets.append(
                TargetReport(str(target.get("refId", "A")), expr, has_data, metrics, problems)
            )
        report.panels.append(item)
    return report


def scrape_check(
    intervals: Mapping[str, float] | None, jobs: Sequence[str], time_interval_s: float | None
) -> Check:
    if time_interval_s is None:
        return Check("scrape-interval", UNKNOWN, "the datasource sets no timeInterval")
    if intervals is None:
        return Check(
            "scrape-interval",
            UNKNOWN,
            "Prometheus does not show its configuration (/api/v1/status/config)",
            f"make sure KTRDR is scraped every {_duration(time_interval_s)} (timeInterval)",
        )
    by_job = {job: intervals.get(job, intervals[""]) for job in jobs}
    slower = {job: s for job, s in by_job.items() if s > time_interval_s}
    listed = ", ".join(f"{job} {_duration(s)}" for job, s in sorted(by_job.items())) or "no job"
    if slower:
        worst = max(slower.values())
        return Check(
            "scrape-interval",
            PROBLEM,
            f"scrape interval {listed}; the datasource's timeInterval is "
            f"{_duration(time_interval_s)}, so $__rate_interval holds fewer than 4 scrapes and "
            "rate panels show gaps or No data",
            f"set timeInterval: {_duration(worst)} in provisioning/datasources/ktrdr.yaml (or "
            f"scrape every {_duration(time_interval_s)})",
        )
    return Check(
        "scrape-interval",
        OK,
        f"scrape interval {listed}; datasource timeInterval {_duration(time_interval_s)}",
    )


def rules_check(
    expected: Mapping[str, str],
    loaded: Mapping[str, RuleState],
    problems: Mapping[str, Problem | None],
) -> Check:
    if not expected:
        return Check("recording-rules", OK, "the dashboards read raw series (no rules needed)")
    bad = {name: p for name, p in problems.items() if p}
    if not bad:
        return Check(
            "recording-rules", OK, f"{len(expected)} recordings loaded, healthy and recorded"
        )
    missing = [n for n in expected if n not in loaded]
    if missing:
        message = f"{len(missing)} of {len(expected)} recordings the dashboards read are not loaded"
        return Check("recording-rules", PROBLEM, message, LOAD_RULES)
    first = next(iter(bad.values()))
    others = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
    return Check("recording-rules", PROBLEM, first.reason + others, first.fix)


def time_interval(datasources: Sequence[Mapping]) -> float | None:
    """The default Prometheus datasource's `jsonData.timeInterval` in seconds."""
    prometheus = [d for d in datasources if d.get("type") == "prometheus"]
    chosen = next(
        (d for d in prometheus if d.get("isDefault")), prometheus[0] if prometheus else {}
    )
    value = (chosen.get("jsonData") or {}).get("timeInterval")
    return _prom_seconds(value) if value else None


def server_time(api: Api) -> float:
    return float(api.get("/api/v1/query", {"query": "time()"})["result"][0])


def recordings_state(
    api: Api, expected: Mapping[str, str], now_s: float, range_s: int, names: set[str]
) -> tuple[dict[str, RuleState], dict[str, Problem | None]]:
    """The rules Prometheus has loaded and, per recording the dashboards read, its problem."""
    if not expected:
        return {}, {}
    loaded = loaded_recordings(api)
    problems: dict[str, Problem | None] = {}
    for name, expr in expected.items():
        state = loaded.get(name)
        first = None
        if state is not None and name in names:
            step = max(15, int(state.interval_s) or 15)
            first = first_sample(api, name, now_s - range_s, now_s, step)
        problems[name] = recording_problem(name, expr, state, names, first, now_s, range_s)
    return loaded, problems


def diagnose(
    api: Api,
    dashboards: Sequence[Dashboard],
    recording_rules: str | None,
    datasources: Sequence[Mapping],
    catalog_names: set[str],
) -> Report:
    """The whole report: set-up checks, then every panel of every dashboard."""
    now_s = int(server_time(api))
    range_s = max((queryplan.range_seconds(d.model) for d in dashboards), default=3600)
    names = set(
        api.get("/api/v1/label/__name__/values", {"start": str(now_s - range_s), "end": str(now_s)})
        or []
    )
    expected = expected_recordings(recording_rules)
    loaded, recorded = recordings_state(api, expected, now_s, range_s, names)
    reports = [
        diagnose_dashboard(api, d, now_s, names, recorded, catalog_names) for d in dashboards
    ]
    jobs = sorted({job for r in reports for job in r.variables.get("job", [])})
    checks = [
        scrape_check(scrape_intervals(api), jobs, time_interval(datasources)),
        rules_check(expected, loaded, recorded),
    ]
    return Report(api.url, now_s, checks, reports)


def recording_rules_check(api: Api, recording_rules: str | None, range_s: int = 3600) -> Check:
    """Only the recording rules part of the report (for `apply --prometheus`)."""
    now_s = server_time(api)
    params = {"start": str(now_s - range_s), "end": str(now_s)}
    names = set(api.get("/api/v1/label/__name__/values", params) or [])
    expected = expected_recordings(recording_rules)
    loaded, problems = recordings_state(api, expected, now_s, range_s, names)
    return rules_check(expected, loaded, problems)
