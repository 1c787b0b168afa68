"""`install TARBALL --root DIR` and `install --rollback --root DIR`: files land where the
provisioning config says Grafana reads them; upgrades keep the previous release; rollback
restores it; a failed install changes nothing."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml
from release_support import commit_all, committed_copy, members, set_version, tree_digest

from ktrdr_dashboards import cli
from ktrdr_dashboards.release import journal, package

STATE = "var/lib/ktrdr-dashboards"


@pytest.fixture(scope="module")
def releases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """0.1.0: the current sources; 0.2.0: one more dashboard and a changed datasources file."""
    project = committed_copy(tmp_path_factory.mktemp("install") / "repo")
    out = project / "build"
    release = ["release", "--root", str(project), "--out", str(out)]
    assert cli.main(release) == 0
    (project / "jsonnet" / "extra.jsonnet").write_text(
        "(import 'operations.jsonnet') + { uid: 'ktrdr-extra', title: 'KTRDR Extra' }\n"
    )
    datasources = project / "provisioning/datasources/ktrdr.yaml"
    datasources.write_text(datasources.read_text() + "# 0.2.0\n")
    set_version(project, "0.2.0")
    commit_all(project, "0.2.0")
    assert cli.main(release) == 0
    dist = out / "dist"
    return {v: dist / f"ktrdr-dashboards-{v}.tar.gz" for v in ("0.1.0", "0.2.0")}


def run_install(capsys, root: Path, *args: str) -> tuple[int, str, list[str]]:
    capsys.readouterr()
    code = cli.main(["install", *args, "--root", str(root)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip().splitlines()


def release_files(tarball: Path) -> dict[str, bytes]:
    """Installable files of a release, relative to `/`."""
    top = tarball.name.removesuffix(".tar.gz")
    files = {
        info.name.removeprefix(f"{top}/"): content
        for info, content in members(tarball.read_bytes())
        if info.isfile()
    }
    return {p: c for p, c in files.items() if p not in package.METADATA_NAMES}  # type: ignore[misc]


def grafana_view(root: Path) -> dict[str, str]:
    """What Grafana would read under root: everything but the installer's own state."""
    return {k: v for k, v in tree_digest(root).items() if not k.startswith(STATE)}


def test_install_puts_files_where_the_provisioning_config_says(releases, tmp_path, capsys):
    root = tmp_path / "grafana-root"
    code, out, errors = run_install(capsys, root, str(releases["0.1.0"]))
    assert (code, errors) == (0, [])
    assert "installed 0.1.0 under" in out
    provider_file = root / "etc/grafana/provisioning/dashboards/ktrdr.yaml"
    (provider,) = yaml.safe_load(provider_file.read_text())["providers"]
    assert provider["folder"] == "KTRDR"
    dashboards_dir = root / provider["options"]["path"].lstrip("/")
    expected = release_files(releases["0.1.0"])
    installed_dashboards = {p.name: p.read_bytes() for p in dashboards_dir.iterdir()}
    assert installed_dashboards == {
        Path(p).name: c for p, c in expected.items() if p.endswith(".json")
    }
    assert len(installed_dashboards) == 3
    datasources = root / "etc/grafana/provisioning/datasources/ktrdr.yaml"
    assert datasources.read_bytes() == expected["etc/grafana/provisioning/datasources/ktrdr.yaml"]
    for path in expected:
        assert (root / path).stat().st_mode & 0o777 == 0o644
    # Nothing else appears in Grafana's folders: no temp files, no release metadata.
    assert sorted(p for p in grafana_view(root) if grafana_view(root)[p] != "dir") == sorted(
        expected
    )


def test_upgrade_then_rollback_restores_the_previous_release(releases, tmp_path, capsys):
    root = tmp_path / "root"
    assert run_install(capsys, root, str(releases["0.1.0"]))[0] == 0
    first = grafana_view(root)
    code, out, _ = run_install(capsys, root, str(releases["0.2.0"]))
    assert code == 0 and "installed 0.2.0" in out and "replacing 0.1.0" in out
    extra = root / "var/lib/grafana/dashboards/extra.json"
    assert extra.is_file()
    assert grafana_view(root) != first

    code, out, errors = run_install(capsys, root, "--rollback")
    assert (code, errors) == (0, [])
    assert f"rolled back from 0.2.0 to 0.1.0 under {root}" in out
    assert not extra.exists()
    assert grafana_view(root) == first

    # The release rolled back from is kept: a second rollback returns to it.
    assert run_install(capsys, root, "--rollback")[0] == 0
    assert (
        extra.read_bytes()
        == release_files(releases["0.2.0"])["var/lib/grafana/dashboards/extra.json"]
    )


def test_files_the_release_does_not_own_are_left_alone(releases, tmp_path, capsys):
    root = tmp_path / "root"
    other_provider = root / "etc/grafana/provisioning/dashboards/team.yaml"
    own_dashboard = root / "var/lib/grafana/dashboards/team.json"
    database = root / "var/lib/grafana/grafana.db"
    for path, text in ((other_provider, "a"), (own_dashboard, "{}"), (database, "db")):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for args in ([str(releases["0.1.0"])], [str(releases["0.2.0"])], ["--rollback"]):
        assert run_install(capsys, root, *args)[0] == 0
    assert (other_provider.read_text(), own_dashboard.read_text(), database.read_text()) == (
        "a",
        "{}",
        "db",
    )


def test_rollback_without_a_previous_release_is_refused(releases, tmp_path, capsys):
    root = tmp_path / "root"
    assert run_install(capsys, root, str(releases["0.1.0"]))[0] == 0
    before = tree_digest(root)
    code, _, errors = run_install(capsys, root, "--rollback")
    assert code == 1
    assert errors == [
        f"error: {root / STATE}: no previous release to roll back to"
        " — a rollback needs two installs under this --root"
    ]
    assert tree_digest(root) == before


def test_tampered_tarball_is_not_installed_and_nothing_changes(releases, tmp_path, capsys):
    root = tmp_path / "root"
    assert run_install(capsys, root, str(releases["0.1.0"]))[0] == 0
    before = tree_digest(root)
    bad = tmp_path / "dl" / releases["0.2.0"].name
    bad.parent.mkdir()
    data = bytearray(releases["0.2.0"].read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    checksum = releases["0.2.0"].with_name(f"{releases['0.2.0'].name}.sha256")
    bad.with_name(checksum.name).write_bytes(checksum.read_bytes())
    code, out, errors = run_install(capsys, root, str(bad))
    assert code == 1 and out == ""
    assert errors[0] == (
        f"error: {bad}.sha256: sha256 of the tarball does not match: it was changed or corrupted"
    )
    assert tree_digest(root) == before


def test_failure_part_way_through_changes_nothing(releases, tmp_path, capsys, monkeypatch):
    root = tmp_path / "root"
    assert run_install(capsys, root, str(releases["0.1.0"]))[0] == 0
    before = tree_digest(root)
    real_replace = os.replace
    calls = {"n": 0}

    def fail_third_rename(source, destination):
        # Counted in Grafana's folders only: the state folder's own files do not count.
        if STATE not in str(destination):
            calls["n"] += 1
            if calls["n"] == 3:
                raise PermissionError(13, "Permission denied", str(destination))
        real_replace(source, destination)

    monkeypatch.setattr(journal.os, "replace", fail_third_rename)
    code, _, errors = run_install(capsys, root, str(releases["0.2.0"]))
    assert code == 1
    assert len(errors) == 1
    assert "install failed (Permission denied); nothing was changed" in errors[0]
    assert calls["n"] > 3  # the two files already renamed in were put back
    assert tree_digest(root) == before


def test_failure_on_a_fresh_root_leaves_it_empty(releases, tmp_path, capsys, monkeypatch):
    root = tmp_path / "root"
    root.mkdir()
    real_write_aside = package.write_aside
    calls = {"n": 0}

    def disk_full_on_second_file(folder, name, data):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device", str(folder / name))
        return real_write_aside(folder, name, data)

    monkeypatch.setattr(package, "write_aside", disk_full_on_second_file)
    code, _, errors = run_install(capsys, root, str(releases["0.1.0"]))
    assert code == 1
    assert len(errors) == 1 and "No space left on device" in errors[0]
    assert list(root.iterdir()) == []


def test_installing_the_installed_release_again_is_a_no_op(releases, tmp_path, capsys):
    root = tmp_path / "root"
    for version in ("0.1.0", "0.2.0"):
        assert run_install(capsys, root, str(releases[version]))[0] == 0
    before = tree_digest(root)
    code, out, _ = run_install(capsys, root, str(releases["0.2.0"]))
    assert code == 0 and "unchanged 0.2.0" in out
    assert tree_digest(root) == before
    # ... and it did not push 0.1.0 out of `previous`.
    assert "to 0.1.0" in run_install(capsys, root, "--rollback")[1]


def test_reinstall_repairs_an_edited_file_without_touching_previous(releases, tmp_path, capsys):
    root = tmp_path / "root"
    assert run_install(capsys, root, str(releases["0.1.0"]))[0] == 0
    dashboard = root / "var/lib/grafana/dashboards/operations.json"
    original = dashboard.read_bytes()
    dashboard.write_text("{}")
    code, out, _ = run_install(capsys, root, str(releases["0.1.0"]))
    assert code == 0 and "repaired 0.1.0" in out
    assert dashboard.read_bytes() == original
    assert run_install(capsys, root, "--rollback")[0] == 1


def test_rollback_refuses_a_damaged_kept_copy(releases, tmp_path, capsys):
    root = tmp_path / "root"
    for version in ("0.1.0", "0.2.0"):
        assert run_install(capsys, root, str(releases[version]))[0] == 0
    kept = root / STATE / "previous/var/lib/grafana/dashboards/operations.json"
    kept.write_text("{}")
    before = tree_digest(root)
    code, _, errors = run_install(capsys, root, "--rollback")
    assert code == 1
    assert errors == [
        f"error: {kept}: kept copy is missing or changed; cannot restore from it"
        " — reinstall a release tarball with `install TARBALL --root DIR`"
    ]
    assert tree_digest(root) == before


def test_manual_tar_command_in_install_note_matches_install(releases, tmp_path, capsys):
    tarball = releases["0.1.0"]
    top = tarball.name.removesuffix(".tar.gz")
    note = next(
        c for i, c in members(tarball.read_bytes()) if i.name == f"{top}/INSTALL.md"
    ).decode()
    command = f"tar -xzf {tarball.name} --strip-components=1 -C / {top}/etc {top}/usr {top}/var"
    assert command in note
    by_hand = tmp_path / "by-hand"
    by_hand.mkdir()
    argv = command.replace(" / ", f" {by_hand} ").replace(tarball.name, str(tarball), 1)
    subprocess.run(argv.split(), check=True)
    installed = tmp_path / "installed"
    assert run_install(capsys, installed, str(tarball))[0] == 0
    assert grafana_view(by_hand) == grafana_view(installed)
