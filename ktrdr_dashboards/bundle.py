"""Evaluate many Jsonnet files in one pass of the C++ binding by bundling them into one
snippet: every imported file becomes a top-level `local`, so each is parsed and evaluated
once for all dashboards.

Why: libjsonnet wraps *every* file it loads (the main file and each import) in its own copy
of the standard library, lexing, parsing and desugaring std.jsonnet again each time — about
20-30 ms and 3-4 MB per file, more than evaluating our whole library. A dashboard imports 8
library files, so three dashboards evaluated one by one load std 27 times; bundled, once.

Each file keeps its semantics: it is hoisted whole, in parentheses, to the top of the bundle
(so `$` and its own locals still mean what they mean in the file), and imports resolve the way
libjsonnet resolves them (the importing file's folder, then the library paths right-most
first). Positions in errors point into the bundle, so callers re-evaluate a failing file on
its own to report it (compile.compile_all does)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

_KEYWORDS = ("importstr", "importbin", "import")


class BundleError(Exception):
    """A file cannot be bundled (missing import, unsupported construct); compile per file."""


def _string_end(text: str, start: int) -> int:
    """Index just past the string literal starting at `start` (', ", @', @", |||)."""
    if text.startswith("|||", start):
        end = text.find("\n|||", start + 3)
        # A text block ends at a line holding only whitespace and |||; our search is enough
        # to skip it, as ||| can appear nowhere else inside one.
        end = text.find("|||", start + 3) if end < 0 else end + 1
        if end < 0:
            raise BundleError("unterminated text block")
        return end + 3
    verbatim = text[start] == "@"
    quote = text[start + 1] if verbatim else text[start]
    i = start + (2 if verbatim else 1)
    while i < len(text):
        char = text[i]
        if verbatim and char == quote:
            if text.startswith(quote * 2, i):
                i += 2
                continue
            return i + 1
        if not verbatim and char == "\\":
            i += 2
            continue
        if char == quote:
            return i + 1
        i += 1
    raise BundleError("unterminated string")


def _decode_string(literal: str) -> str:
    if literal.startswith("@") or literal.startswith("|||"):
        raise BundleError("import of a verbatim or block string")
    body = literal[1:-1]
    if literal[0] == "'":
        body = body.replace('\\"', '"').replace("\\'", "'").replace('"', '\\"')
    return json.loads(f'"{body}"')


def imports(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, keyword, path) of every import expression in code: comments and strings
    are skipped, so an `import` written in a comment is left alone."""
    found: list[tuple[int, int, str, str]] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "#" or text.startswith("//", i):
            newline = text.find("\n", i)
            i = n if newline < 0 else newline + 1
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            i = n if close < 0 else close + 2
        elif char in "'\"" or text.startswith("|||", i) or text.startswith(("@'", '@"'), i):
            i = _string_end(text, i)
        elif char.isalpha() or char == "_":
            j = i
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            word = text[i:j]
            if word in _KEYWORDS:
                k = j
                while k < n and text[k] in " \t\r\n":
                    k += 1
                if k >= n or text[k] not in "'\"@|":
                    raise BundleError(f"{word} of a computed path")
                end = _string_end(text, k)
                found.append((i, end, word, _decode_string(text[k:end])))
                i = end
            else:
                i = j
        else:
            i += 1
    return found


def resolve(path: str, importer: Path, jpath: Sequence[str]) -> Path:
    """The file libjsonnet loads for `import path` in `importer`: the importer's folder
    first, then the library paths right-most first."""
    for folder in [importer.parent, *[Path(p) for p in reversed(jpath)]]:
        candidate = folder / path
        if candidate.is_file():
            return candidate
    raise BundleError(f"{importer}: cannot find import {path!r}")


class _Bundler:
    def __init__(self, jpath: Sequence[str]):
        self.jpath = jpath
        self.names: dict[tuple[Path, str], str] = {}  # (file, keyword) -> local name
        self.locals: list[str] = []  # `local name = (...);` in dependency order
        self.count = 0

    def add(self, file: Path, keyword: str = "import") -> str:
        file = file.resolve()
        key = (file, keyword)
        if key in self.names:
            return self.names[key]
        if keyword != "import":  # importstr/importbin: the content as a value
            raw = file.read_bytes()
            value = (
                json.dumps(raw.decode("utf-8")) if keyword == "importstr" else json.dumps(list(raw))
            )
            name = self._name(key)
            self.locals.append(f"local {name} = {value};")
            return name
        self.names[key] = ""  # in progress: an import cycle is left to libjsonnet
        text = file.read_text(encoding="utf-8")
        pieces: list[str] = []
        last = 0
        for start, end, word, path in imports(text):
            target = self.add(resolve(path, file, self.jpath), word)
            if not target:
                raise BundleError(f"{file}: import cycle through {path!r}")
            pieces += [text[last:start], target]
            last = end
        pieces.append(text[last:])
        del self.names[key]
        name = self._name(key)
        # The newline before `)`: a file may end in a line comment.
        self.locals.append(f"local {name} = (\n{''.join(pieces)}\n);")
        return name

    def _name(self, key: tuple[Path, str]) -> str:
        self.count += 1
        name = f"__bundled_{self.count}"
        self.names[key] = name
        return name


def bundle(sources: Sequence[Path], jpath: Sequence[str]) -> tuple[str, list[str]]:
    """One snippet evaluating to {"0": <first source>, "1": ...}; also the keys in order."""
    bundler = _Bundler(jpath)
    keys: list[str] = []
    fields: list[str] = []
    for index, source in enumerate(sources):
        fields.append(f'"{index}": {bundler.add(source)}')
        keys.append(str(index))
    return "\n".join([*bundler.locals, "{", ",\n".join(fields), "}"]), keys


# Sources per evaluation. One bundle of 100 dashboards runs fewer instructions than 13 of 8,
# but takes ~1.7x the time: libjsonnet's garbage collector marks the whole live heap, which
# grows with every dashboard held until the end (docs/PERFORMANCE.md).
BATCH = 8


def evaluate_bundled(sources: Sequence[Path], jpath: Sequence[str]) -> list[object] | None:
    """Every source's value, in order, from one evaluation per BATCH sources; None when the
    sources cannot be bundled or a bundle fails to evaluate (the caller then evaluates file by
    file, which reports the error against the file that has it)."""
    import _jsonnet  # the C++ binding; imported here so the lexer above stays testable alone

    values: list[object] = []
    for start in range(0, len(sources), BATCH):
        try:
            text, keys = bundle(sources[start : start + BATCH], jpath)
            result = json.loads(_jsonnet.evaluate_snippet("<bundle>", text, jpathdir=list(jpath)))
        except (BundleError, RuntimeError, OSError, UnicodeDecodeError):
            return None
        values += [result[key] for key in keys]
    return values
