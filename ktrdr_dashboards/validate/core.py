"""The validator's data: what is checked (Inputs, and the Context one dashboard is judged
in), what a rule reports (Finding), and the registry of checks (of one dashboard, of one
Kubernetes resource, of the whole project) by their stable rule names."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from ktrdr_dashboards import model as dashboard_model
from ktrdr_dashboards.compile.provisioning import ProvisioningFile, datasources
from ktrdr_dashboards.errors import Location
from ktrdr_dashboards.validate.catalog import Catalog


@dataclass(frozen=True)
class Finding:
    rule: str  # stable name, e.g. "layout/overlap"
    location: Location
    message: str  # what is wrong
    fix: str  # how to fix it
    severity: str = "error"

    def line(self) -> str:
        """`<file>: dashboard <uid>, panel "<title>" (id <n>), target <refId>: <rule>: ...`"""
        where = self.location.describe()
        text = f"{self.rule}: {self.message} — {self.fix}"
        return f"{where}: {text}" if where else text

    def as_dict(self) -> dict:
        loc = self.location
        return {
            "rule": self.rule,
            "severity": self.severity,
            "file": loc.file,
            "dashboard": loc.dashboard,
            "panel": loc.panel,
            "panel_id": loc.panel_id,
            "target": loc.target,
            "message": self.message,
            "fix": self.fix,
            "line": self.line(),
        }


@dataclass(frozen=True)
class Settings:
    """KTRDR conventions the rules need, read from lib/ktrdr/config.libsonnet."""

    datasource_variable: str = "datasource"
    datasource_type: str = "prometheus"
    # Windows that are part of a panel's meaning (config `windows`); all other rate/irate/
    # increase windows must be $__rate_interval.
    declared_windows: tuple[str, ...] = ()
    scrape_interval_seconds: int = 15


@dataclass(frozen=True)
class DashboardSource:
    file: str  # as shown in findings, e.g. "jsonnet/operations.jsonnet"
    model: dict
    # `panels(self)`, walked once for all the checks (holds one list once walked)
    walked: list = field(default_factory=list, compare=False, repr=False)


@dataclass(frozen=True)
class Context:
    """What judging one dashboard or one Kubernetes resource needs besides it: small and
    picklable, so the build's workers judge each dashboard where they compiled it."""

    settings: Settings
    # the datasource uids provisioning/datasources provides
    provisioned_uids: frozenset[str] = frozenset()
    official_schema: dict | None = None  # --grafana-schema


@dataclass(frozen=True)
class Inputs:
    dashboards: list[DashboardSource]
    provisioning: list[ProvisioningFile]
    settings: Settings
    catalog: Catalog
    provisioning_names: dict[str, str] = field(default_factory=dict)  # source path -> shown
    official_schema: dict | None = None
    readme: tuple[str, str] | None = None  # (shown name, Markdown text)
    rule_files: dict[str, str] = field(default_factory=dict)  # build/ path -> rule file YAML
    # shown path (build/kubernetes/<flavour>/<file>) -> the Kubernetes resource (the parsed
    # YAML of a release's file, which may be anything; or the text of one that does not parse)
    kubernetes: dict[str, object] = field(default_factory=dict)

    def shown(self, item: ProvisioningFile) -> str:
        return self.provisioning_names.get(str(item.path), str(item.path))

    def context(self) -> Context:
        return Context(self.settings, provisioned_uids(self.provisioning), self.official_schema)


def provisioned_uids(items: Iterable[ProvisioningFile]) -> frozenset[str]:
    """The datasource uids provisioning/datasources provides."""
    return frozenset(
        str(d["uid"]) for d in datasources(list(items)) if isinstance(d, dict) and d.get("uid")
    )


class Built:
    """A dashboard the build compiled, as the resource checks compare what a resource carries
    with it: its classic model, and what is worked out from it once for every resource that
    carries it (its schema v2 conversions; the v2 rules' findings on a spec)."""

    def __init__(self, model: dict) -> None:
        self.model = model
        self._converted: dict[tuple[str, str], object] = {}
        # (id of a v2 spec, its version) -> (the spec, kept alive while its id is a key; the
        # findings on it)
        self.judged: dict[tuple[int, str], tuple[object, list]] = {}

    def converted(self, layout: object, version: str, spec: object) -> None:
        """Record that the build converted the model with `layout` to `spec` (in this process:
        the spec is that conversion, so it need not be worked out again to compare)."""
        self._converted[self._key(layout, version)] = spec

    @staticmethod
    def _key(layout: object, version: str) -> tuple[str, str]:
        return version, json.dumps(layout, sort_keys=True, default=str)

    def to_v2(self, layout: object, version: str) -> object:
        """convert.to_v2 of the model with `layout`, worked out once per layout and version
        (a ConversionError is raised each time it is asked for)."""
        from ktrdr_dashboards import convert

        key = self._key(layout, version)
        if key not in self._converted:
            try:
                self._converted[key] = convert.to_v2(self.model, layout, version=version)
            except convert.ConversionError as error:
                self._converted[key] = error
        found = self._converted[key]
        if isinstance(found, convert.ConversionError):
            raise found
        return found


@dataclass(frozen=True)
class Facts:
    """What a project check gathered, one value per dashboard (in order) and per Kubernetes
    resource (path, value), by its own `gather` functions."""

    dashboards: list = field(default_factory=list)
    resources: list[tuple[str, object]] = field(default_factory=list)


DashboardCheck = Callable[[DashboardSource, Context], Iterable[Finding]]
# (shown path, resource, the dashboards the build compiled by uid)
ResourceCheck = Callable[[str, object, Mapping[str, Built]], Iterable[Finding]]
ProjectCheck = Callable[[Inputs, Facts], Iterable[Finding]]


@dataclass(frozen=True)
class Check:
    """A registered check: of one dashboard, of one Kubernetes resource, or of the project as
    a whole. A project check reads the dashboards and resources only through what its
    `gather_dashboard` and `gather_resource` return for each, which the build's workers run
    beside the dashboard checks; the findings come in the order of CHECKS, each check's in
    the order of the dashboards or of the resources' paths."""

    rules: tuple[str, ...]
    scope: str  # "dashboard", "resource" or "project"
    judge: Callable[..., Iterable[Finding]]
    gather_dashboard: Callable[[DashboardSource, Context], object] | None = None
    gather_resource: Callable[[str, object], object] | None = None


CHECKS: list[Check] = []
# rule name -> one-line description (docs/validation.md lists the same)
RULES: dict[str, str] = {}


def _register(rules: tuple[tuple[str, str], ...], make: Callable[[Callable], Check]):
    def register(function: Callable) -> Callable:
        for name, description in rules:
            RULES[name] = description
        CHECKS.append(make(function))
        return function

    return register


def _names(rules: tuple[tuple[str, str], ...]) -> tuple[str, ...]:
    return tuple(name for name, _ in rules)


def dashboard_check(*rules: tuple[str, str]) -> Callable[[DashboardCheck], DashboardCheck]:
    """Register a check of one dashboard and the rules (name, description) it reports."""
    return _register(rules, lambda f: Check(_names(rules), "dashboard", f))


def resource_check(*rules: tuple[str, str]) -> Callable[[ResourceCheck], ResourceCheck]:
    """Register a check of one Kubernetes resource (path, document, built models by uid)."""
    return _register(rules, lambda f: Check(_names(rules), "resource", f))


def project_check(
    *rules: tuple[str, str],
    gather_dashboard: Callable[[DashboardSource, Context], object] | None = None,
    gather_resource: Callable[[str, object], object] | None = None,
) -> Callable[[ProjectCheck], ProjectCheck]:
    """Register a check of the whole project, fed what the gather functions return for each
    dashboard and each resource."""
    return _register(
        rules,
        lambda f: Check(_names(rules), "project", f, gather_dashboard, gather_resource),
    )


# ---------------------------------------------------------------- dashboard traversal


def as_dict(value: object) -> dict:
    """`value` when it is an object, else an empty one: a malformed model (a list where an
    object belongs) is the schema rule's finding, not a crash of every other rule."""
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list:
    """`value` when it is a list, else an empty one (see `as_dict`)."""
    return value if isinstance(value, list) else []


@dataclass(frozen=True)
class PanelRef:
    panel: dict
    location: Location  # file, dashboard and panel filled in
    row: dict | None  # the collapsed row holding it, if any


def dashboard_location(source: DashboardSource) -> Location:
    uid = source.model.get("uid")
    return Location(file=source.file, dashboard=str(uid) if uid else None)


def panel_location(source: DashboardSource, panel: dict) -> Location:
    panel_id = panel.get("id")
    title = panel.get("title")
    uid = source.model.get("uid")
    return Location(
        file=source.file,
        dashboard=str(uid) if uid else None,
        panel=str(title) if title is not None else "",
        panel_id=panel_id if isinstance(panel_id, int) and not isinstance(panel_id, bool) else None,
    )


def panels(source: DashboardSource) -> list[PanelRef]:
    """Every panel: top level (rows included) and those inside collapsed rows."""
    if not source.walked:
        source.walked.append(
            [
                PanelRef(panel, panel_location(source, panel), row)
                for row, panel in dashboard_model.panels_with_rows(source.model)
                if row is None or row.get("type") == "row"
            ]
        )
    return source.walked[0]


def targets(ref: PanelRef) -> Iterator[tuple[dict, Location]]:
    where = ref.location
    for target in as_list(ref.panel.get("targets")):
        if isinstance(target, dict):
            refid = str(target.get("refId") or "?")
            yield target, Location(where.file, where.dashboard, where.panel, where.panel_id, refid)


def variables(source: DashboardSource) -> list[dict]:
    items = as_list(as_dict(source.model.get("templating")).get("list"))
    return [item for item in items if isinstance(item, dict)]
