"""A read-only client of Prometheus' HTTP API: GET only, a timeout on every request, and
credentials taken from the environment (never from arguments, never printed)."""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ktrdr_dashboards.errors import DashboardError

TOKEN_ENV = "PROMETHEUS_TOKEN"
USER_ENV, PASSWORD_ENV = "PROMETHEUS_USER", "PROMETHEUS_PASSWORD"
DEFAULT_TIMEOUT_S = 10.0
MAX_RESPONSE_BYTES = 64 * 1024 * 1024  # a /series or /rules answer of a large Prometheus


class PrometheusError(DashboardError):
    """Prometheus cannot be reached or refuses a request."""


def auth_header(environ: Mapping[str, str]) -> dict[str, str]:
    """Authorization from PROMETHEUS_TOKEN (bearer) or PROMETHEUS_USER + PROMETHEUS_PASSWORD."""
    if environ.get(TOKEN_ENV):
        return {"Authorization": f"Bearer {environ[TOKEN_ENV]}"}
    if environ.get(USER_ENV):
        pair = f"{environ[USER_ENV]}:{environ.get(PASSWORD_ENV, '')}".encode()
        return {"Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}
    return {}


@dataclass(frozen=True)
class Prometheus:
    url: str
    timeout_s: float = DEFAULT_TIMEOUT_S
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)

    @staticmethod
    def connect(url: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> Prometheus:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PrometheusError(
                f"--prometheus {url!r} is not an http(s) URL", fix="e.g. http://prometheus:9090"
            )
        if parts.username or parts.password:
            raise PrometheusError(
                "--prometheus carries credentials",
                fix=f"put them in {USER_ENV}/{PASSWORD_ENV} or {TOKEN_ENV} instead",
            )
        return Prometheus(url.rstrip("/"), timeout_s, auth_header(os.environ))

    def get(self, path: str, params: Mapping[str, str | list[str]] | None = None) -> Any:
        """The `data` of a successful API answer."""
        query = urllib.parse.urlencode(params or {}, doseq=True)
        request = urllib.request.Request(
            f"{self.url}{path}" + (f"?{query}" if query else ""), headers=dict(self.headers)
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                body = json.loads(response.read(MAX_RESPONSE_BYTES))
        except urllib.error.HTTPError as error:
            if error.code in (401, 403):
                raise PrometheusError(
                    f"Prometheus {self.url} refused {path} (HTTP {error.code})",
                    fix=f"set {TOKEN_ENV} or {USER_ENV}/{PASSWORD_ENV}",
                ) from None
            try:
                body = json.loads(error.read(MAX_RESPONSE_BYTES))
            except ValueError:
                raise PrometheusError(f"Prometheus {self.url}{path}: HTTP {error.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise PrometheusError(
                f"cannot reach Prometheus at {self.url}: {reason}",
                fix="check the URL and that it answers /api/v1/query (--timeout to wait longer)",
            ) from None
        except ValueError:
            raise PrometheusError(
                f"{self.url}{path} did not answer JSON: not Prometheus?"
            ) from None
        if not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error") if isinstance(body, dict) else body
            raise PrometheusError(f"Prometheus {path}: {error}")
        return body.get("data")
