"""`pull`: the dashboards a live Grafana holds, written as exports (one `<uid>.json` per
dashboard, the classic model) and, on request, imported as Jsonnet sources: the way back from
a change made in the Grafana UI to the code.

Each dashboard is read in the version it is stored in (`live`); one stored as schema v2 is
written in classic form, beside it `<uid>.v2.json` as Grafana holds it, and its v2-only layout
(tabs, auto grid, ...) goes to the importer with the classic model.

Everything is fetched and checked before anything is written, so a failure leaves the
output folder as it was; each file is written aside and renamed into place."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ktrdr_dashboards.compile import dashboards as jsonnet_compile
from ktrdr_dashboards.deploy.grafana import UID, GrafanaError
from ktrdr_dashboards.deploy.live import Live, LiveDashboard
from ktrdr_dashboards.errors import DashboardError
from ktrdr_dashboards.project import Project


def check_uids(uids: list[str]) -> None:
    for uid in uids:
        if not UID.fullmatch(uid):
            raise DashboardError(
                f"`{uid}` is not a Grafana dashboard uid (at most 40 letters, digits, - and _)",
                fix="pass the uid from the dashboard's URL: /d/<uid>/...",
            )


def fetch(session: Live, uids: list[str]) -> dict[str, LiveDashboard]:
    """uid -> the dashboard Grafana holds, for every uid; an unknown uid is an error."""
    check_uids(uids)
    found = session.read_all(uids)
    missing = [uid for uid, live in found.items() if live is None]
    if missing:
        raise GrafanaError(
            f"Grafana at {session.grafana.settings.url} has no dashboard with uid {missing[0]}",
            fix="check the uid (the /d/<uid>/ part of its URL), or pull --all",
        )
    return {uid: live for uid, live in found.items() if live is not None}


@dataclass(frozen=True)
class Pulled:
    path: Path  # the classic export
    v2_path: Path | None  # the v2 resource, when Grafana stores the dashboard as v2
    layout: dict | None  # its v2-only layout


def write_exports(
    session: Live, dashboards: dict[str, LiveDashboard], out_dir: Path
) -> list[Pulled]:
    """`<uid>.json` per dashboard (sorted keys, as `build` writes), and `<uid>.v2.json` for
    one stored as v2, each renamed into place."""
    out_dir.mkdir(parents=True, exist_ok=True)
    pulled = []
    for uid, live in sorted(dashboards.items()):
        path = _write(out_dir / f"{uid}.json", session.export(live))
        v2_path = None
        if live.stored == "v2" and live.resource is not None:
            v2_path = _write(out_dir / f"{uid}.v2.json", _as_export(live.resource))
        pulled.append(Pulled(path, v2_path, live.layout))
    return pulled


def _as_export(resource: dict) -> dict:
    """A stored resource as Grafana's "V2 Resource" export has it: no server bookkeeping."""
    metadata = resource.get("metadata", {})
    kept = {k: metadata[k] for k in ("name", "annotations", "labels") if metadata.get(k)}
    return {
        "apiVersion": resource.get("apiVersion"),
        "kind": resource.get("kind"),
        "metadata": kept,
        "spec": resource["spec"],
    }


def _write(target: Path, value: object) -> Path:
    handle, staging = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".json", dir=target.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(jsonnet_compile.render_json(value))
        os.replace(staging, target)
    except BaseException:
        Path(staging).unlink(missing_ok=True)
        raise
    return target


# The importer loads the validation gate: imported only when `--import` asks for it, so that
# `apply` and `diff --live` start fast.


def import_pulled(project: Project, pulled: Pulled, force: bool) -> tuple[Path, list[str]]:
    """Write the Jsonnet source of a pulled dashboard through the importer; the source and
    notes for the user."""
    from ktrdr_dashboards.roundtrip import importer

    # A dashboard stored as v2 is imported from its v2 form, so tabs and auto grids come back
    # as lib/v2.libsonnet builders.
    export = pulled.v2_path if pulled.v2_path is not None else pulled.path
    return importer.write_source(project, export, None, force)


def project_findings(project: Project, sources: list[Path]) -> list[str]:
    """What the validation gate finds in the imported sources."""
    from ktrdr_dashboards.roundtrip import importer

    return importer.project_findings(project, sources)
