"""What both directions of the conversion share: the error, the enums whose classic form is a
number, element names, and the field defaults read from the shipped v2 schema."""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources

from ktrdr_dashboards.errors import DashboardError, Location

SCHEMA_FILES = {"v2": "dashboardv2.schema.json", "v2beta1": "dashboardv2beta1.schema.json"}


class ConversionError(DashboardError):
    """A dashboard holds something the other model cannot say."""


def fail(uid: str, what: str, fix: str, panel: str | None = None) -> ConversionError:
    return ConversionError(what, location=Location(dashboard=uid or None, panel=panel), fix=fix)


def copied(value: object) -> object:
    """A copy of JSON data (objects and arrays copied, scalars shared), as `copy.deepcopy`
    makes it for data read from JSON, in a fraction of its time: the conversion copies every
    panel's options and queries."""
    if type(value) is dict:
        return {key: copied(item) for key, item in value.items()}
    if type(value) is list:
        return [copied(item) for item in value]
    if isinstance(value, dict | list | set | tuple):
        return copy.deepcopy(value)  # what JSON does not make: as deepcopy copies it
    return value


@cache
def schema(version: str = "v2") -> dict:
    path = resources.files("ktrdr_dashboards") / "data" / "schemas" / SCHEMA_FILES[version]
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def spec_fields(definition: str) -> tuple[frozenset[str], dict[str, object]]:
    """The property names of a v2 schema definition and their defaults."""
    found = schema("v2")["definitions"][definition]
    properties = found.get("properties", {})
    defaults = {name: prop["default"] for name, prop in properties.items() if "default" in prop}
    return frozenset(properties), defaults


# Classic numbers ↔ v2 names, in the classic numbering.
HIDE = ("dontHide", "hideLabel", "hideVariable", "inControlsMenu")
REFRESH = ("never", "onDashboardLoad", "onTimeRangeChanged")
SORT = (
    "disabled",
    "alphabeticalAsc",
    "alphabeticalDesc",
    "numericalAsc",
    "numericalDesc",
    "alphabeticalCaseInsensitiveAsc",
    "alphabeticalCaseInsensitiveDesc",
    "naturalAsc",
    "naturalDesc",
)
CURSOR_SYNC = ("Off", "Crosshair", "Tooltip")

# Classic variable `type` ↔ v2 variable kind.
VARIABLE_KINDS = {
    "query": "QueryVariable",
    "datasource": "DatasourceVariable",
    "custom": "CustomVariable",
    "interval": "IntervalVariable",
    "constant": "ConstantVariable",
    "textbox": "TextVariable",
    "adhoc": "AdhocVariable",
    "groupby": "GroupByVariable",
    "switch": "SwitchVariable",
}
VARIABLE_TYPES = {kind: type_ for type_, kind in VARIABLE_KINDS.items()}
# Kinds whose datasource sits beside the spec (`group`, `datasource.name`).
KINDS_WITH_DATASOURCE = ("AdhocVariable", "GroupByVariable")

# Required v2 fields the schema gives no default for, with the value that means "nothing set".
REQUIRED_EMPTY: dict[str, object] = {
    "options": [],
    "current": {"text": "", "value": ""},
    "sort": "disabled",
    "baseFilters": [],
    "filters": [],
    "defaultKeys": [],
    "auto": False,
    "enabledValue": "true",
    "disabledValue": "false",
}

# Classic defaults that differ from the v2 schema's: an interval variable's automatic step
# (the classic model's 30 steps of at least 10s; v2 says 0 and "").
CLASSIC_VARIABLE_DEFAULTS: dict[str, object] = {"auto_count": 30, "auto_min": "10s"}

# Panel fields v2 keeps in the query group's options.
QUERY_OPTIONS = (
    "timeFrom",
    "maxDataPoints",
    "timeShift",
    "queryCachingTTL",
    "interval",
    "cacheTimeout",
    "hideTimeOverride",
    "timeCompare",
)

# Row heights of an auto grid laid out on the classic 24-column grid (grid units of 30 px).
AUTO_GRID_HEIGHTS = {"short": 5, "standard": 9, "tall": 14}
AUTO_GRID_COLUMNS = 3
GRID_COLUMNS = 24

MIXED = {"type": "datasource", "uid": "-- Mixed --"}


def as_dict(value: object) -> dict:
    """`value` if it is an object, else an empty one: exports are untrusted and may be malformed."""
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list:
    return value if isinstance(value, list) else []


def whole_number(value: object, default: int = 0) -> int:
    """A JSON number that is whole (3 or 3.0) as an int, else `default`."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return default


def rename_elements(layout: dict, names: dict[str, str]) -> dict:
    """A copy of a v2 layout whose element references are renamed by `names` (others kept)."""

    def rename(value: object) -> object:
        if isinstance(value, dict):
            if value.get("kind") == "ElementReference" and isinstance(value.get("name"), str):
                return {**value, "name": names.get(value["name"], value["name"])}
            return {key: rename(item) for key, item in value.items()}
        if isinstance(value, list):
            return [rename(item) for item in value]
        return value

    renamed = rename(layout)
    assert isinstance(renamed, dict)
    return renamed


def element_name(panel_id: int) -> str:
    return f"panel-{panel_id}"


def enum_name(names: tuple[str, ...], value: object, default: int = 0) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(names):
        return names[default]
    return names[value]


def enum_number(names: tuple[str, ...], value: object) -> int:
    return names.index(value) if value in names else 0
