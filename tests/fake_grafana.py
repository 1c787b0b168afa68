"""A small Grafana on 127.0.0.1 for the live tests, answering as Grafana 11, 12 or 13 do on the
documented endpoints apply / pull / diff --live use:

- 11: the legacy `/api` only; `/apis` lists nothing but alpha versions.
- 12: beside the legacy API, `/apis` with dashboard.grafana.app v1beta1 and v2beta1 and
  folder.grafana.app v1beta1.
- 13: dashboard.grafana.app v1 and v2 (and the betas), folder.grafana.app v1; the legacy API
  deprecated but served.

Over `/apis` a dashboard is stored in the version it was written in and converted on read
(the server's conversion is simulated with ktrdr_dashboards.convert): a v1 read of a v2
dashboard reports `status.conversion`, failed when the layout has tabs or other v2-only
constructs (with a `storedVersion` that is not to be trusted, as Grafana has shipped it).
Objects carry `resourceVersion` and `generation`; a stale resourceVersion is refused with 409,
errors are Kubernetes `Status` objects, lists page through `continue`, `dryRun=All` writes
nothing, and the legacy GET answers 406 for a dashboard stored as v2.

Login by service account token (Bearer) or basic auth. Faults are injected per path: 500
answers, slow answers, HTML instead of JSON, and a save "from the UI" right after a dashboard
is read. `ui_save` changes a dashboard as a UI save with classic dashboards does, `ui_save_v2`
as one with dynamic dashboards (stored as v2)."""

from __future__ import annotations

import base64
import copy
import json
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from ktrdr_dashboards import convert

TOKEN = "glsa_test_token_0123456789"
USER, PASSWORD = "admin", "s3cret-pass"
VIEWER_TOKEN = "glsa_viewer_token_0123456789"

VERSIONS = {11: "11.6.0", 12: "12.2.0", 13: "13.3.0"}
DASHBOARDS, FOLDERS = "dashboard.grafana.app", "folder.grafana.app"
SERVED = {
    11: {DASHBOARDS: ["v0alpha1"]},
    12: {DASHBOARDS: ["v0alpha1", "v1beta1", "v2alpha1", "v2beta1"], FOLDERS: ["v1beta1"]},
    13: {
        DASHBOARDS: ["v0alpha1", "v1beta1", "v1", "v2alpha1", "v2beta1", "v2"],
        FOLDERS: ["v1beta1", "v1"],
    },
}
# The classic schemaVersion Grafana gives a v2 dashboard read as v1.
LATEST_SCHEMA = {11: 40, 12: 41, 13: 42}
MANAGED_BY = "grafana.app/managedBy"


@dataclass
class Fault:
    """`kind` for requests whose method is `method` and path starts with `path`, `times`
    times: "500", "slow" (sleeps `seconds`), "html" (a 200 web page), "ui-save-after-read"
    (a UI save of the dashboard right after this read is answered)."""

    method: str
    path: str
    kind: str
    times: int = 1
    seconds: float = 0.0
    skip: int = 0  # matching requests answered normally before the fault starts


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # A client that gave up waiting (the slow-answer fault) closes its end: not an error.
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError):
            super().handle_error(request, client_address)


@dataclass
class Stored:
    """One dashboard: its spec in the version it was written in ("v1": the classic model
    without id and version; "v2": a v2 spec)."""

    uid: str
    family: str
    spec: dict
    folder_uid: str
    id: int
    generation: int = 0
    resource_version: int = 0
    annotations: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    versions: list[dict] = field(default_factory=list)  # the legacy history, oldest first
    provisioned: bool = False


class _Refused(Exception):
    def __init__(self, status: int, reason: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.status, self.reason, self.message, self.details = status, reason, message, details


class FakeGrafana:
    def __init__(self, major: int = 11, namespace: str = "default"):
        self.major = major
        self.namespace = namespace
        # A UI save stores v2 where dynamic dashboards are on (Grafana 13's default).
        self.dynamic_dashboards = major >= 13
        self.folders: dict[str, dict] = {}
        self.dashboards: dict[str, Stored] = {}
        self.faults: list[Fault] = []
        # (method, path) served; a dry-run write's path ends with `?dryRun=All`
        self.requests: list[tuple[str, str]] = []
        self.not_grafana = False  # every path answers a web page, like another web server
        self.lock = threading.Lock()
        self._next_id = 1
        self._resource_version = 1000
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def version(self) -> str:
        return VERSIONS[self.major]

    def start(self) -> FakeGrafana:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------ what "the UI" does

    def ui_save(self, uid: str, change: Callable[[dict], None], message: str = "") -> int:
        """Change the classic model of a dashboard and save it as v1, as a UI save with
        classic dashboards does; its new version."""
        with self.lock:
            stored = self.dashboards[uid]
            model = self._classic(stored)
            change(model)
            return self._store(uid, "v1", _without_ids(model), stored.folder_uid, message, "admin")

    def ui_save_v2(self, uid: str, change: Callable[[dict], None], message: str = "") -> int:
        """Change the v2 spec of a dashboard (the stored one, or the server's conversion of a
        v1 one) and save it as v2, as a UI save with dynamic dashboards does."""
        with self.lock:
            stored = self.dashboards[uid]
            # Grafana 12's UI saves v2beta1, 13's v2.
            spec = self._v2(stored, "v2" if self.major >= 13 else "v2beta1")
            change(spec)
            return self._store(uid, "v2", spec, stored.folder_uid, message, "admin")

    def ui_edit(self, uid: str, change: Callable[[dict], None], message: str = "") -> int:
        """A UI save of a change to the dashboard's top-level fields (description, title,
        ...), which classic and v2 models share, in the format this Grafana's UI saves."""
        save = self.ui_save_v2 if self.dynamic_dashboards else self.ui_save
        return save(uid, change, message)

    def live(self, uid: str) -> dict:
        """The dashboard in classic form (a v2 one converted, tabs laid out as rows)."""
        with self.lock:
            return self._classic(self.dashboards[uid], strict=False)

    def stored_v2(self, uid: str) -> dict:
        with self.lock:
            return copy.deepcopy(self.dashboards[uid].spec)

    # ------------------------------------------------------------ storage

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _classic(self, stored: Stored, strict: bool = True) -> dict:
        """The classic model of a stored dashboard; `strict`: refuse v2-only layouts, as
        Grafana's conversion to v1 does."""
        if stored.family == "v1":
            model = copy.deepcopy(stored.spec)
        else:
            if strict and convert.v2_only(stored.spec):
                raise ValueError(
                    "cannot convert a v2 dashboard with " + "; ".join(convert.v2_only(stored.spec))
                )
            model = convert.to_classic(stored.spec, stored.uid)
            model["schemaVersion"] = LATEST_SCHEMA[self.major]
        model.update(uid=stored.uid, id=stored.id, version=stored.generation)
        return model

    def _v2(self, stored: Stored, version: str) -> dict:
        if stored.family == "v2":
            return copy.deepcopy(stored.spec)
        return convert.to_v2(stored.spec, None, version="v2beta1" if "beta" in version else "v2")

    def _store(
        self,
        uid: str,
        family: str,
        spec: dict,
        folder_uid: str,
        message: str,
        user: str,
        annotations: dict | None = None,
        labels: dict | None = None,
        legacy: bool = False,
    ) -> int:
        """Store a write; the new generation. A resource's generation counts changes of its
        spec; a legacy save is a new version even when nothing changed."""
        existing = self.dashboards.get(uid)
        if existing is None:
            existing = self.dashboards[uid] = Stored(uid, family, spec, folder_uid, self._new_id())
            changed = True
        else:
            changed = legacy or (existing.family, existing.spec) != (family, spec)
        if annotations is not None:
            existing.annotations = dict(annotations)
        if labels is not None:
            existing.labels = dict(labels)
        existing.annotations["grafana.app/updatedBy"] = f"user:{user}"
        existing.annotations["grafana.app/message"] = message
        existing.annotations["grafana.app/folder"] = folder_uid
        if changed:
            existing.generation += 1
        existing.family, existing.spec, existing.folder_uid = family, spec, folder_uid
        self._resource_version += 1
        existing.resource_version = self._resource_version
        if changed:
            existing.versions.append(
                {
                    "id": self._new_id(),
                    "dashboardId": existing.id,
                    "uid": uid,
                    "parentVersion": existing.generation - 1,
                    "restoredFrom": 0,
                    "version": existing.generation,
                    "created": "2025-01-01T00:00:00Z",
                    "createdBy": user,
                    "message": message,
                }
            )
        return existing.generation

    # ------------------------------------------------------------ HTTP

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                fake._serve(self, "GET")

            def do_POST(self) -> None:
                fake._serve(self, "POST")

            def do_PUT(self) -> None:
                fake._serve(self, "PUT")

        return Handler

    def _send(self, handler: BaseHTTPRequestHandler, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _send_html(self, handler: BaseHTTPRequestHandler, status: int) -> None:
        data = b"<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>"
        handler.send_response(status)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.times > 0 and fault.method == method and path.startswith(fault.path):
                    if fault.skip > 0:
                        fault.skip -= 1
                        return None
                    fault.times -= 1
                    return fault
        return None

    def _user(self, handler: BaseHTTPRequestHandler) -> str | None:
        header = handler.headers.get("Authorization", "")
        if header == f"Bearer {TOKEN}":
            return "sa-ktrdr"
        if header == f"Bearer {VIEWER_TOKEN}":
            return "viewer"
        if header.startswith("Basic "):
            try:
                user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            except ValueError:
                return None
            return user if (user, password) == (USER, PASSWORD) else None
        return None

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        path, query = parts.path, parse_qs(parts.query)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        dry_run = "?dryRun=All" if query.get("dryRun") == ["All"] else ""
        self.requests.append((method, path + dry_run))
        if self.not_grafana:
            self._send_html(handler, 404 if path.startswith("/api") else 200)
            return
        fault = self._fault(method, path)
        apis = path.startswith("/apis")
        if fault and fault.kind == "500":
            if apis:
                self._send(handler, 500, _status(500, "InternalError", "Internal Server Error"))
            else:
                self._send(handler, 500, {"message": "Internal Server Error"})
            return
        if fault and fault.kind == "slow":
            time.sleep(fault.seconds)
        if fault and fault.kind == "html":
            self._send_html(handler, 200)
            return
        if path == "/api/health":
            health = {"commit": "0123abc", "database": "ok", "version": self.version}
            self._send(handler, 200, health)
            return
        user = self._user(handler)
        if user is None:
            self._send(handler, 401, {"message": "Invalid API key", "statusCode": 401})
            return
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self._send(handler, 400, {"message": "bad request data"})
            return
        try:
            if apis:
                if method != "GET" and user == "viewer":
                    raise _Refused(
                        403,
                        "Forbidden",
                        f'{path.split("/")[-1]} is forbidden: User "viewer" cannot '
                        f"{method.lower()} this resource in the namespace {self.namespace!r}",
                    )
                with self.lock:
                    status, answer = self._route_apis(method, path, query, body, user)
            else:
                if method == "POST" and user == "viewer":
                    status, answer = (
                        403,
                        {
                            "accessErrorId": "ACE0123",
                            "message": "You'll need additional permissions to perform this action. "
                            "Permissions needed: dashboards:write",
                            "title": "Access denied",
                        },
                    )
                else:
                    with self.lock:
                        status, answer = self._route(method, path, query, body, user)
        except _Refused as refused:
            status = refused.status
            answer = _status(refused.status, refused.reason, refused.message, refused.details)
        self._send(handler, status, answer)
        if fault and fault.kind == "ui-save-after-read":
            uid = path.rsplit("/", 1)[-1]
            self.ui_edit(uid, lambda m: m.update(description="edited in the UI meanwhile"))

    # ------------------------------------------------------------ the legacy /api

    def _route(
        self, method: str, path: str, query: dict, body: object, user: str
    ) -> tuple[int, object]:
        if method == "GET" and path == "/api/frontend/settings":
            settings: dict = {"buildInfo": {"version": self.version}}
            if self.major >= 12:
                settings["namespace"] = self.namespace
            return 200, settings
        if method == "GET" and (m := re.fullmatch(r"/api/folders/([^/]+)", path)):
            folder = self.folders.get(m.group(1))
            return (200, folder) if folder else (404, {"message": "folder not found"})
        if method == "POST" and path == "/api/folders":
            return self._create_folder(body)
        if method == "GET" and (m := re.fullmatch(r"/api/dashboards/uid/([^/]+)", path)):
            return self._get_dashboard(m.group(1))
        if method == "GET" and (m := re.fullmatch(r"/api/dashboards/uid/([^/]+)/versions", path)):
            return self._versions(m.group(1), query)
        if method == "POST" and path == "/api/dashboards/db":
            return self._save(body, user)
        if method == "GET" and path == "/api/search":
            return self._search(query)
        return 404, {"message": "Not found"}

    def _create_folder(self, body: object) -> tuple[int, object]:
        if not isinstance(body, dict) or not body.get("title"):
            return 400, {"message": "folder title cannot be empty"}
        uid = body.get("uid") or f"f{self._next_id}"
        if uid in self.folders:
            return 409, {"message": "a folder with the same uid already exists"}
        folder = {
            "id": self._new_id(),
            "uid": uid,
            "title": body["title"],
            "url": f"/dashboards/f/{uid}/",
            "hasAcl": False,
            "canSave": True,
            "canEdit": True,
            "canAdmin": True,
            "version": 1,
        }
        self.folders[uid] = folder
        return 200, folder

    def _get_dashboard(self, uid: str) -> tuple[int, object]:
        stored = self.dashboards.get(uid)
        if stored is None:
            return 404, {"message": "Dashboard not found"}
        if stored.family == "v2":
            version = "v2" if self.major >= 13 else "v2beta1"
            return 406, {
                "message": "dashboard api version not supported, use /apis/dashboard.grafana.app/"
                f"{version}/namespaces/{self.namespace}/dashboards/{uid} instead"
            }
        folder = self.folders.get(stored.folder_uid, {})
        model = self._classic(stored)
        meta = {
            "type": "db",
            "canSave": True,
            "canEdit": True,
            "slug": re.sub(r"[^a-z0-9]+", "-", model.get("title", "").lower()).strip("-"),
            "url": f"/d/{uid}/",
            "version": stored.generation,
            "folderId": folder.get("id", 0),
            "folderUid": stored.folder_uid,
            "folderTitle": folder.get("title", "General"),
            "provisioned": stored.provisioned,
            "provisionedExternalId": "ktrdr.json" if stored.provisioned else "",
        }
        return 200, {"dashboard": model, "meta": meta}

    def _versions(self, uid: str, query: dict) -> tuple[int, object]:
        stored = self.dashboards.get(uid)
        if stored is None:
            return 404, {"message": "Dashboard not found"}
        try:
            limit = int(query.get("limit", ["1000"])[0])
        except ValueError:
            limit = 1000
        newest_first = list(reversed(stored.versions))[: limit if limit > 0 else 1000]
        if self.major == 11:
            return 200, newest_first
        return 200, {"continueToken": "", "versions": newest_first}

    def _save(self, body: object, user: str) -> tuple[int, object]:
        if not isinstance(body, dict) or not isinstance(body.get("dashboard"), dict):
            return 400, {"message": "bad request data"}
        model = copy.deepcopy(body["dashboard"])
        if not model.get("title"):
            return 400, {"message": "Dashboard title cannot be empty"}
        folder_uid = body.get("folderUid") or ""
        if folder_uid and folder_uid not in self.folders:
            return 400, {"message": "folder not found"}
        uid = model.get("uid") or f"gen{self._next_id}"
        model["uid"] = uid
        existing = self.dashboards.get(uid)
        if existing is not None:
            if existing.provisioned:
                return 400, {"message": "Cannot save provisioned dashboard"}
            # Someone else saved in between: the version sent is not the current one.
            if model.get("version") != existing.generation and not body.get("overwrite"):
                return 412, {
                    "status": "version-mismatch",
                    "message": "The dashboard has been changed by someone else",
                }
        for other_uid, other in self.dashboards.items():
            if (
                other_uid != uid
                and other.folder_uid == folder_uid
                and self._title(other) == model["title"]
                and not body.get("overwrite")
            ):
                return 412, {
                    "status": "name-exists",
                    "message": "A dashboard with the same name in the folder already exists",
                }
        message = str(body.get("message") or "")
        version = self._store(
            uid, "v1", _without_ids(model), folder_uid, message, user, legacy=True
        )
        return 200, {
            "id": self.dashboards[uid].id,
            "uid": uid,
            "url": f"/d/{uid}/",
            "status": "success",
            "version": version,
            "slug": uid,
            "folderUid": folder_uid,
        }

    def _title(self, stored: Stored) -> str:
        return str(stored.spec.get("title", ""))

    def _search(self, query: dict) -> tuple[int, object]:
        folders = set(query.get("folderUIDs", []))
        hits = []
        for uid, stored in sorted(self.dashboards.items()):
            if folders and stored.folder_uid not in folders:
                continue
            hits.append(
                {
                    "id": stored.id,
                    "uid": uid,
                    "title": self._title(stored),
                    "uri": f"db/{uid}",
                    "url": f"/d/{uid}/",
                    "type": "dash-db",
                    "tags": stored.spec.get("tags", []),
                    "isStarred": False,
                    "folderUid": stored.folder_uid,
                    "folderTitle": self.folders.get(stored.folder_uid, {}).get("title", ""),
                }
            )
        return 200, hits

    # ------------------------------------------------------------ /apis

    def _route_apis(
        self, method: str, path: str, query: dict, body: object, user: str
    ) -> tuple[int, object]:
        if path in ("/apis", "/apis/") and method == "GET":
            return 200, self._group_list()
        m = re.fullmatch(r"/apis/([^/]+)/([^/]+)/namespaces/([^/]+)/([^/]+)(?:/([^/]+))?", path)
        if not m:
            raise _Refused(404, "NotFound", "the server could not find the requested resource")
        group, version, namespace, plural, name = m.groups()
        known = {DASHBOARDS: "dashboards", FOLDERS: "folders"}
        if version not in SERVED[self.major].get(group, []) or known.get(group) != plural:
            raise _Refused(404, "NotFound", "the server could not find the requested resource")
        if "alpha" in version:
            raise _Refused(404, "NotFound", f"{group}/{version} is not simulated here")
        if namespace != self.namespace:
            raise _Refused(
                404,
                "NotFound",
                f'namespaces "{namespace}" not found',
                {"name": namespace, "kind": "namespaces"},
            )
        dry_run = query.get("dryRun") == ["All"]
        if plural == "folders":
            return self._folder_resource(method, version, name, body, dry_run)
        if method == "GET" and name:
            stored = self.dashboards.get(name)
            if stored is None:
                raise _not_found(name)
            return 200, self._resource(stored, version)
        if method == "GET":
            return 200, self._list(version, query)
        if method == "POST" and not name:
            return self._write(None, version, body, user, dry_run)
        if method == "PUT" and name:
            return self._write(name, version, body, user, dry_run)
        raise _Refused(405, "MethodNotAllowed", f"{method} is not allowed here")

    def _group_list(self) -> dict:
        groups = []
        for group, versions in SERVED[self.major].items():
            listed = [{"groupVersion": f"{group}/{v}", "version": v} for v in reversed(versions)]
            groups.append({"name": group, "versions": listed, "preferredVersion": listed[0]})
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}

    def _metadata(self, name: str, generation: int, resource_version: int, annotations: dict,
                  labels: dict) -> dict:  # fmt: skip
        metadata = {
            "name": name,
            "namespace": self.namespace,
            "uid": f"00000000-0000-4000-8000-{abs(hash(name)) % 10**12:012d}",
            "resourceVersion": str(resource_version),
            "generation": generation,
            "creationTimestamp": "2025-01-01T00:00:00Z",
            "annotations": dict(annotations),
        }
        if labels:
            metadata["labels"] = dict(labels)
        return metadata

    def _resource(self, stored: Stored, version: str) -> dict:
        """The stored dashboard as `version` gives it, converted when stored in the other."""
        family = "v2" if version.startswith("v2") else "v1"
        stored_version = {"v1": "v1beta1", "v2": "v2beta1"}[stored.family]
        if self.major >= 13:
            stored_version = stored.family
        status: dict = {}
        if family == stored.family:
            spec = copy.deepcopy(stored.spec)
        elif family == "v2":
            spec = self._v2(stored, version)
            status = {"conversion": {"failed": False, "storedVersion": stored_version}}
        else:
            try:
                spec = _without_ids(self._classic(stored))
                status = {"conversion": {"failed": False, "storedVersion": stored_version}}
            except ValueError as error:
                # Grafana reports the failure; its storedVersion has been seen to be wrong.
                spec = {"title": self._title(stored)}
                status = {
                    "conversion": {"failed": True, "storedVersion": "v0alpha1", "error": str(error)}
                }
        annotations = dict(stored.annotations)
        if stored.provisioned:
            annotations[MANAGED_BY] = "classic-file-provisioning"
            annotations["grafana.app/managerId"] = "ktrdr"
        resource = {
            "kind": "Dashboard",
            "apiVersion": f"{DASHBOARDS}/{version}",
            "metadata": self._metadata(
                stored.uid, stored.generation, stored.resource_version, annotations, stored.labels
            ),
            "spec": spec,
        }
        if status:
            resource["status"] = status
        return resource

    def _list(self, version: str, query: dict) -> dict:
        try:
            limit = int(query.get("limit", ["500"])[0])
            start = int(base64.b64decode(query.get("continue", [""])[0] or b"MA==").decode())
        except ValueError:
            raise _Refused(400, "BadRequest", "invalid continue token") from None
        names = sorted(self.dashboards)
        page = names[start : start + max(limit, 1)]
        metadata: dict = {"resourceVersion": str(self._resource_version)}
        if start + len(page) < len(names):
            metadata["continue"] = base64.b64encode(str(start + len(page)).encode()).decode()
        return {
            "kind": "DashboardList",
            "apiVersion": f"{DASHBOARDS}/{version}",
            "metadata": metadata,
            "items": [self._resource(self.dashboards[n], version) for n in page],
        }

    def _write(
        self, name: str | None, version: str, body: object, user: str, dry_run: bool
    ) -> tuple[int, object]:
        if not (isinstance(body, dict) and body.get("kind") == "Dashboard"):
            raise _Refused(400, "BadRequest", "the body is not a Dashboard")
        metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
        spec = body.get("spec")
        uid = metadata.get("name")
        if not isinstance(uid, str) or not uid or (name is not None and uid != name):
            raise _Refused(400, "BadRequest", "metadata.name must be the dashboard's name")
        family = "v2" if version.startswith("v2") else "v1"
        if not isinstance(spec, dict):
            raise _Refused(422, "Invalid", f'Dashboard.{DASHBOARDS} "{uid}" is invalid: spec')
        if family == "v1" and not spec.get("title"):
            raise _Refused(
                422, "Invalid", f'Dashboard.{DASHBOARDS} "{uid}" is invalid: spec.title: Required'
            )
        if family == "v2":
            errors = convert.schema_errors(spec, "v2beta1" if "beta" in version else "v2")
            if errors:
                raise _Refused(
                    422, "Invalid", f'Dashboard.{DASHBOARDS} "{uid}" is invalid: {errors[0]}'
                )
        annotations = metadata.get("annotations") or {}
        folder_uid = annotations.get("grafana.app/folder", "")
        if folder_uid and folder_uid not in self.folders:
            raise _Refused(400, "BadRequest", f"folder {folder_uid} not found")
        existing = self.dashboards.get(uid)
        if name is None and existing is not None:
            raise _Refused(
                409,
                "AlreadyExists",
                f'dashboards.{DASHBOARDS} "{uid}" already exists',
                {"name": uid, "group": DASHBOARDS, "kind": "dashboards"},
            )
        if name is not None:
            if existing is None:
                raise _not_found(uid)
            sent = metadata.get("resourceVersion")
            if not sent:
                raise _Refused(
                    422,
                    "Invalid",
                    f'Dashboard.{DASHBOARDS} "{uid}" is invalid: metadata.resourceVersion: '
                    "Invalid value: 0x0: must be specified for an update",
                )
            if sent != str(existing.resource_version):
                raise _Refused(
                    409,
                    "Conflict",
                    f'Operation cannot be fulfilled on dashboards.{DASHBOARDS} "{uid}": the '
                    "object has been modified; please apply your changes to the latest version "
                    "and try again",
                    {"name": uid, "group": DASHBOARDS, "kind": "dashboards"},
                )
        spec = _without_ids(spec) if family == "v1" else spec
        if dry_run:
            preview = Stored(uid, family, spec, folder_uid, 0, annotations=dict(annotations))
            return (201 if name is None else 200), self._resource(preview, version)
        message = str(annotations.get("grafana.app/message", ""))
        self._store(
            uid, family, spec, folder_uid, message, user, annotations, metadata.get("labels") or {}
        )
        return (201 if name is None else 200), self._resource(self.dashboards[uid], version)

    def _folder_resource(
        self, method: str, version: str, name: str | None, body: object, dry_run: bool
    ) -> tuple[int, object]:
        def resource(folder: dict) -> dict:
            return {
                "kind": "Folder",
                "apiVersion": f"{FOLDERS}/{version}",
                "metadata": self._metadata(folder["uid"], 1, folder["id"], {}, {}),
                "spec": {"title": folder["title"]},
            }

        if method == "GET" and name:
            folder = self.folders.get(name)
            if folder is None:
                raise _Refused(
                    404,
                    "NotFound",
                    f'folders.{FOLDERS} "{name}" not found',
                    {"name": name, "group": FOLDERS, "kind": "folders"},
                )
            return 200, resource(folder)
        if method == "POST" and not name:
            metadata = body.get("metadata", {}) if isinstance(body, dict) else {}
            title = (body.get("spec") or {}).get("title") if isinstance(body, dict) else None
            uid = metadata.get("name")
            if not title or not uid:
                raise _Refused(422, "Invalid", "Folder is invalid: spec.title: Required value")
            if uid in self.folders:
                raise _Refused(
                    409,
                    "AlreadyExists",
                    f'folders.{FOLDERS} "{uid}" already exists',
                    {"name": uid, "group": FOLDERS, "kind": "folders"},
                )
            if dry_run:
                return 201, resource({"uid": uid, "title": title, "id": 0})
            _, folder = self._create_folder({"uid": uid, "title": title})
            return 201, resource(folder)  # type: ignore[arg-type]
        raise _Refused(405, "MethodNotAllowed", f"{method} is not allowed here")


def _without_ids(model: dict) -> dict:
    return {k: v for k, v in model.items() if k not in ("id", "version")}


def _status(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    status = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        status["details"] = details
    return status


def _not_found(uid: str) -> _Refused:
    return _Refused(
        404,
        "NotFound",
        f'dashboards.{DASHBOARDS} "{uid}" not found',
        {"name": uid, "group": DASHBOARDS, "kind": "dashboards"},
    )


if __name__ == "__main__":
    # A stand-in Grafana for trying apply/pull by hand: `python tests/fake_grafana.py [11|12|13]`.
    fake = FakeGrafana(int(sys.argv[1]) if len(sys.argv) > 1 else 13).start()
    print(f"fake Grafana {fake.version} at {fake.url} (token {TOKEN})", flush=True)
    try:
        fake.thread.join()
    except KeyboardInterrupt:
        fake.stop()
