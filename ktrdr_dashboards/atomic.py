"""Replacing files in folders that another program (Grafana's provisioning scan) may be reading
at the same moment: every file is written aside in its own folder, flushed to disk and renamed
over the old one, so a reader finds the old or the new file, never a missing or partial one;
files that are no longer wanted go last."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath

from ktrdr_dashboards.errors import DashboardError, Location

FILE_MODE = 0o644


def write_aside(folder: Path, final_name: str, data: bytes, mode: int = FILE_MODE) -> Path:
    """Write to a hidden temporary file in `folder` (same filesystem, so rename is atomic)."""
    handle, temp_name = tempfile.mkstemp(prefix=f".{final_name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
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


def _obstacle(out_dir: Path, relative: str) -> str | None:
    """Why `relative` cannot be written under out_dir, if it cannot."""
    target = out_dir / relative
    for parent in reversed(target.relative_to(out_dir).parents):
        folder = out_dir / parent
        if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
            return f"{folder} is in the way (expected a folder)"
    if target.is_dir() and not target.is_symlink():
        return f"{target} is a folder (expected a file)"
    return None


def sync_folders(out_dir: Path, files: Mapping[str, bytes], managed: Sequence[str]) -> None:
    """Make the `managed` top-level folders of out_dir hold exactly `files` (relative path ->
    content): new and changed files renamed in one by one, unchanged ones left alone, then
    files no longer wanted removed and emptied folders pruned. Everything that could stop the
    writing is checked before the first file is touched."""
    for relative in sorted(files):
        parts = PurePosixPath(relative).parts
        problem = (
            "is outside the folders this command writes"
            if len(parts) < 2 or parts[0] not in managed or ".." in parts
            else _obstacle(out_dir, relative)
        )
        if problem:
            raise DashboardError(
                f"cannot write {relative}: {problem}; nothing was written",
                location=Location(file=str(out_dir)),
                fix="move the obstacle away and build again",
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    touched: set[Path] = set()
    for relative, data in sorted(files.items()):
        target = out_dir / relative
        if target.is_file() and not target.is_symlink() and target.read_bytes() == data:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(write_aside(target.parent, target.name, data), target)
        touched.add(target.parent)
    wanted = {out_dir / relative for relative in files}
    for name in managed:
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
