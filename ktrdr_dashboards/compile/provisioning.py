"""Grafana provisioning files: read the ones kept in `provisioning/`, check they are YAML."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

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
                data = yaml.safe_load(text)
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
