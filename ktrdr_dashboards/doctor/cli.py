"""`doctor --prometheus URL`: the report for the dashboards as this project builds them."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from ktrdr_dashboards import build, modes
from ktrdr_dashboards.doctor import client, diagnose, report
from ktrdr_dashboards.validate import catalog

ProjectOf = Callable[[argparse.Namespace], build.Project]


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


def _cmd_doctor(project: ProjectOf) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        found = run_doctor(project(args), args.prometheus, args.timeout)
        print(report.as_json(found) if args.format == "json" else report.text(found))
        return 0 if found.ok else 1

    return run


def add_commands(
    commands: argparse._SubParsersAction,
    common: Callable[[argparse.ArgumentParser], None],
    project: ProjectOf,
) -> None:
    parser = commands.add_parser(
        "doctor",
        help="ask a live Prometheus (read-only) which panels would show No data, and why",
        description=(
            "Credentials come from the environment: "
            f"{client.TOKEN_ENV} (bearer) or {client.USER_ENV} + {client.PASSWORD_ENV}. "
            "Exit 1 when a panel would show No data or misses a series it reads."
        ),
    )
    common(parser)
    parser.add_argument(
        "--prometheus",
        default=os.environ.get("KTRDR_PROMETHEUS_URL"),
        required=not os.environ.get("KTRDR_PROMETHEUS_URL"),
        metavar="URL",
        help="Prometheus base URL (default: $KTRDR_PROMETHEUS_URL)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--timeout",
        type=float,
        default=client.DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"seconds per request (default {client.DEFAULT_TIMEOUT_S:.0f})",
    )
    parser.set_defaults(run=_cmd_doctor(project))
