"""One build measurement in a fresh process (`python -m ktrdr_dashboards.bench.probe`), on the
engine KTRDR_JSONNET_ENGINE names, so that the bench can sample this process's tree (memory.py)
for it alone. Prints one JSON line: engine, seconds (wall), cpu_seconds, dashboards."""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

STAGES = ("baseline", "compile", "validate")


def cpu_seconds() -> float:
    """CPU time of this process and of the processes it has waited for: the compile step's
    pool workers and promtool do the stage's work too."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def measure(root: Path, stage: str, workers: int | None = None) -> dict:
    """baseline: the imports only; compile: every source through the engine in use (over a
    pool of `workers` from compile.dashboards.PARALLEL_FROM sources; default: one per core);
    validate: what `build` does but write (build_pool.run: compile, make the files, judge)."""
    # Imports, the engine's binding among them, come before the clock: they are the same for
    # any number of dashboards (the whole-process build figure counts them).
    from ktrdr_dashboards import build, build_pool, jsonnet
    from ktrdr_dashboards.compile import dashboards as jsonnet_compile

    engine = ""
    if stage != "baseline":
        engine = jsonnet.selected()
        jsonnet.engines.load(engine)

    project = build.Project(root=root)
    started, started_cpu = time.perf_counter(), cpu_seconds()
    dashboards = 0
    if stage == "compile":
        sources = jsonnet_compile.find_sources(project.jsonnet_dir)
        compiled = jsonnet_compile.compile_all(sources, project.library(), workers=workers)
        dashboards = len(compiled)
    elif stage == "validate":
        # What `build` runs before it writes: workers compile and judge, the parent concludes.
        result = build_pool.run(project)
        dashboards = len(result.dashboards)
        findings = result.findings
        if findings:
            raise SystemExit(f"validation found {len(findings)} problems: {findings[0].line()}")
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - started_cpu
    return {
        "engine": engine,
        "seconds": seconds,
        "cpu_seconds": cpu,
        "dashboards": dashboards,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--stage", choices=STAGES, required=True)
    parser.add_argument("--workers", type=int, help="the compile stage's pool size")
    args = parser.parse_args()
    print(json.dumps(measure(Path(args.root), args.stage, args.workers)))


if __name__ == "__main__":
    main()
