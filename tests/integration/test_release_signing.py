"""Signed releases: `release --sign KEY` ships an SSH signature beside the tarball, and
`verify`/`install --allowed-signers FILE` accept only a tarball signed by a key trusted there
now: unsigned, re-packed, foreign-signed, expired-key and wrong-namespace tarballs are refused
with one line before anything is read or installed."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from release_support import Member, committed_copy, repack, sha256, write_release

from ktrdr_dashboards import cli
from ktrdr_dashboards.release import signing

PRINCIPAL = "release@ktrdr.example"
DASHBOARD = "var/lib/grafana/dashboards/operations.json"


def make_key(folder: Path, name: str) -> Path:
    key = folder / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True
    )
    return key


def allowed_line(key: Path, options: str = "") -> str:
    extra = f",{options}" if options else ""
    public = key.with_suffix(".pub").read_text()
    return f'{PRINCIPAL} namespaces="{signing.NAMESPACE}"{extra} {public}'


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("keys")
    keys = {name: make_key(folder, name) for name in ("release", "stranger", "next")}
    allowed = folder / "allowed_signers"
    allowed.write_text(allowed_line(keys["release"]))
    keys["allowed"] = allowed
    return keys


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory, keys) -> Path:
    project = committed_copy(tmp_path_factory.mktemp("signed") / "repo")
    out = project / "build"
    argv = ["release", "--root", str(project), "--out", str(out), "--sign", str(keys["release"])]
    assert cli.main(argv) == 0
    (tarball,) = (out / "dist").glob("*.tar.gz")
    return tarball


def run(capsys, *argv: str) -> tuple[int, str, list[str]]:
    capsys.readouterr()
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip().splitlines()


def copy_release(tarball: Path, folder: Path, *, signature: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    suffixes = (".sha256", ".sig") if signature else (".sha256",)
    for suffix in ("", *suffixes):
        shutil.copy2(tarball.with_name(tarball.name + suffix), folder)
    return folder / tarball.name


def sign_with(tarball: Path, key: Path, namespace: str = signing.NAMESPACE) -> None:
    signature = subprocess.run(
        ["ssh-keygen", "-Y", "sign", "-f", str(key), "-n", namespace],
        input=tarball.read_bytes(),
        capture_output=True,
        check=True,
    ).stdout
    signing.signature_path(tarball).write_bytes(signature)


def retitled(tarball: Path, title: str):
    """The release with one dashboard's title changed, its manifest entry updated to match."""
    top = tarball.name.removesuffix(".tar.gz")

    def edit(listed: list[Member]) -> list[Member]:
        files = {info.name: content for info, content in listed}
        model = json.loads(files[f"{top}/{DASHBOARD}"])  # type: ignore[arg-type]
        model["title"] = title
        changed = json.dumps(model, indent=2, sort_keys=True).encode()
        manifest = json.loads(files[f"{top}/MANIFEST.json"])  # type: ignore[arg-type]
        entry = next(f for f in manifest["files"] if f["path"] == DASHBOARD)
        entry.update(size=len(changed), sha256=sha256(changed))
        files[f"{top}/{DASHBOARD}"] = changed
        files[f"{top}/MANIFEST.json"] = json.dumps(manifest).encode()
        return [(info, files[info.name]) for info, _ in listed]

    return repack(tarball.read_bytes(), edit)


def test_release_ships_a_signature_that_ssh_keygen_verifies(signed: Path, keys):
    signature = signing.signature_path(signed)
    assert signature.read_bytes().startswith(b"-----BEGIN SSH SIGNATURE-----")
    # The documented check by hand, without this package.
    by_hand = subprocess.run(
        [
            *("ssh-keygen", "-Y", "verify", "-f", str(keys["allowed"]), "-I", PRINCIPAL),
            *("-n", signing.NAMESPACE, "-s", str(signature)),
        ],
        input=signed.read_bytes(),
        capture_output=True,
    )
    assert by_hand.returncode == 0, by_hand.stderr


def test_signed_release_verifies_and_installs(signed: Path, keys, tmp_path, capsys):
    allowed = ["--allowed-signers", str(keys["allowed"])]
    code, out, errors = run(capsys, "verify", str(signed), *allowed)
    assert (code, errors) == (0, [])
    assert out.rstrip().endswith(f"3 dashboards, signed by {PRINCIPAL}")
    root = tmp_path / "root"
    argv = ["install", str(signed), "--root", str(root), "--allowed-signers", str(keys["allowed"])]
    code, out, errors = run(capsys, *argv)
    assert (code, errors) == (0, [])
    assert (root / DASHBOARD).is_file()


def test_repacked_tarball_with_fresh_checksum_is_refused(signed: Path, keys, tmp_path, capsys):
    """Whoever can replace the tarball can replace its .sha256; the signature still fails."""
    hostile = write_release(tmp_path, signed.name, retitled(signed, "<img src=x onerror=alert(1)>"))
    shutil.copy2(signing.signature_path(signed), signing.signature_path(hostile))
    expected = [
        f"error: {hostile}.sig: signature does not match the tarball "
        "(Signature verification failed: incorrect signature)"
        " — the tarball was changed after signing: do not install it"
    ]
    allowed = ["--allowed-signers", str(keys["allowed"])]
    assert run(capsys, "verify", str(hostile), *allowed)[::2] == (1, expected)
    root = tmp_path / "root"
    assert run(capsys, "install", str(hostile), "--root", str(root), *allowed)[::2] == (1, expected)
    assert not root.exists()


def test_unsigned_tarball_is_refused(signed: Path, keys, tmp_path, capsys):
    tarball = copy_release(signed, tmp_path / "dl", signature=False)
    code, _, errors = run(capsys, "verify", str(tarball), "--allowed-signers", str(keys["allowed"]))
    assert (code, errors) == (
        1,
        [
            f"error: {tarball}.sig: not signed: the signature file is missing — fetch it too;"
            f" only tarballs signed by a key in {keys['allowed']} are accepted"
        ],
    )


def test_tarball_signed_by_an_untrusted_key_is_refused(signed: Path, keys, tmp_path, capsys):
    tarball = copy_release(signed, tmp_path / "dl")
    sign_with(tarball, keys["stranger"])
    code, _, errors = run(capsys, "verify", str(tarball), "--allowed-signers", str(keys["allowed"]))
    assert (code, errors) == (
        1,
        [
            f"error: {tarball}.sig: signed by no key that {keys['allowed']} trusts now"
            " (No principal matched.) — do not install this tarball"
        ],
    )


def test_signature_made_for_another_purpose_is_refused(signed: Path, keys, tmp_path, capsys):
    """A signature by the trusted key in git's namespace (a signed commit, say) is no release."""
    tarball = copy_release(signed, tmp_path / "dl")
    sign_with(tarball, keys["release"], namespace="git")
    code, _, errors = run(capsys, "verify", str(tarball), "--allowed-signers", str(keys["allowed"]))
    assert code == 1 and len(errors) == 1
    assert errors[0].startswith(f"error: {tarball}.sig: ")
    assert "namespace" in errors[0]


def test_key_rotation_with_validity_windows(signed: Path, keys, tmp_path, capsys):
    """The old key retired (valid-before in the past), the next one trusted: a release signed
    with the next key installs, one signed with the retired key no longer does."""
    allowed = tmp_path / "allowed_signers"
    allowed.write_text(
        allowed_line(keys["release"], 'valid-before="20250101"') + allowed_line(keys["next"])
    )
    old = copy_release(signed, tmp_path / "old")
    code, _, errors = run(capsys, "verify", str(old), "--allowed-signers", str(allowed))
    assert code == 1 and len(errors) == 1
    assert f"signed by no key that {allowed} trusts now" in errors[0]
    assert "key has expired" in errors[0]
    new = copy_release(signed, tmp_path / "new")
    sign_with(new, keys["next"])
    code, out, errors = run(capsys, "verify", str(new), "--allowed-signers", str(allowed))
    assert (code, errors) == (0, [])
    assert f"signed by {PRINCIPAL}" in out


def test_a_key_that_cannot_sign_publishes_nothing(keys, tmp_path, capsys):
    project = committed_copy(tmp_path / "repo")
    out = project / "build"
    missing = tmp_path / "no-such-key"
    argv = ["release", "--root", str(project), "--out", str(out), "--sign", str(missing)]
    code, _, errors = run(capsys, *argv)
    assert code == 1 and len(errors) == 1
    assert errors[0].startswith(f"error: {missing}: ssh-keygen could not sign the release (")
    assert not (out / "dist").exists()


def test_missing_ssh_keygen_is_one_clear_line(signed: Path, keys, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    code, _, errors = run(capsys, "verify", str(signed), "--allowed-signers", str(keys["allowed"]))
    assert (code, errors) == (
        1,
        [
            "error: `ssh-keygen` is not installed (not found on PATH)"
            " — install it: apt-get install -y --no-install-recommends openssh-client"
        ],
    )
