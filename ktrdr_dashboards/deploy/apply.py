"""`apply`: push the built dashboards into the KTRDR folder of a live Grafana without ever
overwriting a change made there.

What `apply` pushed is recorded in Grafana itself (`live`: an annotation on the resource, or
the version message over the legacy /api), so it works from any laptop or throw-away CI
runner. A dashboard whose content is not what `apply` last pushed was changed in Grafana:
`apply` shows the panel-level diff and leaves it alone unless forced. Writes send the version
just read, so a change made between that read and the write is refused by Grafana (409 over
/apis, 412 over /api); `apply` reads the dashboard once more and reports the conflict.

The comparison is semantic and between classic models: a dashboard Grafana holds as schema
v2 is converted first, and its v2-only layout (tabs, auto grid, ...) compared with the build's
(`CompiledDashboard.v2_layout`, read from the build's v2 resource) — format alone is never a
difference. Nothing is written when nothing differs."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ktrdr_dashboards import convert
from ktrdr_dashboards.deploy.grafana import UID
from ktrdr_dashboards.deploy.live import Conflict, Live, LiveDashboard, Write, aligned
from ktrdr_dashboards.errors import DashboardError, Location
from ktrdr_dashboards.roundtrip import documents, exports, semdiff

FOLDER_UID = "ktrdr"
# Where the build writes each dashboard as a Grafana resource; a v2 one carries the layout.
RESOURCES_DIR = Path("kubernetes") / "grafana-resources"


@dataclass(frozen=True)
class Built:
    """A dashboard from build/dashboards/, with the v2 layout its source declares."""

    uid: str
    path: str
    model: dict
    v2_layout: dict | None = None


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
        layout = built_layout(build_dir, uid)
        dashboards.append(Built(uid, str(found[uid]), model, layout))
    return dashboards


def built_layout(build_dir: Path, uid: str) -> dict | None:
    """The v2-only layout of a built dashboard: its v2 resource's, when the build wrote one
    and it says something the classic model cannot (None otherwise)."""
    path = build_dir / RESOURCES_DIR / f"dashboard-{uid}.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    if "dashboard.grafana.app/v2" not in text or not may_hold_v2_only(text):
        return None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    resource = yaml.load(text, Loader=loader)
    spec = resource.get("spec") if isinstance(resource, dict) else None
    if not (
        isinstance(spec, dict) and str(resource.get("apiVersion", "")).startswith("dashboard.")
    ):
        raise DashboardError(
            "not a Grafana Dashboard resource", location=Location(file=str(path), dashboard=uid)
        )
    return convert.v2_layout(spec)


# What each of convert.v2_only's constructs cannot be written without: a resource naming none
# of them is not parsed (a whole dashboard in YAML costs ~15 ms; 100 of them would be felt).
_V2_ONLY_WORDS = re.compile(r"TabsLayout|AutoGridLayout|conditionalRendering|fillScreen|hideHeader")
_ROWS_LAYOUT = re.compile(r"\bRowsLayout\b(?!Row)")
_SECTION_KEYS = re.compile(r"\b(variables|repeat)\b")


def may_hold_v2_only(text: str) -> bool:
    """Whether a v2 resource's text may hold a v2-only construct: tabs, an auto grid, rows in
    rows, a section's conditional rendering, variables or repeat, a hidden or full-screen
    row. False only when it cannot."""
    return bool(
        _V2_ONLY_WORDS.search(text)
        or len(_ROWS_LAYOUT.findall(text)) > 1
        or len({m.start() for m in _SECTION_KEYS.finditer(text)}) > 1
    )


# ---------------------------------------------------------------- deciding


@dataclass(frozen=True)
class Decision:
    action: str  # create | update | unchanged | record | drift | provisioned
    live: LiveDashboard | None = None


def changes(built: Built, live: LiveDashboard, layout: dict | None) -> list[str]:
    """What differs from the build (`layout`: its v2 layout where the server holds v2) to
    what Grafana holds, one line each."""
    lines = semdiff.diff(built.model, aligned(live.classic, built.model))
    return lines + semdiff.layout_diff(built.model, layout, live.classic, live.layout)


def decide(built: Built, live: LiveDashboard | None, layout: dict | None) -> Decision:
    """What to do with one built dashboard, from what Grafana has (pure)."""
    if live is None:
        return Decision("create")
    if live.managed:
        return Decision("provisioned", live)
    if not changes(built, live, layout):
        return Decision("unchanged" if live.untouched else "record", live)
    return Decision("update" if live.untouched else "drift", live)


# ---------------------------------------------------------------- applying


@dataclass
class Summary:
    applied: list[str] = field(default_factory=list)  # created, updated or recorded
    unchanged: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def ensure_folder(session: Live, title: str, dry_run: bool, report: Callable[[str], None]) -> bool:
    """Create the folder when missing; whether it existed."""
    if session.has_folder(FOLDER_UID):
        return True
    session.create_folder(FOLDER_UID, title, dry_run)
    report(f"folder {title} (uid {FOLDER_UID}): {'would be created' if dry_run else 'created'}")
    return False


def apply(
    session: Live,
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
        folder_existed = ensure_folder(session, folder_title, dry_run, report)
        current = "reading the dashboards"
        lives = session.read_all([b.uid for b in dashboards])
        step = _Step(session, folder_title, force, dry_run, folder_existed, report)
        for built in dashboards:
            current = built.uid
            outcome = step.apply(built, lives[built.uid])
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


@dataclass(frozen=True)
class _Step:
    session: Live
    folder_title: str
    force: bool
    dry_run: bool
    folder_existed: bool  # a dry run has Grafana check writes only into an existing folder
    report: Callable[[str], None]

    def apply(self, built: Built, live: LiveDashboard | None) -> str:
        uid, title = built.uid, built.model.get("title", "")
        name = f"{uid} ({title})"
        layout = built.v2_layout if self.session.v2 is not None else None
        decision = decide(built, live, layout)
        would = "would be " if self.dry_run else ""
        if decision.action == "unchanged":
            self.report(f"{name}: unchanged")
            return "unchanged"
        if decision.action == "provisioned":
            assert live is not None
            self.report(_refusal(name, str(live.managed)))
            return "refused"
        if decision.action == "drift" and not self.force:
            assert live is not None
            self.report(
                f"{name}: refused — changed in Grafana since apply pushed it ({live.who}); "
                "port the change to the sources (`pull --import`) or pass --force to "
                "overwrite it:"
            )
            _show_diff(built, live, layout, self.report, grafana_first=False)
            return "refused"
        if decision.action == "record":
            # Same content, saved by someone else: record it as applied so that the next
            # change of the sources is not mistaken for drift.
            outcome, label = "unchanged", f"{name}: unchanged ({would}recorded as applied)"
        elif decision.action == "create":
            outcome, label = "created", f"{name}: {would}created"
        else:
            forced = " (forced over changes made in Grafana)" if decision.action == "drift" else ""
            outcome, label = "updated", f"{name}: {would}updated{forced}"
        if live is not None and self.session.target(live, layout) != live.stored:
            label += f" (as {self.session.target(live, layout)})"
        write = self.session.prepare(
            built.model,
            layout,
            live,
            (FOLDER_UID, self.folder_title),
            record_only=decision.action == "record",
        )
        if self.dry_run:
            if self.folder_existed:
                try:
                    self.session.send(write, force=self.force, dry_run=True)
                except Conflict as conflict:
                    label += f" (Grafana says it changed meanwhile: {conflict})"
            self.report(label)
            if decision.action in ("update", "drift"):
                assert live is not None
                _show_diff(built, live, layout, self.report, grafana_first=True)
            return outcome
        try:
            version = self.session.send(write, force=self.force)
        except Conflict as conflict:
            version = self._after_conflict(write, conflict)
            if version is None:
                self.report(
                    f"{name}: refused — changed in Grafana while apply ran ({conflict}); run "
                    "apply again to see the change"
                )
                return "refused"
        self.report(f"{label}, version {version}")
        return outcome

    def _after_conflict(self, write: Write, conflict: Conflict) -> int | None:
        """Read once more: the version when an earlier attempt of this very write (retried
        after a lost answer) went through, else None."""
        again = self.session.read(write.uid)
        if again is not None and again.untouched and again.pushed == write.recorded:
            return again.version
        return None


def _refusal(name: str, managed: str) -> str:
    if managed.startswith("provisioned"):
        return (
            f"{name}: refused — Grafana provisions it from files on its host, which the API "
            "cannot replace: install the release there instead"
        )
    return f"{name}: refused — {managed}, which owns it: change it there"


def _show_diff(
    built: Built,
    live: LiveDashboard,
    layout: dict | None,
    report: Callable[[str], None],
    grafana_first: bool,
) -> None:
    grafana_label = f"grafana {live.uid} {live.label}"
    if grafana_first:
        labels = (grafana_label, built.path)
        lines = semdiff.diff(aligned(live.classic, built.model), built.model)
        lines += semdiff.layout_diff(live.classic, live.layout, built.model, layout)
    else:
        labels = (built.path, grafana_label)
        lines = changes(built, live, layout)
    report(f"  --- {labels[0]}\n  +++ {labels[1]}")
    for line in lines:
        report(f"  {line}")


def folder_title(provider_folders: list[str]) -> str:
    """The folder the provisioning config puts the dashboards in ("KTRDR")."""
    return next((f for f in provider_folders if f), "KTRDR")
