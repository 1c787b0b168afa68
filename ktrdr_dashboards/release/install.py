"""`install` and `install --rollback`: put a verified release into Grafana's paths under a root
(`/` of a host or an image's root folder), keeping the previous release to roll back to.

State lives in <root>/var/lib/ktrdr-dashboards/: `current/` and `previous/` each hold a release's
MANIFEST.json and its installed files, so a rollback needs no tarball and knows which files each
version owns (a file only the newer version had is removed on rollback). One command runs at a
time, and one killed part way is rolled back or completed by the next (journal.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ktrdr_dashboards.errors import DashboardError, Location
from ktrdr_dashboards.release import journal, package
from ktrdr_dashboards.release.publish import verify

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
    recovered: str | None = None  # what was done about a command killed before this one


def state_dir(root: Path) -> Path:
    return root / STATE_DIR


def _installable(manifest: Mapping, files: Mapping[str, bytes]) -> dict[str, bytes]:
    return {path: files[path] for path in sorted(owned_paths(manifest))}


def kept_manifest(folder: Path) -> dict | None:
    """The manifest of the release kept in `folder`, if one is kept there."""
    manifest_path = folder / package.MANIFEST_NAME
    if not manifest_path.is_file():
        return None
    return journal.read_state(
        manifest_path,
        "the kept manifest",
        "reinstall a release tarball with `install TARBALL --root DIR`",
    )


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


# ---------------------------------------------------------------- commands

Notify = Callable[[str], None]


def _apply(root: Path, change: journal.Change) -> None:
    """Apply a change; an OS error becomes one line saying what state the root is in."""
    state = state_dir(root)
    try:
        journal.apply(root, state, change)
    except OSError as error:
        pending = (state / journal.JOURNAL).exists()
        outcome = (
            f"it is half done; `install --recover --root {root}` finishes it"
            if pending
            else "nothing was changed"
        )
        raise DashboardError(
            f"{change.action.split()[0]} failed ({error.strerror or error}); {outcome}",
            location=Location(file=str(error.filename or root)),
            fix="fix the cause (permissions, disk space) and run it again",
        ) from None


def install(
    tarball: Path,
    root: Path,
    allowed_signers: Path | None = None,
    on_wait: Notify | None = None,
) -> InstallResult:
    """Verify `tarball` (raises VerificationError listing every problem, changing nothing),
    then install its files under `root` and keep the replaced release for rollback. With
    `allowed_signers`, only a tarball signed by a key trusted there is installed. A second
    install under the same root waits for the first (`on_wait` is told)."""
    verified = verify(tarball, allowed_signers)
    files = _installable(verified.manifest, verified.files)
    version = str(verified.manifest["version"])
    state = state_dir(root)
    with journal.locked(state, on_wait):
        recovered = journal.recover(root, state)
        # Only the kept manifest is needed here: a damaged kept copy must not block an install.
        current = kept_manifest(state / "current")
        replaced = str(current.get("version", "unknown")) if current else None
        if current == verified.manifest:
            # Same release again: repair files changed on disk, but keep `previous` as it is.
            if all(_holds(root / path, data) for path, data in files.items()):
                return InstallResult(version, replaced, sorted(files), "unchanged", recovered)
            repair = journal.Change(f"repair of {version}", files, frozenset(), None, ())
            _apply(root, repair)
            return InstallResult(version, replaced, sorted(files), "repaired", recovered)
        # Files the replaced release owned and this one lacks go; anything else under root stays.
        remove = owned_paths(current) - set(files) if current else set()
        change = journal.Change(
            f"install of {version}",
            files,
            frozenset(remove),
            (verified.manifest, files),
            journal.install_renames(),
        )
        _apply(root, change)
    return InstallResult(version, replaced, sorted(files), "installed", recovered)


def rollback(root: Path, on_wait: Notify | None = None) -> InstallResult:
    """Restore the previously installed release; the one rolled back from becomes `previous`,
    so a second rollback returns to it."""
    state = state_dir(root)
    with journal.locked(state, on_wait):
        recovered = journal.recover(root, state)
        current = read_snapshot(state / "current")
        previous = read_snapshot(state / "previous")
        if current is None or previous is None:
            raise DashboardError(
                "no previous release to roll back to",
                location=Location(file=str(state)),
                fix="a rollback needs two installs under this --root",
            )
        remove = frozenset(set(current.files) - set(previous.files))
        change = journal.Change(
            f"rollback to {previous.version}",
            previous.files,
            remove,
            None,
            journal.swap_renames(),
        )
        _apply(root, change)
    return InstallResult(
        previous.version, current.version, sorted(previous.files), "rolled back", recovered
    )


def recover(root: Path, on_wait: Notify | None = None) -> str | None:
    """Only finish what a killed install or rollback left under `root` (None: nothing)."""
    state = state_dir(root)
    if not state.is_dir():
        return None
    with journal.locked(state, on_wait):
        return journal.recover(root, state)


def _holds(path: Path, data: bytes) -> bool:
    return path.is_file() and path.read_bytes() == data
