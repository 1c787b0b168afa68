"""Helpers for the release, verify and install tests: throwaway git copies of the sources and
ways to take a release tarball apart and put it back together (to tamper with it)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
import struct
import subprocess
import tarfile
import zlib
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# What `release` reads from a project: the sources `build` compiles, the version, the changelog.
SOURCES = ("jsonnet", "lib", "provisioning", "pyproject.toml", "CHANGELOG.md")
COMMIT_DATE = "2026-01-02T03:04:05+00:00"
COMMIT_EPOCH = int(datetime.fromisoformat(COMMIT_DATE).timestamp())


def copy_sources(destination: Path) -> Path:
    destination.mkdir(parents=True)
    for name in SOURCES:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, destination / name)
        else:
            shutil.copy2(source, destination / name)
    (destination / ".gitignore").write_text("build/\n")
    return destination


def git(root: Path, *args: str) -> str:
    """git with a fixed identity and date and no user or system config, so two copies of the
    same files give the same commit on any machine."""
    env = {
        **os.environ,
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": "Release Test",
        "GIT_AUTHOR_EMAIL": "release-test@example.invalid",
        "GIT_COMMITTER_NAME": "Release Test",
        "GIT_COMMITTER_EMAIL": "release-test@example.invalid",
        "GIT_AUTHOR_DATE": COMMIT_DATE,
        "GIT_COMMITTER_DATE": COMMIT_DATE,
    }
    result = subprocess.run(
        ["git", "-C", str(root), *args], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def commit_all(root: Path, message: str = "sources") -> str:
    if not (root / ".git").exists():
        git(root, "init", "--quiet", "--initial-branch=main")
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "--no-gpg-sign", "-m", message)
    return git(root, "rev-parse", "HEAD")


def committed_copy(destination: Path) -> Path:
    root = copy_sources(destination)
    commit_all(root)
    return root


def released_copy(destination: Path) -> Path:
    """A committed copy of the sources, released once: the path of its tarball."""
    from ktrdr_dashboards import cli

    project = committed_copy(destination)
    out = project / "build"
    assert cli.main(["release", "--root", str(project), "--out", str(out)]) == 0
    (tarball,) = (out / "dist").glob("*.tar.gz")
    return tarball


def set_version(root: Path, version: str) -> None:
    """Bump `[project] version` and add the changelog section `release` requires."""
    pyproject = root / "pyproject.toml"
    text = re.sub(
        r'(?m)^version = "[^"]*"', f'version = "{version}"', pyproject.read_text(encoding="utf-8")
    )
    pyproject.write_text(text, encoding="utf-8")
    changelog = root / "CHANGELOG.md"
    entry = f"## [{version}] - 2026-01-02\n\n### Changed\n\n- Test release {version}.\n\n"
    old = changelog.read_text(encoding="utf-8")
    first = old.index("\n## [") + 1
    changelog.write_text(old[:first] + entry + old[first:], encoding="utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


Member = tuple[tarfile.TarInfo, bytes | None]


def members(data: bytes) -> list[Member]:
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(data)), mode="r:") as tar:
        return [
            (m, tar.extractfile(m).read() if m.isfile() else None)  # type: ignore[union-attr]
            for m in tar.getmembers()
        ]


def repack(data: bytes, edit: Callable[[list[Member]], list[Member]]) -> bytes:
    """The tarball with its member list passed through `edit`."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for info, content in edit(members(data)):
            if content is not None:
                info.size = len(content)
            tar.addfile(info, io.BytesIO(content) if content is not None else None)
    return gzip.compress(raw.getvalue(), mtime=0)


def write_release(folder: Path, name: str, data: bytes) -> Path:
    """Tarball plus a matching .sha256, so only what was tampered inside is wrong."""
    folder.mkdir(parents=True, exist_ok=True)
    tarball = folder / name
    tarball.write_bytes(data)
    (folder / f"{name}.sha256").write_text(f"{sha256(data)}  {name}\n")
    return tarball


def tree_digest(root: Path) -> dict[str, str]:
    """Every file and folder under root with its content hash (folders: "dir")."""
    return {
        str(path.relative_to(root)): "dir" if path.is_dir() else sha256(path.read_bytes())
        for path in sorted(root.rglob("*"))
    }


def write_bomb(good: bytes, destination: Path, member_suffix: str, size: int) -> Path:
    """The good release with the member ending in `member_suffix` replaced by `size` zero bytes
    (its manifest entry claiming that size), written as a valid .tar.gz plus a matching .sha256
    without ever holding the zeros: each MiB of zeros compresses to the same deflate block after
    a full flush, so that block is repeated and the gzip trailer computed alongside."""
    listed = members(good)
    top = listed[0][0].name.split("/")[0]
    target = next(info.name for info, _ in listed if info.name.endswith(member_suffix))
    relative = target.removeprefix(f"{top}/")
    chunk = bytes(1 << 20)
    assert size % len(chunk) == 0

    def manifest_claiming_size(data: bytes) -> bytes:
        manifest = json.loads(data)
        next(f for f in manifest["files"] if f["path"] == relative)["size"] = size
        return json.dumps(manifest).encode()

    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    digest = hashlib.sha256()
    crc = length = 0
    with destination.open("wb") as out:

        def emit(compressed: bytes) -> None:
            digest.update(compressed)
            out.write(compressed)

        def plain(data: bytes) -> None:
            nonlocal crc, length
            crc, length = zlib.crc32(data, crc), length + len(data)
            emit(compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH))

        emit(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff")
        for info, content in listed:
            if info.name.endswith("/MANIFEST.json"):
                content = manifest_claiming_size(content)  # type: ignore[arg-type]
            if info.name == target:
                info.size = size
                plain(info.tobuf(tarfile.PAX_FORMAT))
                block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
                for _ in range(size // len(chunk)):
                    crc, length = zlib.crc32(chunk, crc), length + len(chunk)
                    emit(block)
                continue
            if content is not None:
                info.size = len(content)
            padding = b"\0" * (-(info.size if content is not None else 0) % tarfile.BLOCKSIZE)
            plain(info.tobuf(tarfile.PAX_FORMAT) + (content or b"") + padding)
        plain(b"\0" * tarfile.RECORDSIZE)
        emit(compressor.flush() + struct.pack("<II", crc, length & 0xFFFFFFFF))
    checksum = destination.with_name(f"{destination.name}.sha256")
    checksum.write_text(f"{digest.hexdigest()}  {destination.name}\n")
    return destination
