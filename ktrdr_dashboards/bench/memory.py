"""Peak resident memory of a process tree, sampled from /proc (Linux): the measured process and
every process it starts — the compile step's pool workers, multiprocessing's resource tracker —
summed at each sample, so a figure is what the machine held for the run at its worst moment,
not what one process held. Programs named in TOOLS (promtool, prometheus) are counted apart, by
name: what they hold is theirs, and the tables name them beside the tree."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from ktrdr_dashboards.errors import DashboardError

PROC = Path("/proc")
INTERVAL_S = 0.02
TOOLS = ("promtool", "prometheus")


@dataclass(frozen=True)
class Status:
    name: str  # the program (the kernel's 15-character comm)
    rss_kb: int  # resident now (VmRSS)
    hwm_kb: int  # the most it has held so far (VmHWM)


def status(pid: int) -> Status | None:
    """A live process's name and memory; None once it is gone or has exited (a zombie holds
    no memory and reports none)."""
    try:
        text = (PROC / str(pid) / "status").read_text()
    except OSError:
        return None
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    if "VmRSS" not in fields or "VmHWM" not in fields:
        return None
    kb = lambda key: int(fields[key].split()[0])  # noqa: E731
    return Status(fields["Name"].strip(), kb("VmRSS"), kb("VmHWM"))


def _parent(pid: int) -> int | None:
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # The command name in parentheses may hold spaces and parentheses: the fields after the
    # last ")" are the state, then the parent's pid.
    return int(text.rsplit(")", 1)[1].split()[1])


@dataclass
class TreePeak:
    """The most a process tree held, as sampled."""

    peak_kb: int = 0  # the tree but the tools, summed at one sample: its worst moment
    root_kb: int = 0  # the measured process alone (its VmHWM)
    processes: int = 0  # processes of the tree seen, tools excluded
    tools_kb: dict[str, int] = field(default_factory=dict)  # tool -> most held at one sample
    samples: int = 0


class TreeSampler:
    """Samples the tree under `root` every `interval_s` on a thread, from `start` to `stop`
    (or as a context manager). At each sample a process counts with the most it held since
    the previous one as far as /proc tells: its VmHWM when that rose (so a peak between two
    samples is not lost), else the larger of its last two VmRSS readings."""

    def __init__(self, root: int, interval_s: float = INTERVAL_S):
        if not (PROC / "self" / "status").exists():
            raise DashboardError("the bench samples memory from /proc, which only Linux has")
        self.root, self.interval_s = root, interval_s
        self.result = TreePeak()
        self._parents: dict[int, int | None] = {}
        self._last: dict[int, Status] = {}
        self._seen: set[int] = set()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tree-sampler", daemon=True)

    def _tree(self) -> list[int]:
        pids = [int(name) for name in os.listdir(PROC) if name.isdigit()]
        # A process's parent is read once; forgetting those that are gone keeps a reused pid
        # from inheriting its old parent.
        self._parents = {
            pid: self._parents[pid] if pid in self._parents else _parent(pid) for pid in pids
        }
        children: dict[int | None, list[int]] = {}
        for pid, parent in self._parents.items():
            children.setdefault(parent, []).append(pid)
        tree, todo = [], [self.root]
        while todo:
            pid = todo.pop()
            tree.append(pid)
            todo.extend(children.get(pid, []))
        return tree

    def sample(self) -> None:
        now = {pid: found for pid in self._tree() if (found := status(pid)) is not None}
        tree_kb, tools_kb = 0, dict.fromkeys(TOOLS, 0)
        for pid, current in now.items():
            before = self._last.get(pid)
            if before is None or current.hwm_kb > before.hwm_kb:
                held = current.hwm_kb
            else:
                held = max(current.rss_kb, before.rss_kb)
            if current.name in TOOLS:
                tools_kb[current.name] += held
            else:
                tree_kb += held
                self._seen.add(pid)
        result = self.result
        if self.root in now:
            result.root_kb = max(result.root_kb, now[self.root].hwm_kb)
        result.peak_kb = max(result.peak_kb, tree_kb)
        for name, kb in tools_kb.items():
            if kb:
                result.tools_kb[name] = max(result.tools_kb.get(name, 0), kb)
        result.processes = len(self._seen)
        result.samples += 1
        self._last = now

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stopped.wait(self.interval_s):
                return

    def start(self) -> TreeSampler:
        self._thread.start()
        return self

    def stop(self) -> TreePeak:
        """Stop sampling and return the figures."""
        self._stopped.set()
        self._thread.join()
        return self.result

    def __enter__(self) -> TreeSampler:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
