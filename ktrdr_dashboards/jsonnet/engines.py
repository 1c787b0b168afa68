"""The Jsonnet engines and which one is in use: `--engine`, else KTRDR_JSONNET_ENGINE, else go."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from types import ModuleType

from ktrdr_dashboards.errors import DashboardError

ENGINE_ENV = "KTRDR_JSONNET_ENGINE"


@dataclass(frozen=True)
class Engine:
    name: str
    module: str  # the Python binding
    install: str  # what brings it
    text_imports: bool  # the import callback returns str (rjsonnet) rather than bytes
    describes: str


ENGINES: dict[str, Engine] = {
    engine.name: engine
    for engine in (
        Engine("go", "_gojsonnet", "pip install gojsonnet", False, "go-jsonnet, Google's"),
        Engine("cpp", "_jsonnet", "pip install jsonnet", False, "the C++ jsonnet binding"),
        Engine("rs", "rjsonnet", "pip install '.[fast]' (rjsonnet)", True, "rjsonnet (jrsonnet)"),
    )
}
# go-jsonnet: the official implementation, several times faster than the C++ binding on our
# sources and a wheel on PyPI for every platform we build on (docs/PERFORMANCE.md).
DEFAULT_ENGINE = "go"

_chosen: str | None = None


class EngineMissingError(DashboardError):
    """The engine asked for is unknown or its binding is not installed."""


def use(name: str | None) -> None:
    """Make `name` the engine of this process (the CLI's --engine); None keeps the default."""
    global _chosen
    if name is not None:
        load(name)
    _chosen = name


def selected() -> str:
    return _chosen or os.environ.get(ENGINE_ENV) or DEFAULT_ENGINE


def load(name: str) -> ModuleType:
    engine = ENGINES.get(name)
    if engine is None:
        raise EngineMissingError(
            f"unknown Jsonnet engine {name!r}",
            fix=f"choose one of {', '.join(ENGINES)} (--engine or {ENGINE_ENV})",
        )
    try:
        return importlib.import_module(engine.module)
    except ImportError:
        raise EngineMissingError(
            f"Jsonnet engine {name!r} ({engine.describes}) is not installed",
            fix=f"install it: {engine.install}",
        ) from None


def available() -> list[str]:
    """Engines whose binding imports here, in ENGINES order."""
    found = []
    for name in ENGINES:
        try:
            load(name)
        except EngineMissingError:
            continue
        found.append(name)
    return found
