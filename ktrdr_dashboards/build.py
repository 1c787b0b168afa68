"""`build`: compile every dashboard, check it, and write build/ so that a failure leaves the
previous build/ exactly as it was, and a Grafana reading build/ while it is written never
finds a dashboard missing or half-written. Compiling and checking is `build_pool.run`
(workers make and judge the dashboards, the project's checks follow); `evaluate` (all in
memory, models included) serves the commands that read the dashboards themselves."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from ktrdr_dashboards import atomic, validate
from ktrdr_dashboards import build_pool as pool
from ktrdr_dashboards.compile import kubernetes
from ktrdr_dashboards.compile.output import BuildOutput, evaluate
from ktrdr_dashboards.project import Project

__all__ = ["MANAGED_DIRS", "BuildOutput", "Project", "build", "evaluate", "write_tree"]

# Top-level folders of build/ that `build` owns and keeps in step with the sources; others
# (dist/, preview/) belong to other commands and are never touched here.
MANAGED_DIRS = ("dashboards", "provisioning", "prometheus", kubernetes.KUBERNETES_DIR)


def write_tree(
    out_dir: Path, files: Mapping[str, str | bytes], managed: Sequence[str] = MANAGED_DIRS
) -> None:
    """Make out_dir's managed folders hold exactly `files`, one atomic rename per changed file
    and stale files removed last: the folders never disappear, and every file in them is
    always complete (Grafana may provision from build/dashboards while this runs)."""
    encoded = {
        relative: content if isinstance(content, bytes) else content.encode("utf-8")
        for relative, content in files.items()
    }
    atomic.sync_folders(out_dir, encoded, managed)


def build(
    project: Project,
    out_dir: Path,
    *,
    grafana_schema: Path | None = None,
    exclusions_file: Path | None = None,
    workers: int | None = None,
) -> pool.Result:
    """Compile and validate, then write: an invalid dashboard is never written, and build/
    keeps its previous content (raises validate.ValidationError carrying every finding).
    Files are written aside as the dashboards are made and renamed in once all pass."""
    staging = atomic.Staging(out_dir, MANAGED_DIRS)
    try:
        result = pool.run(
            project,
            grafana_schema=grafana_schema,
            exclusions_file=exclusions_file,
            workers=workers,
            stage=staging.add,
        )
        if result.findings:
            raise validate.ValidationError(result.findings)
    except BaseException:
        staging.discard()
        raise
    staging.commit(result.files)
    return result


def _gate_options(args: argparse.Namespace) -> dict:
    return {
        "grafana_schema": Path(args.grafana_schema) if args.grafana_schema else None,
        "exclusions_file": Path(args.exclusions) if args.exclusions else None,
    }


def command(args: argparse.Namespace, project: Project) -> int:
    """`build`: what was written, one line a dashboard."""
    result = build(project, Path(args.out), **_gate_options(args))
    for dashboard in result.dashboards:
        print(
            f"built {args.out}/dashboards/{dashboard.name}.json "
            f"({dashboard.uid}, {dashboard.panels} panels)"
        )
    print(f"wrote {len(result.files)} files to {args.out}/")
    return 0


def validate_command(args: argparse.Namespace, project: Project) -> int:
    """`validate`: the gate's findings, one line each (or JSON); writes nothing."""
    result = pool.run(project, **_gate_options(args))
    findings = result.findings
    if args.format == "json":
        print(validate.render(findings, "json"))
    elif findings:
        print(validate.render(findings, "text"), file=sys.stderr)
        print(f"{len(findings)} findings", file=sys.stderr)
    else:
        print(f"validated {len(result.dashboards)} dashboards and provisioning: no findings")
    return 1 if findings else 0
