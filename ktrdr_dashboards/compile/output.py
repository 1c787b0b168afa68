"""Everything one build evaluates, in memory: the dashboards, the parts they share (config and
Prometheus rule files, in one evaluation), provisioning and Kubernetes resources. Nothing is
written here; `build` validates and writes, `validate` only judges."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ktrdr_dashboards import jsonnet
from ktrdr_dashboards.alerting import rules
from ktrdr_dashboards.compile import dashboards as jsonnet_compile
from ktrdr_dashboards.compile import kubernetes, provisioning
from ktrdr_dashboards.errors import DashboardError, Location, shown, shown_all
from ktrdr_dashboards.project import Project


@dataclass
class BuildOutput:
    dashboards: list[jsonnet_compile.CompiledDashboard]
    provisioning: list[provisioning.ProvisioningFile]
    # relative path under build/ -> file content
    files: dict[str, str] = field(default_factory=dict)
    # lib/ktrdr/config.libsonnet as evaluated for this build (the validator judges by it)
    config: dict = field(default_factory=dict)
    # kubernetes/<flavour>/<file> -> the resource that files[path] holds as YAML
    kubernetes: dict[str, object] = field(default_factory=dict)


# The parts every dashboard shares, in one evaluation: the config and the Prometheus rule
# files, whose alerts link to panels of the dashboards just built (`panels`).
# The config every dashboard reads, as Jsonnet (evaluated where the dashboards are).
CONFIG = "import 'ktrdr/config.libsonnet'"
SHARED = """function(panels) {
  config: import 'ktrdr/config.libsonnet',
  ruleFiles: (import 'ktrdr/prometheus-rules.libsonnet')(panels),
}
"""


def shared_parts(project: Project, panels: Mapping[str, Mapping[str, list[int]]]) -> dict:
    """{config, ruleFiles} evaluated on the project's library path; `panels`: the built
    dashboards' panel index (alerting.rules.panel_index)."""
    # Placed beside the dashboards so its imports resolve as theirs do: from lib/, a relative
    # 'ktrdr/config.libsonnet' would find lib/ktrdr/ before a --jpath override.
    value = jsonnet.evaluate_snippet(
        # Named in jsonnet/, which holds no library file: its imports go through the search
        # path, so a --jpath override of the config or the rules reaches them.
        project.jsonnet_dir / "<shared>.jsonnet",
        SHARED,
        project.library(),
        tla_codes={"panels": json.dumps(panels, sort_keys=True)},
    )
    assert isinstance(value, dict)
    return value


def dashboard_outputs(
    dashboard: jsonnet_compile.CompiledDashboard, settings: kubernetes.Settings, file: str
) -> tuple[dict[str, str], dict[str, object]]:
    """What one dashboard makes: its files for build/ (relative path -> content: the JSON and
    the Kubernetes resources that carry it) and those resources (relative path -> resource);
    `file`: its source as messages show it."""
    text = jsonnet_compile.render_json(dashboard.model)
    built = kubernetes.Dashboard(dashboard.name, text, dashboard.model, dashboard.v2_layout, file)
    resources: dict[str, object] = {
        f"{kubernetes.KUBERNETES_DIR}/{path}": resource
        for path, resource in kubernetes.dashboard_resources(settings, built).items()
    }
    files = {f"dashboards/{dashboard.name}.json": text}
    files.update(kubernetes.render_all(resources))
    return files, resources


def shared_outputs(
    settings: kubernetes.Settings,
    datasources: Sequence[Mapping],
    rule_files: Mapping[str, str],
    dashboard_resources: Sequence[str],
) -> tuple[dict[str, str], dict[str, object]]:
    """The Kubernetes resources no one dashboard carries, and every flavour's kustomization
    listing them and `dashboard_resources` (paths under build/): files and resources."""
    prefix = f"{kubernetes.KUBERNETES_DIR}/"
    resources: dict[str, object] = {
        prefix + path: resource
        for path, resource in kubernetes.shared_resources(
            settings,
            datasources,
            kubernetes.rule_groups(rule_files),
            [p.removeprefix(prefix) for p in dashboard_resources],
        ).items()
    }
    return kubernetes.render_all(resources), resources


def check_unique_uids(dashboards: Sequence[jsonnet_compile.CompiledDashboard], root: Path) -> None:
    """Refuse two sources with one uid before anything keys on the uid (alert links, rule
    files): the one line names the uid and both files (relative to `root`, as the gate)."""

    seen: dict[str, Path] = {}
    for dashboard in dashboards:
        uid = dashboard.model.get("uid")
        if not isinstance(uid, str):
            continue  # the gate reports a missing or malformed uid
        if uid in seen:
            raise DashboardError(
                f"uid {uid} is also the uid of {shown(seen[uid], root)}",
                location=Location(file=shown(dashboard.source, root), dashboard=uid),
                fix="give each dashboard its own uid",
            )
        seen[uid] = dashboard.source


def evaluate(project: Project) -> BuildOutput:
    """Compile sources and read provisioning; raises DashboardError on the first problem.
    Everything in memory, in this process: `build` and `validate` go through build_pool.py,
    which makes the same files in workers."""
    dashboards = jsonnet_compile.compile_all(
        jsonnet_compile.find_sources(project.jsonnet_dir), project.library()
    )
    check_unique_uids(dashboards, project.root)
    prov = provisioning.load(project.provisioning_dir)
    shared = shared_parts(project, rules.panel_index(d.model for d in dashboards))
    settings = kubernetes.settings_from_config(shared["config"])
    files: dict[str, str] = {}
    resources: dict[str, object] = {}
    for dashboard, file in zip(
        dashboards, shown_all([d.source for d in dashboards], project.root), strict=True
    ):
        made, carried = dashboard_outputs(dashboard, settings, file)
        files.update(made)
        resources.update(carried)
    for item in prov:
        files[f"provisioning/{item.kind}/{item.path.name}"] = item.text
    rule_files = rules.build_files(shared["ruleFiles"])
    files.update(rule_files)
    made, carried = shared_outputs(
        settings, provisioning.datasources(prov), rule_files, list(resources)
    )
    files.update(made)
    resources.update(carried)
    return BuildOutput(
        dashboards=dashboards,
        provisioning=prov,
        files=dict(sorted(files.items())),
        config=shared["config"],
        kubernetes=dict(sorted(resources.items())),
    )
