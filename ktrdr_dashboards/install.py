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
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ktrdr_dashboards import package
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
    outcome: str  # "installed", "unchanged" or "rolled back"


def state_dir(root: Path) -> Path:
    return root / STATE_DIR


def _installable(manifest: Mapping, files: Mapping[str, bytes]) -> dict[str, bytes]:
    listed = [entry["path"] for entry in manifest.get("files", [])]
    return {path: files[path] for path in listed if path not in package.METADATA_NAMES}


def read_snapshot(folder: Path) -> Snapshot | None:
    """The release kept in `folder`, with every file checked against its manifest."""
    manifest_path = folder / package.MANIFEST_NAME
    if not manifest_path.is_file():
        return None
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    files: dict[str, bytes] = {}
    for entry in manifest.get("files", []):
        path = entry["path"]
        if path in package.METADATA_NAMES:
            continue
        kept = folder / path
        data = kept.read_bytes() if kept.is_file() else b""
        if not kept.is_file() or package.sha256_hex(data) != entry.get("sha256"):
            raise DashboardError(
                "kept copy is missing or changed; cannot restore from it",
                location=Location(file=str(kept)),
                fix="reinstall a release tarball with `install TARBALL --root DIR`",
            )
        files[path] = data
    return Snapshot(manifest, files)


