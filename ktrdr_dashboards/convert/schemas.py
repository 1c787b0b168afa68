"""A v2 `Dashboard` spec against the published v2 JSON Schema shipped in data/schemas/."""

from __future__ import annotations

from functools import cache

import jsonschema
from jsonschema.exceptions import best_match

from ktrdr_dashboards.convert import common

_LONGEST = 160  # characters of a message: the offending value is named, not dumped


@cache
def _validator(version: str) -> jsonschema.Draft7Validator:
    """Compiled once per process and version."""
    definitions = common.schema(version)["definitions"]
    root = {"$ref": "#/definitions/Dashboard", "definitions": definitions}
    return jsonschema.Draft7Validator(root)


def _path(error: jsonschema.ValidationError) -> str:
    return "spec" + "".join(
        f"[{part}]" if isinstance(part, int) else f".{part}" for part in error.absolute_path
    )


def schema_errors(spec: object, version: str = "v2") -> list[str]:
    """`path: message` for each place `spec` breaks schema `version` ("v2" or "v2beta1"), by
    path. A failed choice (a layout or variable of the wrong shape) names the closest branch's
    first problem."""
    if version not in common.SCHEMA_FILES:
        raise ValueError(f"no v2 schema version {version!r}")
    found = []
    for error in _validator(version).iter_errors(spec):
        leaf = best_match([error]) if error.context else error
        while leaf.context:
            leaf = best_match(leaf.context)
        message = leaf.message
        if len(message) > _LONGEST:
            message = message[: _LONGEST - 1] + "…"
        found.append(f"{_path(leaf)}: {message}")
    return sorted(set(found))
