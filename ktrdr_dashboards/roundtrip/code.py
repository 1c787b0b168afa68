"""The Jsonnet the importer writes, as data: literals, calls, sums of terms (`Node`, checked
against the export by one evaluation, the "probe"), and the one function through which every
string of an export reaches the written text (`jsonnet_string`)."""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

from ktrdr_dashboards.errors import DashboardError


@dataclass(frozen=True)
class Lit:
    """A JSON value written as a Jsonnet literal."""

    value: object


@dataclass(frozen=True)
class Call:
    """`function(args)`; an argument is Code, or a raw string such as `h=8`."""

    function: str
    args: tuple[Code, ...] = ()


@dataclass
class Node:
    """An expression `term + term + ...` that must evaluate to `value` (an object of the
    export). `fixes` are the fragments the probe found missing; `kind` says which
    regenerated keys the comparison ignores."""

    terms: list[Code]
    value: object
    kind: str = "item"  # "dashboard" | "panel" | "item"
    fixes: list[str] = field(default_factory=list)
    comment: str = ""


@dataclass(frozen=True)
class Plus:
    """`term + term + ...` that is no node of its own (a v2 layout builder: its value is not
    JSON the probe could compare); the nodes inside it are probed."""

    terms: tuple[Code, ...]


Code = str | Lit | Call | Node | Plus | list


# Characters a string literal spells as `\uXXXX`: every control and format character (NUL,
# C0/C1, bidirectional overrides, U+2028/U+2029 line and paragraph separators), so the text
# written holds nothing an editor, a terminal or a lexer could read as a line break or
# reordering; and everything beyond the BMP, as a surrogate pair (jsonnetfmt misreads some
# raw 4-byte UTF-8 sequences; every engine reads the pair back as the one character).
_ESCAPED = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_UNICODE_ESCAPED = ("Cc", "Cf", "Zl", "Zp", "Cs")


def jsonnet_string(text: str) -> str:
    """A double-quoted Jsonnet string literal that evaluates to exactly `text`. Every string
    that comes from an export is written through this function, never raw."""
    out = ['"']
    for char in text:
        code = ord(char)
        if char in _ESCAPED:
            out.append(_ESCAPED[char])
        elif code > 0xFFFF:
            high, low = divmod(code - 0x10000, 0x400)
            out.append(f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}")
        elif unicodedata.category(char) in _UNICODE_ESCAPED:
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def literal(value: object) -> str:
    """A JSON value as Jsonnet: strings (object keys too) through `jsonnet_string`."""
    if isinstance(value, str):
        return jsonnet_string(value)
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise DashboardError(
                f"the number {value} has no JSON form",
                fix="export the dashboard again; Grafana writes only finite numbers",
            )
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    if isinstance(value, dict):
        items = (f"{jsonnet_string(str(k))}: {literal(v)}" for k, v in value.items())
        return "{" + ", ".join(items) + "}"
    raise TypeError(f"not a JSON value: {value!r}")


def render(code: Code, probe: bool) -> str:
    """Jsonnet text of `code`. A probe writes child nodes as the literal they must equal,
    so every node can be checked on its own in one evaluation."""
    if isinstance(code, str):
        return code
    if isinstance(code, Lit):
        return literal(code.value)
    if isinstance(code, Call):
        args = [render(a, probe) for a in code.args]
        # A v2 layout call whose arguments span lines gets one line per argument, so that
        # jsonnetfmt indents the nested layout by its depth, not by the call's width.
        spread = code.function.startswith("v2.") and any("\n" in a for a in args)
        if spread and not (len(args) == 1 and isinstance(code.args[0], list)):
            return f"{code.function}(\n" + ",\n".join(args) + "\n)"
        return f"{code.function}({', '.join(args)})"
    if isinstance(code, Plus):
        return "\n+ ".join(render(t, probe) for t in code.terms)
    if isinstance(code, Node):
        if probe:
            return literal(code.value)
        text = "\n+ ".join([render(t, probe) for t in code.terms] + code.fixes)
        return f"// {code.comment}\n{text}" if code.comment else text
    if isinstance(code, list):
        if not code:
            return "[]"
        return "[\n" + ",\n".join(render(item, probe) for item in code) + ",\n]"
    raise TypeError(f"not code: {code!r}")


def nodes_in(code: Code) -> Iterator[Node]:
    """Every node, children before their parent."""
    if isinstance(code, Call):
        for arg in code.args:
            yield from nodes_in(arg)
    elif isinstance(code, Plus):
        for term in code.terms:
            yield from nodes_in(term)
    elif isinstance(code, list):
        for item in code:
            yield from nodes_in(item)
    elif isinstance(code, Node):
        for term in code.terms:
            yield from nodes_in(term)
        yield code
