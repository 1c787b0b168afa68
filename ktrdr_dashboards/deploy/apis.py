"""Grafana's Kubernetes-style `/apis`: which dashboard and folder API versions a server speaks
(discovery at `/apis`), the namespace to use, and the resource calls `apply`, `pull` and
`diff --live` make — get, list (page by page through `continue`), create and update (with
`metadata.resourceVersion`, optionally `dryRun=All`) — with Kubernetes `Status` errors turned
into one line each.

Discovery prefers a stable version over a beta one and never uses an alpha one: Grafana 13
serves `dashboard.grafana.app` v1 and v2, Grafana 12 v1beta1 and v2beta1. A server listing
none of them (Grafana 10, 11, early 12) is spoken to through its legacy `/api`."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from grafana_client.client import GrafanaClientError

from ktrdr_dashboards.deploy.grafana import NAMESPACE, Grafana, GrafanaError, _short

DASHBOARDS = "dashboard.grafana.app"
FOLDERS = "folder.grafana.app"
# Most preferred first. Alpha versions change without notice: never used.
DASHBOARD_V1_VERSIONS = ("v1", "v1beta1")
DASHBOARD_V2_VERSIONS = ("v2", "v2beta1")
FOLDER_VERSIONS = ("v1", "v1beta1")

FOLDER_ANNOTATION = "grafana.app/folder"
MESSAGE_ANNOTATION = "grafana.app/message"
UPDATED_BY_ANNOTATION = "grafana.app/updatedBy"
MANAGED_BY_ANNOTATION = "grafana.app/managedBy"
MANAGER_ID_ANNOTATION = "grafana.app/managerId"

LIST_PAGE = 200  # objects per list request


@dataclass(frozen=True)
class Discovery:
    """What a Grafana speaks. `dashboard_v1` / `dashboard_v2` / `folder`: the version of
    each API to use, None when the server has no stable or beta one."""

    version: str  # Grafana's own, from /api/health
    dashboard_v1: str | None = None
    dashboard_v2: str | None = None
    folder: str | None = None
    namespace: str = "default"

    @property
    def legacy(self) -> bool:
        """Dashboards through the legacy /api only."""
        return self.dashboard_v1 is None and self.dashboard_v2 is None

    def describe(self) -> str:
        """`dashboards via dashboard.grafana.app/v1+v2, folders via folder.grafana.app/v1`."""
        if self.legacy:
            return "dashboards and folders via the legacy /api"
        versions = "+".join(v for v in (self.dashboard_v1, self.dashboard_v2) if v)
        folders = f"{FOLDERS}/{self.folder}" if self.folder else "the legacy /api"
        text = f"dashboards via {DASHBOARDS}/{versions}, folders via {folders}"
        return text if self.namespace == "default" else f"{text}, namespace {self.namespace}"


def choose(group_list: object, group: str, preferred: tuple[str, ...]) -> str | None:
    """The most preferred of `preferred` that an APIGroupList lists for `group`."""
    groups = group_list.get("groups") if isinstance(group_list, dict) else None
    offered: set[str] = set()
    for item in groups if isinstance(groups, list) else []:
        if isinstance(item, dict) and item.get("name") == group:
            versions = item.get("versions")
            for version in versions if isinstance(versions, list) else []:
                if isinstance(version, dict) and isinstance(version.get("version"), str):
                    offered.add(version["version"])
    return next((v for v in preferred if v in offered), None)


def discover(grafana: Grafana) -> Discovery:
    """One look at /apis (and Grafana's settings for the namespace) decides how to talk."""
    version = grafana.version or grafana.check()
    try:
        group_list = grafana.apis_request("GET", "", "discover /apis", optional=True)
    except GrafanaClientError:
        group_list = None  # no /apis at all (404): a Grafana before 12
    if group_list is not None and not (
        isinstance(group_list, dict) and isinstance(group_list.get("groups"), list)
    ):
        raise grafana.shape("GET /apis", "an APIGroupList")
    found = Discovery(
        version,
        dashboard_v1=choose(group_list, DASHBOARDS, DASHBOARD_V1_VERSIONS),
        dashboard_v2=choose(group_list, DASHBOARDS, DASHBOARD_V2_VERSIONS),
        folder=choose(group_list, FOLDERS, FOLDER_VERSIONS),
    )
    if found.legacy:
        return Discovery(version)
    namespace = grafana.settings.namespace or settings_namespace(grafana)
    return Discovery(
        version, found.dashboard_v1, found.dashboard_v2, found.folder, namespace=namespace
    )


def settings_namespace(grafana: Grafana) -> str:
    """The namespace Grafana's frontend settings name for this login: `default` for org 1,
    `org-<id>` for another organisation, `stacks-<id>` on Grafana Cloud."""
    try:
        settings = grafana.request("GET", "/frontend/settings", "read Grafana's settings")
    except GrafanaClientError:
        return "default"
    namespace = settings.get("namespace") if isinstance(settings, dict) else None
    if namespace is None:
        return "default"
    if not (isinstance(namespace, str) and NAMESPACE.fullmatch(namespace)):
        raise grafana.shape("GET /api/frontend/settings", "a namespace")
    return namespace


# ---------------------------------------------------------------- resources


@dataclass(frozen=True)
class Resources:
    """One resource type at one version in one namespace, e.g. dashboards at
    dashboard.grafana.app/v2 in `default`."""

    grafana: Grafana
    group: str
    version: str
    namespace: str
    plural: str  # "dashboards", "folders"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    def path(self, name: str | None = None) -> str:
        base = f"/{self.group}/{self.version}/namespaces/{self.namespace}/{self.plural}"
        return f"{base}/{name}" if name else base

    def get(self, name: str, what: str, permission: str) -> dict | None:
        """The object, or None when the namespace has none of that name."""
        try:
            answer = self.grafana.apis_request("GET", self.path(name), what, permission)
        except GrafanaClientError as error:
            if error.status_code == 404 and names(error.response) == name:
                return None
            raise self.refused(f"GET /apis{self.path(name)}", what, error) from None
        return self.checked(answer, f"GET /apis{self.path(name)}", name)

    def list(self, what: str, permission: str) -> Iterator[dict]:
        """Every object, page by page."""
        token = ""
        where = f"GET /apis{self.path()}"
        while True:
            params = {"limit": str(LIST_PAGE)}
            if token:
                params["continue"] = token
            try:
                answer = self.grafana.apis_request(
                    "GET", self.path(), what, permission, params=params
                )
            except GrafanaClientError as error:
                raise self.refused(where, what, error) from None
            items = answer.get("items") if isinstance(answer, dict) else None
            metadata = answer.get("metadata") if isinstance(answer, dict) else None
            if not isinstance(items, list) or not isinstance(metadata or {}, dict):
                raise self.grafana.shape(where, f"a list of {self.plural}")
            for item in items:
                name = item.get("metadata", {}).get("name") if isinstance(item, dict) else None
                yield self.checked(item, where, name if isinstance(name, str) else "")
            token = (metadata or {}).get("continue") or ""
            if not isinstance(token, str):
                raise self.grafana.shape(where, "a continue token")
            if not token:
                return

    def create(self, body: dict, what: str, permission: str, dry_run: bool = False) -> dict:
        """POST; a 409 (the name exists now) is raised as GrafanaClientError."""
        return self._write("POST", None, body, what, permission, dry_run)

    def update(
        self, name: str, body: dict, what: str, permission: str, dry_run: bool = False
    ) -> dict:
        """PUT with the body's `metadata.resourceVersion`; a 409 (changed since that version)
        is raised as GrafanaClientError."""
        return self._write("PUT", name, body, what, permission, dry_run)

    def _write(
        self,
        method: str,
        name: str | None,
        body: dict,
        what: str,
        permission: str,
        dry_run: bool,
    ) -> dict:
        where = f"{method} /apis{self.path(name)}"
        params = {"dryRun": "All"} if dry_run else None
        try:
            answer = self.grafana.apis_request(
                method, self.path(name), what, permission, json=body, params=params
            )
        except GrafanaClientError as error:
            if error.status_code == 409:
                raise
            raise self.refused(where, what, error) from None
        return self.checked(answer, where, str(body.get("metadata", {}).get("name", "")))

    def body(
        self, name: str, spec: dict, annotations: dict, labels: dict, resource_version: str = ""
    ) -> dict:
        metadata: dict = {"name": name, "annotations": annotations}
        if labels:
            metadata["labels"] = labels
        if resource_version:
            metadata["resourceVersion"] = resource_version
        kind = "Dashboard" if self.group == DASHBOARDS else "Folder"
        return {"apiVersion": self.api_version, "kind": kind, "metadata": metadata, "spec": spec}

    def checked(self, answer: object, where: str, name: str) -> dict:
        """An object of this type named `name`, with the fields the callers read."""
        metadata = answer.get("metadata") if isinstance(answer, dict) else None
        if not (
            isinstance(answer, dict)
            and isinstance(metadata, dict)
            and (not name or metadata.get("name") == name)
            and isinstance(answer.get("spec"), dict)
            and isinstance(metadata.get("annotations") or {}, dict)
            and isinstance(metadata.get("labels") or {}, dict)
            and isinstance(metadata.get("resourceVersion", ""), str)
            and isinstance(metadata.get("generation", 0), int)
            and isinstance(answer.get("status") or {}, dict)
        ):
            raise self.grafana.shape(where, f"{self.plural[:-1]} {_short(name)}".strip())
        return answer

    def refused(self, where: str, what: str, error: GrafanaClientError) -> GrafanaError:
        """One line for a 4xx other than the caller's own (a missing object, a conflict)."""
        status, answer = error.status_code, error.response
        url = self.grafana.settings.url
        reason = answer.get("reason") if isinstance(answer, dict) else None
        said = f"HTTP {status}{f' {reason}' if isinstance(reason, str) else ''}: {_short(answer)}"
        if status == 404:
            return GrafanaError(
                f"Grafana at {url} has no namespace {self.namespace} for {self.api_version} "
                f"({where}: {said})",
                fix="set GRAFANA_NAMESPACE to your organisation's namespace (default for org 1, "
                "org-<id>, stacks-<id> on Grafana Cloud), or unset it",
            )
        if status == 406:
            return GrafanaError(
                f"Grafana at {url} cannot serve this as {self.api_version}: {what}: {said}",
                fix="report it: discovery listed this version",
            )
        if status in (400, 422):
            return GrafanaError(
                f"Grafana at {url} refused to {what}: {said}",
                fix="fix what Grafana names, then run again",
            )
        return GrafanaError(
            f"Grafana at {url} refused to {what}: {where}: {said}",
            fix="check the Grafana server's log",
        )


def names(status: object) -> str | None:
    """The object name a Kubernetes `Status` (a 404, a 409) is about."""
    details = status.get("details") if isinstance(status, dict) else None
    name = details.get("name") if isinstance(details, dict) else None
    return name if isinstance(name, str) else None


def conversion(resource: dict) -> dict:
    """`status.conversion` of a dashboard: {failed, storedVersion, error} when Grafana
    converted it from the version it is stored in."""
    found = resource.get("status", {}).get("conversion")
    return found if isinstance(found, dict) else {}
