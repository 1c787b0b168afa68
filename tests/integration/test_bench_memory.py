"""The bench's memory figure counts the whole process tree: a pooled compile, measured by the
bench, is watched at the same time by a sampler of this test's own (another way through /proc:
each process's children, from its threads' `children` files), and the figure the bench reports
is at least what that sampler saw the largest pool worker hold at its peak (its VmHWM) plus
what the measured process held at that moment. A figure of one process, as ru_maxrss gives,
falls short of it. No times are asserted."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path

from ktrdr_dashboards import jsonnet
from ktrdr_dashboards.bench import build_bench, generate
from ktrdr_dashboards.compile import dashboards as jsonnet_compile

PROC = Path("/proc")
WORKERS = 2
# How the compile step's pool starts its workers (spawn): the command line they run.
WORKER_MARK = "spawn_main"
PROBE_MARK = "ktrdr_dashboards.bench.probe"


def _children(pid: int) -> list[int]:
    found = []
    try:
        tasks = list((PROC / str(pid) / "task").iterdir())
    except OSError:
        return []
    for task in tasks:
        try:
            found += [int(n) for n in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _memory_kb(pid: int) -> tuple[int, int] | None:
    """(VmRSS, VmHWM) of a live process."""
    try:
        lines = (PROC / str(pid) / "status").read_text().splitlines()
    except OSError:
        return None
    values = {k: int(v.split()[0]) for k, _, v in (x.partition(":") for x in lines) if k in
              ("VmRSS", "VmHWM")}  # fmt: skip
    return (values["VmRSS"], values["VmHWM"]) if len(values) == 2 else None


def _command(pid: int) -> str:
    try:
        return (PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@dataclass
class Watch:
    """What the test's sampler saw: per sample, pid -> (VmRSS, VmHWM); each pid's command
    line as last read."""

    samples: list[dict[int, tuple[int, int]]] = field(default_factory=list)
    commands: dict[int, str] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        me = os.getpid()
        while not self.stop.is_set():
            seen, todo = {}, _children(me)
            while todo:
                pid = todo.pop()
                todo += _children(pid)
                held = _memory_kb(pid)
                if held:
                    seen[pid] = held
                    # Read again each time: a child shows its parent's command until it execs.
                    self.commands[pid] = _command(pid) or self.commands.get(pid, "")
            self.samples.append(seen)
            self.stop.wait(0.005)

    def pids(self, mark: str) -> list[int]:
        return [pid for pid, command in self.commands.items() if mark in command]


def test_the_reported_peak_counts_the_pool_workers_with_the_parent(
    repo_root: Path, tmp_path: Path
) -> None:
    root = generate.generate_project(repo_root, tmp_path / "pooled", jsonnet_compile.PARALLEL_FROM)
    watch = Watch()
    sampler = threading.Thread(target=watch.run)
    sampler.start()
    try:
        run = build_bench.probe(root, "compile", jsonnet.DEFAULT_ENGINE, workers=WORKERS)
    finally:
        watch.stop.set()
        sampler.join()

    assert run.dashboards == jsonnet_compile.PARALLEL_FROM
    (parent,) = watch.pids(PROBE_MARK)
    workers = watch.pids(WORKER_MARK)
    assert len(workers) == WORKERS, f"the compile did not run over a pool: {watch.commands}"
    # The largest worker's own peak, and the first sample that saw it.
    peaks = {w: max(s[w][1] for s in watch.samples if w in s) for w in workers}
    largest = max(peaks, key=peaks.__getitem__)
    moment = next(s for s in watch.samples if largest in s and s[largest][1] == peaks[largest])
    assert parent in moment, "the measured process was gone before its worker peaked"
    floor_kb = peaks[largest] + moment[parent][0]
    assert run.peak_mb * 1024 >= floor_kb, (
        f"reported {run.peak_mb:.1f} MB; the largest worker held {peaks[largest] / 1024:.1f} MB "
        f"while the process held {moment[parent][0] / 1024:.1f} MB"
    )
    assert run.main_mb < run.peak_mb
    assert run.processes >= 1 + WORKERS
