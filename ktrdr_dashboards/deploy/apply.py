"""`apply`: push the built dashboards into the KTRDR folder of a live Grafana without ever
overwriting a change made there.

What `apply` pushed is recorded in Grafana itself, so it works from any laptop or throw-away
CI runner: every save carries the version message `ktrdr-dashboards apply sha256:<hash>`, the
hash of the pushed content. A dashboard whose newest version is not such a save, and whose
content is not what the last such save pushed, was changed in Grafana: `apply` shows the
panel-level diff and leaves it alone unless forced. Saves send the version just read, so a
change made between that read and the save is refused by Grafana (412) and reported."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from grafana_client.client import GrafanaClientError

from ktrdr_dashboards.deploy.grafana import UID, Grafana, GrafanaError, _short
from ktrdr_dashboards.errors import DashboardError, Location
from ktrdr_dashboards.roundtrip import documents, exports, semdiff

FOLDER_UID = "ktrdr"
MARKER = "ktrdr-dashboards apply sha256:"
_PUSHED = re.compile(re.escape(MARKER) + r"([0-9a-f]{64})")


def content_hash(model: dict) -> str:
    """sha256 of the dashboard as Grafana keeps it: keys it assigns itself and key order
    do not count."""
    canonical = json.dumps(
        exports.strip_regenerated(model), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def pushed_hash(version: dict) -> str | None:
    """The content hash an `apply` save recorded in a version's message, if it is one."""
    found = _PUSHED.search(version.get("message") or "")
    return found.group(1) if found else None


@dataclass(frozen=True)
class Built:
    """A dashboard from build/dashboards/."""

    uid: str
    path: str
    model: dict


def built_dashboards(build_dir: Path, only: list[str] | None = None) -> list[Built]:
    """The build output, by uid; `only` selects by uid or build name."""
    found = semdiff.built_dashboards(build_dir)
    if not found:
        raise DashboardError(
            f"no dashboards in {build_dir}/dashboards/", fix="build first: `nox -s build`"
        )
    names = {path.stem: uid for uid, path in found.items()}
    chosen = sorted(found)
    if only:
        unknown = [o for o in only if o not in found and o not in names]
        if unknown:
            raise DashboardError(
                f"`{unknown[0]}` is not a dashboard uid or name in {build_dir}/dashboards/",
                fix=f"pick from: {', '.join(sorted(found))}",
            )
        chosen = sorted({names.get(o, o) for o in only})
    dashboards = []
    for uid in chosen:
        if not UID.fullmatch(uid):
            raise DashboardError(
                f"uid {uid!r} is not a Grafana uid (at most 40 letters, digits, - and _)",
                location=Location(file=str(found[uid]), dashboard=uid),
                fix="fix the uid in config.dashboards",
            )
        model = exports.unwrap(documents.read(found[uid]), str(found[uid]))
        dashboards.append(Built(uid, str(found[uid]), model))
    return dashboards


@dataclass(frozen=True)
class Decision:
    action: str  # create | update | unchanged | record | drift | provisioned
    live_version: int = 0
    live: dict | None = None
    newest: dict = field(default_factory=dict)  # the newest saved version


def decide(model: dict, live: tuple[dict, dict] | None, versions: list[dict]) -> Decision:
    """What to do with one built dashboard, from what Grafana has (pure)."""
    if live is None:
        return Decision("create")
    live_model, meta = live
    version = live_model.get("version") if isinstance(live_model.get("version"), int) else 0
    newest = versions[0] if versions else {}
    if meta.get("provisioned"):
        return Decision("provisioned", version, live_model, newest)
    newest_is_apply = newest.get("version") == version and pushed_hash(newest) is not None
    last_pushed = next((h for h in map(pushed_hash, versions) if h), None)
    untouched = newest_is_apply or last_pushed == content_hash(live_model)
    if not semdiff.diff(live_model, model):
        return Decision("unchanged" if untouched else "record", version, live_model, newest)
    return Decision("update" if untouched else "drift", version, live_model, newest)


@dataclass
class Summary:
    applied: list[str] = field(default_factory=list)  # created, updated or recorded
    unchanged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def _who(newest: dict) -> str:
    parts = [f"version {newest.get('version')}"]
    if newest.get("createdBy"):
        parts.append(f"by {_short(newest['createdBy'])}")
    if newest.get("message"):
        parts.append(f'"{_short(newest["message"])}"')
    return ", ".join(parts)


def ensure_folder(grafana: Grafana, title: str, dry_run: bool, report: Callable[[str], None]):
    if grafana.folder(FOLDER_UID) is not None:
        return
    if not dry_run:
        grafana.create_folder(FOLDER_UID, title)
    report(f"folder {title} (uid {FOLDER_UID}): {'would be created' if dry_run else 'created'}")


def apply(
    grafana: Grafana,
    dashboards: list[Built],
    folder_title: str,
    *,
    force: bool = False,
    dry_run: bool = False,
    report: Callable[[str], None] = print,
) -> Summary:
    """Push each dashboard unless Grafana has changes `apply` did not make. A failure
    part-way raises a DashboardError naming what was applied and what was not."""
    summary = Summary()
    done: list[str] = []
    current = f"folder {folder_title}"
    try:
        ensure_folder(grafana, folder_title, dry_run, report)
        for built in dashboards:
            current = built.uid
            outcome = _apply_one(grafana, built, force, dry_run, report)
            summary.counts[outcome] = summary.counts.get(outcome, 0) + 1
            {"refused": summary.refused, "unchanged": summary.unchanged}.get(
                outcome, summary.applied
            ).append(built.uid)
            done.append(built.uid)
    except DashboardError as error:
        if not summary.applied:
            raise DashboardError(
                f"{error.message}; no dashboard was changed",
                location=error.location,
                fix=error.fix,
            ) from None
        rest = [b.uid for b in dashboards if b.uid not in done]
        raise DashboardError(
            f"{error} — stopped at {current}; applied: {', '.join(summary.applied)}; "
            f"not applied: {', '.join(rest)}",
            fix="run apply again to finish: what is applied already is left as it is",
        ) from None
    return summary


def _apply_one(
    grafana: Grafana, built: Built, force: bool, dry_run: bool, report: Callable[[str], None]
) -> str:
    uid, title = built.uid, built.model.get("title", "")
    name = f"{uid} ({title})"
    live = grafana.dashboard(uid)
    versions = grafana.versions(uid) if live is not None else []
    decision = decide(built.model, live, versions)
    would = "would be " if dry_run else ""
    if decision.action == "unchanged":
        report(f"{name}: unchanged")
        return "unchanged"
    if decision.action == "provisioned":
        report(
            f"{name}: refused — Grafana provisions it from files on its host, which the API "
            "cannot replace: install the release there instead"
        )
        return "refused"
    if decision.action == "drift" and not force:
        report(
            f"{name}: refused — changed in Grafana since apply pushed it "
            f"({_who(decision.newest)}); port the change to the sources (`pull --import`) "
            "or pass --force to overwrite it:"
        )
        _show_diff(built, uid, decision, report, grafana_first=False)
        return "refused"
    if decision.action == "record":
        # Same content, saved by someone else: record it as applied so that the next change
        # of the sources is not mistaken for drift.
        outcome = "unchanged"
        label = f"{name}: unchanged ({'would be ' if dry_run else ''}recorded as applied)"
    elif decision.action == "create":
        outcome, label = "created", f"{name}: {would}created"
    else:
        outcome = "updated"
        forced = " (forced over changes made in Grafana)" if decision.action == "drift" else ""
        label = f"{name}: {would}updated{forced}"
    if dry_run:
        report(label)
        if decision.action in ("update", "drift"):
            _show_diff(built, uid, decision, report, grafana_first=True)
        return outcome
    pushed = {k: v for k, v in built.model.items() if k not in ("id", "version")}
    if live is not None:
        pushed["version"] = decision.live_version
    message = MARKER + content_hash(built.model)
    try:
        version = grafana.save(pushed, FOLDER_UID, message, overwrite=force)
    except GrafanaClientError as error:
        if error.status_code == 412 and _saved_already(grafana, uid, built.model):
            version = decision.live_version + 1
        elif error.status_code == 412:
            report(
                f"{name}: refused — changed in Grafana while apply ran (HTTP 412: "
                f"{_short(error.response)}); run apply again to see the change"
            )
            return "refused"
        else:
            raise GrafanaError(
                f"Grafana refused to save dashboard {uid}: HTTP {error.status_code}: "
                f"{_short(error.response)}",
                fix="fix what Grafana names, then run apply again",
            ) from None
    report(f"{label}, version {version}")
    return outcome


def _saved_already(grafana: Grafana, uid: str, model: dict) -> bool:
    """After a 412: did an earlier attempt of this very save (retried after a lost answer)
    go through?"""
    versions = grafana.versions(uid, limit=1)
    return bool(versions) and pushed_hash(versions[0]) == content_hash(model)


def _show_diff(
    built: Built, uid: str, decision: Decision, report: Callable[[str], None], grafana_first: bool
) -> None:
    live = decision.live or {}
    grafana_label = f"grafana {uid} version {decision.live_version}"
    if grafana_first:
        a, b, labels = live, built.model, (grafana_label, built.path)
    else:
        a, b, labels = built.model, live, (built.path, grafana_label)
    report(f"  --- {labels[0]}\n  +++ {labels[1]}")
    for line in semdiff.diff(a, b):
        report(f"  {line}")


def folder_title(provider_folders: list[str]) -> str:
    """The folder the provisioning config puts the dashboards in ("KTRDR")."""
    return next((f for f in provider_folders if f), "KTRDR")
