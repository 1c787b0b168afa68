"""The live preview (`preview --serve`) as a user runs it: pages served on 127.0.0.1, a source
change rebuilds them (what the page shows, seen.json, changes), a broken source shows the CLI's
error line while the last good pages stay, and Ctrl-C stops it leaving no Prometheus behind."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
WAIT_S = 300  # a safety limit on a stuck server, not a speed check


def _lines(process: subprocess.Popen) -> queue.Queue:
    lines: queue.Queue = queue.Queue()

    def read() -> None:
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    return lines


def _wait_for(lines: queue.Queue, prefix: str) -> str:
    while True:
        line = lines.get(timeout=WAIT_S)
        if line.startswith(prefix):
            return line


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def _prometheus_children(parent: int) -> set[int]:
    """Pids of the running `prometheus` processes whose parent is `parent`."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            name = (stat.parent / "comm").read_text().strip()
        except OSError:
            continue
        if name == "prometheus" and int(fields[1]) == parent and fields[0] != "Z":
            found.add(int(stat.parent.name))
    return found


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_serve_rebuilds_on_change_shows_errors_and_stops_cleanly(project_copy: Path, tmp_path):
    (project_copy / "preview").symlink_to(REPO_ROOT / "preview")  # the installed npm packages
    out = tmp_path / "out"
    command = [sys.executable, "-m", "ktrdr_dashboards", "preview", "--serve", "--port", "0",
               "--root", str(project_copy), "--out", str(out)]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    prometheus: set[int] = set()
    try:
        lines = _lines(process)
        first = _wait_for(lines, "")
        assert first == "rebuilt (version 1)", first
        url = _wait_for(lines, "serving ").split()[1].removesuffix("index.html")
        assert url.startswith("http://127.0.0.1:")
        prometheus = _prometheus_children(process.pid)
        assert prometheus, "no Prometheus serves the live preview"
        page = _get(url + "operations.html").decode()
        assert "/__live" in page  # the page reloads itself

        def titles() -> list[str]:
            seen = json.loads(_get(url + "operations.seen.json"))
            return [panel["title"] for panel in seen["panels"]]

        assert "Operations by Type" in titles()
        source = project_copy / "jsonnet" / "operations.jsonnet"
        text = source.read_text()
        source.write_text(text.replace("'Operations by Type'", "'Operations by Kind'"))
        assert _wait_for(lines, "rebuilt ") == "rebuilt (version 2)"
        assert "Operations by Kind" in titles() and "Operations by Type" not in titles()
        assert json.loads(_get(url + "__live")) == {"version": 2, "error": None}

        good = _get(url + "operations.seen.json")
        source.write_text(text + "\nlocal broken = ;\n")
        error = _wait_for(lines, "error: ")
        assert "jsonnet/operations.jsonnet" in error
        assert json.loads(_get(url + "__live")) == {"version": 2, "error": error}
        assert _get(url + "operations.seen.json") == good  # the last good render stays
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=WAIT_S)
    assert code == 0
    assert [pid for pid in prometheus if _running(pid)] == []
