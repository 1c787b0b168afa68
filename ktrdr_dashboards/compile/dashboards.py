"""Compile Jsonnet dashboard sources to Grafana dashboard models through the engine seam."""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ktrdr_dashboards import jsonnet
from ktrdr_dashboards.errors import DashboardError, Location, shown

# Below this many dashboards one evaluation is fastest (the library is loaded once); above it
# the work is split over the machine's cores, each worker evaluating one chunk.
PARALLEL_FROM = 48


@dataclass(frozen=True)
class CompiledDashboard:
    """One dashboard source and the model it evaluated to."""

    name: str  # file stem, e.g. "system-overview"; the output is build/dashboards/<name>.json
    source: Path
    model: dict

    @property
    def uid(self) -> str:
        return str(self.model.get("uid", ""))


def find_sources(source_dir: Path) -> list[Path]:
    """Every dashboard source: `*.jsonnet` directly in `source_dir`, sorted for stable output."""
    return sorted(source_dir.glob("*.jsonnet"))


def _checked(source: Path, model: object) -> CompiledDashboard:
    if not isinstance(model, dict):
        raise DashboardError(
            f"evaluates to a {type(model).__name__}, not one dashboard object",
            location=Location(file=shown(source)),
            fix="make the file's last expression a g.dashboard.new(...) object",
        )
    return CompiledDashboard(name=source.stem, source=source, model=model)


def compile_file(
    source: Path, library: jsonnet.LibraryPath, engine: str | None = None
) -> CompiledDashboard:
    """Evaluate one dashboard source. Raises DashboardError naming file:line:column."""
    return _checked(source, jsonnet.evaluate_file(source, library, engine=engine))


def _bundle(sources: Sequence[Path]) -> str:
    """One Jsonnet program whose value is every source's value, by index."""
    imports = "".join(f"  import {json.dumps(str(s.resolve()))},\n" for s in sources)
    return f"[\n{imports}]\n"


def _compile_chunk(
    sources: Sequence[Path], library: jsonnet.LibraryPath, engine: str | None
) -> list[CompiledDashboard]:
    """All sources in one evaluation, so the library they share is read once. A failure is
    reported against its own file: the sources are then evaluated one by one."""
    if len(sources) == 1:
        return [compile_file(sources[0], library, engine)]
    name = sources[0].parent / "<dashboards>.jsonnet"
    try:
        models = jsonnet.evaluate_snippet(name, _bundle(sources), library, engine=engine)
    except DashboardError:
        return [compile_file(source, library, engine) for source in sources]
    return [_checked(s, m) for s, m in zip(sources, models, strict=True)]  # type: ignore[arg-type]


def compile_all(
    sources: Iterable[Path],
    library: jsonnet.LibraryPath,
    engine: str | None = None,
    workers: int | None = None,
) -> list[CompiledDashboard]:
    """Every source, in order. Many sources are split over a process pool (`workers`,
    default: the machine's cores)."""
    sources = list(sources)
    if not sources:
        return []
    engine = engine or jsonnet.selected()
    workers = workers or os.cpu_count() or 1
    if len(sources) < PARALLEL_FROM or workers == 1:
        return _compile_chunk(sources, library, engine)
    size = -(-len(sources) // workers)
    chunks = [sources[i : i + size] for i in range(0, len(sources), size)]
    # Spawned, not forked: a fork copies go-jsonnet's runtime without its threads and hangs.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=len(chunks), mp_context=context) as pool:
        results = pool.map(_compile_chunk, chunks, [library] * len(chunks), [engine] * len(chunks))
        return [dashboard for chunk in results for dashboard in chunk]


def render_json(model: object) -> str:
    """The one serialization of every JSON file we write: pretty, key-sorted, newline-terminated,
    so the same sources give byte-identical output."""
    return json.dumps(model, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
