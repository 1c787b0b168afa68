"""Grafana provisioning files: read the ones kept in `provisioning/`, check they are YAML."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import yaml

from ktrdr_dashboards import yamltext
from ktrdr_dashboards.errors import DashboardError, Location

# Grafana reads each kind from its own folder under /etc/grafana/provisioning/.
KINDS = ("dashboards", "datasources")


@dataclass(frozen=True)
class ProvisioningFile:
    kind: str  # "dashboards" (providers) or "datasources"
    path: Path  # source path in the repo
    text: str  # copied verbatim: comments stay for the operator who reads the installed file
    data: dict


def load(provisioning_dir: Path) -> list[ProvisioningFile]:
    """Every `*.yaml`/`*.yml` under provisioning/<kind>/, sorted."""
    files: list[ProvisioningFile] = []
    for kind in KINDS:
        folder = provisioning_dir / kind
        for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
            text = path.read_text(encoding="utf-8")
            try:
                data = yamltext.load(text)
            except yaml.YAMLError as error:
                mark = getattr(error, "problem_mark", None)
                where = f"{path}:{mark.line + 1}" if mark else str(path)
                raise DashboardError(
                    f"not valid YAML: {getattr(error, 'problem', error)}",
                    location=Location(file=where),
                    fix="fix the YAML syntax",
                ) from None
            if not isinstance(data, dict):
                raise DashboardError(
                    "not a provisioning document (expected a mapping with apiVersion)",
                    location=Location(file=str(path)),
                    fix=f"start the file with `apiVersion: 1` and a `{_top_key(kind)}:` list",
                )
            files.append(ProvisioningFile(kind=kind, path=path, text=text, data=data))
    return files


def _top_key(kind: str) -> str:
    return "providers" if kind == "dashboards" else "datasources"


def providers(files: list[ProvisioningFile]) -> list[dict]:
    return [p for f in files if f.kind == "dashboards" for p in f.data.get("providers") or []]


def datasources(files: list[ProvisioningFile]) -> list[dict]:
    return [d for f in files if f.kind == "datasources" for d in f.data.get("datasources") or []]


@dataclass(frozen=True)
class DashboardsProvider:
    """Where Grafana's file provider reads dashboards and which folder it shows them in."""

    path: str  # relative to `/`, e.g. "var/lib/grafana/dashboards"
    folder: str


def dashboards_provider(provider_files: Mapping[str, bytes]) -> DashboardsProvider:
    """The one file provider among the dashboards provisioning files (name -> YAML bytes).
    Dashboards go where it reads them, so the layout follows the config, not a constant."""
    found: list[tuple[str, dict]] = []
    for name, content in sorted(provider_files.items()):
        try:
            data = yamltext.load(content.decode("utf-8")) or {}
        except (yaml.YAMLError, UnicodeDecodeError) as error:
            raise DashboardError(
                f"not valid YAML: {error}".splitlines()[0], location=Location(file=name)
            ) from None
        providers = data.get("providers") if isinstance(data, dict) else None
        for provider in providers or []:
            if isinstance(provider, dict) and provider.get("type", "file") == "file":
                found.append((name, provider))
    if len(found) != 1:
        raise DashboardError(
            f"expected exactly one file dashboards provider, found {len(found)}",
            location=Location(file=", ".join(sorted(provider_files)) or "provisioning/dashboards"),
            fix="keep one provider with options.path in provisioning/dashboards/",
        )
    name, provider = found[0]
    raw_path = str((provider.get("options") or {}).get("path", ""))
    path = PurePosixPath(raw_path)
    if not path.is_absolute() or ".." in path.parts or len(path.parts) < 2:
        raise DashboardError(
            f"provider options.path {raw_path!r} is not an absolute path inside `/`",
            location=Location(file=name),
            fix="set options.path to the folder Grafana reads, e.g. /var/lib/grafana/dashboards",
        )
    return DashboardsProvider(
        path=path.relative_to("/").as_posix(), folder=str(provider.get("folder", ""))
    )
