"""Live preview (`preview --serve`): the preview pages served on 127.0.0.1, rebuilt when a file
under jsonnet/ or lib/ changes, and reloaded in the open browser. A failed rebuild keeps the
last good pages and shows the error line the CLI would print on top of them. One Prometheus
serves every rebuild and is stopped when the server stops (Ctrl-C)."""

from __future__ import annotations

import functools
import json
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ktrdr_dashboards import build, modes
from ktrdr_dashboards.errors import DashboardError
from ktrdr_dashboards.preview import data as preview_data
from ktrdr_dashboards.preview import run as preview

WATCHED = ("jsonnet", "lib")
POLL_S = 0.3  # how often the sources are looked at
HOST = "127.0.0.1"


@dataclass
class LiveState:
    """What /__live answers: the number of good builds so far and the last build's error."""

    version: int = 0
    error: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def as_json(self) -> bytes:
        with self.lock:
            return json.dumps({"version": self.version, "error": self.error}).encode()


def error_line(error: DashboardError) -> str:
    """The line `cli.main` prints for the error."""
    from ktrdr_dashboards.validate import ValidationError

    if isinstance(error, ValidationError):
        return str(error)
    return f"error: {error}"


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    """path -> (mtime, size) of every file under the watched folders."""
    found = {}
    for folder in WATCHED:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                stat = path.stat()
                found[str(path)] = (stat.st_mtime_ns, stat.st_size)
    return found


def _handler(out_dir: Path, state: LiveState) -> type[SimpleHTTPRequestHandler]:
    class Handler(SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, directory=str(out_dir), **kwargs)

        def do_GET(self) -> None:
            if self.path.split("?")[0] != "/__live":
                super().do_GET()
                return
            body = state.as_json()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def end_headers(self) -> None:
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # a request per half second per open page: not worth a line each

    return Handler


def _rebuild(build_pages: Callable[[], object], state: LiveState, say: Callable[[str], None]):
    try:
        build_pages()
    except DashboardError as error:
        line = error_line(error)
        with state.lock:
            state.error = line
        say(line)
        return
    with state.lock:
        state.version += 1
        state.error = None
    say(f"rebuilt (version {state.version})")


def changes(root: Path, stop: threading.Event) -> Iterator[None]:
    """Yields once per change under the watched folders, until `stop` is set."""
    last = snapshot(root)
    while not stop.wait(POLL_S):
        now = snapshot(root)
        if now != last:
            last = now
            yield None


def _recording_rules(project: build.Project) -> str | None:
    """The recording rules the dashboards read, so their series are backfilled once; none
    while the sources do not build (the page then shows the build error)."""
    try:
        return modes.mode_of(build.evaluate(project)).recording_rules
    except DashboardError:
        return None


def serve(
    project: build.Project,
    out_dir: Path,
    port: int = 0,
    say: Callable[[str], None] = print,
    stop: threading.Event | None = None,
) -> None:
    """Serve until Ctrl-C (or `stop` is set); `say` gets the URL and each rebuild's outcome."""
    stop = stop or threading.Event()
    state = LiveState()
    if threading.current_thread() is threading.main_thread():
        # A service manager's SIGTERM stops the server like Ctrl-C: Prometheus goes with it.
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    with preview_data.serving(recording_rules=_recording_rules(project)) as prometheus:
        source = functools.partial(preview_data.query, prometheus)
        build_pages = functools.partial(
            preview.preview, project, out_dir, False, data_source=source, live=True
        )
        out_dir.mkdir(parents=True, exist_ok=True)
        _rebuild(build_pages, state, say)
        server = ThreadingHTTPServer((HOST, port), _handler(out_dir, state))
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        say(f"serving http://{HOST}:{server.server_address[1]}/index.html (Ctrl-C stops)")
        try:
            for _ in changes(project.root, stop):
                time.sleep(POLL_S)  # let an editor finish writing the file
                _rebuild(build_pages, state, say)
        except KeyboardInterrupt:
            say("stopping")
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
