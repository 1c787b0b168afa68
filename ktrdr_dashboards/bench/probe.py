"""One build measurement in a fresh process (`python -m ktrdr_dashboards.bench.probe`), so
its peak memory (VmHWM) is its own. Prints one JSON line: seconds, peak_kb (this process),
child_peak_kb (largest program it ran, e.g. promtool), dashboards."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

STAGES = ("baseline", "compile", "validate")


def peak_kb() -> int:
    """The process's peak resident set (VmHWM) in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    import resource  # not Linux: ru_maxrss is KiB on Linux, bytes on macOS

    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def measure(root: Path, stage: str) -> dict:
    """baseline: the imports only; compile: every source through the jsonnet binding;
    validate: the build's evaluate (compile, render, provisioning) plus the validator."""
    # Imports come before the clock: they are the same for any number of dashboards.
    import resource

    from ktrdr_dashboards import build
    from ktrdr_dashboards import compile as jsonnet_compile
    from ktrdr_dashboards import validate

    project = build.Project(root=root)
    started = time.perf_counter()
    dashboards = 0
    if stage == "compile":
        sources = jsonnet_compile.find_sources(project.jsonnet_dir)
        dashboards = len(jsonnet_compile.compile_all(sources, project.library_paths()))
    elif stage == "validate":
        output = build.evaluate(project)
        dashboards = len(output.dashboards)
        findings = validate.check_project(project, output)
        if findings:
            raise SystemExit(f"validation found {len(findings)} problems: {findings[0].line()}")
    seconds = time.perf_counter() - started
    children = int(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return {
        "seconds": seconds,
        "peak_kb": peak_kb(),
        "child_peak_kb": children,
        "dashboards": dashboards,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", required=True)
    parser.add_argument("--stage", choices=STAGES, required=True)
    args = parser.parse_args()
    print(json.dumps(measure(Path(args.root), args.stage)))


if __name__ == "__main__":
    main()
