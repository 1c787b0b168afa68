"""Compile Jsonnet dashboard sources to Grafana dashboard models with the `jsonnet` bindings."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import _jsonnet

from ktrdr_dashboards import bundle
from ktrdr_dashboards.errors import DashboardError, Location

# `file:line:col` or `file:(line:col)-(line:col)` as the jsonnet library prints positions.
_POSITION = re.compile(r"(?P<file>[^\s:]+\.(?:jsonnet|libsonnet|json)):\(?(?P<line>\d+):")


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


def library_paths(repo_root: Path, extra: Sequence[Path] = ()) -> list[str]:
    """Import search path for the bindings. libjsonnet searches its list right-most first, so
    the project's `lib/` goes first and the user's `--jpath` folders after it in reverse: the
    first `--jpath` given wins (how a vendored upstream `g.libsonnet` replaces ours)."""
    return [str(repo_root / "lib")] + [str(path) for path in reversed(extra)]


def _shown(path: str | Path) -> str:
    """A path as the user typed it: relative to the working folder when it is inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _one_line(source: Path, raw: str) -> DashboardError:
    """Turn the multi-line jsonnet error into one line: where it happened and what it says."""
    lines = [line.strip() for line in raw.strip().splitlines() if line.strip()]
    headline = lines[0] if lines else "jsonnet evaluation failed"
    message = re.sub(r"^(STATIC|RUNTIME) ERROR: ", "", headline)
    where = _POSITION.search(headline) or next(
        (m for m in map(_POSITION.search, lines[1:]) if m), None
    )
    if where and message.startswith(where.group(0)):
        message = message[len(where.group(0)) :].lstrip("0123456789-():. ")
    file = _shown(source)
    if where:
        position = f"{_shown(where.group('file'))}:{where.group('line')}"
        file = position if Path(where.group("file")) == source else f"{file} ({position})"
    return DashboardError(
        message or headline,
        location=Location(file=file),
        fix="fix the Jsonnet source; nothing was written",
    )


def compile_file(source: Path, jpath: Sequence[str]) -> CompiledDashboard:
    """Evaluate one dashboard source. Raises DashboardError naming file:line on any error."""
    try:
        text = _jsonnet.evaluate_file(str(source), jpathdir=list(jpath))
    except RuntimeError as error:
        raise _one_line(source, str(error)) from None
    model = json.loads(text)
    if not isinstance(model, dict):
        raise DashboardError(
            f"evaluates to a {type(model).__name__}, not one dashboard object",
            location=Location(file=_shown(source)),
            fix="make the file's last expression a g.dashboard.new(...) object",
        )
    return CompiledDashboard(name=source.stem, source=source, model=model)


def compile_all(sources: Iterable[Path], jpath: Sequence[str]) -> list[CompiledDashboard]:
    sources = list(sources)
    # Fast path (issue #7, bundle.py): all sources in one evaluation, so the library files
    # they share are loaded once instead of once per dashboard. Any failure falls back to
    # file by file, which reports the error against its file.
    models = bundle.evaluate_bundled(sources, jpath) if len(sources) > 1 else None
    if models is not None and all(isinstance(model, dict) for model in models):
        return [
            CompiledDashboard(name=source.stem, source=source, model=model)
            for source, model in zip(sources, models, strict=True)
        ]
    return [compile_file(source, jpath) for source in sources]


def render_json(model: object) -> str:
    """The one serialization of every JSON file we write: pretty, key-sorted, newline-terminated,
    so the same sources give byte-identical output."""
    return json.dumps(model, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
