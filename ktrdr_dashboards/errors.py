"""Errors that carry where a problem is (file, dashboard, panel, target) so the CLI can
print one line a person can act on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


def shown(path: str | Path, root: str | Path | None = None) -> str:
    """A path as a person reads it in a message: relative to `root` (default: the working
    folder) when it lies inside it, else as given."""
    base = Path(root) if root is not None else Path.cwd()
    try:
        return str(Path(path).resolve().relative_to(base.resolve()))
    except ValueError:
        return str(path)


def shown_all(paths: Sequence[str | Path], root: str | Path | None = None) -> list[str]:
    """`shown` of each path, resolving the root and each folder once (a build shows a
    thousand sources of one folder): a file that is no link resolves within its folder."""
    base = (Path(root) if root is not None else Path.cwd()).resolve()
    folders: dict[Path, Path] = {}
    found = []
    for path in map(Path, paths):
        if path.is_symlink() or path.name in ("", ".", ".."):
            resolved = path.resolve()
        else:
            if path.parent not in folders:
                folders[path.parent] = path.parent.resolve()
            resolved = folders[path.parent] / path.name
        try:
            found.append(str(resolved.relative_to(base)))
        except ValueError:
            found.append(str(path))
    return found


@dataclass(frozen=True)
class Location:
    """Where a problem is. Every part is optional; the most specific known parts are shown."""

    file: str | None = None
    dashboard: str | None = None  # dashboard uid
    panel: str | None = None  # panel title
    panel_id: int | None = None
    target: str | None = None  # target refId

    def describe(self) -> str:
        """`file: dashboard X, panel "T" (id N), target A` with the unknown parts left out."""
        context: list[str] = []
        if self.dashboard:
            context.append(f"dashboard {self.dashboard}")
        if self.panel is not None:
            panel = f'panel "{self.panel}"'
            if self.panel_id is not None:
                panel += f" (id {self.panel_id})"
            context.append(panel)
        if self.target:
            context.append(f"target {self.target}")
        return ": ".join(part for part in (self.file, ", ".join(context)) if part)


class DashboardError(Exception):
    """A problem a user must fix. `str()` is the one line the CLI prints."""

    def __init__(self, message: str, *, location: Location | None = None, fix: str | None = None):
        super().__init__(message)
        self.message = message
        self.location = location or Location()
        self.fix = fix

    def __str__(self) -> str:
        where = self.location.describe()
        line = f"{where}: {self.message}" if where else self.message
        if self.fix:
            line += f" — {self.fix}"
        return line


class ToolMissingError(DashboardError):
    """An external program (promtool, jsonnetfmt, chromium) is not installed."""
