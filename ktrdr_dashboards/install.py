"""`install` and `install --rollback`: put a verified release into Grafana's paths under a root
(`/` of a host or an image's root folder), keeping the previous release to roll back to.

State lives in <root>/var/lib/ktrdr-dashboards/: `current/` and `previous/` each hold a release's
MANIFEST.json and its installed files, so a rollback needs no tarball and knows which files each
version owns (a file only the newer version had is removed on rollback)."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ktrdr_dashboards import package
from ktrdr_dashboards.compile import render_json
from ktrdr_dashboards.errors import DashboardError, Location
from ktrdr_dashboards.release import verify

STATE_DIR = "var/lib/ktrdr-dashboards"


@dataclass(frozen=True)
class Snapshot:
    """One installed release as kept in the state folder."""

    manifest: dict
    files: dict[str, bytes]  # installed files, relative to the root

    @property
    def version(self) -> str:
        return str(self.manifest.get("version", "unknown"))


@dataclass(frozen=True)
class InstallResult:
    version: str
    replaced: str | None  # the version installed before, if any
    files: list[str]  # installed paths relative to the root
    outcome: str  # "installed", "unchanged", "repaired" or "rolled back"


def state_dir(root: Path) -> Path:
    return root / STATE_DIR


def _installable(manifest: Mapping, files: Mapping[str, bytes]) -> dict[str, bytes]:
    return {path: files[path] for path in sorted(owned_paths(manifest))}


def kept_manifest(folder: Path) -> dict | None:
    """The manifest of the release kept in `folder`, if one is kept there."""
    manifest_path = folder / package.MANIFEST_NAME
    if not manifest_path.is_file():
        return None
    try:
        return json.loads(manifest_path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise DashboardError(
            f"not valid JSON ({error})",
            location=Location(file=str(manifest_path)),
            fix="reinstall a release tarball with `install TARBALL --root DIR`",
        ) from None


def owned_paths(manifest: Mapping) -> set[str]:
    """Files a release installs (and so owns) under the root."""
    listed = {entry["path"] for entry in manifest.get("files", [])}
    return listed - package.METADATA_NAMES


def read_snapshot(folder: Path) -> Snapshot | None:
    """The release kept in `folder`, with every file checked against its manifest."""
    manifest = kept_manifest(folder)
    if manifest is None:
        return None
    checksums = {entry["path"]: entry.get("sha256") for entry in manifest.get("files", [])}
    files: dict[str, bytes] = {}
    for path in sorted(owned_paths(manifest)):
        kept = folder / path
        data = kept.read_bytes() if kept.is_file() else b""
        if not kept.is_file() or package.sha256_hex(data) != checksums[path]:
            raise DashboardError(
                "kept copy is missing or changed; cannot restore from it",
                location=Location(file=str(kept)),
                fix="reinstall a release tarball with `install TARBALL --root DIR`",
            )
        files[path] = data
    return Snapshot(manifest, files)


# ---------------------------------------------------------------- applying files under a root


@dataclass
class _Change:
    target: Path
    previous: bytes | None  # content before, None when the file did not exist
    previous_mode: int


class _Transaction:
    """Replace and remove files under a root so that either all changes land or none: new
    content is written aside in each target's own folder (same filesystem, so the rename is
    atomic even when /var/lib/grafana is a separate volume), old content is remembered until
    the end, and `undo` puts everything back, folders created on the way included."""

    def __init__(self, root: Path):
        self.root = root
        self.created_dirs: list[Path] = []
        self.scratch_dirs: list[Path] = []  # removed whole on undo
        self.staged: dict[Path, Path] = {}  # target -> temp file beside it
        self.done: list[_Change] = []

    def make_dirs(self, folder: Path) -> None:
        missing = [p for p in [folder, *folder.parents] if not p.exists()]
        for path in reversed(missing):
            path.mkdir(mode=package.DIR_MODE)
            self.created_dirs.append(path)

    def scratch_dir(self, parent: Path) -> Path:
        self.make_dirs(parent)
        folder = Path(tempfile.mkdtemp(prefix=".staging-", dir=parent))
        self.scratch_dirs.append(folder)
        return folder

    def stage(self, files: Mapping[str, bytes]) -> None:
        for relative, data in sorted(files.items()):
            target = self.root / relative
            self.make_dirs(target.parent)
            self.staged[target] = package.write_aside(target.parent, target.name, data)

    def _remember(self, target: Path) -> None:
        exists = target.is_file()
        previous = target.read_bytes() if exists else None
        mode = target.stat().st_mode & 0o777 if exists else package.FILE_MODE
        self.done.append(_Change(target, previous, mode))

    def commit(self, remove: set[str]) -> None:
        for target, temp in self.staged.items():
            self._remember(target)
            os.replace(temp, target)
        self.staged = {}
        for relative in sorted(remove):
            target = self.root / relative
            if target.is_file():
                self._remember(target)
                target.unlink()

    def undo(self) -> None:
        for change in reversed(self.done):
            if change.previous is None:
                change.target.unlink(missing_ok=True)
            else:
                temp = package.write_aside(
                    change.target.parent, change.target.name, change.previous
                )
                os.chmod(temp, change.previous_mode)
                os.replace(temp, change.target)
        for temp in self.staged.values():
            temp.unlink(missing_ok=True)
        for folder in self.scratch_dirs:
            shutil.rmtree(folder, ignore_errors=True)
        for folder in reversed(self.created_dirs):
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()


def _run(transaction: _Transaction, steps: Callable[[], None], action: str) -> None:
    """Run `steps`; on any failure undo the transaction, and report an OS error as one line."""
    try:
        steps()
    except OSError as error:
        transaction.undo()
        raise DashboardError(
            f"{action} failed ({error.strerror or error}); nothing was changed",
            location=Location(file=str(error.filename or transaction.root)),
            fix="fix the cause (permissions, disk space) and run it again",
        ) from None
    except BaseException:
        transaction.undo()
        raise


def _write_snapshot(folder: Path, snapshot: Snapshot) -> None:
    (folder / package.MANIFEST_NAME).write_text(render_json(snapshot.manifest), encoding="utf-8")
    for relative, data in snapshot.files.items():
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)


def _rotate_state(state: Path, staging: Path) -> None:
    """previous <- current <- staging, by renames inside the state folder; a failure part way
    puts the folders back."""
    current, previous = state / "current", state / "previous"
    retired = staging.with_name(f"{staging.name}-retired")
    _renames([(previous, retired), (current, previous), (staging, current)])
    shutil.rmtree(retired, ignore_errors=True)


def _swap_state(state: Path) -> None:
    """current <-> previous, after a rollback."""
    current, previous = state / "current", state / "previous"
    parked = state / ".rollback-swap"
    _renames([(current, parked), (previous, current), (parked, previous)])


def _renames(steps: list[tuple[Path, Path]]) -> None:
    moved: list[tuple[Path, Path]] = []
    try:
        for source, destination in steps:
            if source.exists():
                os.replace(source, destination)
                moved.append((source, destination))
    except OSError:
        for source, destination in reversed(moved):
            os.replace(destination, source)
        raise


# ---------------------------------------------------------------- commands


def install(tarball: Path, root: Path, allowed_signers: Path | None = None) -> InstallResult:
    """Verify `tarball` (raises VerificationError listing every problem, changing nothing),
    then install its files under `root` and keep the replaced release for rollback. With
    `allowed_signers`, only a tarball signed by a key trusted there is installed."""
    verified = verify(tarball, allowed_signers)
    files = _installable(verified.manifest, verified.files)
    version = str(verified.manifest["version"])
    state = state_dir(root)
    # Only the kept manifest is needed here: a damaged kept copy must not block a new install.
    current = kept_manifest(state / "current")
    replaced = str(current.get("version", "unknown")) if current else None
    if current == verified.manifest:
        # Same release again: repair files changed on disk, but keep `previous` as it is.
        if all(_holds(root / path, data) for path, data in files.items()):
            return InstallResult(version, replaced, sorted(files), "unchanged")
        transaction = _Transaction(root)
        _run(transaction, lambda: (transaction.stage(files), transaction.commit(set())), "install")
        return InstallResult(version, replaced, sorted(files), "repaired")
    # Files the replaced release owned and this one lacks go; anything else under root stays.
    remove = owned_paths(current) - set(files) if current else set()
    transaction = _Transaction(root)

    def steps() -> None:
        staging = transaction.scratch_dir(state)
        _write_snapshot(staging, Snapshot(verified.manifest, files))
        transaction.stage(files)
        transaction.commit(remove)
        _rotate_state(state, staging)

    _run(transaction, steps, "install")
    return InstallResult(version, replaced, sorted(files), "installed")


def rollback(root: Path) -> InstallResult:
    """Restore the previously installed release; the one rolled back from becomes `previous`,
    so a second rollback returns to it."""
    state = state_dir(root)
    current = read_snapshot(state / "current")
    previous = read_snapshot(state / "previous")
    if current is None or previous is None:
        raise DashboardError(
            "no previous release to roll back to",
            location=Location(file=str(state)),
            fix="a rollback needs two installs under this --root",
        )
    remove = set(current.files) - set(previous.files)
    transaction = _Transaction(root)

    def steps() -> None:
        transaction.stage(previous.files)
        transaction.commit(remove)
        _swap_state(state)

    _run(transaction, steps, "rollback")
    return InstallResult(previous.version, current.version, sorted(previous.files), "rolled back")


def _holds(path: Path, data: bytes) -> bool:
    return path.is_file() and path.read_bytes() == data
