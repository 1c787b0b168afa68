"""Build speed and memory per Jsonnet engine: compile (and validate) a project's dashboards,
and the whole `python -m ktrdr_dashboards build` process. Every measurement runs in a fresh
process (probe.py, or the CLI itself) with its engine chosen through KTRDR_JSONNET_ENGINE, so
one run's memory never counts in another's and every engine does the same work. Memory is the
peak of that process's whole tree, its pool workers included (memory.py), promtool apart."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ktrdr_dashboards import jsonnet
from ktrdr_dashboards.bench import generate, memory
from ktrdr_dashboards.errors import DashboardError
from ktrdr_dashboards.jsonnet.engines import load

# One run each from this many dashboards up: a figure there is seconds to minutes per engine.
ONE_RUN_FROM = 1000
BUILD_STAGE = "build"  # the whole CLI process, not a probe stage
WHOLE_BUILD = "`python -m ktrdr_dashboards build`"


@dataclass(frozen=True)
class BuildRun:
    seconds: float  # wall time of the stage
    cpu_seconds: float  # CPU time of the stage and its child processes: less noisy than wall
    peak_mb: float  # peak resident memory of the process tree: the process and every process
    # it started (pool workers), summed at its worst moment; interpreter and imports included
    dashboards: int
    main_mb: float  # the measured process alone (its VmHWM)
    processes: int  # processes the tree had, tools excluded
    tools_mb: dict[str, float]  # promtool, prometheus: each counted apart


def _from_tree(seconds: float, cpu: float, tree: memory.TreePeak, dashboards: int) -> BuildRun:
    tools = {name: kb / 1024 for name, kb in sorted(tree.tools_kb.items())}
    return BuildRun(
        seconds, cpu, tree.peak_kb / 1024, dashboards, tree.root_kb / 1024, tree.processes, tools
    )


@dataclass(frozen=True)
class BuildFigure:
    label: str  # e.g. "3 dashboards compiled"
    dashboards: int
    stage: str  # baseline, compile, validate (probe.py) or build (the whole CLI process)
    engine: str  # "" for the baseline, which loads no engine
    runs: tuple[BuildRun, ...]


def _environment(engine: str) -> dict[str, str]:
    environment = dict(os.environ)
    if engine:
        environment[jsonnet.ENGINE_ENV] = engine
    return environment


def probe(root: Path, stage: str, engine: str, workers: int | None = None) -> BuildRun:
    """One probe.py stage in a fresh process, its tree sampled. `workers`: the compile stage's
    pool size (default: the machine's cores)."""
    command = [sys.executable, "-m", "ktrdr_dashboards.bench.probe", f"--root={root}"]
    command += [f"--stage={stage}", *([f"--workers={workers}"] if workers else [])]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_environment(engine),
    )
    with memory.TreeSampler(process.pid) as sampler:
        out, errors = process.communicate()
    if process.returncode != 0:
        lines = (errors or out).strip().splitlines()
        last = lines[-1] if lines else ""
        raise DashboardError(f"bench probe ({stage}, {engine or 'no engine'}, {root}): {last}")
    data = json.loads(out.strip().splitlines()[-1])
    if engine and data["engine"] != engine:
        raise DashboardError(f"bench probe ran on {data['engine']!r}, not on {engine!r}")
    return _from_tree(data["seconds"], data["cpu_seconds"], sampler.result, data["dashboards"])


def whole_build(root: Path, engine: str) -> BuildRun:
    """`python -m ktrdr_dashboards build` into a scratch folder: wall time from start to exit,
    CPU time from the process's rusage (which covers the processes it waited for: pool workers,
    promtool), memory from its tree, sampled."""
    real = len(list((root / "jsonnet").glob("*.jsonnet")))
    with tempfile.TemporaryDirectory(prefix="ktrdr-bench-out-") as out:
        command = [sys.executable, "-m", "ktrdr_dashboards", "build", "--root", str(root)]
        started = time.perf_counter()
        process = subprocess.Popen(
            [*command, "--out", out],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=_environment(engine),
        )
        with memory.TreeSampler(process.pid) as sampler:
            _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        errors = process.stderr.read().decode(errors="replace") if process.stderr else ""
        if process.stderr:
            process.stderr.close()
    if process.returncode != 0:
        lines = errors.strip().splitlines()
        raise DashboardError(f"bench build ({engine}, {root}): {lines[-1] if lines else ''}")
    cpu = usage.ru_utime + usage.ru_stime
    return _from_tree(seconds, cpu, sampler.result, real)


def measure(root: Path, stage: str, engine: str, runs: int, label: str) -> BuildFigure:
    once = (lambda: whole_build(root, engine)) if stage == BUILD_STAGE else None
    results = tuple(once() if once else probe(root, stage, engine) for _ in range(runs))
    return BuildFigure(label, results[0].dashboards, stage, engine, results)


def missing_engines(engines: Sequence[str]) -> dict[str, str]:
    """Engine name -> the one line saying how to install it, for engines that do not load."""
    missing = {}
    for name in engines:
        try:
            load(name)
        except jsonnet.EngineMissingError as error:
            missing[name] = str(error)
    return missing


def measure_engines(
    repo_root: Path,
    engines: Sequence[str],
    generated: Sequence[int],
    runs: int,
    print_progress=None,
) -> list[BuildFigure]:
    """For every engine, the same work: the real dashboards, then each generated size, compiled,
    compiled + validated, and built by the CLI; plus one baseline (interpreter and imports, no
    engine). Generated sizes of ONE_RUN_FROM and up run once."""

    def figure(root: Path, stage: str, engine: str, n: int, label: str) -> BuildFigure:
        if print_progress:
            print_progress(f"  measuring {label} on {engine or 'no engine'}")
        return measure(root, stage, engine, runs if n < ONE_RUN_FROM else 1, label)

    real = len(list((repo_root / "jsonnet").glob("*.jsonnet")))
    figures = [figure(repo_root, "baseline", "", 0, "interpreter + imports only")]
    work = [
        (repo_root, "compile", real, f"{real} dashboards compiled"),
        (repo_root, "validate", real, f"{real} compiled + validated"),
        (repo_root, BUILD_STAGE, real, f"{real}: {WHOLE_BUILD}"),
    ]
    with tempfile.TemporaryDirectory(prefix="ktrdr-bench-build-") as tmp:
        for n in generated:
            root = generate.generate_project(repo_root, Path(tmp) / str(n), n)
            work.append((root, "compile", n, f"{n} dashboards compiled"))
            work.append((root, "validate", n, f"{n} compiled + validated"))
            work.append((root, BUILD_STAGE, n, f"{n}: {WHOLE_BUILD}"))
        for root, stage, n, label in work:
            for engine in engines:
                figures.append(figure(root, stage, engine, n, label))
    return figures
