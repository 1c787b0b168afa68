"""Every validation rule against fixtures: the valid fixture passes every rule, and each case
in tests/fixtures/validate/cases/ (the valid fixture with one thing broken) fails with the
exact lines docs/validation.md documents."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from ktrdr_dashboards.compile import kubernetes
from ktrdr_dashboards.compile.dashboards import render_json
from ktrdr_dashboards.compile.provisioning import ProvisioningFile
from ktrdr_dashboards.validate import RULES, Settings
from ktrdr_dashboards.validate import gate as lint
from ktrdr_dashboards.validate.catalog import load as load_catalog
from ktrdr_dashboards.validate.core import DashboardSource, Inputs

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "validate"
CASES = sorted((FIXTURES / "cases").glob("*.json"))
DOCS = Path(__file__).resolve().parents[2] / "docs" / "validation.md"
SETTINGS = Settings(declared_windows=("1h", "$__range"))
# Rules whose failing fixture is not a case file: tested below; kubernetes/size (an object
# over 1 MiB) end to end in tests/test_kubernetes.py; alerting/promtool (a broken alert rule)
# in tests/test_rules.py.
RULES_TESTED_ELSEWHERE = {"model/grafana-schema", "kubernetes/size", "alerting/promtool"}
# The Kubernetes resources of the fixture world: every flavour, made by the build's generator
# from the world's dashboards, datasources and a small rule group.
K8S_SETTINGS = kubernetes.Settings(
    grafana_major=13,
    dashboard_api="dashboard.grafana.app/v2",
    folder_api="folder.grafana.app/v1",
    flavours=kubernetes.FLAVOURS,
    namespace="monitoring",
    labels={"app.kubernetes.io/part-of": "ktrdr"},
    sidecar_label="grafana_dashboard",
    sidecar_label_value="1",
    folder_annotation="grafana_folder",
    folder_title="KTRDR",
    folder_uid="ktrdr",
    instance_selector={"matchLabels": {"dashboards": "grafana"}},
    datasource_urls={"prometheus": "http://prometheus:9090", "jaeger": "http://jaeger:16686"},
    rule_labels={"role": "alert-rules"},
    grafana_namespace="default",
)
K8S_RULE_GROUPS = [{"name": "fixture", "rules": [{"alert": "FixtureDown", "expr": "up == 0"}]}]


def valid_world() -> dict:
    return {
        "dashboards": [json.loads((FIXTURES / "valid" / f"{n}.json").read_text()) for n in "ab"],
        "datasources": yaml.safe_load((FIXTURES / "valid" / "datasources.yaml").read_text()),
        "providers": yaml.safe_load((FIXTURES / "valid" / "providers.yaml").read_text()),
    }


def kubernetes_of(world: dict) -> dict:
    """flavour -> file -> resource, from the world's dashboards and datasources, each its own
    object as if read from its file (the build writes a GrafanaManifest's template and the
    Grafana resource from one object)."""
    dashboards = [
        kubernetes.Dashboard(name, render_json(model), model)
        for name, model in zip("ab", world["dashboards"], strict=True)
    ]
    datasources = world["datasources"]["datasources"]
    made = kubernetes.resources(K8S_SETTINGS, dashboards, datasources, K8S_RULE_GROUPS)
    return json.loads(json.dumps(made))


def patched(operations: list[dict]) -> dict:
    """The valid world broken by `operations`. Operations on /kubernetes/<flavour>/<file>/...
    apply to resources generated from the world's dashboards; a world without such operations
    has no resources, so a broken dashboard is reported by its own rules only."""
    on_resources = [op for op in operations if op["path"].startswith("/kubernetes/")]
    world = apply_patch(valid_world(), [op for op in operations if op not in on_resources])
    if on_resources:
        world["kubernetes"] = kubernetes_of(world)
    return apply_patch(world, on_resources)


def _at(world: dict, path: str) -> tuple[dict | list, str | int]:
    """The container a JSON pointer ends in, and its last key."""
    *parents, last = path.strip("/").split("/")
    node = world
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node, int(last) if isinstance(node, list) else last


def apply_patch(world: dict, operations: list[dict]) -> dict:
    """JSON-pointer `set`, `remove`, `append` and `copy` (`from` to `path`) operations on a
    copy of `world`."""
    world = copy.deepcopy(world)
    for op in operations:
        node, key = _at(world, op["path"])
        if op["op"] == "copy":
            source, source_key = _at(world, op["from"])
            node[key] = copy.deepcopy(source[source_key])
        elif op["op"] == "set":
            node[key] = op["value"]
        elif op["op"] == "remove":
            del node[key]
        elif op["op"] == "append":
            node[key].append(op["value"])
    return world


def inputs_of(world: dict, official_schema: dict | None = None) -> Inputs:
    prov = [
        ProvisioningFile(
            kind, Path(f"provisioning/{kind}/ktrdr.yaml"), yaml.safe_dump(world[key]), world[key]
        )
        for kind, key in (("dashboards", "providers"), ("datasources", "datasources"))
    ]
    return Inputs(
        dashboards=[
            DashboardSource(f"jsonnet/{name}.jsonnet", d)
            for name, d in zip("ab", world["dashboards"], strict=True)
        ],
        provisioning=prov,
        settings=SETTINGS,
        catalog=load_catalog(),
        official_schema=official_schema,
        kubernetes={
            f"build/kubernetes/{flavour}/{name}": document
            for flavour, files in (world.get("kubernetes") or {}).items()
            for name, document in files.items()
        },
    )


def lines(world: dict, official_schema: dict | None = None) -> list[str]:
    return [f.line() for f in lint.run_checks(inputs_of(world, official_schema))]


def test_the_valid_fixture_passes_every_rule():
    world = valid_world()
    world["kubernetes"] = kubernetes_of(world)
    assert lines(world) == []


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_broken_fixture_fails_with_the_documented_lines(case: Path):
    spec = json.loads(case.read_text())
    assert lines(patched(spec["patch"])) == spec["expected"]


def test_every_rule_has_a_failing_case():
    covered = {json.loads(c.read_text())["rule"] for c in CASES}
    assert set(RULES) - RULES_TESTED_ELSEWHERE <= covered


def test_every_rule_and_documented_line_is_in_the_docs():
    docs = DOCS.read_text(encoding="utf-8")
    for rule in RULES:
        assert f"`{rule}`" in docs, rule
    for case in CASES:
        for line in json.loads(case.read_text())["expected"]:
            assert line in docs, f"{case.name}: {line}"


def test_grafana_schema_option_reports_what_that_schema_rejects():
    # A stand-in for Grafana's schema (the real one is checked by `.ci/run`).
    schema = {"$schema": "http://json-schema.org/draft-07/schema#", "required": ["annotations"]}
    world = valid_world()
    del world["dashboards"][0]["annotations"]
    assert lines(world, schema) == [
        "jsonnet/a.jsonnet: dashboard fixture-a: model/grafana-schema: at (top level): "
        "'annotations' is a required property — emit what Grafana's schema expects "
        "(lib/ for the builder, jsonnet/ for the dashboard)"
    ]
    assert lines(valid_world(), schema) == []
