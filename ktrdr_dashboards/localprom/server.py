"""A Prometheus on a free 127.0.0.1 port over a data dir (filled by `backfill`), queried over
its HTTP API, always stopped by its pid."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ktrdr_dashboards import tools
from ktrdr_dashboards.errors import DashboardError
from ktrdr_dashboards.validate import catalog

# No scrape targets: the server only serves what was backfilled.
EVERY = f"{catalog.scrape_interval_seconds()}s"
CONFIG = f"global:\n  scrape_interval: {EVERY}\n  evaluation_interval: {EVERY}\n"
READY_TIMEOUT_S = 120.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Server:
    url: str
    pid: int

    def get(self, path: str, params: Mapping[str, str | list[str]]) -> dict:
        query = urllib.parse.urlencode(params, doseq=True)
        # GET, as the label values endpoint of Prometheus 2.42 takes no POST.
        request = urllib.request.Request(f"{self.url}{path}?{query}")
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                body = json.load(response)
        except urllib.error.HTTPError as error:
            body = json.load(error)
        if body.get("status") != "success":
            raise DashboardError(f"Prometheus {path}: {body.get('error', body)}")
        return body["data"]


def _wait_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:]
            raise DashboardError(f"prometheus exited at start: {' '.join(tail)}")
        with (
            contextlib.suppress(OSError),
            urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response,
        ):
            if response.status == 200:
                return
        time.sleep(0.2)
    raise DashboardError(f"prometheus not ready after {READY_TIMEOUT_S:.0f} s (log: {log})")


@contextlib.contextmanager
def running(data_dir: Path, work_dir: Path, config_text: str = CONFIG) -> Iterator[Server]:
    """Start prometheus on a free 127.0.0.1 port over data_dir (with `config_text` as its
    prometheus.yml, rule files relative to work_dir); always stop it by pid."""
    config = work_dir / "prometheus.yml"
    config.write_text(config_text, encoding="utf-8")
    port = free_port()
    log = work_dir / "prometheus.log"
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [
                tools.require("prometheus"),
                f"--config.file={config}",
                f"--storage.tsdb.path={data_dir}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--storage.tsdb.retention.time=30d",
                "--log.level=warn",
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_ready(url, process, log)
        yield Server(url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
