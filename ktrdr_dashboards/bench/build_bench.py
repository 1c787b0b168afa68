"""Build speed and memory: compile (and validate) a project's dashboards, each measurement
in a fresh process (probe.py) so one run's memory never counts in another's."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ktrdr_dashboards.bench import generate
from ktrdr_dashboards.errors import DashboardError


@dataclass(frozen=True)
class BuildRun:
    seconds: float  # wall time of the stage
    cpu_seconds: float  # CPU time of the stage: less disturbed by a busy machine
    peak_mb: float  # VmHWM of the whole process (interpreter and imports included)
    dashboards: int


@dataclass(frozen=True)
class BuildFigure:
    label: str  # e.g. "3 dashboards, compile"
    dashboards: int
    stage: str
    runs: tuple[BuildRun, ...]


def probe(root: Path, stage: str) -> BuildRun:
    command = [sys.executable, "-m", "ktrdr_dashboards.bench.probe"]
    run = subprocess.run(
        [*command, f"--root={root}", f"--stage={stage}"],
        capture_output=True,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        lines = (run.stderr or run.stdout).strip().splitlines()
        raise DashboardError(f"bench probe ({stage}, {root}) failed: {lines[-1] if lines else ''}")
    data = json.loads(run.stdout.strip().splitlines()[-1])
    peak_mb = data["peak_kb"] / 1024
    return BuildRun(data["seconds"], data["cpu_seconds"], peak_mb, data["dashboards"])


def measure(root: Path, stage: str, runs: int, label: str) -> BuildFigure:
    results = tuple(probe(root, stage) for _ in range(runs))
    return BuildFigure(label, results[0].dashboards, stage, results)


def measure_build(repo_root: Path, generated: int, runs: int) -> list[BuildFigure]:
    """Baseline (interpreter + imports), then compile and compile+validate of the real
    dashboards and of `generated` dashboards made from them."""
    figures = [measure(repo_root, "baseline", runs, "interpreter + imports only")]
    real = len(list((repo_root / "jsonnet").glob("*.jsonnet")))
    for stage in ("compile", "validate"):
        figures.append(measure(repo_root, stage, runs, f"{real} dashboards, {stage}"))
    with tempfile.TemporaryDirectory(prefix="ktrdr-bench-build-") as tmp:
        root = generate.generate_project(repo_root, Path(tmp), generated)
        for stage in ("compile", "validate"):
            figures.append(measure(root, stage, runs, f"{generated} dashboards, {stage}"))
    return figures
