"""Changing the files of an installed release so that the root always ends holding exactly one
release, whatever happens: one command at a time (a lock in the state folder), and a journal
in the state folder written before the first file changes, so that a command killed at any
moment is rolled back (while files were being replaced) or completed (once they all were) by
the next command that takes the lock.

A change is: backups of every file it touches, the new kept copy of the release, and a list
of renames inside the state folder (current/previous) that finish it. Files are replaced one
by one by atomic renames, so a reader (Grafana) never sees a file missing or half-written."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ktrdr_dashboards.compile.dashboards import render_json
from ktrdr_dashboards.errors import DashboardError, Location
from ktrdr_dashboards.release import package

LOCK_NAME = ".lock"
JOURNAL = "journal"  # a committed change: journal.json, backup/, new/
DRAFT = ".journal-draft"  # a change being prepared: nothing under the root is touched yet
DONE = ".journal-done"  # a finished change being deleted
RETIRED = ".retired"  # the release pushed out of `previous`, deleted at the end
SWAP = ".swap"  # where `current` waits while a rollback swaps current and previous


def read_state(path: Path, what: str, fix: str) -> dict:
    """A JSON file of the state folder; a damaged one is one line saying how to recover."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise DashboardError(
            f"{what} is not valid JSON ({error})", location=Location(file=str(path)), fix=fix
        ) from None


@contextmanager
def locked(state: Path, on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the state folder's lock; a second command waits for the first (`on_wait` is told
    once). A lock file this call created on a root holding no release is removed again, with
    the folders made for it, so a failed first install leaves the root as it was."""
    created = [p for p in [state, *state.parents] if not p.exists()]
    for folder in reversed(created):
        folder.mkdir(mode=package.DIR_MODE, exist_ok=True)
    lock = state / LOCK_NAME
    handle = _acquire(lock, on_wait)
    try:
        yield
    finally:
        if {p.name for p in state.iterdir()} <= {LOCK_NAME}:
            # Unlinking a lock file is safe: a waiter re-checks that the file it locked is
            # still the one at the path (see _acquire).
            lock.unlink(missing_ok=True)
            for folder in created:
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
        os.close(handle)


def _acquire(lock: Path, on_wait: Callable[[str], None] | None) -> int:
    told = False
    while True:
        # The folder may have gone with a failed first install that held the lock before us.
        lock.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(lock, os.O_RDWR | os.O_CREAT, package.FILE_MODE)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                os.close(handle)
                raise
            if on_wait and not told:
                on_wait(f"waiting for another install or rollback to finish ({lock} is locked)")
                told = True
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            same = os.stat(lock).st_ino == os.fstat(handle).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return handle
        os.close(handle)


@dataclass(frozen=True)
class Change:
    """What one command does under a root."""

    action: str  # what the user ran: "install 0.2.0", "rollback to 0.1.0", "repair 0.1.0"
    write: Mapping[str, bytes]  # relative to the root
    remove: frozenset[str]  # relative to the root
    keep: tuple[dict, Mapping[str, bytes]] | None  # (manifest, files) to keep as `current`
    renames: tuple[tuple[str, str], ...]  # inside the state folder, done after every file


def install_renames() -> tuple[tuple[str, str], ...]:
    return (("previous", RETIRED), ("current", "previous"), (f"{JOURNAL}/new", "current"))


def swap_renames() -> tuple[tuple[str, str], ...]:
    return (("current", SWAP), ("previous", "current"), (SWAP, "previous"))


def _write_file(path: Path, data: bytes, mode: int = package.FILE_MODE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = package.write_aside(path.parent, path.name, data)
    os.chmod(temp, mode)
    os.replace(temp, path)


def _write_record(journal: Path, record: dict) -> None:
    _write_file(journal / "journal.json", render_json(record).encode("utf-8"))


def _missing_dirs(root: Path, paths: set[str]) -> list[str]:
    missing: set[str] = set()
    for relative in paths:
        for parent in (root / relative).parents:
            if parent == root or root not in parent.parents:
                break
            if not parent.exists():
                missing.add(parent.relative_to(root).as_posix())
    return sorted(missing, key=lambda p: (p.count("/"), p))


def apply(root: Path, state: Path, change: Change) -> None:
    """Carry out `change` under the lock. On an error while files are replaced everything is
    put back; killed at any point, the next `recover` rolls it back or completes it."""
    draft = state / DRAFT
    shutil.rmtree(draft, ignore_errors=True)
    targets = sorted(set(change.write) | set(change.remove))
    entries = []
    try:
        for relative in targets:
            target = root / relative
            existed = target.is_file()
            mode = target.stat().st_mode & 0o777 if existed else package.FILE_MODE
            if existed:
                _write_file(draft / "backup" / relative, target.read_bytes())
            entries.append({"path": relative, "existed": existed, "mode": mode})
        if change.keep is not None:
            manifest, files = change.keep
            _write_file(draft / "new" / package.MANIFEST_NAME, render_json(manifest).encode())
            for relative, data in files.items():
                _write_file(draft / "new" / relative, data)
        record = {
            "action": change.action,
            "phase": "files",
            "targets": entries,
            "created_dirs": _missing_dirs(root, set(targets)),
            "renames": [list(pair) for pair in change.renames],
            "done": 0,
        }
        _write_record(draft, record)
        os.replace(draft, state / JOURNAL)
    except BaseException:
        shutil.rmtree(draft, ignore_errors=True)
        raise
    journal = state / JOURNAL
    try:
        for relative in record["created_dirs"]:
            (root / relative).mkdir(mode=package.DIR_MODE, exist_ok=True)
        staged = {
            relative: package.write_aside((root / relative).parent, Path(relative).name, data)
            for relative, data in sorted(change.write.items())
        }
        for relative, temp in staged.items():
            os.replace(temp, root / relative)
        for relative in sorted(change.remove - set(change.write)):
            (root / relative).unlink(missing_ok=True)
        record["phase"] = "state"
        _write_record(journal, record)
    except BaseException:
        _roll_back(root, state, record)
        raise
    _roll_forward(state, record)


def recover(root: Path, state: Path) -> str | None:
    """Finish what a killed command left: roll back a change whose files were not all
    replaced, complete one whose files were. Returns what was done, None when nothing was
    pending."""
    shutil.rmtree(state / DRAFT, ignore_errors=True)
    journal = state / JOURNAL
    record_file = journal / "journal.json"
    if not record_file.is_file():
        shutil.rmtree(journal, ignore_errors=True)
        shutil.rmtree(state / DONE, ignore_errors=True)
        shutil.rmtree(state / RETIRED, ignore_errors=True)
        return None
    record = read_state(
        record_file,
        "install journal",
        "reinstall a release tarball by hand after checking the files under the root",
    )
    if record["phase"] == "files":
        _roll_back(root, state, record)
        return f"rolled back an interrupted {record['action']}"
    _roll_forward(state, record)
    return f"completed an interrupted {record['action']}"


def _roll_back(root: Path, state: Path, record: dict) -> None:
    journal = state / JOURNAL
    for entry in record["targets"]:
        target = root / entry["path"]
        backup = journal / "backup" / entry["path"]
        if entry["existed"]:
            if not (target.is_file() and target.read_bytes() == backup.read_bytes()):
                _write_file(target, backup.read_bytes(), entry["mode"])
        else:
            target.unlink(missing_ok=True)
        if target.parent.is_dir():
            for temp in target.parent.glob(f".{target.name}.*.tmp"):
                temp.unlink(missing_ok=True)
    for relative in reversed(record["created_dirs"]):
        folder = root / relative
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    _discard(state)


def _roll_forward(state: Path, record: dict) -> None:
    journal = state / JOURNAL
    renames = record["renames"]
    for index in range(record["done"], len(renames)):
        source, destination = (state / name for name in renames[index])
        if source.exists():
            os.replace(source, destination)
        record["done"] = index + 1
        _write_record(journal, record)
    shutil.rmtree(state / RETIRED, ignore_errors=True)
    _discard(state)


def _discard(state: Path) -> None:
    done = state / DONE
    shutil.rmtree(done, ignore_errors=True)
    os.replace(state / JOURNAL, done)
    shutil.rmtree(done, ignore_errors=True)
