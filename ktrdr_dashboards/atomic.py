"""Replacing files in folders that another program (Grafana's provisioning scan) may be reading
at the same moment: every file is written aside in its own folder, flushed to disk and renamed
over the old one, so a reader finds the old or the new file, never a missing or partial one;
files that are no longer wanted go last."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path, PurePosixPath

from ktrdr_dashboards.errors import DashboardError, Location

FILE_MODE = 0o644


def _cannot_write(out_dir: Path, relative: str, problem: str) -> DashboardError:
    return DashboardError(
        f"cannot write {relative}: {problem}; nothing was written",
        location=Location(file=str(out_dir)),
        fix="move the obstacle away and build again",
    )


def write_aside(folder: Path, final_name: str, data: bytes, mode: int = FILE_MODE) -> Path:
    """Write to a hidden temporary file in `folder` (same filesystem, so rename is atomic)."""
    handle, temp_name = tempfile.mkstemp(prefix=f".{final_name}.", suffix=".tmp", dir=folder)
    try:
        try:
            os.fchmod(handle, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(handle, view) :]
            os.fsync(handle)
        finally:
            os.close(handle)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return Path(temp_name)


def _sync_folder(folder: Path) -> None:
    """Make the renames in `folder` durable (a crash keeps them)."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


def _obstacles(out_dir: Path, relatives: Sequence[str]) -> Iterator[tuple[str, str]]:
    """(relative path, why it cannot be written under out_dir) for each that cannot: a folder
    on its way that is a link or a file, or a folder where the file goes. Each folder is
    looked at once (a build writes thousands of files into a few folders)."""
    folders: dict[str, str | None] = {}

    def folder_problem(folder: str) -> str | None:
        if folder not in folders:
            parent = os.path.dirname(folder)
            found = folder_problem(parent) if parent else None
            path = os.path.join(out_dir, folder)
            if found is None and (
                os.path.islink(path) or (os.path.exists(path) and not os.path.isdir(path))
            ):
                found = f"{path} is in the way (expected a folder)"
            folders[folder] = found
        return folders[folder]

    for relative in relatives:
        problem = folder_problem(os.path.dirname(relative))
        target = os.path.join(out_dir, relative)
        if problem is None and os.path.isdir(target) and not os.path.islink(target):
            problem = f"{target} is a folder (expected a file)"
        if problem:
            yield relative, problem


# Files written aside at once: their fsyncs then share the file system's journal commits
# (a thousand one by one take seconds on a busy disk, together a fraction of one).
WRITERS = 64


class Staging:
    """Files written aside into out_dir's `managed` folders as they come (a build's workers
    hand them back one chunk after another), each flushed to disk by a pool of writers, so
    that publishing them is only renames: `commit` makes the folders hold exactly the files
    given; `discard` leaves out_dir as it was. Each batch is checked before any of its files
    is touched; a file already there with the same bytes is left alone."""

    def __init__(self, out_dir: Path, managed: Sequence[str]) -> None:
        self.out_dir = out_dir
        self.managed = tuple(managed)
        self._created: list[Path] = []  # folders made here, outermost first
        self._folders: set[Path] = set()  # folders known to be there
        self._staged: dict[str, Future[Path]] = {}  # relative path -> its file written aside
        self._unchanged: set[str] = set()
        self._writers = ThreadPoolExecutor(max_workers=WRITERS)

    def _make_folder(self, folder: Path) -> None:
        if folder in self._folders:
            return
        missing = [f for f in (folder, *folder.parents) if not f.exists()]
        for made in reversed(missing):
            made.mkdir(exist_ok=True)
            self._created.append(made)
        self._folders.add(folder)

    def add(self, files: Mapping[str, bytes]) -> None:
        """Check `files` (relative path -> content) and start writing them aside."""
        for relative in sorted(files):
            parts = PurePosixPath(relative).parts
            if len(parts) < 2 or parts[0] not in self.managed or ".." in parts:
                raise _cannot_write(
                    self.out_dir, relative, "is outside the folders this command writes"
                )
            if relative in self._staged or relative in self._unchanged:
                raise _cannot_write(self.out_dir, relative, "is given twice")
        for relative, problem in _obstacles(self.out_dir, sorted(files)):
            raise _cannot_write(self.out_dir, relative, problem)
        for relative, data in sorted(files.items()):
            target = self.out_dir / relative
            if target.is_file() and not target.is_symlink() and target.read_bytes() == data:
                self._unchanged.add(relative)
                continue
            self._make_folder(target.parent)
            self._staged[relative] = self._writers.submit(
                write_aside, target.parent, target.name, data
            )

    def discard(self) -> None:
        """Remove what was written aside and the folders made for it."""
        self._writers.shutdown(wait=True)
        for future in self._staged.values():
            if future.exception() is None:
                future.result().unlink(missing_ok=True)
        for folder in reversed(self._created):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        self._staged.clear()

    def commit(self, files: Mapping[str, bytes]) -> None:
        """Make the managed folders hold exactly `files`: those not added yet are added, the
        staged ones renamed in (in order of path), then files no longer wanted removed and
        emptied folders pruned."""
        try:
            done = self._staged.keys() | self._unchanged
            self.add({k: v for k, v in files.items() if k not in done})
            self._writers.shutdown(wait=True)
            temps = {relative: future.result() for relative, future in self._staged.items()}
        except BaseException:
            self.discard()
            raise
        out_dir = self.out_dir
        touched: set[Path] = set()
        for relative, temp in sorted(temps.items()):
            target = out_dir / relative
            os.replace(temp, target)
            touched.add(target.parent)
        wanted = {out_dir / relative for relative in files}
        for name in self.managed:
            top = out_dir / name
            if not top.is_dir() or top.is_symlink():
                continue
            for folder, dirs, names in os.walk(top, topdown=False):
                for file_name in names:
                    path = Path(folder) / file_name
                    if path not in wanted:
                        path.unlink()
                        touched.add(Path(folder))
                for dir_name in dirs:
                    path = Path(folder) / dir_name
                    if path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
                        path.rmdir()
            if not any(top.iterdir()):
                top.rmdir()
        for folder in sorted(touched):
            if folder.is_dir():
                _sync_folder(folder)


def sync_folders(out_dir: Path, files: Mapping[str, bytes], managed: Sequence[str]) -> None:
    """Make the `managed` top-level folders of out_dir hold exactly `files` (relative path ->
    content): new and changed files written aside, each flushed to disk, then renamed in one
    by one, unchanged ones left alone; then files no longer wanted removed and emptied
    folders pruned. Everything that could stop the writing is checked before the first file
    is touched, and a file that cannot be written aside stops it before any rename."""
    Staging(out_dir, managed).commit(files)
