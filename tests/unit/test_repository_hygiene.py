"""The repository holds the project's own files only: folders that tools recreate (npm's
node_modules, jsonnet-bundler's vendor, nox's virtualenvs, build output, Python caches) are
never tracked by git."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import PurePosixPath

import pytest

# Folder names that package managers, nox, pytest and the build recreate from the sources.
GENERATED_FOLDERS = {
    "node_modules",
    "vendor",
    ".nox",
    ".venv",
    "build",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".hypothesis",
}


def tracked_files(repo_root) -> list[str]:
    git = shutil.which("git")
    if git is None:
        pytest.fail(
            "git is not installed: this test reads `git ls-files` — "
            "install it with: apt-get install -y --no-install-recommends git"
        )
    run = subprocess.run(
        [git, "-C", str(repo_root), "ls-files", "-z"], capture_output=True, text=True, check=False
    )
    if run.returncode != 0:
        pytest.fail(f"`git ls-files` failed in {repo_root}: {run.stderr.strip()}")
    return [name for name in run.stdout.split("\0") if name]


def generated_folder_of(name: str) -> str | None:
    """The generated folder a tracked path lies in, if any (`preview/node_modules`)."""
    path = PurePosixPath(name)
    for index, part in enumerate(path.parts[:-1]):
        if part in GENERATED_FOLDERS or part.endswith(".egg-info"):
            return str(PurePosixPath(*path.parts[: index + 1]))
    return None


def test_the_helper_finds_a_generated_folder_at_any_depth():
    assert generated_folder_of("preview/node_modules/react/index.js") == "preview/node_modules"
    assert generated_folder_of("vendor/github.com/grafana/grafonnet/main.libsonnet") == "vendor"
    assert generated_folder_of("ktrdr_dashboards/__pycache__/cli.cpython-311.pyc") == (
        "ktrdr_dashboards/__pycache__"
    )
    assert generated_folder_of("ktrdr_dashboards.egg-info/PKG-INFO") == "ktrdr_dashboards.egg-info"
    assert generated_folder_of("ktrdr_dashboards/build.py") is None
    assert generated_folder_of("docs/vendor.md") is None


def test_git_tracks_no_generated_or_vendored_folder(repo_root):
    files = tracked_files(repo_root)
    assert files, f"`git ls-files` lists nothing in {repo_root}"
    folders: dict[str, int] = {}
    for name in files:
        folder = generated_folder_of(name)
        if folder is not None:
            folders[folder] = folders.get(folder, 0) + 1
    assert folders == {}, (
        "git tracks folders that tools recreate: "
        + ", ".join(f"{folder}/ ({count} files)" for folder, count in sorted(folders.items()))
        + " — untrack them with `git rm -r --cached <folder>` (.gitignore lists them)"
    )
