"""Evaluate Jsonnet on the selected engine with one import resolver for every engine.

Every engine gets the same import callback, so all search the same folders in the same order
(the engines' own `jpathdir` orders differ: go and C++ let the last folder win, rjsonnet the
first) and no import reaches a file outside the folders the caller allows."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ktrdr_dashboards.errors import DashboardError, Location, shown
from ktrdr_dashboards.jsonnet import engines

# A position in any engine's trace: `file:line:col`, `file:line:col-col` or `file:(l:c)-(l:c)`.
_POSITION = re.compile(r"(?P<file>[^\s:()]+):\(?(?P<line>\d+):(?P<col>\d+)")
_PREFIXES = re.compile(
    r"^(STATIC ERROR: |RUNTIME ERROR: |runtime error: |syntax error: )|"
    r"(couldn't open import \"[^\"]*\": |importer error: |import_callback error: \w+: )"
)


class JsonnetError(DashboardError):
    """Evaluation failed: the message names file:line:column on every engine."""


class ImportRefused(Exception):
    """An import that resolves outside the allowed folders, or to nothing."""


@dataclass(frozen=True)
class LibraryPath:
    """Where imports are searched and where they may land.

    `search`: folders tried in this order after the importing file's own folder; the first
    match wins. `allowed`: further folders an import may resolve into (the search folders are
    always allowed). What counts is the real path after `..` and symlinks, not the spelling."""

    search: tuple[Path, ...] = ()
    allowed: tuple[Path, ...] = ()

    def roots(self) -> tuple[Path, ...]:
        return tuple(dict.fromkeys(p.resolve() for p in (*self.search, *self.allowed)))


@dataclass
class _Resolver:
    """The import callback of one evaluation (it caches what it read: go-jsonnet asks again
    for a file imported twice)."""

    library: LibraryPath
    text: bool
    roots: tuple[Path, ...] = ()
    cache: dict[str, tuple[str, bytes | str]] = field(default_factory=dict)
    # The last refusal in words: go-jsonnet's binding garbles a callback's message.
    refused: str | None = None

    def __post_init__(self) -> None:
        self.roots = self.library.roots()

    def _allowed(self, real: Path) -> bool:
        return any(real == root or root in real.parents for root in self.roots)

    def __call__(self, directory: str, name: str) -> tuple[str, bytes | str]:
        key = f"{directory}\0{name}"
        if key in self.cache:
            return self.cache[key]
        if os.path.isabs(name):
            candidates = [Path(name)]
        else:
            here = Path(directory) if directory not in ("", ".") else Path.cwd()
            candidates = [here / name, *(folder / name for folder in self.library.search)]
        for candidate in candidates:
            if not candidate.is_file():
                continue
            real = candidate.resolve()
            if not self._allowed(real):
                self.refused = (
                    f'import "{name}" resolves to {real}, outside the folders Jsonnet may read '
                    "(jsonnet/, lib/, vendor/ and --jpath folders)"
                )
                raise ImportRefused(self.refused)
            data = real.read_bytes()
            found = (os.path.normpath(candidate), data.decode("utf-8") if self.text else data)
            self.cache[key] = found
            return found
        self.refused = (
            f'import "{name}" not found next to the importing file or on the library path'
        )
        raise ImportRefused(self.refused)


def has_position(raw: str) -> bool:
    return _POSITION.search(raw) is not None


def one_line(entry: str, raw: str, message: str | None = None) -> JsonnetError:
    """Any engine's multi-line error as one line: file:line:column (the innermost position in
    the trace; the entry file beside it when that position is in a library) and the message."""
    lines = [line.strip() for line in raw.strip().splitlines() if line.strip()]
    headline = lines[0] if lines else "Jsonnet evaluation failed"
    where = None
    for line in lines:
        where = _POSITION.search(line)
        if where:
            break
    if message is None:
        message, previous = headline, None
        while previous != message:
            previous, message = message, _PREFIXES.sub("", message, count=1)
            if where and message.startswith(where.group(0)):
                message = message[len(where.group(0)) :].lstrip("0123456789-():. ")
    file = shown(entry)
    if where:
        position = f"{shown(where.group('file'))}:{where.group('line')}:{where.group('col')}"
        same = os.path.normpath(where.group("file")) == os.path.normpath(entry)
        file = position if same else f"{file} ({position})"
    return JsonnetError(
        message or headline,
        location=Location(file=file),
        fix="fix the Jsonnet source; nothing was written",
    )


def _evaluate(
    entry: str,
    snippet: str | None,
    library: LibraryPath,
    tla_codes: Mapping[str, str] | None,
    ext_codes: Mapping[str, str] | None,
    engine: str | None,
    again: bool = True,
) -> str:
    name = engine or engines.selected()
    binding = engines.load(name)
    resolver = _Resolver(library, engines.ENGINES[name].text_imports)
    options: dict = {"import_callback": resolver}
    if tla_codes:
        options["tla_codes"] = dict(tla_codes)
    if ext_codes:
        options["ext_codes"] = dict(ext_codes)
    try:
        if snippet is None:
            return binding.evaluate_file(entry, **options)
        return binding.evaluate_snippet(entry, snippet, **options)
    except RuntimeError as error:
        raw = str(error)
    except UnicodeDecodeError:
        raw = ""  # go-jsonnet's binding can garble the text of an import callback's error
    # Where an engine's error has no position, another engine evaluates the same program to
    # say where: rjsonnet leaves it out of some runtime errors (a missing field, for one) and
    # places a failed import where its value is used rather than at the import; go-jsonnet's
    # binding can garble an import callback's error, so the C++ binding reports those.
    retry = None
    if not has_position(raw) or (resolver.refused and name == "rs"):
        retry = "cpp" if name == "go" or resolver.refused else "go"
    if again and retry in engines.available():
        return _evaluate(entry, snippet, library, tla_codes, ext_codes, retry, again=False)
    raise one_line(entry, raw, resolver.refused)


def evaluate_file(
    path: Path,
    library: LibraryPath,
    *,
    tla_codes: Mapping[str, str] | None = None,
    ext_codes: Mapping[str, str] | None = None,
    engine: str | None = None,
) -> object:
    """The JSON value of a Jsonnet file. Raises JsonnetError (file:line:column) on failure."""
    text = _evaluate(str(path.absolute()), None, library, tla_codes, ext_codes, engine)
    return json.loads(text)


def evaluate_snippet(
    name: str | Path,
    snippet: str,
    library: LibraryPath,
    *,
    tla_codes: Mapping[str, str] | None = None,
    ext_codes: Mapping[str, str] | None = None,
    engine: str | None = None,
) -> object:
    """The JSON value of Jsonnet text the project generated; `name` stands for its file in
    errors, and relative imports resolve from its folder."""
    text = _evaluate(str(name), snippet, library, tla_codes, ext_codes, engine)
    return json.loads(text)
