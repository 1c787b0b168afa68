"""Release tarballs as data: lay build output out like Grafana's own directories, describe it in
a manifest, and write it as a byte-reproducible .tar.gz (archive.py reads one back)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Literal

from ktrdr_dashboards import atomic
from ktrdr_dashboards.compile.dashboards import render_json
from ktrdr_dashboards.compile.provisioning import DashboardsProvider, dashboards_provider
from ktrdr_dashboards.errors import DashboardError, Location

PROJECT_NAME = "ktrdr-dashboards"
MANIFEST_NAME = "MANIFEST.json"
INSTALL_NAME = "INSTALL.md"
CHANGELOG_NAME = "CHANGELOG.md"
# Files that describe a release; everything else in it is installed into Grafana's paths.
METADATA_NAMES = frozenset({MANIFEST_NAME, INSTALL_NAME, CHANGELOG_NAME})
GRAFANA_PROVISIONING_DIR = "etc/grafana/provisioning"
PROMETHEUS_DIR = "etc/prometheus"
# The Kubernetes resources (build/kubernetes/<flavour>/): applied with kubectl, not read by
# Grafana, so they sit in the data folder of the release (`install` puts them there too).
KUBERNETES_DIR = "usr/share/ktrdr-dashboards/kubernetes"

FILE_MODE = 0o644
DIR_MODE = 0o755
# gzip level is part of the bytes: fixed so every machine compresses alike.
GZIP_LEVEL = 9


def top_folder(version: str) -> str:
    return f"{PROJECT_NAME}-{version}"


def tarball_name(version: str) -> str:
    return f"{top_folder(version)}.tar.gz"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def checksum_line(tarball_filename: str, data: bytes) -> str:
    """One line in `sha256sum` format (two spaces: text mode), so `sha256sum -c` reads it."""
    return f"{sha256_hex(data)}  {tarball_filename}\n"


# ---------------------------------------------------------------- layout


def provider_files_in_build(build_files: Mapping[str, bytes]) -> dict[str, bytes]:
    prefix = "provisioning/dashboards/"
    return {name: data for name, data in build_files.items() if name.startswith(prefix)}


def grafana_layout(build_files: Mapping[str, bytes]) -> dict[str, bytes]:
    """Map build/ paths to the paths Grafana (and Prometheus) read them from, relative to `/`:
    dashboards/X.json -> <provider options.path>/X.json, provisioning/K/F -> etc/grafana/
    provisioning/K/F, prometheus/... -> etc/prometheus/... (present once rules are generated),
    kubernetes/... -> usr/share/ktrdr-dashboards/kubernetes/..."""
    provider = dashboards_provider(provider_files_in_build(build_files))
    laid_out: dict[str, bytes] = {}
    for relative, content in sorted(build_files.items()):
        first, _, rest = relative.partition("/")
        if first == "dashboards" and rest:
            laid_out[f"{provider.path}/{rest}"] = content
        elif first == "provisioning" and rest:
            laid_out[f"{GRAFANA_PROVISIONING_DIR}/{rest}"] = content
        elif first == "prometheus" and rest:
            laid_out[f"{PROMETHEUS_DIR}/{rest}"] = content
        elif first == "kubernetes" and rest:
            laid_out[f"{KUBERNETES_DIR}/{rest}"] = content
        else:
            raise DashboardError(
                "build file has no place in the Grafana layout",
                location=Location(file=f"build/{relative}"),
                fix="map its folder in ktrdr_dashboards/package.py:grafana_layout",
            )
    return laid_out


# ---------------------------------------------------------------- manifest


@dataclass(frozen=True)
class ReleaseInfo:
    version: str  # including a local suffix such as "+dirty"
    source_commit: str  # 40 hex digits, or "unknown" outside a git checkout
    source_dirty: bool
    build_time: int  # seconds since the epoch; also every member's mtime
    build_time_source: str  # "SOURCE_DATE_EPOCH", "commit" or "none"


def iso_time(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def panel_count(model: Mapping) -> int:
    """Panels a user sees: nested ones in collapsed rows count, the row headers do not."""
    count = 0
    for panel in model.get("panels") or []:
        if not isinstance(panel, Mapping):
            continue
        if panel.get("type") == "row":
            count += panel_count(panel)
        else:
            count += 1
    return count


def dashboard_entries(members: Mapping[str, bytes], dashboards_dir: str) -> list[dict]:
    entries = []
    for path, content in sorted(members.items()):
        if PurePosixPath(path).parent.as_posix() == dashboards_dir and path.endswith(".json"):
            model = json.loads(content)
            entries.append(
                {
                    "path": path,
                    "uid": str(model.get("uid", "")),
                    "title": str(model.get("title", "")),
                    "panels": panel_count(model),
                }
            )
    return entries


def manifest(
    info: ReleaseInfo,
    members: Mapping[str, bytes],
    provider: DashboardsProvider,
    validation: Mapping | None = None,
) -> dict:
    """MANIFEST.json: what was built from what, every other member with size and sha256, and
    what the validator judged the dashboards by (so `verify` can re-run it)."""
    return {
        "validation": dict(validation or {}),
        "name": PROJECT_NAME,
        "version": info.version,
        "source_commit": info.source_commit,
        "source_dirty": info.source_dirty,
        "build_time": iso_time(info.build_time),
        "build_time_source": info.build_time_source,
        "grafana_folder": provider.folder,
        "dashboards_path": f"/{provider.path}",
        "files": [
            {"path": path, "size": len(content), "sha256": sha256_hex(content)}
            for path, content in sorted(members.items())
        ],
        "dashboards": dashboard_entries(members, provider.path),
    }


def install_note(info: ReleaseInfo, provider: DashboardsProvider) -> str:
    tarball, top = tarball_name(info.version), top_folder(info.version)
    return f"""# Installing {PROJECT_NAME} {info.version}

Built from commit {info.source_commit} at {iso_time(info.build_time)}.
The folders below mirror `/` of a Grafana host or image; copy or mount them as they are:

- `etc/grafana/provisioning/dashboards/` — the dashboards provider
  (Grafana shows the dashboards in its folder `{provider.folder}`)
- `etc/grafana/provisioning/datasources/` — the Prometheus and Jaeger datasources
- `{provider.path}/` — the dashboard JSON files the provider reads
- `etc/prometheus/` — Prometheus rules, when this release has any
- `usr/share/ktrdr-dashboards/kubernetes/<flavour>/` — the same dashboards and rules as
  Kubernetes resources: `kubectl apply --server-side -k <that folder>` (docs/deploy.md)

Grafana reads the datasource URLs from its environment; set both before it starts:

    KTRDR_PROMETHEUS_URL=http://prometheus:9090
    KTRDR_JAEGER_URL=http://jaeger:16686

Verify, install into a root (`/` on a host, an image's root folder in a build), roll back:

    python -m ktrdr_dashboards verify {tarball}
    python -m ktrdr_dashboards install {tarball} --root /
    python -m ktrdr_dashboards install --rollback --root /

Or by hand: `sha256sum -c {tarball}.sha256`, then
`tar -xzf {tarball} --strip-components=1 -C / {top}/etc {top}/usr {top}/var`.
`MANIFEST.json` lists every file with its size and sha256.
"""


def release_members(
    info: ReleaseInfo,
    build_files: Mapping[str, bytes],
    changelog_entry: str,
    validation: Mapping | None = None,
) -> dict[str, bytes]:
    """Every member of the release, relative to its top folder, MANIFEST.json included."""
    provider = dashboards_provider(provider_files_in_build(build_files))
    members = grafana_layout(build_files)
    members[INSTALL_NAME] = install_note(info, provider).encode("utf-8")
    members[CHANGELOG_NAME] = changelog_entry.encode("utf-8")
    document = manifest(info, members, provider, validation)
    members[MANIFEST_NAME] = render_json(document).encode("utf-8")
    return members


# ---------------------------------------------------------------- writing


def _parent_dirs(paths: Iterable[str]) -> set[str]:
    dirs: set[str] = set()
    for path in paths:
        dirs.update(parent.as_posix() for parent in PurePosixPath(path).parents)
    dirs.discard(".")
    return dirs


def _tar_info(name: str, mtime: int, size: int | None) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mtime = mtime
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    if size is None:
        info.type, info.mode = tarfile.DIRTYPE, DIR_MODE
    else:
        info.type, info.mode, info.size = tarfile.REGTYPE, FILE_MODE, size
    return info


def write_tarball(top: str, members: Mapping[str, bytes], mtime: int) -> bytes:
    """The .tar.gz bytes: members sorted by path (each folder before its contents), fixed mtime,
    owner 0/0 without names, modes 0644/0755, PAX format, gzip header without name or time."""
    entries: dict[str, bytes | None] = {f"{top}/{path}": data for path, data in members.items()}
    entries.update({f"{top}/{d}": None for d in _parent_dirs(members)})
    entries[top] = None
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(entries):
            data = entries[name]
            info = _tar_info(name, mtime, None if data is None else len(data))
            tar.addfile(info, None if data is None else io.BytesIO(data))
    return _gzip(raw.getvalue())


def _gzip(data: bytes) -> bytes:
    """gzip without file name and with mtime 0. GzipFile writes the header itself with OS byte
    255 ("unknown"), where gzip.compress lets zlib put the build platform's code there."""
    out = io.BytesIO()
    with gzip.GzipFile(
        filename="", mode="wb", fileobj=out, compresslevel=GZIP_LEVEL, mtime=0
    ) as gz:
        gz.write(data)
    return out.getvalue()


def write_aside(folder: Path, final_name: str, data: bytes) -> Path:
    """Write to a hidden temporary file in `folder` (same filesystem, so rename is atomic)."""
    return atomic.write_aside(folder, final_name, data, FILE_MODE)


def publish(
    dist_dir: Path, filename: str, data: bytes, signature: bytes | None = None
) -> Literal["written", "unchanged"]:
    """Put `data`, its .sha256 and (when given) its .sig into dist_dir. A released version is
    immutable: the same bytes again are a no-op (a new signature is added), different bytes are
    refused. Every file is written aside and renamed in, the tarball last, so it appears only
    complete and with its checksum and signature."""
    dist_dir.mkdir(parents=True, exist_ok=True)
    target = dist_dir / filename
    beside = {f"{filename}.sha256": checksum_line(filename, data).encode("ascii")}
    if signature is not None:
        beside[f"{filename}.sig"] = signature
    if target.exists():
        if target.read_bytes() != data:
            raise DashboardError(
                "this version is already released with different content; refusing to replace it",
                location=Location(file=str(target)),
                fix="bump [project] version in pyproject.toml and add its CHANGELOG.md entry",
            )
        for name, content in beside.items():
            path = dist_dir / name
            if not path.exists() or path.read_bytes() != content:
                os.replace(write_aside(dist_dir, name, content), path)
        return "unchanged"
    temps: dict[Path, Path] = {}
    try:
        for name, content in [*beside.items(), (filename, data)]:
            temps[dist_dir / name] = write_aside(dist_dir, name, content)
        renamed: list[Path] = []
        try:
            for path, temp in temps.items():
                os.replace(temp, path)
                renamed.append(path)
        except BaseException:
            for path in renamed:
                path.unlink(missing_ok=True)
            raise
    finally:
        for temp in temps.values():
            temp.unlink(missing_ok=True)
    return "written"
