"""Rules on the Kubernetes resources under build/kubernetes/: what the API server and the
operators would refuse (names, namespaces, labels, annotations, object size, the fields each
kind needs), that every dashboard they carry is the dashboard the build compiled (a schema v2
one: converted from it), and that no folder carries one dashboard twice. The schema v2
dashboards' own rules are in `v2`. Each resource is judged as the object the build makes
(or, for a release, as its file reads).

The operators' full CRD schemas are not shipped with the package; the test suite validates
every generated resource against them, and these rules hold the constraints that matter for
what this project writes, so the gate needs nothing outside the package."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

import orjson
import yaml

from ktrdr_dashboards import convert
from ktrdr_dashboards.compile import kubernetes as k8s
from ktrdr_dashboards.errors import Location
from ktrdr_dashboards.validate.core import (
    Built,
    Facts,
    Finding,
    Inputs,
    project_check,
    resource_check,
)

# Grafana's uid rule, which the operators' CRDs repeat for spec.uid.
_UID = re.compile(r"[A-Za-z0-9_-]{1,40}")


# libyaml's loader where PyYAML has it: the resources carry whole dashboards.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse(text: str) -> object:
    """A resource file's YAML as the checks read it (its text, the reason, if it is not
    YAML): for files read back, as a release's are; the build checks the resources it makes
    before writing them."""
    try:
        return yaml.load(text, Loader=_LOADER)  # a safe loader
    except yaml.YAMLError as error:
        return _NotYaml(f"not valid YAML: {str(error).splitlines()[0]}")


class _NotYaml(str):
    """Why a file is not YAML, in place of its document."""


def _resource(document: object) -> dict | None:
    """The resource a file holds, None for a kustomization or what is not one resource."""
    if isinstance(document, dict) and document.get("kind") != "Kustomization":
        return document
    return None


def _meta(document: Mapping) -> dict:
    meta = document.get("metadata")
    return meta if isinstance(meta, dict) else {}


def _where(path: str, dashboard: str | None = None) -> Location:
    return Location(file=path, dashboard=dashboard)


@resource_check(("kubernetes/yaml", "each file under build/kubernetes/ is one YAML mapping"))
def yaml_documents(path: str, document: object, built: Mapping[str, Built]) -> Iterator[Finding]:
    if not isinstance(document, dict):
        what = document if isinstance(document, _NotYaml) else f"a {type(document).__name__}"
        yield Finding(
            "kubernetes/yaml",
            _where(path),
            f"is {what}, not one resource",
            "write one Kubernetes object per file",
        )


@resource_check(
    ("kubernetes/name", "metadata.name is a DNS-1123 subdomain (Kubernetes' object name rule)"),
    ("kubernetes/namespace", "metadata.namespace is a DNS-1123 label"),
)
def names(path: str, document: object, built: Mapping[str, Built]) -> Iterator[Finding]:
    if (resource := _resource(document)) is not None:
        meta = _meta(resource)
        if problem := k8s.subdomain_problem(meta.get("name")):
            yield Finding(
                "kubernetes/name",
                _where(path),
                f"metadata.name {problem}",
                "use lower-case letters, digits, '-' and '.' (lib/ktrdr/config.libsonnet)",
            )
        if problem := k8s.dns_label_problem(meta.get("namespace")):
            yield Finding(
                "kubernetes/namespace",
                _where(path),
                f"metadata.namespace {problem}",
                "set kubernetes.namespace in lib/ktrdr/config.libsonnet to a DNS-1123 label",
            )


@resource_check(
    ("kubernetes/labels", "label keys and values follow Kubernetes' syntax"),
    ("kubernetes/annotations", "annotation keys are valid and all annotations fit in 256 KiB"),
)
def labels_and_annotations(
    path: str, document: object, built: Mapping[str, Built]
) -> Iterator[Finding]:
    if (resource := _resource(document)) is not None:
        meta = _meta(resource)
        for problem in k8s.label_problems(meta.get("labels") or {}):
            yield Finding(
                "kubernetes/labels",
                _where(path),
                f"label {problem}",
                "fix the label in lib/ktrdr/config.libsonnet (kubernetes)",
            )
        annotations = meta.get("annotations") or {}
        if not isinstance(annotations, Mapping):
            annotations = {"": annotations}
        for key in sorted(annotations, key=str):
            if problem := k8s.key_problem(key):
                yield Finding(
                    "kubernetes/annotations",
                    _where(path),
                    f"annotation {problem}",
                    "fix the annotation name in lib/ktrdr/config.libsonnet (kubernetes)",
                )
        size = sum(len(str(k).encode()) + len(str(v).encode()) for k, v in annotations.items())
        if size > k8s.MAX_ANNOTATION_BYTES:
            yield Finding(
                "kubernetes/annotations",
                _where(path),
                f"annotations take {size:,} bytes, over Kubernetes' {k8s.MAX_ANNOTATION_BYTES:,}",
                "keep large content in data or spec, not annotations",
            )


@resource_check(("kubernetes/size", "a resource fits Kubernetes' 1 MiB object limit"))
def object_size(path: str, document: object, built: Mapping[str, Built]) -> Iterator[Finding]:
    if (resource := _resource(document)) is not None:
        size = k8s.object_bytes(resource)
        if size > k8s.MAX_OBJECT_BYTES:
            uids = [c.uid for c in carried(resource) if c.uid]
            yield Finding(
                "kubernetes/size",
                _where(path, uids[0] if uids else None),
                f"{size:,} bytes, over Kubernetes' {k8s.MAX_OBJECT_BYTES:,}-byte object limit",
                "make the dashboard smaller (split it); the API server would refuse this object",
            )


# kind -> the apiVersions this project writes it with (classic Dashboards: read only).
_APIS: dict[str, tuple[str, ...]] = {
    "ConfigMap": ("v1",),
    "GrafanaFolder": (k8s.GRAFANA_OPERATOR_API,),
    "GrafanaDashboard": (k8s.GRAFANA_OPERATOR_API,),
    "GrafanaDatasource": (k8s.GRAFANA_OPERATOR_API,),
    "GrafanaManifest": (k8s.GRAFANA_OPERATOR_API,),
    "PrometheusRule": (k8s.PROMETHEUS_OPERATOR_API,),
    "Dashboard": (*k8s.DASHBOARD_APIS, *k8s.CLASSIC_DASHBOARD_APIS),
    "Folder": k8s.FOLDER_APIS,
}


def _template_problems(spec: Mapping) -> list[str]:
    """A GrafanaManifest's template: a resource the CRD takes (apiVersion, kind, a named
    metadata) and one this project writes."""
    template = spec.get("template")
    named = isinstance(template, dict) and isinstance(_meta(template).get("name"), str)
    if not named or not all(isinstance(template.get(k), str) for k in ("apiVersion", "kind")):
        return ["spec.template is not a resource with apiVersion, kind and metadata.name"]
    if template.get("kind") != "Dashboard":
        return [f"spec.template is a {template.get('kind')!r}, not a Dashboard"]
    return [f"spec.template: {problem}" for problem in _field_problems(template)]


def _field_problems(document: Mapping) -> list[str]:
    """What the kind's schema (the operators' CRDs, Kubernetes' ConfigMap, Grafana's resource
    API) requires of the fields this project writes."""
    api, kind = document.get("apiVersion"), document.get("kind")
    spec = document.get("spec") if isinstance(document.get("spec"), dict) else None
    if kind not in _APIS:
        return [f"kind {kind!r} is none this project writes"]
    if api not in _APIS[kind]:
        return [f"{kind} has apiVersion {api!r}, not {' or '.join(_APIS[kind])}"]
    if kind == "ConfigMap":
        data = document.get("data")
        ok = isinstance(data, dict) and all(isinstance(v, str) for v in data.values())
        return [] if ok else ["data is not a mapping of file name to text"]
    if spec is None:
        return ["has no spec"]
    problems = []
    if kind.startswith("Grafana") and not isinstance(spec.get("instanceSelector"), dict):
        problems.append("spec.instanceSelector is missing (the operator requires it)")
    uid = spec.get("uid")
    if kind.startswith("Grafana") and uid is not None and not _UID.fullmatch(str(uid)):
        problems.append(f"spec.uid {uid!r} is not at most 40 letters, digits, '-' or '_'")
    if kind == "GrafanaDashboard":
        if not isinstance(spec.get("json"), str):
            problems.append("spec.json is not the dashboard's JSON text")
        if ("folderRef" in spec) == ("folderUID" in spec):
            problems.append("spec names its folder by exactly one of folderRef and folderUID")
    if kind == "GrafanaDatasource" and not isinstance(spec.get("datasource"), dict):
        problems.append("spec.datasource is missing")
    if kind == "GrafanaManifest":
        problems += _template_problems(spec)
    if kind == "PrometheusRule":
        groups = spec.get("groups")
        named = isinstance(groups, list) and all(
            isinstance(g, dict)
            and isinstance(g.get("name"), str)
            and isinstance(g.get("rules"), list)
            for g in groups
        )
        if not groups or not named:
            problems.append("spec.groups is not a list of groups with a name and rules")
    if kind in ("GrafanaFolder", "Folder") and not isinstance(spec.get("title"), str):
        problems.append("spec.title is missing")
    if kind == "Dashboard" and not isinstance(
        (_meta(document).get("annotations") or {}).get(k8s.FOLDER_ANNOTATION), str
    ):
        problems.append(f"metadata.annotations has no {k8s.FOLDER_ANNOTATION}")
    return problems


@resource_check(
    ("kubernetes/resource", "each resource has the apiVersion and fields its kind requires")
)
def resource_fields(path: str, document: object, built: Mapping[str, Built]) -> Iterator[Finding]:
    if (resource := _resource(document)) is not None:
        for problem in _field_problems(resource):
            yield Finding(
                "kubernetes/resource",
                _where(path),
                problem,
                "generate it with `build` (ktrdr_dashboards/compile/kubernetes.py)",
            )


CLASSIC = "classic"


@dataclass(frozen=True)
class Carried:
    """A dashboard a resource carries, as read (it may be malformed)."""

    named_uid: str | None  # the uid the resource gives it; a ConfigMap gives none
    dashboard: object  # the classic model, or a schema v2 spec
    schema: str  # CLASSIC, or the v2 schema version of the spec ("v2", "v2beta1")

    @property
    def uid(self) -> str | None:
        """A v2 spec holds no uid: the resource's name is it."""
        if self.schema != CLASSIC:
            return self.named_uid
        uid = self.dashboard.get("uid") if isinstance(self.dashboard, dict) else None
        return str(uid) if uid else None


def _json(text: object) -> object:
    if not isinstance(text, str):
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        try:  # what orjson refuses and json reads (NaN, lone surrogates)
            return json.loads(text)
        except ValueError:
            return None


def carried(document: Mapping) -> list[Carried]:
    """Every dashboard a resource carries (a GrafanaManifest: its template's)."""
    kind = document.get("kind")
    spec = document.get("spec") if isinstance(document.get("spec"), dict) else {}
    if kind == "ConfigMap" and isinstance(document.get("data"), dict):
        return [Carried(None, _json(text), CLASSIC) for text in document["data"].values()]
    if kind == "GrafanaDashboard":
        return [Carried(spec.get("uid"), _json(spec.get("json")), CLASSIC)]
    if kind == "GrafanaManifest" and isinstance(spec.get("template"), dict):
        return carried(spec["template"])
    if kind == "Dashboard":
        api, name = document.get("apiVersion"), _meta(document).get("name")
        name = name if isinstance(name, str) else None
        if api in k8s.CLASSIC_DASHBOARD_APIS:
            return [Carried(name, spec, CLASSIC)]
        if api in k8s.DASHBOARD_APIS:
            return [Carried(name, document.get("spec"), k8s.DASHBOARD_APIS[api])]
    return []


def carried_v2(document: object) -> list[Carried]:
    """The schema v2 dashboards a resource carries."""
    resource = _resource(document)
    return [c for c in carried(resource) if c.schema != CLASSIC] if resource else []


def _v2_differs(item: Carried, built: Built | None) -> bool:
    """Whether a v2 spec is not the built dashboard converted, laid out as the spec is when it
    uses what only v2 can say (the source's hidden layout is not in a release)."""
    spec = item.dashboard
    if not isinstance(spec, dict) or built is None:
        return True
    try:
        expected = built.to_v2(convert.v2_layout(spec), item.schema)
    except convert.ConversionError:
        return True
    return expected != spec


@resource_check(
    ("kubernetes/dashboard", "a dashboard a resource carries is the one the build compiled")
)
def carried_dashboards(
    path: str, document: object, built: Mapping[str, Built]
) -> Iterator[Finding]:
    if (resource := _resource(document)) is None:
        return
    for item in carried(resource):
        model = item.dashboard
        if item.schema != CLASSIC:
            if _v2_differs(item, built.get(str(item.uid))):
                yield Finding(
                    "kubernetes/dashboard",
                    _where(path, item.uid),
                    "carries a schema v2 dashboard that is not the built one converted",
                    "rebuild; never edit the generated resources",
                )
            continue
        if not isinstance(model, dict):
            yield Finding(
                "kubernetes/dashboard",
                _where(path),
                "carries a dashboard that is not a JSON object",
                "rebuild; the resource must hold the built dashboard JSON",
            )
            continue
        uid = str(model.get("uid", ""))
        found = built.get(uid)
        if item.named_uid is not None and item.named_uid != uid:
            yield Finding(
                "kubernetes/dashboard",
                _where(path, uid or None),
                f"names uid {item.named_uid!r} but carries dashboard {uid!r}",
                "keep the resource's uid and the dashboard's uid the same",
            )
        elif found is None or found.model != model:
            yield Finding(
                "kubernetes/dashboard",
                _where(path, uid or None),
                "carries a dashboard that differs from the built one",
                "rebuild; never edit the generated resources",
            )


def _carried_uids(path: str, document: object) -> list[str]:
    resource = _resource(document)
    return [c.uid for c in carried(resource) if c.uid] if resource else []


@project_check(
    ("kubernetes/uid", "no two resources of one folder carry the same dashboard"),
    gather_resource=_carried_uids,
)
def one_resource_per_dashboard(inputs: Inputs, facts: Facts) -> Iterator[Finding]:
    first: dict[tuple[str, str], str] = {}
    for path, uids in facts.resources:
        folder = PurePosixPath(path).parent.as_posix()
        for uid in uids:
            seen = first.setdefault((folder, uid), path)
            if seen != path:
                yield Finding(
                    "kubernetes/uid",
                    _where(path, uid),
                    f"carries the same dashboard as {PurePosixPath(seen).name}",
                    "keep one resource per dashboard in a folder: `kubectl apply -k` applies "
                    "both, and the last one wins",
                )


def _listed(path: str, document: object) -> tuple[bool, object] | None:
    """For a kustomization.yaml that is a mapping: whether it is a Kustomization, and the
    resources it lists; None for any other file."""
    if PurePosixPath(path).name != k8s.KUSTOMIZATION or not isinstance(document, dict):
        return None
    return document.get("kind") == "Kustomization", document.get("resources")


@project_check(
    ("kubernetes/kustomization", "each flavour's kustomization.yaml lists exactly its files"),
    gather_resource=_listed,
)
def kustomizations(inputs: Inputs, facts: Facts) -> Iterator[Finding]:
    folders: dict[str, set[str]] = {}
    for path, _ in facts.resources:
        folder = PurePosixPath(path).parent.as_posix()
        folders.setdefault(folder, set()).add(PurePosixPath(path).name)
    listings = dict(facts.resources)
    for folder, names in sorted(folders.items()):
        path = f"{folder}/{k8s.KUSTOMIZATION}"
        found = listings.get(path)
        if found is None:
            yield Finding(
                "kubernetes/kustomization",
                _where(path),
                "is missing",
                f"`kubectl apply -k {folder}` needs it; rebuild",
            )
            continue
        is_kustomization, listed = found
        wanted = sorted(names - {k8s.KUSTOMIZATION})
        if not is_kustomization or listed != wanted:
            yield Finding(
                "kubernetes/kustomization",
                _where(path),
                f"lists {listed!r}, not the folder's resources {wanted!r}",
                "rebuild; a resource left out would never be applied",
            )
