"""Replacing files in folders that another program (Grafana's provisioning scan) may be reading
at the same moment: every file is written aside in its own folder, flushed to disk and renamed
over the old one, so a reader finds the old or the new file, never a missing or partial one;
files that are no longer wanted go last."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
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
            view = memoryview(data)
            while view:
                view = view[os.write(handle, view) :]
            os.fsync(handle)
        finally:
            os.close(handle)
        os.chmod(temp_name, mode)
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


def _in_the_way(out_dir: Path, folders: Iterable[str]) -> dict[str, str]:
    """folder (relative to out_dir) -> why files cannot be written in it: a folder on its way
    that is a link or a file. Each folder is looked at once."""
    seen: dict[str, str | None] = {}

    def problem(folder: str) -> str | None:
        if folder not in seen:
            parent = os.path.dirname(folder)
            found = problem(parent) if parent else None
            path = os.path.join(out_dir, folder)
            if found is None and (
                os.path.islink(path) or (os.path.exists(path) and not os.path.isdir(path))
            ):
                found = f"{path} is in the way (expected a folder)"
            seen[folder] = found
        return seen[folder]

    return {folder: found for folder in folders if (found := problem(folder))}


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
        self._entries: dict[str, dict[str, os.DirEntry]] = {}  # folder -> what was there
        self._made: set[str] = set()  # folders known to be there
        # relative path -> the writer's task and the file's place in it
        self._staged: dict[str, tuple[Future[list[Path]], int]] = {}
        self._unchanged: set[str] = set()
        self._writers = ThreadPoolExecutor(max_workers=WRITERS)

    def _listing(self, relative: str) -> dict[str, os.DirEntry]:
        """What the folder out_dir/relative held when first looked at (nothing if missing)."""
        if relative not in self._entries:
            try:
                with os.scandir(self.out_dir / relative) as entries:
                    self._entries[relative] = {entry.name: entry for entry in entries}
            except (FileNotFoundError, NotADirectoryError):
                self._entries[relative] = {}
        return self._entries[relative]

    def _make_folder(self, relative: str) -> None:
        if relative in self._made:
            return
        folder = self.out_dir / relative
        missing = [f for f in (folder, *folder.parents) if not f.exists()]
        for made in reversed(missing):
            made.mkdir(exist_ok=True)
            self._created.append(made)
        self._made.add(relative)

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
        in_the_way = _in_the_way(self.out_dir, {os.path.dirname(r) for r in files})
        for relative in sorted(files):
            folder, name = os.path.split(relative)
            if folder in in_the_way:
                raise _cannot_write(self.out_dir, relative, in_the_way[folder])
            entry = self._listing(folder).get(name)
            if entry is not None and entry.is_dir(follow_symlinks=False):
                raise _cannot_write(
                    self.out_dir, relative, f"{entry.path} is a folder (expected a file)"
                )
        batch: list[tuple[str, Path, str, bytes]] = []
        for relative, data in sorted(files.items()):
            folder, name = os.path.split(relative)
            entry = self._listing(folder).get(name)
            unchanged = entry is not None and entry.is_file(follow_symlinks=False)
            if unchanged and Path(entry.path).read_bytes() == data:  # type: ignore[union-attr]
                self._unchanged.add(relative)
                continue
            self._make_folder(folder)
            batch.append((relative, self.out_dir / folder, name, data))
        for start in range(0, len(batch), _BATCH):
            files_of_task = batch[start : start + _BATCH]
            task = self._writers.submit(
                lambda items: [write_aside(f, n, d) for _, f, n, d in items], files_of_task
            )
            for place, (relative, *_) in enumerate(files_of_task):
                self._staged[relative] = (task, place)

    def discard(self) -> None:
        """Remove what was written aside and the folders made for it."""
        self._writers.shutdown(wait=True)
        for task in {task for task, _ in self._staged.values()}:
            if task.exception() is None:
                for temp in task.result():
                    temp.unlink(missing_ok=True)
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
            temps = {
                relative: task.result()[place] for relative, (task, place) in self._staged.items()
            }
        except BaseException:
            self.discard()
            raise
        out_dir = self.out_dir
        touched: set[str] = set()
        for relative, temp in sorted(temps.items()):
            os.replace(temp, os.path.join(out_dir, relative))
            touched.add(os.path.dirname(relative))
        wanted = set(files)
        for name in self.managed:
            top = out_dir / name
            if not top.is_dir() or top.is_symlink():
                continue
            for folder, dirs, names in os.walk(top, topdown=False):
                relative_folder = os.path.relpath(folder, out_dir)
                for file_name in names:
                    relative = f"{relative_folder}/{file_name}"
                    if relative not in wanted:
                        os.unlink(os.path.join(folder, file_name))
                        touched.add(relative_folder)
                for dir_name in dirs:
                    path = Path(folder) / dir_name
                    if path.is_dir() and not path.is_symlink() and not any(path.iterdir()):
                        path.rmdir()
            if not any(top.iterdir()):
                top.rmdir()
        for folder in sorted(touched):
            if (out_dir / folder).is_dir():
                _sync_folder(out_dir / folder)


# Files a writer takes at once: fewer tasks to hand out, still many fsyncs under way together.
_BATCH = 8


def sync_folders(out_dir: Path, files: Mapping[str, bytes], managed: Sequence[str]) -> None:
    """Make the `managed` top-level folders of out_dir hold exactly `files` (relative path ->
    content): new and changed files written aside, each flushed to disk, then renamed in one
    by one, unchanged ones left alone; then files no longer wanted removed and emptied
    folders pruned. Everything that could stop the writing is checked before the first file
    is touched, and a file that cannot be written aside stops it before any rename."""
    Staging(out_dir, managed).commit(files)
