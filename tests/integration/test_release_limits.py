"""Hard limits on what a release tarball may make `verify` and `install` read: a decompression
bomb, too many members, oversized headers, manifest or file are refused with one line before
their content is decompressed, and nothing is installed."""

from __future__ import annotations

import gzip
import io
import os
import tarfile
from pathlib import Path

import pytest
from release_support import released_copy, repack, write_bomb, write_release

from ktrdr_dashboards import cli
from ktrdr_dashboards.release import archive

BOMB_SIZE = 2 << 30  # 2 GiB of zeros, about 2 MB compressed
DASHBOARD = "var/lib/grafana/dashboards/operations.json"


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return released_copy(tmp_path_factory.mktemp("limits") / "repo")


def run(capsys, *argv: str) -> tuple[int, list[str]]:
    capsys.readouterr()
    code = cli.main(list(argv))
    return code, capsys.readouterr().err.strip().splitlines()


def top(tarball: Path) -> str:
    return tarball.name.removesuffix(".tar.gz")


def test_decompression_bomb_is_refused_by_verify_and_install(good: Path, tmp_path, capsys):
    bomb = write_bomb(good.read_bytes(), tmp_path / good.name, f"/{DASHBOARD}", BOMB_SIZE)
    assert bomb.stat().st_size < 4 * 1024 * 1024
    expected = [
        f"error: {good.name}: {top(good)}/{DASHBOARD}: refused: member is 2,147,483,648 bytes, "
        "over the 8,388,608-byte limit for one file"
        " — do not install this tarball (a real release is far smaller)"
    ]
    assert run(capsys, "verify", str(bomb)) == (1, expected)
    root = tmp_path / "root"
    assert run(capsys, "install", str(bomb), "--root", str(root)) == (1, expected)
    assert not root.exists()


def test_too_many_members_are_refused_at_the_headers(good: Path, tmp_path, capsys):
    def many_folders(listed):
        extra = []
        for n in range(archive.MAX_MEMBERS):
            info = tarfile.TarInfo(f"{top(good)}/etc/padding-{n:04d}")
            info.type = tarfile.DIRTYPE
            extra.append((info, None))
        return [*listed, *extra]

    tarball = write_release(tmp_path, good.name, repack(good.read_bytes(), many_folders))
    assert run(capsys, "verify", str(tarball)) == (
        1,
        [
            f"error: {good.name}: refused: more than 1,000 members"
            " — do not install this tarball (a real release is far smaller)"
        ],
    )


def test_total_size_over_the_limit_is_refused(good: Path, capsys, monkeypatch):
    monkeypatch.setattr(archive, "MAX_TOTAL_BYTES", 10_000)
    assert run(capsys, "verify", str(good)) == (
        1,
        [
            f"error: {good.name}: refused: members add up to more than 10,000 bytes"
            " — do not install this tarball (a real release is far smaller)"
        ],
    )


def test_oversized_manifest_is_not_read(good: Path, capsys, monkeypatch):
    monkeypatch.setattr(archive, "MAX_MANIFEST_BYTES", 100)
    code, errors = run(capsys, "verify", str(good))
    assert code == 1 and len(errors) == 1
    assert errors[0].startswith(f"error: {good.name}: MANIFEST.json: refused: ")
    assert errors[0].endswith("bytes, over the 100-byte limit")


def test_oversized_extension_header_is_refused_before_it_is_read(good: Path, tmp_path, capsys):
    """A pax header claiming 1 GiB of records: tarfile would read it whole into memory."""
    header = tarfile.TarInfo(f"{top(good)}/././@PaxHeader")
    header.type, header.size = tarfile.XHDTYPE, 1 << 30
    data = gzip.compress(header.tobuf(tarfile.USTAR_FORMAT) + b"9 a=b\n" * 100, mtime=0)
    tarball = write_release(tmp_path, good.name, data)
    assert run(capsys, "verify", str(tarball)) == (
        1,
        [
            f"error: {good.name}: refused: an archive header of 1,073,741,824 bytes, "
            "over the 8,388,608-byte limit"
            " — do not install this tarball (a real release is far smaller)"
        ],
    )


def test_oversized_tarball_file_is_not_read(good: Path, tmp_path, capsys):
    tarball = write_release(tmp_path, good.name, good.read_bytes())
    os.truncate(tarball, archive.MAX_TARBALL_BYTES + 1)  # sparse: nothing is written
    code, errors = run(capsys, "verify", str(tarball))
    assert (code, errors) == (
        1,
        [
            f"error: {tarball}: refused: 33,554,433 bytes, over the 33,554,432-byte limit"
            " for a release tarball — this is not a release of this project"
        ],
    )


def test_member_larger_than_its_manifest_entry_is_not_read(good: Path, tmp_path, capsys):
    sizes: list[int] = []

    def grown(listed):
        out = []
        for info, content in listed:
            if info.name.endswith(DASHBOARD):
                sizes.append(len(content))
                content = content + b" " * 4096
            out.append((info, content))
        return out

    tarball = write_release(tmp_path, good.name, repack(good.read_bytes(), grown))
    assert run(capsys, "verify", str(tarball)) == (
        1,
        [
            f"error: {good.name}: {DASHBOARD}: size {sizes[0] + 4096} does not match "
            f"MANIFEST.json ({sizes[0]})"
        ],
    )


def test_limits_sit_far_above_a_real_release(good: Path):
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(good.read_bytes()))) as tar:
        listed = tar.getmembers()
    assert len(listed) * 10 < archive.MAX_MEMBERS
    assert max(m.size for m in listed) * 10 < archive.MAX_MEMBER_BYTES
    assert sum(m.size for m in listed) * 100 < archive.MAX_TOTAL_BYTES
    assert good.stat().st_size * 100 < archive.MAX_TARBALL_BYTES
