"""A live Grafana, reached through `grafana-client`: where it is and how to log in (from the
environment only), its legacy `/api` and its Kubernetes-style `/apis` over one HTTP session,
bounded timeouts and retries, and every failure turned into one line that says what to fix.
Answers are untrusted: bodies are size-capped, must be JSON, and are checked for the shape the
caller needs before anything uses them. What `/apis` holds is read in `apis`."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import niquests
from grafana_client import GrafanaApi
from grafana_client.client import (
    GrafanaClientError,
    GrafanaException,
    GrafanaServerError,
    GrafanaTimeoutError,
    GrafanaUnauthorizedError,
)

from ktrdr_dashboards.errors import DashboardError

DEFAULT_TIMEOUT_SECONDS = 10.0
# Attempts per request on a connection error, a timeout or a 5xx answer; the pause doubles
# after each failed attempt (0.5 s, 1 s, 2 s).
ATTEMPTS = 4
BACKOFF_SECONDS = 0.5
# A KTRDR dashboard is ~100 KiB; Grafana's biggest answers here (search, versions) stay far
# below this. Anything larger is refused unread.
MAX_ANSWER_BYTES = 8 * 1024 * 1024
# Grafana's uid rule: at most 40 letters, digits, `-` and `_`.
UID = re.compile(r"[A-Za-z0-9_-]{1,40}")
# A Kubernetes namespace (a DNS label): `default`, `org-2`, `stacks-123`.
NAMESPACE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


class GrafanaError(DashboardError):
    """Grafana could not be reached, refused the credential, or did not answer as Grafana."""


class ForbiddenError(GrafanaError):
    """The credential lacks a permission (HTTP 403)."""


@dataclass(frozen=True)
class Settings:
    """Where Grafana is and how to log in. `url` has no user info; `credential` is never
    shown: `credential_name` names the variables it came from."""

    url: str
    credential: str | tuple[str, str] = ""
    credential_name: str = "GRAFANA_TOKEN"
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    namespace: str = ""  # GRAFANA_NAMESPACE; empty: the one Grafana's settings name

    def __repr__(self) -> str:  # keeps the credential out of tracebacks and logs
        return f"Settings(url={self.url!r}, credential_name={self.credential_name!r})"


def settings_from_env(env: Mapping[str, str]) -> Settings:
    """GRAFANA_URL, GRAFANA_TOKEN or GRAFANA_USER + GRAFANA_PASSWORD, optional
    GRAFANA_TIMEOUT (seconds) and GRAFANA_NAMESPACE (the /apis namespace)."""
    url = env.get("GRAFANA_URL", "").strip()
    if not url:
        raise GrafanaError(
            "GRAFANA_URL is not set",
            fix="export GRAFANA_URL=https://grafana.example.com (Grafana's root URL)",
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise GrafanaError(
            "GRAFANA_URL is not an http(s) URL",
            fix="export GRAFANA_URL=https://grafana.example.com (Grafana's root URL)",
        )
    if parts.username or parts.password:
        raise GrafanaError(
            "GRAFANA_URL carries a user name or password",
            fix="remove them from the URL; set GRAFANA_TOKEN, or GRAFANA_USER and GRAFANA_PASSWORD",
        )
    timeout = DEFAULT_TIMEOUT_SECONDS
    if env.get("GRAFANA_TIMEOUT"):
        try:
            timeout = float(env["GRAFANA_TIMEOUT"])
        except ValueError:
            timeout = -1.0
        if not 0 < timeout <= 600:
            raise GrafanaError(
                "GRAFANA_TIMEOUT is not a number of seconds between 0 and 600",
                fix="export GRAFANA_TIMEOUT=10, or unset it",
            )
    namespace = env.get("GRAFANA_NAMESPACE", "").strip()
    if namespace and not NAMESPACE.fullmatch(namespace):
        raise GrafanaError(
            f"GRAFANA_NAMESPACE {_short(namespace)!r} is not a namespace (lower-case letters, "
            "digits and -, at most 63)",
            fix="export GRAFANA_NAMESPACE=default (org 1), org-<id> or stacks-<id>, or unset it",
        )
    clean = parts._replace(query="", fragment="").geturl().rstrip("/")
    token, user, password = (
        env.get(k, "") for k in ("GRAFANA_TOKEN", "GRAFANA_USER", "GRAFANA_PASSWORD")
    )
    if token:
        return Settings(clean, token, "GRAFANA_TOKEN", timeout, namespace)
    if user and password:
        return Settings(
            clean, (user, password), "GRAFANA_USER/GRAFANA_PASSWORD", timeout, namespace
        )
    if user or password:
        missing = "GRAFANA_PASSWORD" if user else "GRAFANA_USER"
        raise GrafanaError(
            f"{missing} is not set (basic auth needs GRAFANA_USER and GRAFANA_PASSWORD)",
            fix=f"export {missing}, or use a service account token in GRAFANA_TOKEN",
        )
    raise GrafanaError(
        "no Grafana credential in the environment",
        fix="export GRAFANA_TOKEN (a service account token), or GRAFANA_USER and GRAFANA_PASSWORD",
    )


def _short(text: object) -> str:
    """Grafana's own message, made safe to print on one line."""
    if isinstance(text, dict):
        text = text.get("message", "")
    line = " ".join(str(text).split())
    line = "".join(c if c.isprintable() else "?" for c in line)
    return line[:160] + ("…" if len(line) > 160 else "")


class _NotJson(Exception):
    def __init__(self, status: int, content_type: str):
        super().__init__(f"HTTP {status} {content_type or 'without a content type'}")
        self.status = status


class _TooLarge(Exception):
    pass


def _bounded_json(response: niquests.Response, **_: object) -> niquests.Response:
    """Read at most MAX_ANSWER_BYTES of the body; a successful answer must be JSON."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
        response.close()
        raise _TooLarge(f"{declared} bytes")
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(65536):
        size += len(chunk)
        if size > MAX_ANSWER_BYTES:
            response.close()
            raise _TooLarge(f"more than {MAX_ANSWER_BYTES} bytes")
        chunks.append(chunk)
    response._content = b"".join(chunks)
    response._content_consumed = True
    content_type = response.headers.get("Content-Type", "").split(";")[0].strip()
    status = response.status_code or 0
    if status < 400 and status != 204 and content_type != "application/json":
        raise _NotJson(status, content_type)
    return response


def _answer(response: niquests.Response) -> object:
    """The JSON of an /apis answer; an error status raised as grafana-client raises it for
    /api, with the decoded body (a `Status` object) as `response`."""
    status = response.status_code or 0
    if status >= 400:
        try:
            body: object = response.json()
        except ValueError:
            body = response.text or ""
        message = f"HTTP {status}: {_short(body)}"
        if status >= 500:
            raise GrafanaServerError(status, body, message)
        if status == 401:
            raise GrafanaUnauthorizedError(body)
        raise GrafanaClientError(status, body, message)
    if status == 204:
        return None
    try:
        return response.json()
    except ValueError:
        raise _NotJson(status, "JSON that does not parse") from None


# What a TLS failure's text means, by the words OpenSSL and the HTTP stack use for it.
_TLS_REASONS = {
    "certificate_verify_failed": "its certificate is not trusted",
    "wrong_version_number": "the server does not speak TLS there",
    "hostname mismatch": "its certificate is for another host name",
}


def _tls_reason(error: Exception) -> str:
    text = str(error)
    found = (why for words, why in _TLS_REASONS.items() if words in text.lower())
    return next(found, _short(text) or type(error).__name__)


class Grafana:
    """One Grafana: JSON requests with timeouts, bounded retries and one-line errors, over its
    legacy `/api` (grafana-client's own methods) and its Kubernetes-style `/apis` (sent on
    grafana-client's HTTP session with the client's auth, TLS verification and timeout, so
    the size cap installed there holds for both)."""

    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep):
        self.settings = settings
        self._sleep = sleep
        parts = urlsplit(settings.url)
        prefix = parts.path.strip("/")
        self.api = GrafanaApi(
            auth=settings.credential,
            host=parts.hostname,
            port=parts.port,
            url_path_prefix=f"{prefix}/" if prefix else "",
            protocol=parts.scheme,
            timeout=settings.timeout,
        )
        self.api.client.s.hooks["response"].append(_bounded_json)
        self.version = ""

    # ------------------------------------------------------------ requests

    def request(
        self, method: str, path: str, what: str, permission: str = "", **kwargs: object
    ) -> object:
        """`method` /api`path`; retried on connection errors, timeouts and 5xx. Raises
        GrafanaError, or GrafanaClientError for a 4xx the caller handles (404, 409, 412).
        `permission`: what a 403 means is missing (e.g. `dashboards:write`)."""

        def call() -> object:
            return getattr(self.api.client, method)(path, **kwargs)

        return self._attempts(f"{method} /api{path}", what, permission, call)

    def apis_request(
        self,
        method: str,
        path: str,
        what: str,
        permission: str = "",
        json: object = None,
        params: Mapping[str, str] | None = None,
        optional: bool = False,
    ) -> object:
        """`method` /apis`path`, with the same retries and errors as `request`. A 4xx the
        caller handles is raised as GrafanaClientError whose `response` is the answer (a
        Kubernetes `Status` object when Grafana sends one). `optional`: a page that is not
        JSON (a Grafana without /apis serves its web app there) is None, not an error."""
        client = self.api.client
        url = f"{self.settings.url}/apis{path}"

        def call() -> object:
            try:
                response = client.s.request(
                    method,
                    url,
                    json=json,
                    params=dict(params or {}),
                    headers={"Accept": "application/json"},
                    auth=client.auth,
                    verify=client.verify,
                    timeout=client.timeout,
                )
            except niquests.exceptions.Timeout as error:
                raise GrafanaTimeoutError(0, None, str(error)) from error
            return _answer(response)

        return self._attempts(f"{method} /apis{path}", what, permission, call, optional)

    def _attempts(
        self,
        where: str,
        what: str,
        permission: str,
        call: Callable[[], object],
        optional: bool = False,
    ) -> object:
        failure = ""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return call()
            except GrafanaUnauthorizedError as error:
                raise self._refused(401, error.response) from None
            except GrafanaClientError as error:
                if error.status_code == 403:
                    raise self._forbidden(what, permission, error.response) from None
                raise
            except _TooLarge as error:
                raise GrafanaError(
                    f"Grafana at {self.settings.url} answered {where} with {error}",
                    fix="check that GRAFANA_URL is Grafana's root URL",
                ) from None
            except _NotJson as error:
                if optional:
                    return None
                raise self._not_grafana(where, str(error)) from None
            except niquests.exceptions.SSLError as error:
                raise GrafanaError(
                    f"Grafana at {self.settings.url}: TLS failed on {where}: {_tls_reason(error)}",
                    fix="check GRAFANA_URL's scheme (http or https); for a certificate signed by "
                    "your own CA, export REQUESTS_CA_BUNDLE=/path/to/ca.pem",
                ) from None
            except GrafanaServerError as error:
                failure = f"HTTP {error.status_code}: {_short(error.response)}"
            except GrafanaTimeoutError:
                failure = f"no answer within {self.settings.timeout:g} s"
            except (niquests.exceptions.ConnectionError, GrafanaException) as error:
                failure = _connection_failure(error)
            except niquests.exceptions.RequestException as error:
                raise GrafanaError(
                    f"Grafana at {self.settings.url}: {where} failed: {_short(error)}",
                    fix="check GRAFANA_URL",
                ) from None
            if attempt < ATTEMPTS:
                self._sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
        fix = (
            "check the Grafana server's log, then run again"
            if failure.startswith("HTTP")
            else "check GRAFANA_URL and that Grafana runs, or raise GRAFANA_TIMEOUT"
        )
        raise GrafanaError(
            f"Grafana at {self.settings.url} is unreachable: {where}: {failure} "
            f"({ATTEMPTS} attempts)",
            fix=fix,
        )

    def _refused(self, status: int, answer: object) -> GrafanaError:
        fix = (
            "set GRAFANA_TOKEN to a valid service account token"
            if self.settings.credential_name == "GRAFANA_TOKEN"
            else "check GRAFANA_USER and GRAFANA_PASSWORD"
        )
        return GrafanaError(
            f"Grafana at {self.settings.url} refused {self.settings.credential_name} "
            f"(HTTP {status}: {_short(answer)})",
            fix=fix,
        )

    def _forbidden(self, what: str, permission: str, answer: object) -> GrafanaError:
        needs = f": it needs {permission}" if permission else ""
        grant = permission or "write access to the folder"
        return ForbiddenError(
            f"{self.settings.credential_name} is not allowed to {what}{needs} "
            f"(HTTP 403: {_short(answer)})",
            fix=f"give its user or service account {grant} (the Editor role has it)",
        )

    def _not_grafana(self, where: str, got: str) -> GrafanaError:
        return GrafanaError(
            f"GRAFANA_URL ({self.settings.url}) answers but is not Grafana: {where} gave {got}",
            fix="set GRAFANA_URL to Grafana's root URL (its login page's address without /login)",
        )

    def shape(self, where: str, expected: str) -> GrafanaError:
        return GrafanaError(
            f"Grafana at {self.settings.url} answered {where} with something not {expected}",
            fix="check that GRAFANA_URL is Grafana 11, 12 or 13",
        )

    # ------------------------------------------------------------ endpoints

    def check(self) -> str:
        """Grafana's version from /api/health (no login needed): proves Grafana answers."""
        where = "GET /api/health"
        try:
            answer = self.request("GET", "/health", "read /api/health")
        except GrafanaClientError as error:
            raise self._not_grafana(where, f"HTTP {error.status_code}") from None
        if not (
            isinstance(answer, dict)
            and isinstance(answer.get("database"), str)
            and isinstance(answer.get("version"), str)
        ):
            raise self._not_grafana(where, "JSON without Grafana's database and version")
        self.version = _short(answer["version"])
        return self.version

    def folder(self, uid: str) -> dict | None:
        answer = self._get_or_none(f"/folders/{uid}", f"read folder {uid}")
        if answer is not None and not (isinstance(answer, dict) and answer.get("uid") == uid):
            raise self.shape(f"GET /api/folders/{uid}", f"folder {uid}")
        return answer

    def create_folder(self, uid: str, title: str) -> None:
        answer = self.request(
            "POST",
            "/folders",
            f"create folder {title}",
            "folders:create",
            json={"uid": uid, "title": title},
        )
        if not (isinstance(answer, dict) and answer.get("uid") == uid):
            raise self.shape("POST /api/folders", f"folder {uid}")

    def dashboard(self, uid: str) -> tuple[dict, dict] | None:
        """(model, meta) of the dashboard with `uid`, or None when Grafana has none."""
        answer = self._get_or_none(f"/dashboards/uid/{uid}", f"read dashboard {uid}")
        if answer is None:
            return None
        if not (
            isinstance(answer, dict)
            and isinstance(answer.get("dashboard"), dict)
            and isinstance(answer.get("meta", {}), dict)
            and answer["dashboard"].get("uid") == uid
            and isinstance(answer["dashboard"].get("panels", []), list)
            and isinstance(answer["dashboard"].get("version", 0), int)
        ):
            raise self.shape(f"GET /api/dashboards/uid/{uid}", f"dashboard {uid}")
        return answer["dashboard"], answer.get("meta", {})

    def versions(self, uid: str, limit: int = 100) -> list[dict]:
        """Saved versions, newest first. Grafana 11 answers a list, Grafana 12
        `{"continueToken", "versions"}`; only the first page is read."""
        where = f"GET /api/dashboards/uid/{uid}/versions"
        answer = self.request(
            "GET",
            f"/dashboards/uid/{uid}/versions",
            f"read the versions of dashboard {uid}",
            params={"limit": limit},
        )
        if isinstance(answer, dict) and isinstance(answer.get("versions"), list):
            answer = answer["versions"]
        if not isinstance(answer, list) or not all(
            isinstance(v, dict)
            and isinstance(v.get("version"), int)
            and isinstance(v.get("message") or "", str)
            for v in answer
        ):
            raise self.shape(where, "a list of dashboard versions")
        return sorted(answer, key=lambda v: v["version"], reverse=True)

    def save(
        self, model: dict, folder_uid: str, message: str, overwrite: bool, permission: str
    ) -> int:
        """POST /api/dashboards/db; the saved version. A 412 (changed meanwhile) is raised as
        GrafanaClientError for the caller."""
        uid = str(model.get("uid"))
        answer = self.request(
            "POST",
            "/dashboards/db",
            f"save dashboard {uid}",
            permission,
            json={
                "dashboard": model,
                "folderUid": folder_uid,
                "message": message,
                "overwrite": overwrite,
            },
        )
        if not (
            isinstance(answer, dict)
            and answer.get("uid") == uid
            and isinstance(answer.get("version"), int)
        ):
            raise self.shape("POST /api/dashboards/db", f"the saved dashboard {uid}")
        return answer["version"]

    def search_folder(self, folder_uid: str, limit: int = 1000) -> list[str]:
        """uids of the dashboards in a folder, sorted."""
        where = "GET /api/search"
        answer = self.request(
            "GET",
            "/search",
            f"search folder {folder_uid}",
            params={"type": "dash-db", "folderUIDs": folder_uid, "limit": limit},
        )
        if not isinstance(answer, list) or not all(
            isinstance(hit, dict) and isinstance(hit.get("uid"), str) for hit in answer
        ):
            raise self.shape(where, "a list of search results")
        uids = sorted({hit["uid"] for hit in answer if hit.get("type", "dash-db") == "dash-db"})
        bad = [uid for uid in uids if not UID.fullmatch(uid)]
        if bad:
            raise self.shape(where, f"dashboard uids (got {_short(bad[0])!r})")
        return uids

    def _get_or_none(self, path: str, what: str) -> object | None:
        try:
            return self.request("GET", path, what, "dashboards:read")
        except GrafanaClientError as error:
            if error.status_code == 404:
                return None
            if error.status_code == 406:
                raise GrafanaError(
                    f"Grafana at {self.settings.url} keeps a dashboard in a schema its legacy "
                    f"/api cannot serve: {what}: HTTP 406: {_short(error.response)}",
                    fix="let apply, pull and diff --live reach Grafana's /apis (Grafana 12 or "
                    "later serves it; a proxy in front may block it)",
                ) from None
            raise GrafanaError(
                f"Grafana at {self.settings.url} refused to {what}: "
                f"HTTP {error.status_code}: {_short(error.response)}",
                fix="check the Grafana server's log",
            ) from None


def _connection_failure(error: Exception) -> str:
    text = str(error).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service" in text or "resolve" in text or "getaddrinfo" in text:
        return "host name not found"
    return _short(error) or type(error).__name__


def connect(env: Mapping[str, str], sleep: Callable[[float], None] = time.sleep) -> Grafana:
    """A Grafana from the environment, checked to be Grafana and to answer."""
    grafana = Grafana(settings_from_env(env), sleep)
    grafana.check()
    return grafana
