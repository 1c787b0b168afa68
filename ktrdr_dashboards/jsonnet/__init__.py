"""The Jsonnet engine seam: the one place that evaluates Jsonnet.

It owns the choice of engine (go-jsonnet by default, the C++ binding, rjsonnet), the library
search path and which folders an import may reach, and the translation of every engine's
error text into the project's one-line error with file:line:column. Nothing else in the
package imports a Jsonnet binding; everything evaluates through `evaluate_file` and
`evaluate_snippet`. `format` runs jsonnetfmt over source files. It imports only errors and
tools.
"""

from ktrdr_dashboards.jsonnet.engines import (
    DEFAULT_ENGINE,
    ENGINE_ENV,
    ENGINES,
    EngineMissingError,
    available,
    selected,
    use,
)
from ktrdr_dashboards.jsonnet.evaluation import (
    JsonnetError,
    LibraryPath,
    evaluate_file,
    evaluate_snippet,
)

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "ENGINE_ENV",
    "EngineMissingError",
    "JsonnetError",
    "LibraryPath",
    "available",
    "evaluate_file",
    "evaluate_snippet",
    "selected",
    "use",
]
