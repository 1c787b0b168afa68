"""Where a project's sources are and how its Jsonnet is searched: the one `Project` every job
takes. Core: imports only the engine seam."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ktrdr_dashboards import jsonnet


def library_path(repo_root: Path, extra: Sequence[Path] = ()) -> jsonnet.LibraryPath:
    """Imports search the user's `--jpath` folders first, in the order given, then `lib/`: the
    first match wins (how a vendored upstream `g.libsonnet` replaces ours). They may land in
    the project's `jsonnet/`, `lib/` and `vendor/` and in the `--jpath` folders, nowhere else."""
    root = repo_root.resolve()
    return jsonnet.LibraryPath(
        search=(*(Path(p).resolve() for p in extra), root / "lib"),
        allowed=(root / "jsonnet", root / "lib", root / "vendor"),
    )


@dataclass(frozen=True)
class Project:
    """Where a project's sources are; tests point this at a copy."""

    root: Path
    jpath: tuple[Path, ...] = ()

    @property
    def jsonnet_dir(self) -> Path:
        return self.root / "jsonnet"

    @property
    def provisioning_dir(self) -> Path:
        return self.root / "provisioning"

    def library(self) -> jsonnet.LibraryPath:
        return library_path(self.root, self.jpath)
