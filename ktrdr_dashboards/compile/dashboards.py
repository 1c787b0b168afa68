"""Compile Jsonnet dashboard sources to Grafana dashboard models through the engine seam."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson

from ktrdr_dashboards import jsonnet
from ktrdr_dashboards.errors import DashboardError, Location, shown

# Below this many dashboards one evaluation is fastest (the library is loaded once); from it
# on, the work is split over the machine's cores, each worker evaluating chunk after chunk.
PARALLEL_FROM = 48
# A chunk is evaluated in one Jsonnet run, which reads the library once: the fewer chunks, the
# less is repeated; the smaller, the less memory a worker holds and the shorter the wait for
# the last one. Chunks are cut by source size, the compile's cost: at most this many bytes of
# sources (about 40 dashboards of the size of ours), and at least two chunks for each worker.
CHUNK_BYTES = 128 * 1024
CHUNKS_PER_WORKER = 2


@dataclass(frozen=True)
class CompiledDashboard:
    """One dashboard source and the model it evaluated to."""

    name: str  # file stem, e.g. "system-overview"; the output is build/dashboards/<name>.json
    source: Path
    model: dict
    # The schema v2 layout the source declares in its hidden `v2Layout` field (tabs, auto
    # grid, ...: docs/grafana-versions.md), None when the classic model says it all.
    v2_layout: dict | None = None

    @property
    def uid(self) -> str:
        return str(self.model.get("uid", ""))


def find_sources(source_dir: Path) -> list[Path]:
    """Every dashboard source: `*.jsonnet` directly in `source_dir`, sorted for stable output."""
    return sorted(source_dir.glob("*.jsonnet"))


# A source's value with its hidden v2 layout beside it: hidden fields are not manifested, so
# the program that imports the sources reads it out. `std.objectHasAll` sees hidden fields on
# every engine.
_WITH_LAYOUT = (
    "(function(d) [d, if std.isObject(d) && std.objectHasAll(d, 'v2Layout') "
    "then d.v2Layout else null])"
)


def _checked(source: Path, value: object) -> CompiledDashboard:
    model, layout = value if isinstance(value, list) and len(value) == 2 else (value, None)
    if not isinstance(model, dict):
        raise DashboardError(
            f"evaluates to a {type(model).__name__}, not one dashboard object",
            location=Location(file=shown(source)),
            fix="make the file's last expression a g.dashboard.new(...) object",
        )
    if layout is not None and not isinstance(layout, dict):
        raise DashboardError(
            f"its hidden v2Layout is a {type(layout).__name__}, not a v2 layout object",
            location=Location(file=shown(source), dashboard=str(model.get("uid", ""))),
            fix="build v2Layout with lib/v2.libsonnet (docs/grafana-versions.md)",
        )
    return CompiledDashboard(name=source.stem, source=source, model=model, v2_layout=layout)


def _bundle(sources: Sequence[Path]) -> str:
    """One Jsonnet expression whose value is every source's [value, hidden v2 layout], by
    index."""
    imports = "".join(f"  f(import {json.dumps(str(s.resolve()))}),\n" for s in sources)
    return f"local f = {_WITH_LAYOUT};\n[\n{imports}]\n"


def compile_file(
    source: Path, library: jsonnet.LibraryPath, engine: str | None = None
) -> CompiledDashboard:
    """Evaluate one dashboard source. Raises DashboardError naming file:line:column."""
    name = source.parent / f"<{source.name}>"
    program = f"{_WITH_LAYOUT}(import {json.dumps(str(source.resolve()))})\n"
    try:
        value = jsonnet.evaluate_snippet(name, program, library, engine=engine)
    except DashboardError:
        # Evaluated as the entry file, the error is reported at the source's own position.
        value = jsonnet.evaluate_file(source, library, engine=engine)
    return _checked(source, value)


def compile_beside(
    sources: Sequence[Path], beside: str, library: jsonnet.LibraryPath, engine: str | None
) -> tuple[list[CompiledDashboard], object]:
    """`compile_chunk`, and the value of the Jsonnet expression `beside` (e.g. an import of the
    config the dashboards read) from the same evaluation, where it costs next to nothing. A
    failure is the first source's that fails, else `beside`'s."""
    name = sources[0].parent / "<dashboards>.jsonnet" if sources else Path("<beside>.jsonnet")
    program = f"{{beside: {beside}, dashboards: {_bundle(sources)}}}"
    try:
        value = jsonnet.evaluate_snippet(name, program, library, engine=engine)
    except DashboardError:
        compiled = [compile_file(source, library, engine) for source in sources]
        return compiled, jsonnet.evaluate_snippet(name, beside, library, engine=engine)
    assert isinstance(value, dict)
    models = value["dashboards"]
    return [_checked(s, m) for s, m in zip(sources, models, strict=True)], value["beside"]


def compile_chunk(
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


def chunks(sources: Sequence[Path], workers: int) -> list[list[Path]]:
    """Consecutive runs of `sources` of about equal cost (their size in bytes): at least
    CHUNKS_PER_WORKER for each worker, none of much more than CHUNK_BYTES."""
    sizes = [max(source.stat().st_size, 1) for source in sources]
    count = max(workers * CHUNKS_PER_WORKER, -(-sum(sizes) // CHUNK_BYTES))
    target = sum(sizes) / count
    found: list[list[Path]] = [[]]
    cost = 0
    for source, size in zip(sources, sizes, strict=True):
        if found[-1] and cost + size / 2 > target:
            found.append([])
            cost = 0
        found[-1].append(source)
        cost += size
    return found


def compile_all(
    sources: Iterable[Path],
    library: jsonnet.LibraryPath,
    engine: str | None = None,
    workers: int | None = None,
) -> list[CompiledDashboard]:
    """Every source, in order. Many sources are compiled chunk by chunk (`chunks`) over a
    process pool (`workers`, default: the machine's cores)."""
    sources = list(sources)
    if not sources:
        return []
    engine = engine or jsonnet.selected()
    workers = workers or os.cpu_count() or 1
    if len(sources) < PARALLEL_FROM or workers == 1:
        return compile_chunk(sources, library, engine)
    runs = chunks(sources, workers)
    # Spawned, not forked: a fork copies go-jsonnet's runtime without its threads and hangs.
    import multiprocessing  # loaded only by a compile that has a pool
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(runs)), mp_context=context) as pool:
        futures = [pool.submit(compile_chunk, run, library, engine) for run in runs]
        # In order: the first failure among the chunks is the first a single run would meet.
        return [dashboard for future in futures for dashboard in future.result()]


def render_json(model: object) -> str:
    """The one serialization of every JSON file we write: pretty, key-sorted, newline-terminated,
    so the same sources give byte-identical output. orjson writes it (a dashboard in a small
    fraction of the json module's time); what orjson refuses (integers beyond 64 bits, nesting
    deeper than 255) the json module writes in the same layout."""
    try:
        return orjson.dumps(model, option=_PRETTY).decode("utf-8") + "\n"
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(model, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


_PRETTY = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
