"""`doctor --prometheus URL`: the report for the dashboards as this project builds them."""

from __future__ import annotations

import argparse

from ktrdr_dashboards import build, modes
from ktrdr_dashboards.doctor import client, diagnose, report
from ktrdr_dashboards.validate import catalog


def run_doctor(
    project: build.Project, url: str, timeout_s: float = client.DEFAULT_TIMEOUT_S
) -> diagnose.Report:
    """Build the dashboards (no files written) and diagnose them against `url`."""
    output = build.evaluate(project)
    mode = modes.mode_of(output)
    datasources = [
        source
        for item in output.provisioning
        if item.kind == "datasources"
        for source in (item.data.get("datasources") or [])
    ]
    dashboards = [
        diagnose.Dashboard(d.uid, str(d.model.get("title", d.name)), d.model)
        for d in output.dashboards
    ]
    api = client.Prometheus.connect(url, timeout_s)
    names = set(catalog.load().series)
    return diagnose.diagnose(api, dashboards, mode.recording_rules, datasources, names)


def doctor_command(args: argparse.Namespace, project: build.Project) -> int:
    found = run_doctor(project, args.prometheus, args.timeout)
    print(report.as_json(found) if args.format == "json" else report.text(found))
    return 0 if found.ok else 1
