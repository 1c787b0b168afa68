"""The dashboard model as every job walks it: panels (rows and the panels collapsed rows keep
inside them), in layout order. Core: imports nothing of the project. Tolerates malformed
models (an export is untrusted): what is not a list or an object is skipped."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def panels_with_rows(model: Mapping[str, Any]) -> Iterator[tuple[dict | None, dict]]:
    """(row, panel) for every panel in layout order: top-level panels (rows included) with
    row None, then each collapsed row's own panels with that row."""
    for panel in _list(model.get("panels")):
        if not isinstance(panel, dict):
            continue
        yield None, panel
        for child in _list(panel.get("panels")):
            if isinstance(child, dict):
                yield panel, child


def panels(model: Mapping[str, Any]) -> Iterator[dict]:
    """Every panel, rows and the panels inside collapsed rows included, in layout order."""
    for _, panel in panels_with_rows(model):
        yield panel


def sections(model: Mapping[str, Any]) -> Iterator[tuple[str, dict]]:
    """(section title, panel) for every panel that is not a row: a row starts a section, and
    a collapsed row's panels belong to it."""
    section = ""
    for row, panel in panels_with_rows(model):
        if panel.get("type") == "row":
            section = str(panel.get("title", ""))
            continue
        yield (str(row.get("title", "")) if row else section), panel
