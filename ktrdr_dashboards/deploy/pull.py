"""`pull`: the dashboards a live Grafana serves, written as exports (one `<uid>.json` per
dashboard) and, on request, imported as Jsonnet sources: the way back from a change made in
the Grafana UI to the code.

Everything is fetched and checked before anything is written, so a failure leaves the
output folder as it was; each file is written aside and renamed into place."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from ktrdr_dashboards.compile import dashboards as jsonnet_compile
from ktrdr_dashboards.deploy.grafana import UID, Grafana, GrafanaError
from ktrdr_dashboards.errors import DashboardError


def check_uids(uids: list[str]) -> None:
    for uid in uids:
        if not UID.fullmatch(uid):
            raise DashboardError(
                f"`{uid}` is not a Grafana dashboard uid (at most 40 letters, digits, - and _)",
                fix="pass the uid from the dashboard's URL: /d/<uid>/...",
            )


def fetch(grafana: Grafana, uids: list[str]) -> dict[str, dict]:
    """uid -> the dashboard model Grafana serves, for every uid; an unknown uid is an error."""
    check_uids(uids)
    models: dict[str, dict] = {}
    for uid in uids:
        found = grafana.dashboard(uid)
        if found is None:
            raise GrafanaError(
                f"Grafana at {grafana.settings.url} has no dashboard with uid {uid}",
                fix="check the uid (the /d/<uid>/ part of its URL), or pull --all",
            )
        models[uid] = found[0]
    return models


def write_exports(models: dict[str, dict], out_dir: Path) -> list[Path]:
    """`<uid>.json` per model (sorted keys, as `build` writes), each renamed into place."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for uid, model in sorted(models.items()):
        target = out_dir / f"{uid}.json"
        handle, staging = tempfile.mkstemp(prefix=f".{uid}.", suffix=".json", dir=out_dir)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(jsonnet_compile.render_json(model))
            os.replace(staging, target)
        except BaseException:
            Path(staging).unlink(missing_ok=True)
            raise
        written.append(target)
    return written
