"""Rules on the files Grafana loads: dashboards against the JSON model, provisioning against
its schemas and against what the dashboards and the release bundle expect."""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING

import yaml

from ktrdr_dashboards import schemas
from ktrdr_dashboards.compile.provisioning import dashboards_provider, datasources, providers
from ktrdr_dashboards.errors import DashboardError, Location
from ktrdr_dashboards.validate.checks.dashboard import links_of
from ktrdr_dashboards.validate.core import (
    Context,
    DashboardSource,
    Facts,
    Finding,
    Inputs,
    Settings,
    dashboard_check,
    dashboard_location,
    panel_location,
    project_check,
    variables,
)

if TYPE_CHECKING:
    import jsonschema

SCHEMA_FILES = {
    "dashboard": "dashboard.schema.json",
    "dashboards": "provisioning-dashboards.schema.json",
    "datasources": "provisioning-datasources.schema.json",
}


@cache
def own_schema(kind: str) -> dict:
    path = resources.files("ktrdr_dashboards") / "data" / "schemas" / SCHEMA_FILES[kind]
    return json.loads(path.read_text(encoding="utf-8"))


# schema object's id -> (the schema, its validator): each schema is compiled once per
# process; the schema is kept so that its id is not reused while it is cached.
_VALIDATORS: dict[int, tuple[dict, schemas.Validator]] = {}


def validator_of(schema: dict) -> schemas.Validator:
    found = _VALIDATORS.get(id(schema))
    if found is None or found[0] is not schema:
        found = _VALIDATORS[id(schema)] = (schema, schemas.Validator(schema))
    return found[1]


def _leaves(error: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """The errors to show for one error: for a failed oneOf/anyOf, those of the branch that
    came closest (fewest errors), so the line names the field to fix, not the whole panel."""
    if not error.context:
        return [error]
    branches: dict[object, list[jsonschema.ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(sub.schema_path[0], []).append(sub)

    # A branch whose discriminator (`type`) does not match is the wrong branch, however few
    # its other errors (a panel is not a row).
    def distance(errors: list[jsonschema.ValidationError]) -> tuple[bool, int]:
        wrong_kind = any(
            e.validator in ("const", "enum") and list(e.path)[-1:] == ["type"] for e in errors
        )
        return wrong_kind, len(errors)

    closest = min(branches.values(), key=distance)
    return [leaf for sub in closest for leaf in _leaves(sub)]


def schema_errors(schema: dict, document: object) -> list[tuple[list, str]]:
    """(path, message) of every way `document` breaks `schema`, in a stable order."""
    errors = validator_of(schema).errors(document)
    found = {(tuple(leaf.absolute_path), leaf.message) for e in errors for leaf in _leaves(e)}
    return sorted(
        ((list(p), m) for p, m in found), key=lambda item: ([str(p) for p in item[0]], item[1])
    )


def _path_text(path: list) -> str:
    return "/".join(str(p) for p in path) or "(top level)"


def _model_location(source: DashboardSource, path: list) -> Location:
    # Name the panel a path points into, so the line says which panel to fix.
    if len(path) >= 2 and path[0] == "panels" and isinstance(path[1], int):
        panel_list = source.model.get("panels")
        panel_list = panel_list if isinstance(panel_list, list) else []
        if path[1] < len(panel_list) and isinstance(panel_list[path[1]], dict):
            return panel_location(source, panel_list[path[1]])
    return dashboard_location(source)


@dashboard_check(
    ("model/schema", "each dashboard validates against the repo's schema of Grafana's JSON model"),
    ("model/grafana-schema", "with --grafana-schema: each dashboard validates against that schema"),
)
def model(source: DashboardSource, context: Context) -> Iterator[Finding]:
    checked = [("model/schema", own_schema("dashboard"), "ktrdr_dashboards/data/schemas")]
    if context.official_schema is not None:
        checked.append(("model/grafana-schema", context.official_schema, "Grafana's schema"))
    for rule, schema, name in checked:
        for path, message in schema_errors(schema, source.model):
            yield Finding(
                rule,
                _model_location(source, path),
                f"at {_path_text(path)}: {message}",
                f"emit what {name} expects (lib/ for the builder, jsonnet/ for the dashboard)",
            )


def _explore_datasources(url: str) -> list[str]:
    """Datasource uids named in an /explore link's `panes` JSON."""
    query = urllib.parse.urlsplit(url).query
    raw = query.split("panes=", 1)[1] if "panes=" in query else ""
    try:
        panes = json.loads(urllib.parse.unquote(raw)) if raw else {}
    except json.JSONDecodeError:
        return []
    found: list[str] = []
    for pane in panes.values() if isinstance(panes, dict) else []:
        if not isinstance(pane, dict):
            continue
        if isinstance(pane.get("datasource"), str):
            found.append(pane["datasource"])
        for q in pane.get("queries") if isinstance(pane.get("queries"), list) else []:
            source = q.get("datasource") if isinstance(q, dict) else None
            uid = source.get("uid") if isinstance(source, dict) else None
            if isinstance(uid, str):
                found.append(uid)
    return found


def _used_datasources(
    source: DashboardSource, settings: Settings
) -> Iterator[tuple[str, Location, str]]:
    name = settings.datasource_variable
    for item in variables(source):
        if item.get("type") == "datasource":
            current = item.get("current")
            current = current.get("value") if isinstance(current, dict) else None
            if isinstance(current, str) and current and not current.startswith("$"):
                yield (
                    current,
                    dashboard_location(source),
                    f"variable `{item.get('name', name)}` default",
                )
    for link, where in links_of(source):
        url = link.get("url")
        if isinstance(url, str) and url.lstrip("/").startswith("explore"):
            for uid in _explore_datasources(url):
                yield uid, where, f'link "{link.get("title", "")}"'


@project_check(
    ("provisioning/schema", "provisioning YAML validates against the repo's JSON Schemas"),
    ("provisioning/default-datasource", "exactly one datasource is the default"),
    ("provisioning/provider-name", "dashboard provider names are unique"),
    ("provisioning/provider-path", "the provider reads the folder the bundle installs into"),
)
def provisioning_rule(inputs: Inputs, facts: Facts) -> Iterator[Finding]:
    for item in inputs.provisioning:
        for path, message in schema_errors(own_schema(item.kind), item.data):
            yield Finding(
                "provisioning/schema",
                Location(file=inputs.shown(item)),
                f"at {_path_text(path)}: {message}",
                f"see ktrdr_dashboards/data/schemas/{SCHEMA_FILES[item.kind]}",
            )
    source_files = [f for f in inputs.provisioning if f.kind == "datasources"]
    all_files = ", ".join(inputs.shown(f) for f in source_files) or "provisioning/datasources"
    defaults = [
        d.get("name")
        for d in datasources(inputs.provisioning)
        if isinstance(d, dict) and d.get("isDefault") is True
    ]
    if len(defaults) != 1:
        yield Finding(
            "provisioning/default-datasource",
            Location(file=all_files),
            f"{len(defaults)} default datasources ({', '.join(map(str, defaults)) or 'none'}); "
            "Grafana needs exactly one (two stop it from starting)",
            "set isDefault: true on the Prometheus datasource only",
        )
    provider_files = [f for f in inputs.provisioning if f.kind == "dashboards"]
    seen: set[str] = set()
    for item in provider_files:
        for provider in item.data.get("providers") or []:
            name = (provider or {}).get("name") if isinstance(provider, dict) else None
            if name in seen:
                yield Finding(
                    "provisioning/provider-name",
                    Location(file=inputs.shown(item)),
                    f'provider name "{name}" is used twice',
                    "give each provider its own name",
                )
            seen.add(name)
    yield from _provider_path(inputs, provider_files)


@dashboard_check(
    ("provisioning/datasource-uid", "every datasource uid the dashboards use is provisioned"),
)
def datasource_uids(source: DashboardSource, context: Context) -> Iterator[Finding]:
    provisioned = context.provisioned_uids
    for uid, where, what in _used_datasources(source, context.settings):
        if uid not in provisioned:
            yield Finding(
                "provisioning/datasource-uid",
                where,
                f"{what} uses datasource uid {uid!r}, "
                "which provisioning/datasources does not provide",
                "provision it (provisioning/datasources/*.yaml) or use one of: "
                + ", ".join(sorted(provisioned)),
            )


def _provider_path(inputs: Inputs, provider_files: list) -> Iterator[Finding]:
    shown = ", ".join(inputs.shown(f) for f in provider_files) or "provisioning/dashboards"
    try:
        # The release bundle installs the dashboards where this provider reads them.
        found = dashboards_provider({inputs.shown(f): f.text.encode() for f in provider_files})
    except (DashboardError, yaml.YAMLError) as error:
        message = error.message if isinstance(error, DashboardError) else str(error)
        yield Finding(
            "provisioning/provider-path",
            Location(file=shown),
            message,
            "keep one file provider with an absolute options.path",
        )
        return
    for provider in providers(provider_files):
        options = (provider or {}).get("options") or {}
        if options.get("foldersFromFilesStructure"):
            yield Finding(
                "provisioning/provider-path",
                Location(file=shown),
                "foldersFromFilesStructure is true, but the bundle installs the dashboards flat "
                f"into /{found.path}",
                "set foldersFromFilesStructure: false and name the folder in `folder`",
            )
    if not found.folder:
        yield Finding(
            "provisioning/provider-path",
            Location(file=shown),
            f"the provider of /{found.path} names no folder; the dashboards would land in General",
            "set folder: KTRDR",
        )
