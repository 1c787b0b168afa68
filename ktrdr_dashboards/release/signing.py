"""Release signatures: SSH signatures (`ssh-keygen -Y`, the scheme git uses for signed commits)
over the tarball's bytes, in a namespace of this project's own so a signature made for
anything else (a commit, a file) never verifies as a release. Trust is an OpenSSH
allowed-signers file: principals, their public keys and optional validity windows."""

from __future__ import annotations

import subprocess
from pathlib import Path

from ktrdr_dashboards import tools
from ktrdr_dashboards.errors import DashboardError, Location

NAMESPACE = "ktrdr-dashboards-release"
SIGNATURE_SUFFIX = ".sig"
# An SSH signature is well under 1 KB; anything much larger is not one.
MAX_SIGNATURE_BYTES = 16 * 1024


def signature_path(tarball: Path) -> Path:
    return tarball.with_name(f"{tarball.name}{SIGNATURE_SUFFIX}")


def _ssh_keygen(args: list[str], data: bytes) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [tools.require("ssh-keygen"), "-Y", *args],
        input=data,
        capture_output=True,
        check=False,
    )


def _said(result: subprocess.CompletedProcess[bytes]) -> str:
    """ssh-keygen's own explanation, on one line."""
    lines = result.stderr.decode("utf-8", errors="replace").splitlines()
    lines = [line.strip() for line in lines if line.strip()]
    lines = [line for line in lines if not line.startswith("Signing data on standard input")]
    return "; ".join(lines) or f"exit status {result.returncode}"


def sign(data: bytes, key: Path) -> bytes:
    """The armored signature of `data` by the private key `key` (or by the agent holding the
    private half of `key` when it is a .pub file)."""
    result = _ssh_keygen(["sign", "-f", str(key), "-n", NAMESPACE], data)
    if result.returncode != 0 or not result.stdout.startswith(b"-----BEGIN SSH SIGNATURE-----"):
        raise DashboardError(
            f"ssh-keygen could not sign the release ({_said(result)})",
            location=Location(file=str(key)),
            fix="pass --sign the private key file (ed25519), or its .pub with the key in ssh-agent",
        )
    return result.stdout


def check(
    tarball: Path, data: bytes, allowed_signers: Path
) -> tuple[str | None, DashboardError | None]:
    """(principal, None) when `data` carries a good signature from a key that `allowed_signers`
    trusts for release signing now; (None, the problem) otherwise."""
    signature = signature_path(tarball)
    where = Location(file=str(signature))
    if not allowed_signers.is_file():
        return None, DashboardError(
            "allowed-signers file not found",
            location=Location(file=str(allowed_signers)),
            fix="pass --allowed-signers an OpenSSH allowed_signers file (docs/releases.md)",
        )
    try:
        size = signature.stat().st_size
    except OSError:
        return None, DashboardError(
            "not signed: the signature file is missing",
            location=where,
            fix=f"fetch it too; only tarballs signed by a key in {allowed_signers} are accepted",
        )
    if size > MAX_SIGNATURE_BYTES:
        return None, DashboardError(f"not an SSH signature ({size:,} bytes)", location=where)
    found = _ssh_keygen(["find-principals", "-s", str(signature), "-f", str(allowed_signers)], b"")
    principals = found.stdout.decode("utf-8", errors="replace").split()
    if found.returncode != 0 or not principals:
        return None, DashboardError(
            f"signed by no key that {allowed_signers} trusts now ({_said(found)})",
            location=where,
            fix="do not install this tarball",
        )
    principal = principals[0]
    verified = _ssh_keygen(
        [
            "verify",
            "-f",
            str(allowed_signers),
            "-I",
            principal,
            "-n",
            NAMESPACE,
            "-s",
            str(signature),
        ],
        data,
    )
    if verified.returncode != 0:
        return None, DashboardError(
            f"signature does not match the tarball ({_said(verified)})",
            location=where,
            fix="the tarball was changed after signing: do not install it",
        )
    return principal, None
