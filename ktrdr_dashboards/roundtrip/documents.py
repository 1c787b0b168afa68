"""An untrusted file as one JSON value: JSON or YAML, told apart by content (a JSON document
starts with `{` or `[`), never by file name.

Both are bounded before and while they are parsed: at most `MAX_BYTES`, nested at most
`MAX_DEPTH` levels, integers within ±2^53, strings valid Unicode. JSON is strict (no
NaN/Infinity). YAML is read event by event from the parser, so nothing of it is ever
constructed as an object of Python: anchors, aliases and tags are refused at the first one
(an alias "bomb" is refused before it can expand), a stream holds one document, keys are
unique scalars, and plain scalars are read as the YAML 1.2 core schema reads them (null,
booleans, numbers; everything else text)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import yaml

from ktrdr_dashboards.errors import DashboardError, Location

# Far above any real dashboard (Grafana's own are well under 1 MiB and 20 levels deep): these
# keep a crafted file from exhausting memory or the interpreter's recursion.
MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
MAX_INTEGER = 2**53  # JavaScript's, so Grafana's, largest exact integer

AGAIN = "export the dashboard again (Export → Export as code; on Grafana 11 Share → Export)"

_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_START = re.compile(r"[ \t\r\n]*[{\[]")


def read(path: Path) -> object:
    """The value of an untrusted JSON or YAML file; anything unusable is one DashboardError
    naming the file."""
    where = Location(file=str(path))
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except OSError as error:
        raise DashboardError(
            f"cannot read: {error.strerror}",
            location=where,
            fix="pass the path of a dashboard JSON or YAML file",
        ) from None
    if len(raw) > MAX_BYTES:
        raise DashboardError(
            f"larger than {MAX_BYTES // (1024 * 1024)} MiB; no dashboard is",
            location=where,
            fix="pass a dashboard JSON or YAML file",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise DashboardError(
            f"not UTF-8 text (byte {error.start})", location=where, fix=AGAIN
        ) from None
    text = text.removeprefix("\ufeff")  # a byte order mark some editors write
    value = _json(text, path) if _JSON_START.match(text) else _yaml(text, path)
    problem = shape_problem(value)
    if problem:
        raise DashboardError(problem, location=where, fix=AGAIN)
    return value


# ---------------------------------------------------------------- JSON


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is too large for a JSON number")
    return number


def _json(text: str, path: Path) -> object:
    where = Location(file=str(path))
    try:
        return json.loads(text, parse_constant=_no_constant, parse_float=_finite)
    except json.JSONDecodeError as error:
        raise DashboardError(
            f"not JSON: {error.msg} at line {error.lineno}",
            location=Location(file=f"{path}:{error.lineno}"),
            fix=AGAIN,
        ) from None
    except ValueError as error:
        raise DashboardError(f"not JSON: {error}", location=where, fix=AGAIN) from None
    except RecursionError:
        raise DashboardError(
            f"nested deeper than {MAX_DEPTH} levels; no dashboard is", location=where, fix=AGAIN
        ) from None


# ---------------------------------------------------------------- YAML

# The parser only (no composer, no constructor): libyaml's where PyYAML has it.
_Parser = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# YAML 1.2 core schema, the plain scalars that are not text.
_NULL = re.compile(r"(?:~|null|Null|NULL|)")
_TRUE = re.compile(r"(?:true|True|TRUE)")
_FALSE = re.compile(r"(?:false|False|FALSE)")
_DECIMAL = re.compile(r"[-+]?[0-9]+")
_OCTAL = re.compile(r"0o[0-7]+")
_HEX = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_NOT_A_NUMBER = re.compile(r"[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)")


class _Refused(Exception):
    """A YAML construct this reader does not accept; the message says which."""

    def __init__(self, message: str, mark: object):
        super().__init__(message)
        self.line = getattr(mark, "line", -1) + 1


def _scalar(event: yaml.ScalarEvent) -> object:
    value = event.value
    if event.style:  # quoted, literal or folded: always text
        return value
    if _NULL.fullmatch(value):
        return None
    if _TRUE.fullmatch(value):
        return True
    if _FALSE.fullmatch(value):
        return False
    if _DECIMAL.fullmatch(value):
        return int(value)
    if _OCTAL.fullmatch(value):
        return int(value[2:], 8)
    if _HEX.fullmatch(value):
        return int(value[2:], 16)
    if _FLOAT.fullmatch(value):
        number = float(value)
        if not math.isfinite(number):
            raise _Refused(f"the number {value} is too large for JSON", event.start_mark)
        return number
    if _NOT_A_NUMBER.fullmatch(value):
        raise _Refused(f"{value} is not a JSON number", event.start_mark)
    return value


def _checked(event: yaml.Event) -> yaml.Event:
    if isinstance(event, yaml.AliasEvent):
        raise _Refused(f"an alias (*{event.anchor}) is not accepted", event.start_mark)
    anchor = getattr(event, "anchor", None)
    if anchor is not None:
        raise _Refused(f"an anchor (&{anchor}) is not accepted", event.start_mark)
    tag = getattr(event, "tag", None)
    if tag is not None:
        raise _Refused(f"a tag ({tag}) is not accepted", event.start_mark)
    return event


def _events_to_value(events) -> object:
    """The one document of a YAML event stream as a JSON value, built without recursion."""
    documents = 0
    root: list[object] = []
    # Open containers: (the container, the pending key of a mapping or None, its keys' marks)
    stack: list[list] = []

    def add(value: object, event: yaml.Event) -> None:
        if not stack:
            root.append(value)
            return
        top = stack[-1]
        container = top[0]
        if isinstance(container, list):
            container.append(value)
        elif top[1] is None:
            if not isinstance(event, yaml.ScalarEvent):
                raise _Refused("a mapping key that is not text is not accepted", event.start_mark)
            key = event.value
            if key in container:
                raise _Refused(f"the key {key!r} appears twice", event.start_mark)
            top[1] = key
        else:
            container[top[1]] = value
            top[1] = None

    for event in events:
        _checked(event)
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise _Refused("more than one YAML document", event.start_mark)
        elif isinstance(event, yaml.ScalarEvent):
            key_position = bool(stack) and isinstance(stack[-1][0], dict) and stack[-1][1] is None
            add(event.value if key_position else _scalar(event), event)
        elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            if len(stack) >= MAX_DEPTH:
                raise _Refused(f"nested deeper than {MAX_DEPTH} levels", event.start_mark)
            container: list | dict = [] if isinstance(event, yaml.SequenceStartEvent) else {}
            add(container, event)
            stack.append([container, None])
        elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
            stack.pop()
    return root[0] if root else None


def _yaml(text: str, path: Path) -> object:
    try:
        return _events_to_value(yaml.parse(text, Loader=_Parser))
    except _Refused as error:
        raise DashboardError(
            f"YAML: {error}; a Grafana export has none",
            location=Location(file=f"{path}:{error.line}" if error.line > 0 else str(path)),
            fix=AGAIN,
        ) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f":{mark.line + 1}" if mark else ""
        raise DashboardError(
            f"neither JSON nor YAML: {error.problem or error.context}",
            location=Location(file=f"{path}{line}"),
            fix=AGAIN,
        ) from None
    except yaml.YAMLError as error:
        raise DashboardError(
            f"neither JSON nor YAML: {str(error).splitlines()[0]}",
            location=Location(file=str(path)),
            fix=AGAIN,
        ) from None


# ---------------------------------------------------------------- shape


def shape_problem(value: object) -> str | None:
    """What makes a parsed value unusable (too deep, a string that is not Unicode, an integer
    Grafana cannot hold), walked without recursion."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels; no dashboard is"
        if isinstance(item, dict):
            stack.extend((key, depth) for key in item)
            stack.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            stack.extend((child, depth + 1) for child in item)
        elif isinstance(item, str) and _SURROGATE.search(item):
            return "a string holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text"
        elif isinstance(item, int) and not isinstance(item, bool) and abs(item) > MAX_INTEGER:
            return f"the number {item} is beyond what Grafana's numbers hold exactly (±2^53)"
    return None
