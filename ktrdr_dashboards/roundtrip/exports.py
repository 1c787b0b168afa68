"""A dashboard as Grafana exports it, made comparable with what `build` writes.

Every format `formats` recognises (Classic JSON and the HTTP API's answer, V1 and V2
Resources, a bare v2 spec; JSON or YAML, `documents`) becomes one plain classic model here,
with the v2-only part of a v2 layout beside it (`Export.layout`). "Export for sharing
externally" is bound to this project: `${DS_...}` inputs of a classic export, and queries
that name only their plugin in a v2 one, become the datasource variable or a provisioned
datasource. `strip_regenerated` then drops what Grafana itself ignores or rewrites."""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ktrdr_dashboards import jsonnet
from ktrdr_dashboards.compile import provisioning
from ktrdr_dashboards.errors import DashboardError, Location
from ktrdr_dashboards.roundtrip import documents, formats

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
    # The classic schemaVersion of the KTRDR frame (`ktrdr.dashboard`), given to a model read
    # from schema v2, which has none.
    schema_version: int

    @property
    def variable_type(self) -> str:
        return str(self.datasource_variable.get("query", ""))

    @property
    def variable_reference(self) -> str:
        name = self.datasource_variable.get("name", "datasource")
        return "${" + str(name) + "}"


def project_bindings(library: jsonnet.LibraryPath, provisioning_dir: Path) -> Bindings:
    """The project's datasource variable (ktrdr/variables.libsonnet), its classic
    schemaVersion and the uids of the datasources it provisions, by plugin type."""
    try:
        variable, schema_version = jsonnet.evaluate_snippet(
            "<bindings>",
            "local ktrdr = import 'ktrdr/ktrdr.libsonnet';\n"
            "[ktrdr.variables.datasource, (ktrdr.dashboard({uid: '', title: ''}, '', [], [])"
            ").schemaVersion]",
            library,
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
    return Bindings(
        datasource_variable=variable, datasource_uids=uids, schema_version=schema_version
    )


def unwrap(raw: object, where: str) -> dict:
    """The classic model of a classic file, an HTTP API answer or a V1 Resource (as `build`
    writes them and `apply` reads them); a v2 dashboard is one DashboardError."""
    document = formats.recognise(raw, where)
    if document.classic is None:
        raise DashboardError(
            f"a {document.form}, where a classic dashboard model belongs",
            location=Location(file=where),
            fix="pass a classic dashboard (build/dashboards/*.json)",
        )
    return document.classic


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
        _add_variable(plain, bindings)
    return plain, notes


def _add_variable(plain: dict, bindings: Bindings) -> None:
    """The project's datasource variable first in the model's variables, unless it has one of
    that name."""
    if not isinstance(plain.get("templating"), dict):
        plain["templating"] = {}
    templating = plain["templating"]
    if not isinstance(templating.get("list"), list):
        templating["list"] = []
    variables = templating["list"]
    name = bindings.datasource_variable.get("name")
    if not any(v.get("name") == name for v in variables if isinstance(v, dict)):
        variables.insert(0, copy.deepcopy(bindings.datasource_variable))


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


@dataclass(frozen=True)
class Export:
    """A dashboard file of any format, as this project reads it."""

    model: dict  # the plain classic model, placeholders and datasources bound
    # What of a v2 layout the classic model cannot hold (tabs, auto grid, ...), its element
    # references named `panel-<id>` of `model`'s panels; None when the model says it all.
    layout: dict | None
    form: str  # the format, as `formats` names it
    notes: list[str] = field(default_factory=list)  # inputs and queries left unbound


def read(value: object, where: str, bindings: Bindings) -> Export:
    """A parsed document (`documents.read`) of any format as one plain classic model."""
    document = formats.recognise(value, where)
    if document.v2 is None:
        assert document.classic is not None
        model, notes = bind_inputs(document.classic, bindings)
        return Export(model, None, document.form, notes)
    spec, uses_variable, notes = formats.bind_groups(
        document.v2,
        bindings.variable_type,
        bindings.variable_reference,
        dict(bindings.datasource_uids),
    )
    model = formats.to_classic(spec, document.uid, where)
    model["schemaVersion"] = bindings.schema_version
    if uses_variable:
        _add_variable(model, bindings)
    return Export(model, formats.v2_layout(spec, where), document.form, notes)


def load(path: Path, bindings: Bindings) -> Export:
    """A dashboard file (JSON or YAML, any format) as one plain classic model."""
    return read(documents.read(path), str(path), bindings)
