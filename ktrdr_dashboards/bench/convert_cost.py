"""What converting dashboards classic → schema v2 costs: the real dashboards as the build makes
them, converted over and over in this one process (one core), as the build does per dashboard."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

TARGET_SECONDS = 1.0  # for 1000 dashboards on one core
COUNT = 1000


@dataclass(frozen=True)
class ConvertCost:
    dashboards: int
    seconds: tuple[float, ...]  # one figure a run

    @property
    def best(self) -> float:
        return min(self.seconds)


def measure(repo_root: Path, runs: int) -> ConvertCost:
    from ktrdr_dashboards import build, convert

    built = build.evaluate(build.Project(root=repo_root)).dashboards
    models = [(d.model, d.v2_layout) for d in built]
    seconds = []
    for _ in range(max(1, runs)):
        started = time.process_time()  # CPU time of this one thread: one core's work
        for n in range(COUNT):
            model, layout = models[n % len(models)]
            convert.to_v2(model, layout)
        seconds.append(time.process_time() - started)
    return ConvertCost(COUNT, tuple(seconds))


def lines(cost: ConvertCost) -> list[str]:
    verdict = "met" if cost.best <= TARGET_SECONDS else "MISSED"
    runs = ", ".join(f"{s:.2f}" for s in cost.seconds)
    return [
        f"convert: {cost.dashboards} dashboards classic → v2 on one core, CPU s best of "
        f"{len(cost.seconds)} ({runs}): {cost.best:.2f} s (target ≤ {TARGET_SECONDS:g} s)  "
        f"{verdict}"
    ]
