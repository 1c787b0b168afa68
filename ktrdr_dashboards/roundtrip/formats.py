"""Which of Grafana's dashboard formats a document is, told by its content.

- **Classic JSON**: the dashboard model (`schemaVersion` 36 to 42), read as it is — Grafana
  migrates older ones on load, this project does not — or the HTTP API's
  `{"dashboard": ..., "meta": ...}` answer.
- **V1 Resource**: `dashboard.grafana.app/v1beta1` or `v1`, a classic model as `spec`.
- **V2 Resource**: `dashboard.grafana.app/v2alpha1`, `v2beta1` or `v2`, a schema v2 spec;
  and a bare v2 spec (`elements` and `layout`, no `panels`).

"Export for sharing externally" of a v2 dashboard names no datasource in its queries, only the
plugin (`group`): `bind_groups` binds them as the classic `${DS_...}` inputs are bound."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from ktrdr_dashboards import convert
from ktrdr_dashboards.errors import DashboardError, Location
from ktrdr_dashboards.roundtrip.documents import AGAIN

GROUP = "dashboard.grafana.app"
CLASSIC_VERSIONS = ("v1beta1", "v1")
V2_VERSIONS = ("v2alpha1", "v2beta1", "v2")
SCHEMA_VERSIONS = range(36, 43)
# Grafana's built-in datasource of annotations and dashboard queries; no provisioning names it.
BUILT_IN_GROUPS = {"grafana": "-- Grafana --"}


@dataclass(frozen=True)
class Document:
    """What a file holds: a classic model or a v2 spec, and where it came from."""

    form: str  # e.g. "V2 Resource (dashboard.grafana.app/v2)"
    classic: dict | None = None
    v2: dict | None = None
    uid: str | None = None  # a resource's metadata.name


def _refused(where: str, what: str, fix: str = AGAIN) -> DashboardError:
    return DashboardError(what, location=Location(file=where), fix=fix)


def _is_v2_spec(value: object) -> bool:
    """A classic model has `panels`; a v2 spec `elements` and `layout` instead."""
    return (
        isinstance(value, dict)
        and "elements" in value
        and "layout" in value
        and "panels" not in value
    )


def recognise(value: object, where: str) -> Document:
    """The format of a parsed document; anything that is no dashboard is one DashboardError."""
    if isinstance(value, dict) and isinstance(value.get("apiVersion"), str):
        return _resource(value, where)
    if (
        isinstance(value, dict)
        and isinstance(value.get("dashboard"), dict)
        and "panels" not in value
    ):
        inner = value["dashboard"]
        if _is_v2_spec(inner):
            return Document("v2 spec in an HTTP API answer", v2=inner)
        return _classic(inner, where, "classic model in an HTTP API answer")
    if _is_v2_spec(value):
        assert isinstance(value, dict)
        return Document("v2 spec", v2=value)
    return _classic(value, where, "classic model")


def _resource(value: dict, where: str) -> Document:
    api_version = value["apiVersion"]
    group, _, version = api_version.partition("/")
    kind = value.get("kind")
    if group != GROUP or kind != "Dashboard":
        raise _refused(
            where,
            f"a {kind if isinstance(kind, str) else '?'} of {api_version}, not a dashboard",
            f"pass a dashboard: {GROUP}/v1 or /v2 (or v1beta1, v2alpha1, v2beta1)",
        )
    spec = value.get("spec")
    if not isinstance(spec, dict):
        raise _refused(where, f"a {api_version} dashboard without a spec object")
    metadata = value.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    uid = name if isinstance(name, str) and name else None
    form = f"{'V2' if version.startswith('v2') else 'V1'} Resource ({api_version})"
    if version in CLASSIC_VERSIONS:
        document = _classic(spec, where, form)
        model = document.classic
        assert model is not None
        if uid and "uid" not in model:
            model = {**model, "uid": uid}
        return Document(form, classic=model, uid=uid)
    if version in V2_VERSIONS:
        return Document(form, v2=spec, uid=uid)
    raise _refused(
        where,
        f"dashboard version {version} is none of {', '.join(CLASSIC_VERSIONS + V2_VERSIONS)}",
        "export it from Grafana 12 or 13, or as Classic JSON",
    )


def _classic(value: object, where: str, form: str) -> Document:
    if not isinstance(value, dict) or not isinstance(value.get("title", ""), str):
        raise _refused(
            where,
            "not a Grafana dashboard (expected a classic model with title and panels, or a "
            "dashboard.grafana.app resource)",
            AGAIN,
        )
    version = value.get("schemaVersion")
    if (
        isinstance(version, int)
        and not isinstance(version, bool)
        and version not in SCHEMA_VERSIONS
    ):
        raise _refused(
            where,
            f"schemaVersion {version} is outside 36 to 42, the classic models this project reads "
            "as they are",
            "open it in Grafana 11 or later (which migrates it) and export it again",
        )
    return Document(form, classic=value)


# ---------------------------------------------------------------- external v2 exports


def _queries(spec: dict) -> list[tuple[dict, str]]:
    """Every object of the spec that names a datasource by `group` and `datasource.name`
    (DataQuery kinds, ad hoc and group-by variables), with what it belongs to."""
    elements = spec.get("elements")
    places: list[tuple[object, str]] = [(spec.get("variables"), "a variable")]
    places.append((spec.get("annotations"), "an annotation"))
    for element in (elements if isinstance(elements, dict) else {}).values():
        inner = element.get("spec") if isinstance(element, dict) else None
        title = inner.get("title") if isinstance(inner, dict) else None
        places.append((element, f'panel "{title}"' if isinstance(title, str) else "a panel"))
    found: list[tuple[dict, str]] = []
    for place, where in places:
        stack = [place]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                if item.get("kind") in ("DataQuery", "AdhocVariable", "GroupByVariable"):
                    found.append((item, where))
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    return found


def bind_groups(
    spec: dict, variable_type: str, variable_reference: str, uids: dict[str, str]
) -> tuple[dict, bool, list[str]]:
    """A copy of a v2 spec in which every query without a datasource names one: the
    datasource variable for its plugin type, else the provisioned datasource of the type,
    else Grafana's built-in one. Returns the spec, whether the variable is used, and notes on
    queries left unbound."""
    bound = copy.deepcopy(spec)
    uses_variable = False
    notes: list[str] = []
    for query, where in _queries(bound):
        source = query.get("datasource")
        group = query.get("group")
        if isinstance(source, dict) and isinstance(source.get("name"), str) and source["name"]:
            continue
        if not isinstance(group, str) or not group:
            continue
        if group == variable_type:
            name, uses_variable = variable_reference, True
        elif group in uids:
            name = uids[group]
        elif group in BUILT_IN_GROUPS:
            name = BUILT_IN_GROUPS[group]
        else:
            notes.append(
                f"a {group} query of {where} names no datasource and provisioning/ has none of "
                "that type: it is left to Grafana's default"
            )
            continue
        query["datasource"] = {"name": name}
    return bound, uses_variable, notes


def to_classic(spec: dict, uid: str | None, where: str) -> dict:
    """convert.to_classic, its refusal naming the file."""
    return _located(lambda: convert.to_classic(spec, uid), where)


def v2_layout(spec: dict, where: str) -> dict | None:
    return _located(lambda: convert.v2_layout(spec), where)


def _located(work: Callable, where: str):
    try:
        return work()
    except DashboardError as error:
        location = Location(
            file=where, dashboard=error.location.dashboard, panel=error.location.panel
        )
        raise DashboardError(error.message, location=location, fix=error.fix) from None
