"""JSON Schema validation as every check runs it (dashboards, schema v2 specs, provisioning
files): jsonschema, the project's validator of record, writes every message; jsonschema-rs,
compiled once per process and schema, first answers whether a document is valid at all, so
a valid document (nearly every one) never walks the slower validator. A finding's text is
therefore the same whether or not the compiled validator ran. It runs only on schemas whose
keywords both read alike, `pattern` through Python's own regular expressions; the two agree
on the hostile corpus (tests/integration/test_untrusted_sweep.py). Core: imports nothing of
the project."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jsonschema

# Keywords jsonschema and jsonschema-rs read alike (`format` is not asserted by either, as
# jsonschema's validators are built here); a schema with any other keyword is judged by
# jsonschema alone.
_SCHEMA_MAPS = frozenset({"properties", "$defs", "definitions", "dependentSchemas"})
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SCHEMA_ONE = frozenset({"items", "additionalProperties", "not", "if", "then", "else"})
_SCHEMA_ONE |= frozenset({"contains", "propertyNames", "additionalItems"})
_ASSERTIONS = frozenset(
    {"type", "enum", "const", "required", "minimum", "maximum", "exclusiveMinimum",
     "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "minItems", "maxItems",
     "uniqueItems", "minProperties", "maxProperties", "pattern", "$ref", "format"}
)  # fmt: skip
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "title", "description", "default", "examples",
     "deprecated", "readOnly", "writeOnly"}
)  # fmt: skip
_PATTERN = "pythonPattern"


class _PythonPattern:
    """`pattern` as jsonschema reads it: Python's `re.search` (jsonschema-rs's own regular
    expressions differ, e.g. on `$` before a final newline or on Unicode `\\w`)."""

    def __init__(self, parent_schema: object, value: str, schema_path: object) -> None:
        self.regex = re.compile(value)

    def validate(self, instance: object) -> None:
        if isinstance(instance, str) and not self.regex.search(instance):
            raise ValueError("does not match")


def _subschemas(key: str, value: object) -> list[object] | None:
    """The schemas a keyword's value holds ([] for an assertion or annotation), None for a
    keyword the two validators may read differently or a malformed value."""
    if key in _SCHEMA_MAPS:
        return list(value.values()) if isinstance(value, dict) else None
    if key in _SCHEMA_LISTS or (key == "items" and isinstance(value, list)):
        return list(value) if isinstance(value, list) else None
    if key in _SCHEMA_ONE:
        return [value]
    if key in _ASSERTIONS or key in _ANNOTATIONS or key.startswith("x-"):
        return []
    return None


def _survey(schema: object) -> tuple[bool, bool]:
    """(whether jsonschema-rs reads `schema` as jsonschema does, whether it has a `pattern`)."""
    if isinstance(schema, bool):
        return True, False
    if not isinstance(schema, dict):
        return False, False
    patterns = "pattern" in schema
    for key, value in schema.items():
        subschemas = _subschemas(key, value)
        if subschemas is None:
            return False, patterns
        for sub in subschemas:
            ok, found = _survey(sub)
            if not ok:
                return False, patterns
            patterns = patterns or found
    return True, patterns


def _python_patterns(schema: object) -> object:
    """A copy of `schema` (surveyed) whose `pattern`s jsonschema-rs reads through Python."""
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _SCHEMA_MAPS:
            out[key] = {name: _python_patterns(sub) for name, sub in value.items()}
        elif key in _SCHEMA_LISTS or (key == "items" and isinstance(value, list)):
            out[key] = [_python_patterns(sub) for sub in value]
        elif key in _SCHEMA_ONE:
            out[key] = _python_patterns(value)
        else:
            out[_PATTERN if key == "pattern" else key] = value
    return out


def _for_fast(schema: object) -> object | None:
    """`schema` as jsonschema-rs is to read it (`pattern` through Python; the schema itself
    when it has none), or None when a keyword is one the two validators may read
    differently (or the schema is malformed: jsonschema reports it)."""
    ok, patterns = _survey(schema)
    if not ok:
        return None
    return _python_patterns(schema) if patterns else schema


class Validator:
    """One schema's validators, compiled when first needed."""

    def __init__(self, schema: Mapping, draft7: bool = False) -> None:
        self.schema = schema
        self.draft7 = draft7
        self._fast: object | None = None
        self._fast_tried = False
        self._slow: jsonschema.protocols.Validator | None = None

    def _compiled_fast(self) -> Any:
        if not self._fast_tried:
            self._fast_tried = True
            converted = _for_fast(self.schema)
            try:
                import jsonschema_rs
            except ImportError:  # jsonschema alone judges: slower, the same findings
                return None
            if converted is not None:
                make = jsonschema_rs.Draft7Validator if self.draft7 else jsonschema_rs.validator_for
                try:
                    self._fast = make(
                        converted, validate_formats=False, keywords={_PATTERN: _PythonPattern}
                    )
                except (ValueError, jsonschema_rs.ValidationError, re.error):
                    self._fast = None  # jsonschema reports what is wrong with the schema
        return self._fast

    def slow(self) -> jsonschema.protocols.Validator:
        """jsonschema's validator of the schema (the one that writes messages)."""
        if self._slow is None:
            import jsonschema

            cls = (
                jsonschema.Draft7Validator
                if self.draft7
                else jsonschema.validators.validator_for(self.schema)
            )
            self._slow = cls(self.schema)
        return self._slow

    def is_valid(self, document: object) -> bool | None:
        """What the compiled validator says (None: it cannot judge this schema or document)."""
        fast = self._compiled_fast()
        if fast is None:
            return None
        try:
            return bool(fast.is_valid(document))
        except (ValueError, TypeError, OverflowError, RecursionError):
            return None

    def errors(self, document: object) -> Iterator[jsonschema.ValidationError]:
        """jsonschema's errors for `document`, none without asking it when the compiled
        validator finds the document valid."""
        if self.is_valid(document):
            return iter(())
        return self.slow().iter_errors(document)
