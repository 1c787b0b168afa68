"""The validation gate: judge each dashboard and each Kubernetes resource (`judge_dashboard`,
`judge_resource`: what the build's workers run where they make them), then the project
(`conclude`), drop the findings the exclusions file justifies, and report the rest one line
each. `run_checks` and `check_project` do it all in one process."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from ktrdr_dashboards.alerting import rules
from ktrdr_dashboards.compile.provisioning import ProvisioningFile
from ktrdr_dashboards.errors import DashboardError, Location, shown
from ktrdr_dashboards.promql import durations
from ktrdr_dashboards.validate import checks  # noqa: F401  (importing registers every check)
from ktrdr_dashboards.validate.catalog import Catalog
from ktrdr_dashboards.validate.catalog import load as load_catalog
from ktrdr_dashboards.validate.checks import kubernetes as k8s_checks
from ktrdr_dashboards.validate.core import (
    CHECKS,
    Built,
    Context,
    DashboardSource,
    Facts,
    Finding,
    Inputs,
    Settings,
)

if TYPE_CHECKING:
    from ktrdr_dashboards.compile.output import BuildOutput
    from ktrdr_dashboards.project import Project

EXCLUSIONS_NAME = "validation-exclusions.yaml"


class ValidationError(DashboardError):
    """The gate failed; `findings` holds every problem, `str()` one line per finding."""

    def __init__(self, findings: Sequence[Finding]):
        super().__init__(f"{len(findings)} validation findings")
        self.findings = list(findings)

    def __str__(self) -> str:
        return "\n".join(f.line() for f in self.findings)


@dataclass(frozen=True)
class Exclusion:
    uid: str
    panel_id: int | None  # None: a finding about the dashboard itself
    rule: str
    reason: str


def settings_from_config(config: Mapping) -> Settings:
    """The conventions of `ktrdr/config.libsonnet` (as the build evaluated it, so a `--jpath`
    override of the config is honoured) that the gate judges by."""
    return Settings(
        datasource_variable=config["datasource"]["variable"],
        datasource_type=config["datasource"]["type"],
        declared_windows=tuple(dict.fromkeys(str(w) for w in config.get("windows", {}).values())),
        scrape_interval_seconds=int(durations.seconds(config.get("scrapeInterval", "15s"))),
    )


def load_exclusions(path: Path, shown: str) -> tuple[list[Exclusion], list[Finding]]:
    """Entries of the exclusions file, and a finding for each malformed one."""
    if not path.exists():
        return [], []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        bad = Finding(
            "exclusions/entry",
            Location(file=shown),
            f"not valid YAML: {error}".splitlines()[0],
            "fix the YAML",
        )
        return [], [bad]
    entries = data.get("exclusions") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        bad = Finding(
            "exclusions/entry",
            Location(file=shown),
            "no `exclusions:` list",
            "start the file with `exclusions: []`",
        )
        return [], [bad]
    found: list[Exclusion] = []
    problems: list[Finding] = []
    for index, entry in enumerate(entries, start=1):
        where = Location(file=f"{shown} (entry {index})")
        entry = entry if isinstance(entry, dict) else {}
        missing = [k for k in ("uid", "rule", "reason") if not str(entry.get(k) or "").strip()]
        panel_id = entry.get("panel_id")
        if missing:
            problems.append(
                Finding(
                    "exclusions/entry",
                    where,
                    f"missing {', '.join(missing)}",
                    "give uid, panel_id (omit for the dashboard itself), rule "
                    "and the reason it is justified",
                )
            )
        elif panel_id is not None and (not isinstance(panel_id, int) or isinstance(panel_id, bool)):
            problems.append(
                Finding(
                    "exclusions/entry",
                    where,
                    f"panel_id {panel_id!r} is not an integer",
                    "match the panel by its id",
                )
            )
        else:
            found.append(
                Exclusion(str(entry["uid"]), panel_id, str(entry["rule"]), str(entry["reason"]))
            )
    return found, problems


def apply_exclusions(
    findings: Sequence[Finding], exclusions: Sequence[Exclusion], shown: str
) -> list[Finding]:
    """Findings no exclusion matches, plus one for each exclusion that matched nothing (a
    stale exception would silently hide the next real problem)."""
    used: set[int] = set()
    kept: list[Finding] = []
    for finding in findings:
        loc = finding.location
        match = next(
            (
                i
                for i, e in enumerate(exclusions)
                if e.uid == loc.dashboard and e.panel_id == loc.panel_id and e.rule == finding.rule
            ),
            None,
        )
        if match is None:
            kept.append(finding)
        else:
            used.add(match)
    for index, exclusion in enumerate(exclusions):
        if index not in used:
            kept.append(
                Finding(
                    "exclusions/unused",
                    Location(file=shown),
                    f"exclusion of {exclusion.rule} on {exclusion.uid}"
                    + (f" panel id {exclusion.panel_id}" if exclusion.panel_id is not None else "")
                    + " matches no finding",
                    "remove the entry",
                )
            )
    return kept


@dataclass(frozen=True)
class Verdict:
    """The checks' findings on one dashboard or one Kubernetes resource, and what the project
    checks gathered from it, by the check's place in CHECKS. Small and picklable: the
    build's workers return one for each dashboard and resource they make."""

    findings: dict[int, list[Finding]]
    facts: dict[int, object]


def judge_dashboard(source: DashboardSource, context: Context) -> Verdict:
    findings: dict[int, list[Finding]] = {}
    facts: dict[int, object] = {}
    for index, check in enumerate(CHECKS):
        if check.scope == "dashboard":
            found = list(check.judge(source, context))
            if found:
                findings[index] = found
        elif check.gather_dashboard is not None:
            facts[index] = check.gather_dashboard(source, context)
    return Verdict(findings, facts)


def judge_resource(path: str, document: object, built: Mapping[str, Built]) -> Verdict:
    """`document`, shown as `path`, against the resource checks; `built`: the compiled
    dashboards by uid, which the dashboards a resource carries must equal."""
    findings: dict[int, list[Finding]] = {}
    facts: dict[int, object] = {}
    for index, check in enumerate(CHECKS):
        if check.scope == "resource":
            found = list(check.judge(path, document, built))
            if found:
                findings[index] = found
        elif check.gather_resource is not None:
            facts[index] = check.gather_resource(path, document)
    return Verdict(findings, facts)


def conclude(
    inputs: Inputs, dashboards: Sequence[Verdict], resources: Mapping[str, Verdict]
) -> list[Finding]:
    """Every finding, in the order of CHECKS: a dashboard check's in the dashboards' order, a
    resource check's in the order of the resources' paths, then the project checks run on
    what was gathered (never on `inputs.dashboards` or `inputs.kubernetes`, which the build
    leaves empty); each distinct line once (a metric used twice in one target is one
    problem)."""
    paths = sorted(resources)
    found: list[Finding] = []
    for index, check in enumerate(CHECKS):
        if check.scope == "dashboard":
            for verdict in dashboards:
                found += verdict.findings.get(index, ())
        elif check.scope == "resource":
            for path in paths:
                found += resources[path].findings.get(index, ())
        else:
            facts = Facts(
                [verdict.facts.get(index) for verdict in dashboards],
                [(path, resources[path].facts.get(index)) for path in paths],
            )
            found += check.judge(inputs, facts)
    return list(dict.fromkeys(found))


def built_models(dashboards: Sequence[DashboardSource]) -> dict[str, Built]:
    """uid -> the dashboards that have a uid (a resource must carry one of them)."""
    return {str(s.model.get("uid")): Built(s.model) for s in dashboards if s.model.get("uid")}


def run_checks(inputs: Inputs) -> list[Finding]:
    """Every rule's findings on `inputs`, judged in this process."""
    context = inputs.context()
    built = built_models(inputs.dashboards)
    return conclude(
        inputs,
        [judge_dashboard(source, context) for source in inputs.dashboards],
        {path: judge_resource(path, d, built) for path, d in inputs.kubernetes.items()},
    )


def _shown(path: Path, root: Path | None) -> str:
    return shown(path, root) if root is not None else str(path)


def read_schema(path: Path) -> dict:
    """The schema --grafana-schema names; DashboardError when it cannot be read."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise DashboardError(
            f"cannot read the schema: {error}",
            location=Location(file=str(path)),
            fix="pass the path of Grafana's dashboard JSON Schema",
        ) from None


def excused(
    findings: list[Finding], exclusions_file: Path | None, root: Path | None
) -> list[Finding]:
    """`findings` less those the exclusions file justifies, plus its own problems."""
    if exclusions_file is None:
        return findings
    exclusions_shown = _shown(exclusions_file, root)
    entries, problems = load_exclusions(exclusions_file, exclusions_shown)
    return apply_exclusions(findings, entries, exclusions_shown) + problems


def validate(
    output: BuildOutput,
    *,
    settings: Settings,
    root: Path | None = None,
    catalog: Catalog | None = None,
    grafana_schema: Path | None = None,
    exclusions_file: Path | None = None,
    readme: Path | None = None,
    rule_files: Mapping[str, str] | None = None,
    kubernetes_files: Mapping[str, str] | None = None,
    kubernetes_resources: Mapping[str, object] | None = None,
) -> list[Finding]:
    """Every finding on `output` (compiled dashboards and provisioning) not excused by the
    exclusions file. File names are shown relative to `root`. The Kubernetes resources are
    given as the objects the build made (`kubernetes_resources`) or as files read back
    (`kubernetes_files`, YAML text), by the path findings show."""
    resources = dict(kubernetes_resources or {})
    resources.update(
        (path, k8s_checks.parse(text)) for path, text in (kubernetes_files or {}).items()
    )
    inputs = Inputs(
        dashboards=[DashboardSource(_shown(d.source, root), d.model) for d in output.dashboards],
        provisioning=list(output.provisioning),
        settings=settings,
        catalog=catalog or load_catalog(),
        provisioning_names=provisioning_names(output.provisioning, root),
        official_schema=read_schema(grafana_schema) if grafana_schema is not None else None,
        readme=read_readme(readme, root),
        rule_files=dict(rule_files or {}),
        kubernetes=resources,
    )
    return excused(run_checks(inputs), exclusions_file, root)


def provisioning_names(items: Sequence[ProvisioningFile], root: Path | None) -> dict[str, str]:
    return {str(p.path): _shown(p.path, root) for p in items}


def read_readme(readme: Path | None, root: Path | None) -> tuple[str, str] | None:
    if readme and readme.exists():
        return _shown(readme, root), readme.read_text(encoding="utf-8")
    return None


def render(findings: Sequence[Finding], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(
            {"findings": [f.as_dict() for f in findings], "count": len(findings)},
            indent=2,
            ensure_ascii=False,
        )
    return "\n".join(f.line() for f in findings)


def check_project(
    project: Project,
    output: BuildOutput,
    *,
    grafana_schema: Path | None = None,
    exclusions_file: Path | None = None,
) -> list[Finding]:
    """The gate as `build` and `validate` run it on a project, here on an evaluated build in
    this process: config from its library path, its exclusions file and README; the catalog
    knows the series its recording rules write."""
    rule_files = project_rule_files(output.files)
    return validate(
        output,
        settings=settings_from_config(output.config),
        catalog=project_catalog(rule_files),
        root=project.root,
        grafana_schema=grafana_schema,
        exclusions_file=exclusions_file or project.root / EXCLUSIONS_NAME,
        readme=project.root / "README.md",
        rule_files=rule_files,
        kubernetes_resources={f"build/{k}": v for k, v in output.kubernetes.items()},
    )


def project_rule_files(files: Mapping[str, str]) -> dict[str, str]:
    """The rule files among a build's files (path under build/ -> YAML)."""
    return {k: v for k, v in files.items() if k.startswith(rules.RULES_DIR + "/")}


def project_catalog(rule_files: Mapping[str, str]) -> Catalog:
    """The telemetry catalog and the series the project's recording rules write."""
    return load_catalog().with_recorded(rules.recorded_series(rule_files))
