"""Everything one build evaluates, in memory: the dashboards, the parts they share (config and
Prometheus rule files, in one evaluation), provisioning and Kubernetes resources. Nothing is
written here; `build` validates and writes, `validate` only judges."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ktrdr_dashboards import jsonnet
from ktrdr_dashboards.alerting import rules
from ktrdr_dashboards.compile import dashboards as jsonnet_compile
from ktrdr_dashboards.compile import kubernetes, provisioning
from ktrdr_dashboards.errors import DashboardError, Location, shown
from ktrdr_dashboards.project import Project


@dataclass
class BuildOutput:
    dashboards: list[jsonnet_compile.CompiledDashboard]
    provisioning: list[provisioning.ProvisioningFile]
    # relative path under build/ -> file content
    files: dict[str, str] = field(default_factory=dict)
    # lib/ktrdr/config.libsonnet as evaluated for this build (the validator judges by it)
    config: dict = field(default_factory=dict)


# The parts every dashboard shares, in one evaluation: the config and the Prometheus rule
# files, whose alerts link to panels of the dashboards just built (`panels`).
SHARED = """function(panels) {
  config: import 'ktrdr/config.libsonnet',
  ruleFiles: (import 'ktrdr/prometheus-rules.libsonnet')(panels),
}
"""


def shared_parts(project: Project, models: list[dict]) -> dict:
    """{config, ruleFiles} evaluated on the project's library path."""
    # Placed beside the dashboards so its imports resolve as theirs do: from lib/, a relative
    # 'ktrdr/config.libsonnet' would find lib/ktrdr/ before a --jpath override.
    value = jsonnet.evaluate_snippet(
        # Named in jsonnet/, which holds no library file: its imports go through the search
        # path, so a --jpath override of the config or the rules reaches them.
        project.jsonnet_dir / "<shared>.jsonnet",
        SHARED,
        project.library(),
        tla_codes={"panels": json.dumps(rules.panel_index(models), sort_keys=True)},
    )
    assert isinstance(value, dict)
    return value


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
    """Compile sources and read provisioning; raises DashboardError on the first problem."""
    dashboards = jsonnet_compile.compile_all(
        jsonnet_compile.find_sources(project.jsonnet_dir), project.library()
    )
    check_unique_uids(dashboards, project.root)
    files = {f"dashboards/{d.name}.json": jsonnet_compile.render_json(d.model) for d in dashboards}
    prov = provisioning.load(project.provisioning_dir)
    for item in prov:
        files[f"provisioning/{item.kind}/{item.path.name}"] = item.text
    shared = shared_parts(project, [d.model for d in dashboards])
    rule_files = rules.build_files(shared["ruleFiles"])
    files.update(rule_files)
    built = [
        kubernetes.Dashboard(
            d.name,
            files[f"dashboards/{d.name}.json"],
            d.model,
            v2_layout=d.v2_layout,
            source=shown(d.source, project.root),
        )
        for d in dashboards
    ]
    files.update(
        kubernetes.build_files(shared["config"], built, provisioning.datasources(prov), rule_files)
    )
    return BuildOutput(
        dashboards=dashboards, provisioning=prov, files=files, config=shared["config"]
    )
