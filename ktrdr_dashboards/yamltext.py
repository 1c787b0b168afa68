"""YAML text of JSON data (objects, arrays, strings, numbers, booleans, null), for the
generated files that carry whole dashboards (build/kubernetes/); and `load`, the safe reader
the build uses. Block style, keys in the
order given, no line folding, newline-terminated: the same data gives the same bytes. A
string is plain when it can only read back as that string (YAML 1.1 and 1.2 alike, so
kubectl and PyYAML agree), a literal block (`|`) when it is multi-line text, double-quoted
otherwise. Core: imports nothing of the project.

PyYAML's representer walks every node of a dashboard in Python objects of its own; this
writes the text directly, several times faster (docs/PERFORMANCE.md)."""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping

import yaml

# libyaml's parser where PyYAML has it: many times faster than the pure one.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(text: str | bytes) -> object:
    """`yaml.safe_load`, by libyaml where PyYAML has it. A document that does not parse is
    read again by PyYAML's own parser, so its error (and message) is the one safe_load
    raises."""
    try:
        return yaml.load(text, Loader=_FAST_LOADER)  # a safe loader
    except yaml.YAMLError:
        return yaml.safe_load(text)


# What a YAML reader does not take as it is: control characters, line breaks (YAML 1.1 also
# breaks lines at U+0085, U+2028 and U+2029), surrogates, the byte-order mark, non-characters.
# (Sets are written by what they leave out: such classes compile many times faster.)
_NOT_PRINTABLE_HIGH = "\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff"
_NOT_PRINTABLE = "\x00-\x1f" + _NOT_PRINTABLE_HIGH
# A string that reads back as itself unquoted: a letter or one of _ / $ ( first (never a
# number, date, anchor, tag, quote or other indicator), then printable characters; a space
# never before another space or '#' or at the end, a ':' never before a space or at the end.
_PLAIN = re.compile(f"[A-Za-z_/$(](?:[^{_NOT_PRINTABLE} :]|:(?=[^ ])| (?=[^ #]))*")
# Durations (15s, 1h, 500ms): digits, then a letter no number notation uses there (b, e, o and
# x start binary, exponent, octal and hex numbers), then letters and digits.
_PLAIN_DURATION = re.compile("[0-9]+[ac-df-np-wyzA-DF-NP-WYZ][A-Za-z0-9]*")
# Plain words YAML 1.1 reads as booleans or null.
_NOT_STRINGS = frozenset(
    w
    for word in ("y", "n", "yes", "no", "true", "false", "on", "off", "null")
    for w in (word, word.capitalize(), word.upper())
)
# Multi-line text a literal block keeps exactly: printable, tabs, no line break but '\n'.
_BLOCK_TEXT = re.compile(f"[^\x00-\x08\x0b-\x1f{_NOT_PRINTABLE_HIGH}]*")
# One-line text a single-quoted scalar keeps exactly (quotes doubled).
_SINGLE_QUOTED = re.compile(f"[^{_NOT_PRINTABLE}]*")
# What a double-quoted scalar must escape beyond JSON's escapes (which cover \x00-\x1f).
_UNSAFE_QUOTED = re.compile(f"[{_NOT_PRINTABLE_HIGH}]")
# Longest key written as `key: value`; longer ones are explicit (`? key`), as YAML requires.
_MAX_SIMPLE_KEY = 1000


def _quoted(text: str) -> str:
    quoted = json.dumps(text, ensure_ascii=False)
    return _UNSAFE_QUOTED.sub(lambda m: f"\\u{ord(m.group()):04x}", quoted)


def _string(text: str) -> str:
    """The one-line form of a string: plain, single-quoted, or double-quoted with escapes."""
    if (_PLAIN.fullmatch(text) and text not in _NOT_STRINGS) or _PLAIN_DURATION.fullmatch(text):
        return text
    if _SINGLE_QUOTED.fullmatch(text):
        return "'" + text.replace("'", "''") + "'"
    return _quoted(text)


def _number(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    text = repr(value).lower()
    # YAML 1.1 reads a float only with a '.': 1e-05 is written 1.0e-05.
    return text.replace("e", ".0e", 1) if "." not in text and "e" in text else text


def _block_text(text: str) -> bool:
    if text.isascii():  # the common case, checked in C: nothing but tabs, breaks, printables
        return not text.encode("ascii").translate(None, _ASCII_BLOCK_TEXT)
    return _BLOCK_TEXT.fullmatch(text) is not None


_ASCII_BLOCK_TEXT = b"\t\n" + bytes(range(0x20, 0x7F))


def _block(text: str) -> str | None:
    """`|`, `|-` or `|+` for multi-line text a literal block keeps exactly, else None."""
    if "\n" not in text or not _block_text(text):
        return None
    first = next((line for line in text.split("\n") if line), None)
    if first is None or first[0] in " \t":
        return None  # a block's indentation is read from its first non-empty line
    trailing = len(text) - len(text.rstrip("\n"))
    return "|" if trailing == 1 else "|-" if trailing == 0 else "|+"


class Written(str):
    """What `dumps` wrote for a non-empty mapping, to stand for that mapping as a value in
    another document: it is placed there as it is, indented, which is the text `dumps` would
    write for the mapping itself (a resource carried inside another is written once)."""


@functools.lru_cache(maxsize=8)
def _literal(text: str, indent: str) -> str:
    """A literal block: its indicator, then the lines at `indent`, empty lines left empty.
    Remembered: the resources of one dashboard carry its JSON text more than once."""
    body = text[:-1] if text.endswith("\n") else text
    if "\n\n" in body or body.endswith("\n"):
        lines = "\n".join(indent + line if line else line for line in body.split("\n"))
    else:
        lines = indent + body.replace("\n", "\n" + indent)
    return f"{_block(text) or '|'}\n{lines}\n"


def dumps(document: object) -> str:
    """`document` as one YAML document. Raises TypeError for what JSON cannot hold."""
    scalars: dict[str, str] = {}  # keys and short values repeat: each is rendered once
    out: list[str] = []
    write = out.append

    def inline(value: object) -> str | None:
        """The one-line form of a scalar or an empty collection; None for what takes lines
        (a literal block, a non-empty mapping or sequence)."""
        kind = type(value)
        if kind is str:
            found = scalars.get(value)  # type: ignore[arg-type]
            if found is None:
                if "\n" in value and _block(value):  # type: ignore[operator, arg-type]
                    return None
                found = scalars[value] = _string(value)  # type: ignore[index, arg-type]
            return found
        if kind is dict or kind is list:
            return None if value else "{}" if kind is dict else "[]"
        if kind is int:
            return str(value)
        if value is None:
            return "null"
        if value is True:
            return "true"
        if value is False:
            return "false"
        if kind is float:
            return _number(value)  # type: ignore[arg-type]
        return _other(value)

    def _other(value: object) -> str | None:
        # What JSON holds in types of its own: subclasses, tuples, other mappings.
        if isinstance(value, str):
            return inline(str(value))
        if isinstance(value, Mapping):
            return None if value else "{}"
        if isinstance(value, list | tuple):
            return None if value else "[]"
        if isinstance(value, int):
            return str(int(value))
        if isinstance(value, float):
            return _number(float(value))
        raise TypeError(f"cannot write a {type(value).__name__} as YAML")

    def literal(text: str, indent: str) -> None:
        """After `key: ` or `- `: the block indicator, then the lines at `indent`."""
        write(_literal(text, indent))

    def item(value: object, indent: str, in_sequence: bool) -> None:
        """A value after `key:` or `-` (written) that takes lines of its own, at `indent`."""
        kind = type(value)
        if kind is not dict and kind is not list and isinstance(value, str):
            write(" ")
            literal(value, indent + "  ")
        elif kind is dict or (kind is not list and isinstance(value, Mapping)):
            if in_sequence:
                mapping(value, " ", indent + "  ")
            else:
                write("\n")
                mapping(value, indent + "  ", indent + "  ")
        elif in_sequence:
            sequence(value, " ", indent + "  ")  # type: ignore[arg-type]
        else:
            write("\n")  # a sequence in a mapping is not indented further
            sequence(value, indent, indent)  # type: ignore[arg-type]

    def mapping(value: Mapping, first: str, indent: str) -> None:
        """A non-empty mapping: its first line starts with `first`, the others with `indent`."""
        lead = first
        for key, entry in value.items():
            name = scalars.get(key) if type(key) is str else None
            if name is None:
                if not isinstance(key, str):
                    raise TypeError(f"cannot write a {type(key).__name__} key as YAML")
                if len(key) > _MAX_SIMPLE_KEY:
                    name = f"? {_quoted(key)}\n{indent}"
                else:
                    name = inline(str(key)) or _quoted(key)
            if type(entry) is Written:
                inner = indent + "  "
                lines = entry.split("\n")[:-1]
                write(f"{lead}{name}:\n")
                write("".join(f"{inner}{line}\n" if line else "\n" for line in lines))
            else:
                kind = type(entry)
                if kind is str:  # the common case, without a call
                    text = scalars.get(entry)  # type: ignore[arg-type]
                    if text is None:
                        text = inline(entry)
                elif kind is int:
                    text = str(entry)
                else:
                    text = inline(entry)
                if text is not None:
                    write(f"{lead}{name}: {text}\n")
                else:
                    write(f"{lead}{name}:")
                    item(entry, indent, False)
            lead = indent

    def sequence(value: list | tuple, first: str, indent: str) -> None:
        lead = first
        for entry in value:
            text = inline(entry)
            if text is not None:
                write(f"{lead}- {text}\n")
            else:
                write(f"{lead}-")
                item(entry, indent, True)
            lead = indent

    text = inline(document)
    if text is not None:
        return text + "\n"
    if isinstance(document, str):
        literal(document, "  ")
    elif isinstance(document, Mapping):
        mapping(document, "", "")
    else:
        sequence(document, "", "")  # type: ignore[arg-type]
    return "".join(out)
