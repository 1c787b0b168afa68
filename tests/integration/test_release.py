"""`release`: versioned, reproducible tarballs in build/dist/ with their .sha256."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from release_support import (
    COMMIT_EPOCH,
    commit_all,
    committed_copy,
    copy_sources,
    git,
    members,
    set_version,
    sha256,
)

from ktrdr_dashboards import cli
from ktrdr_dashboards.errors import DashboardError
from ktrdr_dashboards.release import package


def run_release(root: Path, *extra: str) -> int:
    return cli.main(["release", "--root", str(root), "--out", str(root / "build"), *extra])


def dist_files(root: Path) -> list[str]:
    dist = root / "build" / "dist"
    return sorted(p.name for p in dist.iterdir()) if dist.exists() else []


@pytest.fixture(autouse=True)
def no_outside_source_date_epoch(monkeypatch):
    """The caller's SOURCE_DATE_EPOCH would change the bytes these tests reason about."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return committed_copy(tmp_path / "repo")


def test_release_names_the_tarball_after_the_pyproject_version(project: Path, capsys):
    set_version(project, "3.4.5")
    commit_all(project, "bump")
    assert run_release(project) == 0
    assert dist_files(project) == [
        "ktrdr-dashboards-3.4.5.tar.gz",
        "ktrdr-dashboards-3.4.5.tar.gz.sha256",
    ]
    out = capsys.readouterr().out
    assert "released " in out and "ktrdr-dashboards-3.4.5.tar.gz (3.4.5, commit " in out
    tops = {Path(info.name).parts[0] for info, _ in members(dist_tarball(project).read_bytes())}
    assert tops == {"ktrdr-dashboards-3.4.5"}


def dist_tarball(root: Path) -> Path:
    (tarball,) = (root / "build" / "dist").glob("*.tar.gz")
    return tarball


def released_files(root: Path) -> dict[str, bytes]:
    """The released tarball's files, by path inside its top folder."""
    top = dist_tarball(root).name.removesuffix(".tar.gz")
    return {
        info.name.removeprefix(f"{top}/"): content
        for info, content in members(dist_tarball(root).read_bytes())
        if info.isfile()
    }


def test_sha256_file_is_checked_by_sha256sum(project: Path):
    assert run_release(project) == 0
    dist = project / "build" / "dist"
    result = subprocess.run(
        ["sha256sum", "-c", f"{dist_tarball(project).name}.sha256"],
        cwd=dist,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == f"{dist_tarball(project).name}: OK"


def test_same_commit_in_two_clones_gives_identical_bytes(tmp_path: Path):
    first = committed_copy(tmp_path / "first")
    second = committed_copy(tmp_path / "elsewhere" / "second")
    assert git(first, "rev-parse", "HEAD") == git(second, "rev-parse", "HEAD")
    # Different file times in the second copy must not reach the tarball.
    for path in second.rglob("*.jsonnet"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    assert run_release(first) == 0
    assert run_release(second) == 0
    assert dist_tarball(first).read_bytes() == dist_tarball(second).read_bytes()
    sums = [
        (r / "build/dist" / f"{dist_tarball(r).name}.sha256").read_text() for r in (first, second)
    ]
    assert sums[0] == sums[1]


def test_members_are_normalized_and_gzip_header_is_bare(project: Path):
    assert run_release(project) == 0
    data = dist_tarball(project).read_bytes()
    # gzip header: no FNAME flag, mtime 0, OS "unknown".
    assert data[3] == 0 and data[4:8] == b"\0\0\0\0" and data[9] == 255
    listed = members(data)
    names = [info.name for info, _ in listed]
    assert names == sorted(names)
    for info, _ in listed:
        assert (info.uid, info.gid, info.uname, info.gname) == (0, 0, "", "")
        assert info.mtime == COMMIT_EPOCH
        assert info.mode == (0o755 if info.isdir() else 0o644)
        assert info.isdir() or info.isfile()


def test_source_date_epoch_sets_member_times_and_build_time(project: Path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert run_release(project) == 0
    listed = members(dist_tarball(project).read_bytes())
    assert {info.mtime for info, _ in listed} == {1_700_000_000}
    manifest = json.loads(next(c for i, c in listed if i.name.endswith("/MANIFEST.json")))
    assert manifest["build_time"] == "2023-11-14T22:13:20Z"
    assert manifest["build_time_source"] == "SOURCE_DATE_EPOCH"


def test_layout_is_grafanas_and_dashboards_go_where_the_provider_reads(project: Path):
    provider_file = project / "provisioning/dashboards/ktrdr.yaml"
    text = provider_file.read_text().replace(
        "path: /var/lib/grafana/dashboards", "path: /srv/grafana/ktrdr"
    )
    provider_file.write_text(text)
    commit_all(project, "move dashboards")
    assert run_release(project) == 0
    files = released_files(project)
    built = {p.name: p.read_bytes() for p in (project / "build/dashboards").glob("*.json")}
    assert len(built) == 3
    for name, content in built.items():
        assert files[f"srv/grafana/ktrdr/{name}"] == content
    for kind in ("dashboards", "datasources"):
        assert (
            files[f"etc/grafana/provisioning/{kind}/ktrdr.yaml"]
            == (project / "provisioning" / kind / "ktrdr.yaml").read_bytes()
        )
    assert not any(name.startswith("var/") for name in files)
    assert {"MANIFEST.json", "INSTALL.md", "CHANGELOG.md"} <= set(files)


def test_kubernetes_folders_are_released_as_built(project: Path):
    assert run_release(project) == 0
    files = released_files(project)
    built = project / "build" / "kubernetes"
    expected = {
        f"{package.KUBERNETES_DIR}/{path.relative_to(built).as_posix()}": path.read_bytes()
        for path in built.rglob("*")
        if path.is_file()
    }
    assert {k: v for k, v in files.items() if k.startswith(package.KUBERNETES_DIR)} == expected
    # the Grafana 13 target: schema v2 Dashboards and GrafanaManifests wrapping them
    kinds = {
        folder: {yaml.safe_load(v)["kind"] for k, v in expected.items() if f"/{folder}/" in k}
        for folder in ("grafana-resources", "grafana-manifests")
    }
    assert kinds["grafana-resources"] == {"Dashboard", "Folder", "Kustomization"}
    assert "GrafanaManifest" in kinds["grafana-manifests"]
    dashboard = expected[
        f"{package.KUBERNETES_DIR}/grafana-resources/dashboard-ktrdr-operations.yaml"
    ]
    assert yaml.safe_load(dashboard)["apiVersion"] == "dashboard.grafana.app/v2"


def test_manifest_describes_every_file_and_dashboard(project: Path):
    assert run_release(project) == 0
    files = released_files(project)
    manifest = json.loads(files.pop("MANIFEST.json"))
    assert manifest["version"] == "0.1.0"
    assert manifest["source_commit"] == git(project, "rev-parse", "HEAD")
    assert manifest["source_dirty"] is False
    assert manifest["build_time"] == "2026-01-02T03:04:05Z"
    assert manifest["build_time_source"] == "commit"
    assert manifest["files"] == [
        {"path": path, "size": len(content), "sha256": sha256(content)}
        for path, content in sorted(files.items())
    ]
    built = {
        p.name: json.loads(p.read_text()) for p in (project / "build/dashboards").glob("*.json")
    }
    assert [
        (d["path"].rsplit("/", 1)[1], d["uid"], d["title"]) for d in manifest["dashboards"]
    ] == [(name, model["uid"], model["title"]) for name, model in sorted(built.items())]
    assert all(d["panels"] > 0 for d in manifest["dashboards"])


def test_tarball_carries_this_versions_changelog_and_install_note(project: Path):
    set_version(project, "0.2.0")
    commit_all(project, "0.2.0")
    assert run_release(project) == 0
    top = "ktrdr-dashboards-0.2.0"
    files = {i.name: c for i, c in members(dist_tarball(project).read_bytes()) if i.isfile()}
    changelog = files[f"{top}/CHANGELOG.md"].decode()
    assert changelog.startswith("## [0.2.0]") and "Test release 0.2.0." in changelog
    assert "## [0.1.0]" not in changelog
    note = files[f"{top}/INSTALL.md"].decode()
    for needed in ("KTRDR_PROMETHEUS_URL", "KTRDR_JAEGER_URL", "verify", "--rollback"):
        assert needed in note


def test_version_without_changelog_entry_is_refused(project: Path, capsys):
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "0.1.0"', 'version = "9.9.9"'))
    commit_all(project, "bump without changelog")
    assert run_release(project) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "CHANGELOG.md: no entry for version 9.9.9" in err
    assert dist_files(project) == []


def test_uncommitted_changes_are_refused(project: Path, capsys):
    (project / "jsonnet" / "operations.jsonnet").write_text(
        (project / "jsonnet" / "operations.jsonnet").read_text() + "\n"
    )
    assert run_release(project) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "refusing to release 0.1.0" in err and "uncommitted changes" in err
    assert "--allow-dirty" in err
    assert dist_files(project) == []


def test_untracked_source_counts_as_uncommitted(project: Path, capsys):
    (project / "jsonnet" / "new.jsonnet").write_text("{}\n")
    assert run_release(project) == 1
    assert "uncommitted changes" in capsys.readouterr().err


def test_allow_dirty_marks_the_version_and_manifest(project: Path, capsys):
    datasources = project / "provisioning/datasources/ktrdr.yaml"
    datasources.write_text(datasources.read_text() + "# local change\n")
    assert run_release(project, "--allow-dirty") == 0
    assert dist_files(project) == [
        "ktrdr-dashboards-0.1.0+dirty.tar.gz",
        "ktrdr-dashboards-0.1.0+dirty.tar.gz.sha256",
    ]
    files = {i.name: c for i, c in members(dist_tarball(project).read_bytes()) if i.isfile()}
    manifest = json.loads(files["ktrdr-dashboards-0.1.0+dirty/MANIFEST.json"])
    assert manifest["version"] == "0.1.0+dirty" and manifest["source_dirty"] is True
    installed = files[
        "ktrdr-dashboards-0.1.0+dirty/etc/grafana/provisioning/datasources/ktrdr.yaml"
    ]
    assert installed.endswith(b"# local change\n")


def test_outside_a_git_checkout_commit_is_unknown_and_said(tmp_path: Path, capsys):
    project = copy_sources(tmp_path / "plain")
    assert run_release(project) == 1
    assert "is not a git checkout" in capsys.readouterr().err
    assert run_release(project, "--allow-dirty") == 0
    captured = capsys.readouterr()
    assert "note: " in captured.err and "is not a git checkout" in captured.err
    files = {i.name: c for i, c in members(dist_tarball(project).read_bytes()) if i.isfile()}
    manifest = json.loads(files["ktrdr-dashboards-0.1.0+dirty/MANIFEST.json"])
    assert manifest["source_commit"] == "unknown"


def test_release_again_with_same_content_is_a_no_op(project: Path, capsys):
    assert run_release(project) == 0
    tarball = dist_tarball(project)
    before = (tarball.read_bytes(), tarball.stat().st_ino)
    capsys.readouterr()
    assert run_release(project) == 0
    assert "unchanged, already released" in capsys.readouterr().out
    assert (tarball.read_bytes(), tarball.stat().st_ino) == before
    assert dist_files(project) == [tarball.name, f"{tarball.name}.sha256"]


def test_release_of_an_existing_version_with_other_content_is_refused(project: Path, capsys):
    assert run_release(project) == 0
    tarball = dist_tarball(project)
    before = tarball.read_bytes()
    datasources = project / "provisioning/datasources/ktrdr.yaml"
    datasources.write_text(datasources.read_text() + "# changed\n")
    commit_all(project, "change without a version bump")
    capsys.readouterr()
    assert run_release(project) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert f"{tarball}: this version is already released with different content" in err
    assert tarball.read_bytes() == before
    assert dist_files(project) == [tarball.name, f"{tarball.name}.sha256"]


def test_failure_while_publishing_leaves_nothing_in_dist(tmp_path: Path, monkeypatch):
    dist = tmp_path / "dist"
    real_replace = os.replace

    def fail_on_tarball(source, destination):
        if str(destination).endswith(".tar.gz"):
            raise OSError(28, "No space left on device")
        real_replace(source, destination)

    monkeypatch.setattr(package.os, "replace", fail_on_tarball)
    # publish passes the filesystem's own error on (the CLI reports it) after cleaning up
    with pytest.raises(OSError, match="No space left on device"):
        package.publish(dist, "ktrdr-dashboards-1.0.0.tar.gz", b"tarball bytes")
    assert list(dist.iterdir()) == []


def test_build_failure_writes_no_release(project: Path, capsys):
    (project / "jsonnet" / "broken.jsonnet").write_text("{ title: 'x', panels: [ }\n")
    commit_all(project, "broken")
    assert run_release(project) == 1
    assert "broken.jsonnet" in capsys.readouterr().err
    assert dist_files(project) == []


def test_prometheus_rules_are_packaged_when_built():
    provider = yaml.safe_dump(
        {
            "apiVersion": 1,
            "providers": [
                {
                    "name": "p",
                    "folder": "KTRDR",
                    "type": "file",
                    "options": {"path": "/var/lib/grafana/dashboards"},
                }
            ],
        }
    )
    dashboard = json.dumps({"uid": "u", "title": "T", "panels": [{"type": "stat"}]})
    build_files = {
        "dashboards/d.json": dashboard.encode(),
        "provisioning/dashboards/ktrdr.yaml": provider.encode(),
        "prometheus/rules/ktrdr-alerts.yml": b"groups: []\n",
    }
    info = package.ReleaseInfo("1.0.0", "c" * 40, False, 0, "commit")
    packed = package.release_members(info, build_files, "## [1.0.0]\n")
    assert packed["etc/prometheus/rules/ktrdr-alerts.yml"] == b"groups: []\n"
    manifest = json.loads(packed["MANIFEST.json"])
    assert "etc/prometheus/rules/ktrdr-alerts.yml" in [f["path"] for f in manifest["files"]]
    assert manifest["dashboards"] == [
        {"path": "var/lib/grafana/dashboards/d.json", "uid": "u", "title": "T", "panels": 1}
    ]


def test_build_file_without_a_grafana_place_is_an_error():
    provider = b"providers: [{type: file, options: {path: /var/lib/grafana/dashboards}}]\n"
    build_files = {"provisioning/dashboards/p.yaml": provider, "preview/x.png": b"png"}
    expected = re.escape("build/preview/x.png: build file has no place")
    with pytest.raises(DashboardError, match=expected):
        package.grafana_layout(build_files)


def test_gnu_tar_lists_the_same_members(project: Path):
    assert run_release(project) == 0
    tarball = dist_tarball(project)
    listing = subprocess.run(
        ["tar", "-tzf", str(tarball)], capture_output=True, text=True, check=True
    ).stdout.split()
    expected = [
        info.name + ("/" if info.isdir() else "") for info, _ in members(tarball.read_bytes())
    ]
    assert listing == expected
