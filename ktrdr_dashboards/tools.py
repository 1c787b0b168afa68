"""External programs the project runs, found on PATH; a missing one is a clear error that
says how to install it, never a silent skip."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from ktrdr_dashboards.errors import ToolMissingError

__all__ = ["ToolMissingError", "jsonnet_files", "require", "run"]

# program -> Debian package that provides it (the same pairs as .ci/debian-packages), for the
# one line that names the install.
DEBIAN_PACKAGES = {
    "promtool": "prometheus",
    "prometheus": "prometheus",
    "jsonnetfmt": "jsonnet",
    "jsonnet": "jsonnet",
    "chromium": "chromium",
    "ssh-keygen": "openssh-client",
}


def require(program: str) -> str:
    """Absolute path of `program`, or ToolMissingError naming the install command."""
    found = shutil.which(program)
    if found:
        return found
    package = DEBIAN_PACKAGES.get(program, program)
    raise ToolMissingError(
        f"`{program}` is not installed (not found on PATH)",
        fix=f"install it: apt-get install -y --no-install-recommends {package}",
    )


def run(program: str, args: Sequence[str], **kwargs) -> subprocess.CompletedProcess[str]:
    """Run a required program with text I/O, capturing output; never raises on exit status."""
    return subprocess.run(
        [require(program), *args], capture_output=True, text=True, check=False, **kwargs
    )


def jsonnet_files(paths: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files += sorted([*path.rglob("*.jsonnet"), *path.rglob("*.libsonnet")])
        else:
            files.append(path)
    return files
