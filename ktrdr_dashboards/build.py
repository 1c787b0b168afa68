"""`build`: compile every dashboard, check it, and write build/ so that a failure leaves the
previous build/ exactly as it was, and a Grafana reading build/ while it is written never
finds a dashboard missing or half-written."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ktrdr_dashboards import atomic, validate
from ktrdr_dashboards.compile import kubernetes
from ktrdr_dashboards.compile.output import BuildOutput, evaluate
from ktrdr_dashboards.project import Project

__all__ = ["MANAGED_DIRS", "BuildOutput", "Project", "build", "evaluate", "write_tree"]

# Top-level folders of build/ that `build` owns and keeps in step with the sources; others
# (dist/, preview/) belong to other commands and are never touched here.
MANAGED_DIRS = ("dashboards", "provisioning", "prometheus", kubernetes.KUBERNETES_DIR)


def write_tree(out_dir: Path, files: dict[str, str], managed: Sequence[str] = MANAGED_DIRS) -> None:
    """Make out_dir's managed folders hold exactly `files`, one atomic rename per changed file
    and stale files removed last: the folders never disappear, and every file in them is
    always complete (Grafana may provision from build/dashboards while this runs)."""
    encoded = {relative: content.encode("utf-8") for relative, content in files.items()}
    atomic.sync_folders(out_dir, encoded, managed)


def build(
    project: Project,
    out_dir: Path,
    *,
    grafana_schema: Path | None = None,
    exclusions_file: Path | None = None,
) -> BuildOutput:
    """Evaluate, validate, then write: an invalid dashboard is never written, and build/ keeps
    its previous content (raises validate.ValidationError carrying every finding)."""
    output = evaluate(project)
    findings = validate.check_project(
        project, output, grafana_schema=grafana_schema, exclusions_file=exclusions_file
    )
    if findings:
        raise validate.ValidationError(findings)
    write_tree(out_dir, output.files)
    return output


def _gate_options(args: argparse.Namespace) -> dict:
    return {
        "grafana_schema": Path(args.grafana_schema) if args.grafana_schema else None,
        "exclusions_file": Path(args.exclusions) if args.exclusions else None,
    }


def command(args: argparse.Namespace, project: Project) -> int:
    """`build`: what was written, one line a dashboard."""
    output = build(project, Path(args.out), **_gate_options(args))
    for dashboard in output.dashboards:
        panels = len(dashboard.model.get("panels", []))
        print(
            f"built {args.out}/dashboards/{dashboard.name}.json ({dashboard.uid}, {panels} panels)"
        )
    print(f"wrote {len(output.files)} files to {args.out}/")
    return 0


def validate_command(args: argparse.Namespace, project: Project) -> int:
    """`validate`: the gate's findings, one line each (or JSON); writes nothing."""
    output = evaluate(project)
    findings = validate.check_project(project, output, **_gate_options(args))
    if args.format == "json":
        print(validate.render(findings, "json"))
    elif findings:
        print(validate.render(findings, "text"), file=sys.stderr)
        print(f"{len(findings)} findings", file=sys.stderr)
    else:
        print(f"validated {len(output.dashboards)} dashboards and provisioning: no findings")
    return 1 if findings else 0
