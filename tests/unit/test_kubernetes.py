"""build/kubernetes/: the five ways to deploy on Kubernetes, each resource checked against the
operators' own CRD schemas, Kubernetes' object rules and Grafana's published dashboard
schemas (the classic one, and schema v2 for the Grafana resources of the targeted Grafana)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from ktrdr_dashboards import build, cli, model
from ktrdr_dashboards.compile import kubernetes
from ktrdr_dashboards.compile.provisioning import datasources

# ../shared/reference beside the repository, or beside a folder further up (a git worktree
# kept one level deeper than the repository).
REFERENCE = next(
    (
        folder / "shared" / "reference"
        for folder in Path(__file__).resolve().parents[3:]
        if (folder / "shared" / "reference").is_dir()
    ),
    Path(__file__).resolve().parents[3] / "shared" / "reference",
)
CRDS = REFERENCE / "kubernetes-crds"
SCHEMAS = REFERENCE / "grafana-schema"
GRAFANA_SCHEMA = SCHEMAS / "dashboard.jsonschema.json"
DASHBOARDS = ("ktrdr-operations", "ktrdr-system-overview", "ktrdr-worker-status")
OPERATOR_SHARED = {
    "grafanafolder-ktrdr.yaml",
    "grafanadatasource-prometheus.yaml",
    "grafanadatasource-jaeger.yaml",
}
EXPECTED_FILES = {
    "helm-sidecar": {f"configmap-{uid}.yaml" for uid in DASHBOARDS},
    "grafana-operator": {f"grafanadashboard-{uid}.yaml" for uid in DASHBOARDS} | OPERATOR_SHARED,
    "prometheus-operator": {"prometheusrule-ktrdr.yaml"},
    "grafana-resources": {f"dashboard-{uid}.yaml" for uid in DASHBOARDS} | {"folder-ktrdr.yaml"},
    "grafana-manifests": {f"grafanamanifest-{uid}.yaml" for uid in DASHBOARDS} | OPERATOR_SHARED,
}


def reference(path: Path) -> Path:
    assert path.exists(), f"{path} is missing: the tests read shared/reference/ beside the repo"
    return path


@pytest.fixture(scope="module")
def resources(built: build.BuildOutput) -> dict[str, dict[str, dict]]:
    """flavour -> file -> resource, read back from the YAML the build writes."""
    out: dict[str, dict[str, dict]] = {}
    for path, text in built.files.items():
        parts = path.split("/")
        if parts[0] == "kubernetes":
            out.setdefault(parts[1], {})[parts[2]] = yaml.safe_load(text)
    return out


@pytest.fixture(scope="module")
def crd_schemas() -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> openAPIV3Schema of that CRD version."""
    schemas = {}
    for path in sorted(reference(CRDS).glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            schemas[(f"{group}/{version['name']}", kind)] = version["schema"]["openAPIV3Schema"]
    return schemas


def validator(schema: dict) -> jsonschema.protocols.Validator:
    """A validator for a CRD schema, without checking the schema itself: some CRD patterns are
    Go regular expressions (`^(?i)...`) that Python's `re` refuses to compile, on fields this
    project never sets."""
    return jsonschema.validators.validator_for(schema)(schema)


def test_build_writes_every_flavour_with_its_kustomization(resources):
    assert {f: set(files) - {"kustomization.yaml"} for f, files in resources.items()} == (
        EXPECTED_FILES
    )
    for flavour, files in resources.items():
        assert files["kustomization.yaml"]["resources"] == sorted(EXPECTED_FILES[flavour])


def test_every_operator_resource_validates_against_its_crd(resources, crd_schemas):
    checked = 0
    for flavour in ("grafana-operator", "prometheus-operator", "grafana-manifests"):
        for resource in resources[flavour].values():
            if resource["kind"] == "Kustomization":
                continue
            schema = crd_schemas[(resource["apiVersion"], resource["kind"])]
            validator(schema).validate(resource)
            checked += 1
    # twice a folder, 3 dashboards (GrafanaDashboards, GrafanaManifests) and 2 datasources;
    # 1 PrometheusRule
    assert checked == 13


def test_one_resource_per_dashboard_uid_in_each_kustomization(resources):
    for flavour, files in resources.items():
        uids = [
            r["spec"]["template"]["metadata"]["name"]
            if r["kind"] == "GrafanaManifest"
            else r["spec"]["uid"]
            if r["kind"] == "GrafanaDashboard"
            else r["metadata"]["name"]
            for r in files.values()
            if r["kind"] not in ("Kustomization", "PrometheusRule", "GrafanaDatasource")
        ]
        assert len(uids) == len(set(uids)), flavour


def test_a_crd_schema_rejects_what_the_operator_would(resources, crd_schemas):
    # The schemas bite: a dashboard uid over Grafana's 40 characters is refused.
    resource = json.loads(
        json.dumps(resources["grafana-operator"]["grafanadashboard-ktrdr-operations.yaml"])
    )
    resource["spec"]["uid"] = "x" * 41
    with pytest.raises(jsonschema.ValidationError, match="too long"):
        validator(crd_schemas[(resource["apiVersion"], resource["kind"])]).validate(resource)


def test_every_resource_follows_kubernetes_object_rules(resources):
    for files in resources.values():
        for resource in files.values():
            if resource["kind"] == "Kustomization":
                continue
            meta = resource["metadata"]
            assert kubernetes.subdomain_problem(meta["name"]) is None
            assert kubernetes.dns_label_problem(meta["namespace"]) is None
            assert kubernetes.label_problems(meta["labels"]) == []
            assert kubernetes.object_bytes(resource) < kubernetes.MAX_OBJECT_BYTES


def test_helm_sidecar_configmaps_carry_the_built_dashboards(resources, built):
    for d in built.dashboards:
        configmap = resources["helm-sidecar"][f"configmap-{d.uid}.yaml"]
        assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert configmap["metadata"]["annotations"] == {"grafana_folder": "KTRDR"}
        assert configmap["metadata"]["namespace"] == "monitoring"
        # byte for byte what build/dashboards/ holds
        assert configmap["data"] == {f"{d.name}.json": built.files[f"dashboards/{d.name}.json"]}


def test_grafana_operator_resources_match_the_dashboards_and_datasources(resources, built):
    operator = resources["grafana-operator"]
    folder = operator["grafanafolder-ktrdr.yaml"]
    assert folder["spec"]["title"] == "KTRDR"
    selector = {"matchLabels": {"dashboards": "grafana"}}
    for d in built.dashboards:
        spec = operator[f"grafanadashboard-{d.uid}.yaml"]["spec"]
        assert spec["uid"] == d.uid
        assert spec["json"] == built.files[f"dashboards/{d.name}.json"]
        assert spec["folderRef"] == folder["metadata"]["name"]
        assert spec["instanceSelector"] == selector
    used = {
        ds["uid"]
        for d in built.dashboards
        for ds in _datasources_in(d.model)
        if ds.get("uid") and not str(ds["uid"]).startswith(("$", "-- "))
    }
    provided = {
        r["spec"]["uid"]: r["spec"]["datasource"]["type"]
        for r in operator.values()
        if r["kind"] == "GrafanaDatasource"
    }
    assert used <= set(provided) and provided == {"prometheus": "prometheus", "jaeger": "jaeger"}
    assert {d["uid"] for d in datasources(built.provisioning)} == set(provided)


def _datasources_in(value):
    if isinstance(value, dict):
        if isinstance(value.get("datasource"), dict):
            yield value["datasource"]
        for item in value.values():
            yield from _datasources_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _datasources_in(item)


def test_prometheus_rule_holds_the_alert_and_recording_groups(resources, built):
    rule = resources["prometheus-operator"]["prometheusrule-ktrdr.yaml"]
    assert rule["metadata"]["labels"]["role"] == "alert-rules"
    assert rule["metadata"]["labels"]["prometheus"] == "k8s"
    files = ("ktrdr-alerts.yml", "ktrdr-recording.yml")
    expected = [
        g for f in files for g in yaml.safe_load(built.files[f"prometheus/rules/{f}"])["groups"]
    ]
    assert rule["spec"]["groups"] == expected


def test_classic_dashboards_are_valid_against_grafanas_schema(built):
    schema = json.loads(reference(GRAFANA_SCHEMA).read_text())
    for d in built.dashboards:
        assert d.model["schemaVersion"] == 42
        jsonschema.validate(d.model, schema)


def v2_schema(name: str) -> jsonschema.protocols.Validator:
    """Grafana's published v2 schema (the reference copy, not the package's), rooted at its
    Dashboard as Grafana's documentation says."""
    definitions = json.loads(reference(SCHEMAS / name).read_text())["definitions"]
    return jsonschema.Draft7Validator(
        {"$ref": "#/definitions/Dashboard", "definitions": definitions}
    )


def shown_panels(spec: dict) -> list[tuple[str, str, list[str]]]:
    """(type, title, query expressions) of the panels a v2 spec lays out, in layout order."""

    def names(layout: dict) -> list[str]:
        inner = layout["spec"]
        if layout["kind"] == "GridLayout":
            return [item["spec"]["element"]["name"] for item in inner["items"]]
        return [name for row in inner["rows"] for name in names(row["spec"]["layout"])]

    return [
        (
            element["spec"]["vizConfig"]["group"],
            element["spec"]["title"],
            [
                q["spec"]["query"]["spec"]["expr"]
                for q in element["spec"]["data"]["spec"]["queries"]
            ],
        )
        for element in (spec["elements"][name] for name in names(spec["layout"]))
    ]


def classic_panels(dashboard: dict) -> list[tuple[str, str, list[str]]]:
    return [
        (p["type"], p["title"], [t["expr"] for t in p.get("targets", [])])
        for p in model.panels(dashboard)
        if p["type"] != "row"
    ]


def test_grafana_13_resources_hold_v2_dashboards_with_the_classic_panels(resources, built):
    schema = v2_schema("dashboardv2.jsonschema.json")
    grafana = resources["grafana-resources"]
    folder = grafana["folder-ktrdr.yaml"]
    assert folder["apiVersion"] == "folder.grafana.app/v1"
    assert folder["metadata"]["namespace"] == "default"
    assert folder["spec"] == {"title": "KTRDR"}
    for d in built.dashboards:
        resource = grafana[f"dashboard-{d.uid}.yaml"]
        assert resource["apiVersion"] == "dashboard.grafana.app/v2"
        assert resource["metadata"]["name"] == d.uid
        assert resource["metadata"]["namespace"] == "default"
        assert (
            resource["metadata"]["annotations"]["grafana.app/folder"] == folder["metadata"]["name"]
        )
        schema.validate(resource["spec"])
        assert resource["spec"]["title"] == d.model["title"]
        assert shown_panels(resource["spec"]) == classic_panels(d.model)


def test_grafana_manifests_wrap_the_v2_dashboards(resources, built):
    manifests = resources["grafana-manifests"]
    for d in built.dashboards:
        manifest = manifests[f"grafanamanifest-{d.uid}.yaml"]
        assert manifest["metadata"]["namespace"] == "monitoring"
        assert manifest["spec"]["instanceSelector"] == {"matchLabels": {"dashboards": "grafana"}}
        assert (
            manifest["spec"]["template"]
            == resources["grafana-resources"][f"dashboard-{d.uid}.yaml"]
        )
    # the folder and datasources the dashboards need, as the grafana-operator flavour has them
    for name in OPERATOR_SHARED:
        assert manifests[name] == resources["grafana-operator"][name]


def config_jpath(tmp_path: Path, repo_root: Path, patch: str) -> Path:
    folder = tmp_path / "jpath"
    (folder / "ktrdr").mkdir(parents=True)
    real = repo_root / "lib" / "ktrdr" / "config.libsonnet"
    (folder / "ktrdr" / "config.libsonnet").write_text(f"(import '{real}') + {patch}\n")
    return folder


def build_for(tmp_path: Path, repo_root: Path, major: int) -> dict[str, str]:
    jpath = config_jpath(tmp_path, repo_root, f"{{ grafana+: {{ major: {major} }} }}")
    project = build.Project(root=repo_root, jpath=(jpath,))
    return build.evaluate(project).files


@pytest.mark.integration  # two more builds
def test_grafana_12_gets_v2beta1_dashboards_and_v1beta1_folders(repo_root, tmp_path):
    files = build_for(tmp_path, repo_root, 12)
    schema = v2_schema("dashboardv2beta1.jsonschema.json")
    resource = yaml.safe_load(files["kubernetes/grafana-resources/dashboard-ktrdr-operations.yaml"])
    assert resource["apiVersion"] == "dashboard.grafana.app/v2beta1"
    schema.validate(resource["spec"])
    folder = yaml.safe_load(files["kubernetes/grafana-resources/folder-ktrdr.yaml"])
    assert folder["apiVersion"] == "folder.grafana.app/v1beta1"
    manifest = files["kubernetes/grafana-manifests/grafanamanifest-ktrdr-operations.yaml"]
    assert yaml.safe_load(manifest)["spec"]["template"] == resource
    assert json.loads(files["dashboards/operations.json"])["schemaVersion"] == 42


@pytest.mark.integration  # another build
def test_grafana_11_gets_classic_files_only(repo_root, tmp_path):
    files = build_for(tmp_path, repo_root, 11)
    flavours = {path.split("/")[1] for path in files if path.startswith("kubernetes/")}
    assert flavours == {"helm-sidecar", "grafana-operator", "prometheus-operator"}
    board = json.loads(files["dashboards/operations.json"])
    assert board["schemaVersion"] == 39
    assert {p.get("pluginVersion") for p in board["panels"] if p["type"] != "row"} == {"11.4.0"}


@pytest.mark.integration  # runs the build, whose gate runs promtool
@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (
            "{ kubernetes+: { flavours+: ['helm'] } }",
            "kubernetes.flavours: unknown flavour 'helm' — use some of helm-sidecar, "
            "grafana-operator, prometheus-operator, grafana-resources, grafana-manifests; "
            "nothing was written",
        ),
        (
            "{ grafana+: { major: 11 }, kubernetes+: { flavours+: ['grafana-manifests'] } }",
            "kubernetes.flavours: grafana-manifests holds Grafana resources (/apis), which "
            "Grafana 11 does not serve — drop it from the flavours, or target Grafana 12 or 13 "
            "(grafana.major); nothing was written",
        ),
        (
            "{ kubernetes+: { namespace: 'Monitoring' } }",
            "kubernetes.namespace: namespace 'Monitoring' is not lower-case letters, digits and "
            "'-' (alphanumeric at both ends) — Kubernetes would reject it; nothing was written",
        ),
        (
            "{ kubernetes+: { labels+: { team: 'trading desk' } } }",
            "kubernetes.labels: label value 'trading desk' must be at most 63 letters, digits, "
            "'-', '_' or '.', starting and ending alphanumeric — Kubernetes would reject it; "
            "nothing was written",
        ),
    ],
    ids=["flavour", "flavour-grafana-11", "namespace", "label"],
)
def test_config_kubernetes_would_reject_is_one_line_and_nothing_written(
    patch, message, repo_root, tmp_path, capsys
):
    out = tmp_path / "out"
    jpath = config_jpath(tmp_path, repo_root, patch)
    code = cli.main(["build", "--root", str(repo_root), "--out", str(out), "--jpath", str(jpath)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err == [f"error: lib/ktrdr/config.libsonnet: {message}"]
    assert not out.exists()


@pytest.mark.integration  # runs the build, whose gate runs promtool
def test_a_dashboard_over_the_object_limit_is_refused(project_copy, tmp_path, capsys):
    # 2 MiB of description: the dashboard file itself is fine, its resources are not.
    (project_copy / "jsonnet" / "huge.jsonnet").write_text(
        "local twice(s, n) = if n == 0 then s else twice(s + s, n - 1);\n"
        "(import 'operations.jsonnet')"
        " + { uid: 'ktrdr-huge', title: 'KTRDR Huge', description: twice('x', 21) }\n"
    )
    out = tmp_path / "out"
    code = cli.main(["build", "--root", str(project_copy), "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert not out.exists()
    expected = {
        f"build/kubernetes/{flavour}/{name}: dashboard ktrdr-huge: kubernetes/size:"
        for flavour, name in (
            ("helm-sidecar", "configmap-ktrdr-huge.yaml"),
            ("grafana-operator", "grafanadashboard-ktrdr-huge.yaml"),
            ("grafana-resources", "dashboard-ktrdr-huge.yaml"),
            ("grafana-manifests", "grafanamanifest-ktrdr-huge.yaml"),
        )
    }
    found = [line.removeprefix("error: ") for line in err if "kubernetes/size" in line]
    assert {line.split(" 2,", 1)[0] for line in found} == expected
    assert all("over Kubernetes' 1,048,576-byte object limit" in line for line in found)
    assert err[-1] == "4 findings; nothing was written"


TABBED = """
local item(id, x, w, h) = {
  kind: 'GridLayoutItem',
  spec: {
    x: x, y: 0, width: w, height: h,
    element: { kind: 'ElementReference', name: 'panel-' + id },
  },
};
local tab(title, items) = {
  kind: 'TabsLayoutTab',
  spec: { title: title, layout: { kind: 'GridLayout', spec: { items: items } } },
};
(import 'operations.jsonnet') + {
  uid: 'ktrdr-tabbed',
  title: 'KTRDR Tabbed',
  v2Layout:: { kind: 'TabsLayout', spec: { tabs: [
    tab('Throughput', [item(2, 0, 6, 4), item(3, 6, 6, 4), item(4, 12, 6, 4), item(5, 18, 6, 4)]),
    tab('Outcomes', [OUTCOMES]),
    tab('Duration and HTTP', [item(10, 0, 12, 8), item(11, 12, 12, 8)]),
  ] } },
}
"""


@pytest.mark.integration  # builds a copy of the project
def test_a_sources_v2_layout_is_what_the_grafana_resources_lay_out(project_copy, tmp_path):
    # The Outcomes row as a tab of its own: what only schema v2 can say.
    outcomes = "item(7, 0, 8, 8), item(8, 8, 16, 8)"
    (project_copy / "jsonnet" / "tabbed.jsonnet").write_text(TABBED.replace("OUTCOMES", outcomes))
    out = tmp_path / "out"
    assert cli.main(["build", "--root", str(project_copy), "--out", str(out)]) == 0
    path = out / "kubernetes" / "grafana-resources" / "dashboard-ktrdr-tabbed.yaml"
    spec = yaml.safe_load(path.read_text())["spec"]
    assert [t["spec"]["title"] for t in spec["layout"]["spec"]["tabs"]] == [
        "Throughput",
        "Outcomes",
        "Duration and HTTP",
    ]
    # the classic files never carry it
    assert "TabsLayout" not in (out / "dashboards" / "tabbed.json").read_text()


@pytest.mark.integration  # builds a copy of the project
def test_a_v2_layout_out_of_the_classic_order_stops_the_build(project_copy, tmp_path, capsys):
    # "Success vs Failure Rate" (id 8) moved before "Operations by Type" (id 7).
    outcomes = "item(8, 0, 16, 8), item(7, 16, 8, 8)"
    (project_copy / "jsonnet" / "tabbed.jsonnet").write_text(TABBED.replace("OUTCOMES", outcomes))
    out = tmp_path / "out"
    assert cli.main(["build", "--root", str(project_copy), "--out", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    order = [line.removeprefix("error: ") for line in err if "v2/panels" in line]
    assert order == [
        f'build/kubernetes/{flavour}: dashboard ktrdr-tabbed, panel "Success vs Failure '
        'Rate" (id 8): v2/panels: comes in place 5 of the v2 layout, where the classic dashboard '
        'has panel "Operations by Type" (id 7) — lay out every panel once, in the order of the '
        "classic panels, in the source's v2Layout (lib/v2.libsonnet); then rebuild"
        for flavour in (
            "grafana-manifests/grafanamanifest-ktrdr-tabbed.yaml",
            "grafana-resources/dashboard-ktrdr-tabbed.yaml",
        )
    ]
    assert not out.exists()


@pytest.mark.integration  # runs the build
def test_a_grafana_major_not_targeted_is_one_line_and_nothing_written(repo_root, tmp_path, capsys):
    out = tmp_path / "out"
    jpath = config_jpath(tmp_path, repo_root, "{ grafana+: { major: 10 } }")
    code = cli.main(["build", "--root", str(repo_root), "--out", str(out), "--jpath", str(jpath)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1
    assert "lib/ktrdr/config.libsonnet" in err[0]
    assert "grafana.major: 10 is no Grafana this project targets; use 11, 12 or 13" in err[0]
    assert not out.exists()
