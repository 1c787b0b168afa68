"""Shared by every tier: the repo, a once-per-session compile of the real dashboards, and
the tier markers (unit, integration, browser) given by folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ktrdr_dashboards import build, modes

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def built() -> build.BuildOutput:
    """The real sources, compiled once (not written anywhere)."""
    return build.evaluate(build.Project(root=REPO_ROOT))


@pytest.fixture(scope="session")
def dashboards(built: build.BuildOutput) -> dict[str, dict]:
    """uid -> dashboard model."""
    return {d.uid: d.model for d in built.dashboards}


@pytest.fixture(scope="session")
def recording_rules(built: build.BuildOutput) -> str:
    """The recording rules YAML the default build writes and its dashboards read."""
    return built.files[modes.RECORDING_RULES]


@pytest.fixture(scope="session")
def query_modes(built: build.BuildOutput, tmp_path_factory) -> dict[str, modes.Mode]:
    """The dashboards in both query modes: the default build and the other mode of the switch,
    by name (recorded, raw)."""
    own = modes.mode_of(built)
    folder = tmp_path_factory.mktemp("other-mode")
    other_project = modes.switched(build.Project(root=REPO_ROOT), folder, own.name == modes.RAW)
    other = modes.mode_of(build.evaluate(other_project))
    return {own.name: own, other.name: other}


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A throwaway copy of the sources a test may break."""
    root = tmp_path / "repo"
    for name in ("jsonnet", "lib", "provisioning"):
        shutil.copytree(REPO_ROOT / name, root / name)
    for name in ("pyproject.toml",):
        shutil.copy2(REPO_ROOT / name, root / name)
    return root


TIERS = ("unit", "integration", "browser")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Each test gets the marker of its tier folder (`-m unit` runs tests/unit) unless it
    names another tier itself; a test module outside the tier folders is a usage error."""
    tests = Path(__file__).resolve().parent
    for item in items:
        try:
            tier = item.path.resolve().relative_to(tests).parts[0]
        except ValueError:
            continue  # a test file named on the command line from elsewhere
        if tier not in TIERS:
            raise pytest.UsageError(
                f"{item.path}: a test module belongs in tests/unit, tests/integration or "
                "tests/browser (the folder gives its tier marker)"
            )
        if not any(item.get_closest_marker(name) for name in TIERS):
            item.add_marker(getattr(pytest.mark, tier))
