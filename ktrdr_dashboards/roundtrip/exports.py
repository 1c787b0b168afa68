"""Dashboard JSON as Grafana exports it, made comparable with what `build` writes.

Grafana gives a dashboard in three forms: the plain model ("Export" → "Save to file"), the
HTTP API's `{"dashboard": ..., "meta": ...}` wrapper, and "Export for sharing externally",
whose datasources are `${DS_...}` placeholders declared in `__inputs`. All three become one
plain model here; `strip_regenerated` then drops what Grafana itself ignores or rewrites."""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ktrdr_dashboards import jsonnet
from ktrdr_dashboards.compile import provisioning
from ktrdr_dashboards.errors import DashboardError, Location

# Dashboard keys Grafana assigns on save (database id, save counter) or on load.
REGENERATED_DASHBOARD_KEYS = ("id", "version", "iteration")
# Panel keys Grafana rewrites: the plugin version of the running Grafana; panel ids are
# renumbered by the builder (and by Grafana when they clash).
REGENERATED_PANEL_KEYS = ("id", "pluginVersion")
# Export metadata of "Export for sharing externally": not part of the dashboard.
SHARING_KEYS = ("__inputs", "__requires", "__elements")

_PLACEHOLDER = re.compile(r"\$\{(?P<name>[A-Za-z0-9_]+)\}")


@dataclass(frozen=True)
class Bindings:
    """What the placeholders of a shared export stand for in this project."""

    datasource_variable: dict  # the model of the project's datasource template variable
    datasource_uids: Mapping[str, str]  # plugin type -> uid of the provisioned datasource

    @property
    def variable_type(self) -> str:
        return str(self.datasource_variable.get("query", ""))

    @property
    def variable_reference(self) -> str:
        name = self.datasource_variable.get("name", "datasource")
        return "${" + str(name) + "}"


def project_bindings(library: jsonnet.LibraryPath, provisioning_dir: Path) -> Bindings:
    """The project's datasource variable (ktrdr/variables.libsonnet) and the uids of the
    datasources it provisions, by plugin type."""
    try:
        variable = jsonnet.evaluate_snippet(
            "<bindings>", "(import 'ktrdr/ktrdr.libsonnet').variables.datasource", library
        )
    except jsonnet.JsonnetError as error:
        raise DashboardError(
            error.message,
            location=Location(file="lib/ktrdr/ktrdr.libsonnet (variables)"),
            fix="fix the library; the importer reads its datasource variable",
        ) from None
    uids: dict[str, str] = {}
    for item in provisioning.load(provisioning_dir):
        for source in item.data.get("datasources", []) if item.kind == "datasources" else []:
            uids.setdefault(str(source.get("type")), str(source.get("uid")))
    return Bindings(datasource_variable=variable, datasource_uids=uids)


# Bounds on an export, far above any real dashboard (Grafana's own are well under 1 MiB and
# 20 levels deep): an export is untrusted input, and these keep a crafted one from exhausting
# memory or the interpreter's recursion.
MAX_EXPORT_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
MAX_INTEGER = 2**53  # JavaScript's, so Grafana's, largest exact integer


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"{text} is too large for a JSON number")
    return number


def read_json(path: Path) -> object:
    """The JSON value of an untrusted file: bounded in size and depth, strict JSON only (no
    NaN/Infinity), strings valid Unicode. Anything else is one DashboardError."""
    where = Location(file=str(path))
    again = "export the dashboard again (Share → Export → Save to file)"
    try:
        with path.open("rb") as stream:
            raw = stream.read(MAX_EXPORT_BYTES + 1)
    except OSError as error:
        raise DashboardError(
            f"cannot read: {error.strerror}",
            location=where,
            fix="pass the path of a dashboard JSON file",
        ) from None
    if len(raw) > MAX_EXPORT_BYTES:
        raise DashboardError(
            f"larger than {MAX_EXPORT_BYTES // (1024 * 1024)} MiB; no dashboard is",
            location=where,
            fix="pass a dashboard JSON file",
        )
    try:
        value = json.loads(raw.decode("utf-8"), parse_constant=_no_constant, parse_float=_finite)
    except UnicodeDecodeError as error:
        raise DashboardError(
            f"not UTF-8 text (byte {error.start})", location=where, fix=again
        ) from None
    except json.JSONDecodeError as error:
        raise DashboardError(
            f"not JSON: {error.msg} at line {error.lineno}",
            location=Location(file=f"{path}:{error.lineno}"),
            fix=again,
        ) from None
    except ValueError as error:
        raise DashboardError(f"not JSON: {error}", location=where, fix=again) from None
    except RecursionError:
        raise DashboardError(
            f"nested deeper than {MAX_DEPTH} levels; no dashboard is", location=where, fix=again
        ) from None
    problem = _shape_problem(value)
    if problem:
        raise DashboardError(problem, location=where, fix=again)
    return value


def _shape_problem(value: object) -> str | None:
    """What makes a parsed JSON value unusable (too deep, a string that is not Unicode),
    walked without recursion."""
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


_SURROGATE = re.compile("[\ud800-\udfff]")


def unwrap(raw: object, where: str) -> dict:
    """The dashboard model of a plain export or of the HTTP API's `{"dashboard": ...}`."""
    if isinstance(raw, dict) and isinstance(raw.get("dashboard"), dict) and "panels" not in raw:
        raw = raw["dashboard"]
    if not isinstance(raw, dict) or not isinstance(raw.get("title", ""), str):
        raise DashboardError(
            "not a Grafana dashboard model (expected an object with title and panels)",
            location=Location(file=where),
            fix="export the dashboard from Grafana (Share → Export → Save to file)",
        )
    return raw


def _replace_strings(value: object, replace) -> object:
    if isinstance(value, str):
        return replace(value)
    if isinstance(value, list):
        return [_replace_strings(item, replace) for item in value]
    if isinstance(value, dict):
        return {key: _replace_strings(item, replace) for key, item in value.items()}
    return value


def bind_inputs(model: dict, bindings: Bindings) -> tuple[dict, list[str]]:
    """Resolve "export for sharing externally": a datasource input of the variable's plugin
    type becomes the datasource variable (added if the export has none), another datasource
    input the provisioned uid of its plugin type, a constant input its value. Returns the
    plain model and notes on inputs that could not be bound (left as placeholders)."""
    declared = model.get("__inputs")
    inputs = [
        i
        for i in (declared if isinstance(declared, list) else [])
        if isinstance(i, dict) and "name" in i
    ]
    values: dict[str, str] = {}
    notes: list[str] = []
    uses_variable = False
    for item in inputs:
        name, plugin = str(item["name"]), str(item.get("pluginId", ""))
        if item.get("type") == "constant":
            values[name] = str(item.get("value", ""))
        elif item.get("type") == "datasource" and plugin == bindings.variable_type:
            values[name] = bindings.variable_reference
            uses_variable = True
        elif item.get("type") == "datasource" and plugin in bindings.datasource_uids:
            values[name] = bindings.datasource_uids[plugin]
        else:
            notes.append(
                f"input {name} ({item.get('type')} {plugin or '?'}) has no datasource of that "
                f"type in provisioning/: ${{{name}}} is left in the source"
            )

    def replace(text: str) -> str:
        return _PLACEHOLDER.sub(lambda m: values.get(m.group("name"), m.group(0)), text)

    plain = _replace_strings({k: v for k, v in model.items() if k not in SHARING_KEYS}, replace)
    assert isinstance(plain, dict)
    if uses_variable:
        if not isinstance(plain.get("templating"), dict):
            plain["templating"] = {}
        templating = plain["templating"]
        if not isinstance(templating.get("list"), list):
            templating["list"] = []
        variables = templating["list"]
        name = bindings.datasource_variable.get("name")
        if not any(v.get("name") == name for v in variables if isinstance(v, dict)):
            variables.insert(0, copy.deepcopy(bindings.datasource_variable))
    return plain, notes


def strip_regenerated(model: dict) -> dict:
    """A copy without the keys Grafana assigns or rewrites itself (see the constants)."""

    def panel(item: object) -> object:
        if not isinstance(item, dict):
            return item
        kept = {k: v for k, v in item.items() if k not in REGENERATED_PANEL_KEYS}
        if isinstance(kept.get("panels"), list):
            kept["panels"] = [panel(child) for child in kept["panels"]]
        return kept

    stripped = {k: v for k, v in model.items() if k not in REGENERATED_DASHBOARD_KEYS}
    if isinstance(stripped.get("panels"), list):
        stripped["panels"] = [panel(item) for item in stripped["panels"]]
    return copy.deepcopy(stripped)


def load(path: Path, bindings: Bindings) -> tuple[dict, list[str]]:
    """A dashboard file in any export form as one plain model, and notes on unbound inputs."""
    model = unwrap(read_json(path), str(path))
    return bind_inputs(model, bindings)
