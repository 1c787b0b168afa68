"""Command line: `python -m ktrdr_dashboards COMMAND`. The one place where commands are
declared: each with what it writes and where, its arguments, and the function that runs it,
imported only when that command runs (so `--help` and `build` load nothing they do not use).
Every DashboardError becomes one line on stderr and exit code 1. Nothing imports this module."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ktrdr_dashboards.errors import DashboardError
from ktrdr_dashboards.jsonnet import engines

REPO_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Arg:
    """One argparse argument: its flags and keyword options."""

    flags: tuple[str, ...]
    options: dict = field(default_factory=dict)


def arg(*flags: str, **options: object) -> Arg:
    return Arg(flags, options)


@dataclass(frozen=True)
class Command:
    name: str
    help: str  # what it does, what it writes and where
    run: str  # "module:function", called as function(args, project) or function(args)
    arguments: tuple[Arg, ...] = ()
    project: bool = True  # takes --root, --jpath and --engine, and gets the Project
    description: str | None = None


GATE = (
    arg(
        "--grafana-schema",
        metavar="PATH",
        help="also validate each dashboard against this JSON Schema (Grafana's official one)",
    ),
    arg(
        "--exclusions",
        metavar="FILE",
        help="justified exceptions (default: validation-exclusions.yaml in the project root)",
    ),
)
SIGNERS = arg(
    "--allowed-signers",
    metavar="FILE",
    help="OpenSSH allowed_signers file: refuse a tarball not signed by a key trusted there",
)
K = "ktrdr_dashboards."

COMMANDS: tuple[Command, ...] = (
    Command(
        "build",
        "compile, validate and write build/ (dashboards/, provisioning/, prometheus/rules/, "
        "kubernetes/); nothing is written when anything fails",
        K + "build:command",
        (arg("--out", default="build", help="output folder (default: build)"), *GATE),
    ),
    Command(
        "validate",
        "check dashboards, queries, rules, provisioning and Kubernetes resources; write nothing",
        K + "build:validate_command",
        (*GATE, arg("--format", choices=("text", "json"), default="text")),
    ),
    Command(
        "fmt",
        "rewrite Jsonnet files in place with jsonnetfmt (--check: report only, write nothing)",
        K + "jsonnet.format:command",
        (
            arg("paths", nargs="+", help="files or folders"),
            arg("--check", action="store_true", help="report, do not rewrite"),
        ),
        project=False,
    ),
    Command(
        "release",
        "build, validate and write build/dist/ktrdr-dashboards-<version>.tar.gz, its .sha256 "
        "and, with --sign, its .sig",
        K + "release.commands:release_command",
        (
            arg("--out", default="build", help="build folder (default: build)"),
            arg(
                "--allow-dirty",
                action="store_true",
                help="release uncommitted changes as <version>+dirty instead of refusing",
            ),
            arg(
                "--sign",
                metavar="KEY",
                help="sign the tarball with this SSH private key (ssh-keygen -Y sign); writes .sig",
            ),
        ),
    ),
    Command(
        "verify",
        "check a release tarball (limits, checksums, signature, valid dashboards); write nothing",
        K + "release.commands:verify_command",
        (arg("tarball", help="path to ktrdr-dashboards-<version>.tar.gz"), SIGNERS),
        project=False,
    ),
    Command(
        "install",
        "verify a release and install it under ROOT (Grafana's provisioning folders, "
        "etc/prometheus/rules/, state in var/lib/ktrdr-dashboards/); or roll back or recover",
        K + "release.commands:install_command",
        (
            arg("tarball", nargs="?", help="release tarball to install"),
            arg("--root", required=True, help="`/` of the Grafana host or image to install into"),
            arg("--rollback", action="store_true", help="restore the previously installed release"),
            arg(
                "--recover",
                action="store_true",
                help="only finish (roll back or complete) an install or rollback that was killed",
            ),
            SIGNERS,
        ),
        project=False,
    ),
    Command(
        "import",
        "write jsonnet/NAME.jsonnet from a dashboard exported from Grafana, then run the gate",
        K + "roundtrip.commands:import_command",
        (
            arg(
                "file",
                help="an export, JSON or YAML: Classic (plain, API answer or shared), "
                "V1 or V2 Resource, or a v2 spec",
            ),
            arg("name", nargs="?", help="source name (default: from the uid, without `ktrdr-`)"),
            arg("--force", action="store_true", help="overwrite an existing jsonnet/NAME.jsonnet"),
        ),
    ),
    Command(
        "diff",
        "semantic, panel-level diff of two dashboards, or of the build and a live Grafana "
        "(--live); prints only, exit 1 when they differ",
        K + "deploy.commands:diff_command",
        (
            arg(
                "a",
                nargs="?",
                help="a file (any export format, JSON or YAML), a build output name or a uid "
                "in build/",
            ),
            arg(
                "b", nargs="?", help="the same kinds; omitted: the build of A's uid, compared to A"
            ),
            arg("--build", default="build", help="build folder (default: build)"),
            arg(
                "--live",
                action="store_true",
                help="compare the build (A: one uid or name) with what Grafana serves "
                "(GRAFANA_URL, GRAFANA_TOKEN or GRAFANA_USER/GRAFANA_PASSWORD)",
            ),
        ),
    ),
    Command(
        "preview",
        "write build/preview/<dashboard>.html, .seen.json and .png with data, and index.html "
        "(--serve: serve and rebuild them live; --pictures: per-panel-type pictures)",
        K + "preview.commands:preview_command",
        (
            arg("--out", default="build/preview", help="default: build/preview"),
            arg("--no-screenshots", action="store_true", help="write the HTML pages only"),
            arg(
                "--serve",
                action="store_true",
                help="serve the pages on 127.0.0.1, rebuild and reload on changes under jsonnet/ "
                "and lib/ (Ctrl-C stops)",
            ),
            arg(
                "--pictures",
                metavar="DIR",
                help="instead: one picture per panel type, preview beside panel JSON "
                "(docs/previews)",
            ),
            arg(
                "--port",
                type=int,
                default=8800,
                help="with --serve: default 8800, 0 picks a free one",
            ),
        ),
    ),
    Command(
        "docs",
        "write docs/dashboards.md from the sources (--check: compare, write nothing)",
        K + "docs:command",
        (
            arg("--out", default="docs/dashboards.md", help="default: docs/dashboards.md"),
            arg("--check", action="store_true", help="fail when the file differs from the sources"),
        ),
    ),
    Command(
        "test-rules",
        "check and unit-test the Prometheus rules with promtool and print their coverage; "
        "write nothing",
        K + "truth.commands:test_rules_command",
        (arg("--tests", metavar="DIR", help="promtool test files (default: tests/rules)"),),
    ),
    Command(
        "querytest",
        "prove every panel's query with promtool (specs, coverage, environments) in both "
        "modes; print the coverage table, write nothing",
        K + "truth.commands:querytest_command",
        (arg("--specs", help="folder of behaviour specs (default: tests/specs)"),),
    ),
    Command(
        "bench",
        "print build speed and memory per Jsonnet engine and Prometheus query cost "
        "(--json FILE also writes them); see docs/PERFORMANCE.md",
        K + "bench.commands:bench_command",
        (
            arg("--root", default=str(REPO_ROOT), help="project root (default: this repo)"),
            arg("--runs", type=int, default=3, help="fresh-process runs per build figure"),
            arg(
                "--dashboards",
                nargs="+",
                type=int,
                default=[100, 1000],
                help="sizes of the generated projects (each compiled, and compiled + validated, "
                "on every engine; 1000 and up run once)",
            ),
            arg(
                "--sizes",
                nargs="+",
                default=["1k", "10k", "100k"],
                help="telemetry sizes, approximate series counts (tiny, 1k, 10k, 100k)",
            ),
            arg("--refreshes", type=int, default=5, help="full refreshes per dashboard"),
            arg("--json", metavar="FILE", help="also write the figures as JSON"),
            arg(
                "--engines",
                nargs="+",
                choices=["go", "cpp", "rs"],
                default=["go", "cpp", "rs"],
                help="Jsonnet engines to measure side by side (one not installed is named and "
                "skipped)",
            ),
            arg(
                "--only",
                nargs="+",
                choices=["build", "queries", "import", "convert"],
                help="run only these (build: the engine table; import: V2 exports against "
                "classic ones; convert: 1000 dashboards classic → v2)",
            ),
        ),
        project=False,
    ),
    Command(
        "apply",
        "push build/dashboards/ into Grafana's KTRDR folder (GRAFANA_URL, GRAFANA_TOKEN or "
        "GRAFANA_USER/GRAFANA_PASSWORD); refuses to overwrite changes made in Grafana",
        K + "deploy.commands:apply_command",
        (
            arg("dashboards", nargs="*", help="uids or build names (default: every built one)"),
            arg("--build", default="build", help="build folder (default: build)"),
            arg("--dry-run", action="store_true", help="print what would change; change nothing"),
            arg("--force", action="store_true", help="overwrite dashboards changed in Grafana"),
            arg(
                "--prometheus",
                metavar="URL",
                help="first check that this Prometheus (the datasource's) has the recording rules "
                "the dashboards read; refuse, saying how to load them, if not (credentials: "
                "PROMETHEUS_TOKEN or PROMETHEUS_USER/PROMETHEUS_PASSWORD)",
            ),
        ),
    ),
    Command(
        "pull",
        "write dashboards from Grafana as exports into build/pulled/ (--import: also as "
        "jsonnet/<name>.jsonnet)",
        K + "deploy.commands:pull_command",
        (
            arg("uids", nargs="*", metavar="UID", help="dashboard uids"),
            arg("--all", action="store_true", help="every dashboard in Grafana's KTRDR folder"),
            arg(
                "--out",
                default="build/pulled",
                help="folder for the exports (default: build/pulled)",
            ),
            arg(
                "--import",
                dest="import_",
                action="store_true",
                help="also write jsonnet/<name>.jsonnet through the importer",
            ),
            arg("--force", action="store_true", help="with --import: overwrite existing sources"),
        ),
    ),
    Command(
        "doctor",
        "ask a live Prometheus (read-only) which panels would show No data, and why; write nothing",
        K + "doctor.commands:doctor_command",
        (
            arg(
                "--prometheus",
                default=os.environ.get("KTRDR_PROMETHEUS_URL"),
                required=not os.environ.get("KTRDR_PROMETHEUS_URL"),
                metavar="URL",
                help="Prometheus base URL (default: $KTRDR_PROMETHEUS_URL)",
            ),
            arg("--format", choices=("text", "json"), default="text"),
            arg(
                "--timeout",
                type=float,
                default=10.0,
                metavar="S",
                help="seconds per request (default 10)",
            ),
        ),
        description="Credentials come from the environment: PROMETHEUS_TOKEN (bearer) or "
        "PROMETHEUS_USER + PROMETHEUS_PASSWORD. Exit 1 when a panel would show No data or "
        "misses a series it reads.",
    ),
)


def _project_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", default=str(REPO_ROOT), help="project root (default: this repo)")
    parser.add_argument(
        "--jpath",
        "-J",
        action="append",
        default=[],
        metavar="DIR",
        help="Jsonnet library folder searched before lib/, first given first (e.g. vendored "
        "upstream Grafonnet); imports may also land there",
    )
    parser.add_argument(
        "--engine",
        choices=tuple(engines.ENGINES),
        default=None,
        help=f"Jsonnet engine (default: ${engines.ENGINE_ENV}, else {engines.DEFAULT_ENGINE})",
    )


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="ktrdr-dashboards",
        description="KTRDR dashboards as code: build, check, release and deploy them.",
    )
    subcommands = top.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        sub = subcommands.add_parser(
            command.name, help=command.help, description=command.description or command.help
        )
        if command.project:
            _project_arguments(sub)
        for argument in command.arguments:
            sub.add_argument(*argument.flags, **argument.options)
        sub.set_defaults(command_spec=command)
    return top


def _project(args: argparse.Namespace):  # -> build.Project, imported with the command
    from ktrdr_dashboards.project import Project

    return Project(
        root=Path(args.root).resolve(), jpath=tuple(Path(p).resolve() for p in args.jpath)
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command: Command = args.command_spec
    try:
        engines.use(getattr(args, "engine", None))
        module, function = command.run.split(":")
        run = getattr(importlib.import_module(module), function)
        return run(args, _project(args)) if command.project else run(args)
    except DashboardError as error:
        findings = getattr(error, "findings", None)
        if findings is not None:  # the validation gate: one line per finding
            print(str(error), file=sys.stderr)
            print(f"{len(findings)} findings; nothing was written", file=sys.stderr)
        else:
            print(f"error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
