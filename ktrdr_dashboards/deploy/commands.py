"""Command line for a live Grafana: `apply`, `pull` and `diff --live`. Grafana's URL and
credential come from the environment only (GRAFANA_URL, GRAFANA_TOKEN or GRAFANA_USER and
GRAFANA_PASSWORD), never from arguments, and are never printed."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ktrdr_dashboards.compile import provisioning
from ktrdr_dashboards.deploy import apis
from ktrdr_dashboards.deploy import apply as apply_module
from ktrdr_dashboards.deploy import grafana as grafana_module
from ktrdr_dashboards.deploy import pull as pull_module
from ktrdr_dashboards.deploy.live import Live
from ktrdr_dashboards.errors import DashboardError
from ktrdr_dashboards.project import Project


def _connect() -> Live:
    """Grafana from the environment, checked, and what it speaks: the first line says it."""
    grafana = grafana_module.connect(os.environ)
    session = Live(grafana, apis.discover(grafana))
    print(session.describe())
    return session


def _folder_title(project: Project) -> str:
    files = provisioning.load(project.provisioning_dir)
    return apply_module.folder_title(
        [str(p.get("folder", "")) for p in provisioning.providers(files)]
    )


def _check_prometheus_rules(build_dir: Path, url: str) -> None:
    """Refuse to push dashboards that read recording rules the Prometheus behind the
    datasource does not have (they would show No data), saying how to load them."""
    from ktrdr_dashboards.doctor import client, diagnose

    rules_file = build_dir / "prometheus" / "rules" / "ktrdr-recording.yml"
    rules = rules_file.read_text(encoding="utf-8") if rules_file.is_file() else None
    texts = [
        p.read_text(encoding="utf-8") for p in sorted((build_dir / "dashboards").glob("*.json"))
    ]
    needed = {
        n: e for n, e in diagnose.expected_recordings(rules).items() if any(n in t for t in texts)
    }
    if not needed:
        print("the dashboards read no recording rules")
        return
    check = diagnose.recording_rules_check(client.Prometheus.connect(url), rules)
    if check.status == diagnose.PROBLEM:
        raise DashboardError(f"Prometheus {url}: {check.message}", fix=check.fix)
    print(f"Prometheus {url}: {check.message}")


def apply_command(args: argparse.Namespace, project: Project) -> int:
    dashboards = apply_module.built_dashboards(Path(args.build), args.dashboards)
    title = _folder_title(project)
    if args.prometheus:
        _check_prometheus_rules(Path(args.build), args.prometheus)
    session = _connect()
    summary = apply_module.apply(session, dashboards, title, force=args.force, dry_run=args.dry_run)
    would = "would be " if args.dry_run else ""
    counts = ", ".join(
        f"{n} {would if outcome in ('created', 'updated') else ''}{outcome}"
        for outcome, n in sorted(summary.counts.items())
    )
    prefix = "dry run, nothing changed: " if args.dry_run else ""
    print(f"{prefix}{len(dashboards)} dashboards: {counts}")
    if summary.refused:
        print(
            f"refused: {', '.join(summary.refused)} — see above; nothing else was touched",
            file=sys.stderr,
        )
        return 1
    return 0


def pull_command(args: argparse.Namespace, project: Project) -> int:
    if bool(args.uids) == bool(args.all):
        raise DashboardError(
            "pull needs dashboard uids or --all (not both)", fix="pull UID... | pull --all"
        )
    pull_module.check_uids(args.uids)
    session = _connect()
    uids = args.uids or session.folder_uids(apply_module.FOLDER_UID)
    if not uids:
        print(f"folder uid {apply_module.FOLDER_UID} in Grafana has no dashboards: nothing pulled")
        return 0
    dashboards = pull_module.fetch(session, uids)
    written = pull_module.write_exports(session, dashboards, Path(args.out))
    for pulled in written:
        also = f" (stored as schema v2: also {pulled.v2_path})" if pulled.v2_path else ""
        print(f"pulled {pulled.path}{also}")
    if not args.import_:
        return 0
    failed = 0
    imported: list[Path] = []
    for pulled in written:
        try:
            source, notes = pull_module.import_pulled(project, pulled, args.force)
        except DashboardError as error:
            print(f"error: {error}", file=sys.stderr)
            failed += 1
            continue
        for note in notes:
            print(f"note: {note}", file=sys.stderr)
        print(f"imported {pulled.path} → {source}")
        imported.append(source)
    findings = pull_module.project_findings(project, imported)
    for line in findings:
        print(line, file=sys.stderr)
    if findings:
        print(
            f"{len(findings)} findings: complete the imported sources, then build", file=sys.stderr
        )
    if failed:
        print(f"{failed} of {len(written)} imports failed (above)", file=sys.stderr)
    return 1 if failed or findings else 0


def diff_live(args: argparse.Namespace) -> int:
    """`diff --live [UID|NAME]`: each built dashboard against the one Grafana serves."""
    dashboards = apply_module.built_dashboards(Path(args.build), [args.a] if args.a else None)
    session = _connect()
    lives = session.read_all([b.uid for b in dashboards])
    differing = 0
    for built in dashboards:
        live = lives[built.uid]
        if live is None:
            print(f"{built.uid}: not in Grafana (apply creates it)")
            differing += 1
            continue
        layout = built.v2_layout if session.v2 is not None else None
        lines = apply_module.changes(built, live, layout)
        print(f"--- {built.path}\n+++ grafana {built.uid} {live.label}")
        for line in lines:
            print(line)
        count = f"{len(lines)} difference" + ("" if len(lines) == 1 else "s")
        print(count if lines else "no semantic differences")
        differing += bool(lines)
    print(f"{len(dashboards)} dashboards: {differing} differ from Grafana")
    return 1 if differing else 0


def diff_command(args: argparse.Namespace, project: Project) -> int:
    """`diff`: with --live the build against what Grafana serves, else two dashboards."""
    if args.live:
        return diff_live(args)
    # Imported here: it loads the importer and the validation gate, which --live never needs.
    from ktrdr_dashboards.roundtrip import commands as roundtrip_commands

    return roundtrip_commands.diff_command(args, project)
