"""Kubernetes resources for the ways Grafana and Prometheus run on a cluster: one folder per
flavour under build/kubernetes/ (Helm chart sidecar ConfigMaps, grafana-operator, prometheus-
operator, Grafana's own schema v2 resources and the operator's GrafanaManifests of them), each
with a kustomization.yaml, from the built files and the `kubernetes` and `grafana` parts of
lib/ktrdr/config.libsonnet. Also Kubernetes' own naming rules, which the generator applies to
the config and the validation gate to every resource."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import orjson

from ktrdr_dashboards import convert, yamltext
from ktrdr_dashboards.errors import DashboardError, Location

KUBERNETES_DIR = "kubernetes"
FLAVOURS = (
    "helm-sidecar",
    "grafana-operator",
    "prometheus-operator",
    "grafana-resources",
    "grafana-manifests",
)
# The flavours that carry Grafana's own resources (the /apis API), which Grafana 11 does not
# serve: written only when the config names their API versions (`grafana.dashboardApi`).
RESOURCE_FLAVOURS = ("grafana-resources", "grafana-manifests")
KUSTOMIZATION = "kustomization.yaml"
CONFIG_FILE = "lib/ktrdr/config.libsonnet"
HEADER = (
    "# Generated from lib/ktrdr/config.libsonnet (`kubernetes`, `grafana`) and the built\n"
    "# dashboards and rules by `python -m ktrdr_dashboards build`; edit the sources, not this\n"
    "# file.\n"
)

# What the API server stores at most for one object (etcd's request limit): a ConfigMap, or a
# custom resource carrying a dashboard, larger than this is refused.
MAX_OBJECT_BYTES = 1024 * 1024
# All annotations of one object together (client-side `kubectl apply` copies the whole
# object into one, which is why docs/deploy.md uses --server-side).
MAX_ANNOTATION_BYTES = 256 * 1024

GRAFANA_OPERATOR_API = "grafana.integreatly.org/v1beta1"
PROMETHEUS_OPERATOR_API = "monitoring.coreos.com/v1"
# Grafana's resource APIs the build writes (config `grafana.dashboardApi`, `folderApi`): the
# schema v2 dashboard of Grafana 13 and its v2beta1 predecessor of Grafana 12, by the version of
# the schema their spec follows, and the folders of the same releases.
DASHBOARD_APIS = {"dashboard.grafana.app/v2": "v2", "dashboard.grafana.app/v2beta1": "v2beta1"}
FOLDER_APIS = ("folder.grafana.app/v1", "folder.grafana.app/v1beta1")
# Dashboards as resources whose spec is the classic model: never written (a Grafana that serves
# them reads the classic files), read when a release made before schema v2 is verified.
CLASSIC_DASHBOARD_APIS = ("dashboard.grafana.app/v1", "dashboard.grafana.app/v1beta1")
FOLDER_ANNOTATION = "grafana.app/folder"

# ---------------------------------------------------------------- Kubernetes naming rules

_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_QUALIFIED = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")


def subdomain_problem(name: object) -> str | None:
    """Why `name` is not a DNS-1123 subdomain (the rule for most object names), or None."""
    if not isinstance(name, str) or not name:
        return "is empty"
    if len(name) > 253:
        return f"{name!r} is longer than 253 characters"
    if not _SUBDOMAIN.fullmatch(name):
        return (
            f"{name!r} is not lower-case letters, digits, '-' and '.' (alphanumeric at both ends)"
        )
    return None


def dns_label_problem(name: object) -> str | None:
    """Why `name` is not a DNS-1123 label (the rule for namespaces), or None."""
    if not isinstance(name, str) or not name:
        return "is empty"
    if len(name) > 63:
        return f"{name!r} is longer than 63 characters"
    if not _LABEL.fullmatch(name):
        return f"{name!r} is not lower-case letters, digits and '-' (alphanumeric at both ends)"
    return None


def key_problem(key: object) -> str | None:
    """Why `key` is not a label or annotation key (`[prefix/]name`), or None."""
    if not isinstance(key, str) or not key:
        return "key is empty"
    prefix, _, name = key.rpartition("/")
    if prefix and (problem := subdomain_problem(prefix)):
        return f"key {key!r}: prefix {problem}"
    if len(name) > 63 or not _QUALIFIED.fullmatch(name):
        return (
            f"key {key!r}: name must be at most 63 letters, digits, '-', '_' or '.', "
            "starting and ending alphanumeric"
        )
    return None


def label_value_problem(value: object) -> str | None:
    """Why `value` is not a label value (empty, or at most 63 of letters, digits, -_.), or None."""
    if not isinstance(value, str):
        return f"value {value!r} is not a string"
    if value and (len(value) > 63 or not _QUALIFIED.fullmatch(value)):
        return (
            f"value {value!r} must be at most 63 letters, digits, '-', '_' or '.', "
            "starting and ending alphanumeric"
        )
    return None


def label_problems(labels: object) -> list[str]:
    if not isinstance(labels, Mapping):
        return ["labels are not a mapping of key to value"]
    return [
        problem
        for key, value in sorted(labels.items())
        for problem in (key_problem(key), label_value_problem(value))
        if problem
    ]


def object_bytes(document: object) -> int:
    """The size of an object as the API server receives it (compact JSON)."""
    try:
        return len(orjson.dumps(document))
    except TypeError:  # what orjson does not write (integers beyond 64 bits)
        text = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
        return len(text.encode("utf-8", errors="surrogatepass"))


# ---------------------------------------------------------------- settings from the config


@dataclass(frozen=True)
class Settings:
    grafana_major: int
    # Grafana's resource API versions (None: the targeted Grafana serves none; see
    # RESOURCE_FLAVOURS)
    dashboard_api: str | None
    folder_api: str | None
    flavours: tuple[str, ...]
    namespace: str
    labels: dict[str, str]
    sidecar_label: str
    sidecar_label_value: str
    folder_annotation: str
    folder_title: str
    folder_uid: str
    instance_selector: dict
    datasource_urls: dict[str, str]
    rule_labels: dict[str, str]
    grafana_namespace: str


def _config_error(field: str, problem: str, fix: str) -> DashboardError:
    return DashboardError(
        f"{field}: {problem}",
        location=Location(file=CONFIG_FILE),
        fix=fix + "; nothing was written",
    )


def settings_from_config(config: Mapping) -> Settings:
    """The `kubernetes`, `folder` and `grafana` parts of the evaluated config, refused with one
    line when Kubernetes would reject what they make (a name, namespace, label), a flavour is
    unknown, or the targeted Grafana does not serve a flavour's resources."""
    try:
        k8s = config["kubernetes"]
        folder = config["folder"]
        grafana = config["grafana"]
        helm = k8s["helmSidecar"]
        settings = Settings(
            grafana_major=int(grafana["major"]),
            dashboard_api=grafana["dashboardApi"],
            folder_api=grafana["folderApi"],
            flavours=tuple(k8s["flavours"]),
            namespace=k8s["namespace"],
            labels=dict(k8s["labels"]),
            sidecar_label=helm["label"],
            sidecar_label_value=helm["labelValue"],
            folder_annotation=helm["folderAnnotation"],
            folder_title=folder["title"],
            folder_uid=folder["uid"],
            instance_selector=dict(k8s["grafanaOperator"]["instanceSelector"]),
            datasource_urls=dict(k8s["grafanaOperator"]["datasourceUrls"]),
            rule_labels=dict(k8s["prometheusOperator"]["ruleLabels"]),
            grafana_namespace=k8s["grafanaResources"]["namespace"],
        )
    except (KeyError, TypeError) as error:
        raise _config_error(
            "kubernetes", f"missing or malformed setting {error}", "see the defaults in the config"
        ) from None
    unknown = [f for f in settings.flavours if f not in FLAVOURS]
    if unknown:
        raise _config_error(
            "kubernetes.flavours",
            f"unknown flavour {unknown[0]!r}",
            f"use some of {', '.join(FLAVOURS)}",
        )
    _check_resource_apis(settings)
    for field, value in (
        ("kubernetes.namespace", settings.namespace),
        ("kubernetes.grafanaResources.namespace", settings.grafana_namespace),
    ):
        if problem := dns_label_problem(value):
            raise _config_error(field, f"namespace {problem}", "Kubernetes would reject it")
    checks = (
        ("kubernetes.labels", label_problems(settings.labels)),
        (
            "kubernetes.helmSidecar",
            label_problems({settings.sidecar_label: settings.sidecar_label_value}),
        ),
        (
            "kubernetes.helmSidecar.folderAnnotation",
            [p] if (p := key_problem(settings.folder_annotation)) else [],
        ),
        ("kubernetes.prometheusOperator.ruleLabels", label_problems(settings.rule_labels)),
    )
    for field, problems in checks:
        if problems:
            raise _config_error(field, f"label {problems[0]}", "Kubernetes would reject it")
    if problem := subdomain_problem(settings.folder_uid):
        raise _config_error("folder.uid", problem, "it names the folder's resources")
    return settings


def _check_resource_apis(settings: Settings) -> None:
    if settings.dashboard_api is not None and settings.dashboard_api not in DASHBOARD_APIS:
        raise _config_error(
            "grafana.dashboardApi",
            f"{settings.dashboard_api!r} is no dashboard API this project writes",
            f"use one of {', '.join(DASHBOARD_APIS)}, or null",
        )
    if settings.folder_api is not None and settings.folder_api not in FOLDER_APIS:
        raise _config_error(
            "grafana.folderApi",
            f"{settings.folder_api!r} is no folder API this project writes",
            f"use one of {', '.join(FOLDER_APIS)}, or null",
        )
    if (settings.dashboard_api is None) != (settings.folder_api is None):
        raise _config_error(
            "grafana",
            "dashboardApi and folderApi are set together or not at all",
            "take both from one Grafana release (docs/grafana-versions.md)",
        )
    needing = [f for f in settings.flavours if f in RESOURCE_FLAVOURS]
    if needing and settings.dashboard_api is None:
        raise _config_error(
            "kubernetes.flavours",
            f"{needing[0]} holds Grafana resources (/apis), which Grafana "
            f"{settings.grafana_major} does not serve",
            "drop it from the flavours, or target Grafana 12 or 13 (grafana.major)",
        )


# ---------------------------------------------------------------- resources


@dataclass(frozen=True)
class Dashboard:
    name: str  # build name, e.g. "operations" (build/dashboards/operations.json)
    text: str  # the built JSON, byte for byte
    model: dict
    # the source's schema v2 layout (CompiledDashboard.v2_layout), None: derived from the model
    v2_layout: dict | None = None
    source: str | None = None  # the source file as messages show it

    @property
    def uid(self) -> str:
        return str(self.model.get("uid", ""))


def _metadata(name: str, namespace: str, labels: Mapping, annotations: Mapping | None = None):
    meta: dict = {"name": name, "namespace": namespace, "labels": dict(sorted(labels.items()))}
    if annotations:
        meta["annotations"] = dict(sorted(annotations.items()))
    return meta


def _resource(api: str, kind: str, metadata: dict, body_key: str, body: object) -> dict:
    return {"apiVersion": api, "kind": kind, "metadata": metadata, body_key: body}


def _named(dashboard: Dashboard, prefix: str = "") -> str:
    # A uid Kubernetes would not take as a name is reported by the validation gate
    # (kubernetes/name), with every other finding, rather than stopping here.
    return f"{prefix}{dashboard.uid}"


def _sorted_deep(value: object) -> object:
    if isinstance(value, Mapping):
        return {key: _sorted_deep(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_deep(item) for item in value]
    return value


def helm_sidecar(settings: Settings, dashboard: Dashboard) -> dict[str, dict]:
    labels = {**settings.labels, settings.sidecar_label: settings.sidecar_label_value}
    annotations = {settings.folder_annotation: settings.folder_title}
    return {
        f"configmap-{dashboard.uid}.yaml": _resource(
            "v1",
            "ConfigMap",
            _metadata(_named(dashboard, "dashboard-"), settings.namespace, labels, annotations),
            "data",
            {f"{dashboard.name}.json": dashboard.text},
        )
    }


def _operator_folder(settings: Settings) -> dict[str, dict]:
    return {
        f"grafanafolder-{settings.folder_uid}.yaml": _resource(
            GRAFANA_OPERATOR_API,
            "GrafanaFolder",
            _metadata(settings.folder_uid, settings.namespace, settings.labels),
            "spec",
            {
                "instanceSelector": _sorted_deep(settings.instance_selector),
                "title": settings.folder_title,
                "uid": settings.folder_uid,
            },
        )
    }


def grafana_operator_dashboard(settings: Settings, dashboard: Dashboard) -> dict[str, dict]:
    spec = {
        "folderRef": settings.folder_uid,
        "instanceSelector": _sorted_deep(settings.instance_selector),
        "json": dashboard.text,
        "uid": dashboard.uid,
    }
    meta = _metadata(_named(dashboard), settings.namespace, settings.labels)
    return {
        f"grafanadashboard-{dashboard.uid}.yaml": _resource(
            GRAFANA_OPERATOR_API, "GrafanaDashboard", meta, "spec", spec
        )
    }


def _operator_datasources(settings: Settings, datasources: Sequence[Mapping]) -> dict[str, dict]:
    meta = {"namespace": settings.namespace, "labels": settings.labels}
    selector = _sorted_deep(settings.instance_selector)
    files: dict[str, dict] = {}
    for source in datasources:
        uid = str(source.get("uid", ""))
        kind = str(source.get("type", ""))
        if kind not in settings.datasource_urls:
            raise _config_error(
                "kubernetes.grafanaOperator.datasourceUrls",
                f"no URL for the {kind!r} datasource (uid {uid})",
                f"add `{kind}: 'http://...'`",
            )
        datasource = {
            key: source[key]
            for key in ("access", "editable", "isDefault", "jsonData", "name", "type")
            if key in source
        }
        datasource["url"] = settings.datasource_urls[kind]
        files[f"grafanadatasource-{uid}.yaml"] = _resource(
            GRAFANA_OPERATOR_API,
            "GrafanaDatasource",
            _metadata(f"datasource-{uid}", **meta),
            "spec",
            {"datasource": _sorted_deep(datasource), "instanceSelector": selector, "uid": uid},
        )
    return files


def prometheus_operator(settings: Settings, rule_groups: Sequence[Mapping]) -> dict[str, dict]:
    labels = {**settings.labels, **settings.rule_labels}
    return {
        "prometheusrule-ktrdr.yaml": _resource(
            PROMETHEUS_OPERATOR_API,
            "PrometheusRule",
            _metadata("ktrdr", settings.namespace, labels),
            "spec",
            {"groups": list(rule_groups)},
        )
    }


def v2_dashboard(settings: Settings, dashboard: Dashboard) -> dict:
    """The dashboard as the schema v2 resource of the targeted Grafana (`grafana.dashboardApi`),
    filed in the KTRDR folder. Raises DashboardError (naming the source) for what schema v2
    cannot hold."""
    api = settings.dashboard_api
    assert api is not None, "checked by settings_from_config"
    try:
        spec = convert.to_v2(dashboard.model, dashboard.v2_layout, version=DASHBOARD_APIS[api])
    except convert.ConversionError as error:
        location = dataclasses.replace(error.location, file=dashboard.source)
        raise DashboardError(error.message, location=location, fix=error.fix) from None
    meta = _metadata(
        _named(dashboard),
        settings.grafana_namespace,
        settings.labels,
        {FOLDER_ANNOTATION: settings.folder_uid},
    )
    return _resource(api, "Dashboard", meta, "spec", spec)


def v2_specs(documents: Iterable[object]) -> list[tuple[str, dict]]:
    """(schema version, spec) of each schema v2 Dashboard among `documents`."""
    return [
        (DASHBOARD_APIS[d["apiVersion"]], d["spec"])
        for d in documents
        if isinstance(d, dict)
        and d.get("kind") == "Dashboard"
        and d.get("apiVersion") in DASHBOARD_APIS
    ]


def _resources_folder(settings: Settings) -> dict[str, dict]:
    assert settings.folder_api is not None, "checked by settings_from_config"
    return {
        f"folder-{settings.folder_uid}.yaml": _resource(
            settings.folder_api,
            "Folder",
            _metadata(settings.folder_uid, settings.grafana_namespace, settings.labels),
            "spec",
            {"title": settings.folder_title},
        )
    }


def grafana_manifest(settings: Settings, v2_resource: dict) -> dict[str, dict]:
    """grafana-operator's way to provision schema v2: the v2 dashboard resource as the
    template of a GrafanaManifest (the same object: the YAML writer repeats it as it is)."""
    name = v2_resource["metadata"]["name"]
    spec = {"instanceSelector": _sorted_deep(settings.instance_selector), "template": v2_resource}
    return {
        f"grafanamanifest-{name}.yaml": _resource(
            GRAFANA_OPERATOR_API,
            "GrafanaManifest",
            _metadata(name, settings.namespace, settings.labels),
            "spec",
            spec,
        )
    }


def kustomization(resource_files: Sequence[str]) -> dict:
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": sorted(resource_files),
    }


def dashboard_resources(settings: Settings, dashboard: Dashboard) -> dict[str, dict]:
    """`<flavour>/<file>` -> resource, for the resources that carry one dashboard in the
    configured flavours (its schema v2 form converted once for both flavours that hold it)."""
    v2 = (
        v2_dashboard(settings, dashboard)
        if any(f in settings.flavours for f in RESOURCE_FLAVOURS)
        else {}
    )
    made = {
        "helm-sidecar": lambda: helm_sidecar(settings, dashboard),
        "grafana-operator": lambda: grafana_operator_dashboard(settings, dashboard),
        "grafana-resources": lambda: {f"dashboard-{v2['metadata']['name']}.yaml": v2},
        "grafana-manifests": lambda: grafana_manifest(settings, v2),
    }
    return {
        f"{flavour}/{name}": resource
        for flavour in FLAVOURS
        if flavour in settings.flavours and flavour in made
        for name, resource in made[flavour]().items()
    }


def shared_resources(
    settings: Settings,
    datasources: Sequence[Mapping],
    rule_groups: Sequence[Mapping],
    dashboard_paths: Sequence[str],
) -> dict[str, dict]:
    """`<flavour>/<file>` -> resource, for the resources no one dashboard carries (folders,
    datasources, rules) and each configured flavour's kustomization.yaml, which lists those
    and `dashboard_paths` (every dashboard's resources)."""
    made = {
        "grafana-operator": lambda: {
            **_operator_folder(settings),
            **_operator_datasources(settings, datasources),
        },
        "prometheus-operator": lambda: prometheus_operator(settings, rule_groups),
        "grafana-resources": lambda: _resources_folder(settings),
        "grafana-manifests": lambda: {
            **_operator_folder(settings),
            **_operator_datasources(settings, datasources),
        },
    }
    out: dict[str, dict] = {}
    for flavour in FLAVOURS:
        if flavour not in settings.flavours:
            continue
        files = made[flavour]() if flavour in made else {}
        prefix = f"{flavour}/"
        names = [*files, *(p.removeprefix(prefix) for p in dashboard_paths if p.startswith(prefix))]
        for name, resource in {**files, KUSTOMIZATION: kustomization(names)}.items():
            out[prefix + name] = resource
    return out


def resources(
    settings: Settings,
    dashboards: Sequence[Dashboard],
    datasources: Sequence[Mapping],
    rule_groups: Sequence[Mapping],
) -> dict[str, dict[str, dict]]:
    """flavour -> file name -> resource, kustomization.yaml included, for the configured
    flavours."""
    per_dashboard = {
        path: resource
        for dashboard in dashboards
        for path, resource in dashboard_resources(settings, dashboard).items()
    }
    shared = shared_resources(settings, datasources, rule_groups, list(per_dashboard))
    out: dict[str, dict[str, dict]] = {}
    for path, resource in sorted({**per_dashboard, **shared}.items()):
        flavour, name = path.split("/", 1)
        out.setdefault(flavour, {})[name] = resource
    return out


# ---------------------------------------------------------------- YAML


def render(document: object) -> str:
    """One resource as YAML (ktrdr_dashboards/yamltext.py): keys in the order built
    (apiVersion, kind, metadata, then the body, whose mappings are sorted, in the order the
    rule files give, or as the schema v2 conversion writes them), a dashboard's JSON text as a
    literal block, readable and diffable."""
    return HEADER + yamltext.dumps(document)


def render_all(documents: Mapping[str, object]) -> dict[str, str]:
    """`render` of each document; a GrafanaManifest whose template is another of them (the
    same object) takes that one's text, indented, rather than writing the dashboard again."""
    texts = {path: render(d) for path, d in documents.items() if not _manifest_of(d, documents)}
    by_object = {id(documents[path]): text for path, text in texts.items()}
    for path, document in documents.items():
        if path not in texts:
            template = document["spec"]["template"]  # type: ignore[index]
            body = by_object[id(template)][len(HEADER) :]
            spec = dict(document["spec"])  # type: ignore[index]
            spec["template"] = yamltext.Written(body)
            texts[path] = render({**document, "spec": spec})  # type: ignore[dict-item]
    return {path: texts[path] for path in documents}


def _manifest_of(document: object, documents: Mapping[str, object]) -> bool:
    if not (isinstance(document, dict) and document.get("kind") == "GrafanaManifest"):
        return False
    template = document.get("spec", {}).get("template")
    return template is not None and any(other is template for other in documents.values())


def rule_groups(rule_files: Mapping[str, str]) -> list[dict]:
    """Every group of the built rule files (build path -> YAML), alerts before recordings as
    the files sort, in their order."""
    groups: list[dict] = []
    for _, text in sorted(rule_files.items()):
        groups += (yamltext.load(text) or {}).get("groups", [])
    return groups
