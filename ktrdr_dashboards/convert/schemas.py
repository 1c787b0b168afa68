"""A v2 `Dashboard` spec against the published v2 JSON Schema shipped in data/schemas/."""

from __future__ import annotations

from functools import cache

import jsonschema

from ktrdr_dashboards.convert import common

_LONGEST = 160  # characters of a message: the offending value is named, not dumped


# Fields that hold any JSON value in Grafana's own schema, narrowed to objects in the
# published JSON Schema: an override's property value and a matcher's options.
_ANY_VALUE = (("DynamicConfigValue", "value"), ("MatcherConfig", "options"))


@cache
def _validator(version: str) -> jsonschema.Draft7Validator:
    """Compiled once per process and version. The `_ANY_VALUE` fields are checked as any
    value: narrowed to objects, no real dashboard with an override by name and a unit passes
    (docs/grafana-versions.md)."""
    definitions = dict(common.schema(version)["definitions"])
    for name, field in _ANY_VALUE:
        found = definitions[name]
        definitions[name] = {**found, "properties": {**found["properties"], field: {}}}
    root = {"$ref": "#/definitions/Dashboard", "definitions": definitions}
    return jsonschema.Draft7Validator(root)


def _branches(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """The errors of a failed oneOf/anyOf's closest branch: not one whose `kind` (the
    discriminator) is wrong, then the one with the fewest errors."""
    branches: dict[object, list[jsonschema.ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(sub.schema_path[0], []).append(sub)

    def distance(errors: list[jsonschema.ValidationError]) -> tuple[bool, int]:
        wrong_kind = any(
            e.validator in ("const", "enum") and list(e.path)[-1:] == ["kind"] for e in errors
        )
        return wrong_kind, len(errors)

    return min(branches.values(), key=distance)


def _leaves(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    if not error.context:
        return [error]
    return [leaf for sub in _branches(error) for leaf in _leaves(sub)]


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
        for leaf in _leaves(error):
            message = leaf.message
            if len(message) > _LONGEST:
                message = message[: _LONGEST - 1] + "…"
            found.append(f"{_path(leaf)}: {message}")
    return sorted(set(found))
