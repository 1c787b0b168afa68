"""A small Grafana on 127.0.0.1 for the live tests: the documented HTTP API endpoints that
apply / pull / diff --live use, with Grafana's answers and status codes, for Grafana 11 and 12
(they differ in the versions endpoint: a bare list in 11, `{"continueToken", "versions"}` in
12). Login by service account token (Bearer) or basic auth. Faults are injected per path:
500 answers, slow answers, HTML instead of JSON, and a save "from the UI" right after a
dashboard is read. `ui_save` changes a dashboard as a user saving in the UI would."""

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

TOKEN = "glsa_test_token_0123456789"
USER, PASSWORD = "admin", "s3cret-pass"
VIEWER_TOKEN = "glsa_viewer_token_0123456789"


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
    model: dict
    folder_uid: str
    versions: list[dict] = field(default_factory=list)  # oldest first
    provisioned: bool = False


class FakeGrafana:
    def __init__(self, major: int = 11):
        self.major = major
        self.folders: dict[str, dict] = {}
        self.dashboards: dict[str, Stored] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []  # (method, path) served
        self.not_grafana = False  # every path answers a web page, like another web server
        self.lock = threading.Lock()
        self._next_id = 1
        self.server = _Server(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeGrafana:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # ------------------------------------------------------------ what "the UI" does

    def ui_save(self, uid: str, change: Callable[[dict], None], message: str = "") -> int:
        """Change a dashboard as a user saving it in the Grafana UI does; its new version."""
        with self.lock:
            stored = self.dashboards[uid]
            model = copy.deepcopy(stored.model)
            change(model)
            return self._store(model, stored.folder_uid, message, "admin")

    def live(self, uid: str) -> dict:
        return copy.deepcopy(self.dashboards[uid].model)

    # ------------------------------------------------------------ storage

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _store(self, model: dict, folder_uid: str, message: str, user: str) -> int:
        uid = model["uid"]
        existing = self.dashboards.get(uid)
        version = existing.model["version"] + 1 if existing else 1
        model["id"] = existing.model["id"] if existing else self._new_id()
        model["version"] = version
        if existing:
            existing.model, existing.folder_uid = model, folder_uid
        else:
            existing = self.dashboards[uid] = Stored(model, folder_uid)
        existing.versions.append(
            {
                "id": self._new_id(),
                "dashboardId": model["id"],
                "uid": uid,
                "parentVersion": version - 1,
                "restoredFrom": 0,
                "version": version,
                "created": "2025-01-01T00:00:00Z",
                "createdBy": user,
                "message": message,
            }
        )
        return version

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
        self.requests.append((method, path))
        if self.not_grafana:
            self._send_html(handler, 404 if path.startswith("/api") else 200)
            return
        fault = self._fault(method, path)
        if fault and fault.kind == "500":
            self._send(handler, 500, {"message": "Internal Server Error"})
            return
        if fault and fault.kind == "slow":
            time.sleep(fault.seconds)
        if fault and fault.kind == "html":
            self._send_html(handler, 200)
            return
        if path == "/api/health":
            version = "11.4.0" if self.major == 11 else "12.0.1"
            self._send(handler, 200, {"commit": "0123abc", "database": "ok", "version": version})
            return
        user = self._user(handler)
        if user is None:
            self._send(handler, 401, {"message": "Invalid API key", "statusCode": 401})
            return
        if method == "POST" and user == "viewer":
            self._send(
                handler,
                403,
                {
                    "accessErrorId": "ACE0123",
                    "message": "You'll need additional permissions to perform this action. "
                    "Permissions needed: dashboards:write",
                    "title": "Access denied",
                },
            )
            return
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            self._send(handler, 400, {"message": "bad request data"})
            return
        with self.lock:
            status, answer = self._route(method, path, query, body, user)
        self._send(handler, status, answer)
        if fault and fault.kind == "ui-save-after-read":
            uid = path.rsplit("/", 1)[-1]
            self.ui_save(uid, lambda m: m.update(description="edited in the UI meanwhile"))

    def _route(
        self, method: str, path: str, query: dict, body: object, user: str
    ) -> tuple[int, object]:
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
        folder = self.folders.get(stored.folder_uid, {})
        meta = {
            "type": "db",
            "canSave": True,
            "canEdit": True,
            "slug": re.sub(r"[^a-z0-9]+", "-", stored.model.get("title", "").lower()).strip("-"),
            "url": f"/d/{uid}/",
            "version": stored.model["version"],
            "folderId": folder.get("id", 0),
            "folderUid": stored.folder_uid,
            "folderTitle": folder.get("title", "General"),
            "provisioned": stored.provisioned,
            "provisionedExternalId": "ktrdr.json" if stored.provisioned else "",
        }
        return 200, {"dashboard": copy.deepcopy(stored.model), "meta": meta}

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
            if model.get("version") != existing.model["version"] and not body.get("overwrite"):
                return 412, {
                    "status": "version-mismatch",
                    "message": "The dashboard has been changed by someone else",
                }
        for other_uid, other in self.dashboards.items():
            if (
                other_uid != uid
                and other.folder_uid == folder_uid
                and other.model.get("title") == model["title"]
                and not body.get("overwrite")
            ):
                return 412, {
                    "status": "name-exists",
                    "message": "A dashboard with the same name in the folder already exists",
                }
        version = self._store(model, folder_uid, str(body.get("message") or ""), user)
        return 200, {
            "id": model["id"],
            "uid": uid,
            "url": f"/d/{uid}/",
            "status": "success",
            "version": version,
            "slug": uid,
            "folderUid": folder_uid,
        }

    def _search(self, query: dict) -> tuple[int, object]:
        folders = set(query.get("folderUIDs", []))
        hits = []
        for uid, stored in sorted(self.dashboards.items()):
            if folders and stored.folder_uid not in folders:
                continue
            hits.append(
                {
                    "id": stored.model["id"],
                    "uid": uid,
                    "title": stored.model.get("title", ""),
                    "uri": f"db/{uid}",
                    "url": f"/d/{uid}/",
                    "type": "dash-db",
                    "tags": stored.model.get("tags", []),
                    "isStarred": False,
                    "folderUid": stored.folder_uid,
                    "folderTitle": self.folders.get(stored.folder_uid, {}).get("title", ""),
                }
            )
        return 200, hits


if __name__ == "__main__":
    # A stand-in Grafana for trying apply/pull by hand: `python tests/fake_grafana.py [11|12]`.
    fake = FakeGrafana(int(sys.argv[1]) if len(sys.argv) > 1 else 11).start()
    print(f"fake Grafana {fake.major} at {fake.url} (token {TOKEN})", flush=True)
    try:
        fake.thread.join()
    except KeyboardInterrupt:
        fake.stop()
