"""Command line for `release`, `verify` and `install`, kept apart from cli.py so that file only
registers them. Output: what was done on stdout; one `error:` line per problem on stderr."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from ktrdr_dashboards import build as build_module
from ktrdr_dashboards.release import install as install_module
from ktrdr_dashboards.release import publish as release_module


def _print_problems(error: release_module.VerificationError) -> int:
    for problem in error.problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1


def _cmd_release(
    args: argparse.Namespace, project: Callable[[argparse.Namespace], build_module.Project]
) -> int:
    result = release_module.release(
        project(args),
        Path(args.out),
        allow_dirty=args.allow_dirty,
        sign_key=Path(args.sign) if args.sign else None,
    )
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    action = "released" if result.outcome == "written" else "unchanged, already released:"
    commit = result.info.source_commit[:12]
    print(f"{action} {result.tarball} ({result.version}, commit {commit})")
    print(f"checksum {result.checksum}")
    if result.signature:
        print(f"signature {result.signature}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    try:
        verified = release_module.verify(Path(args.tarball), _allowed_signers(args))
    except release_module.VerificationError as error:
        return _print_problems(error)
    manifest = verified.manifest
    print(
        f"ok {args.tarball}: {manifest['name']} {manifest['version']} from commit "
        f"{manifest['source_commit']}, {len(manifest['files'])} files, "
        f"{len(manifest['dashboards'])} dashboards, "
        + (f"signed by {verified.signer}" if verified.signer else "signature not checked")
    )
    return 0


def _allowed_signers(args: argparse.Namespace) -> Path | None:
    return Path(args.allowed_signers) if args.allowed_signers else None


def _signers_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allowed-signers",
        metavar="FILE",
        help="OpenSSH allowed_signers file: refuse a tarball not signed by a key trusted there",
    )


def _note(message: str) -> None:
    print(f"note: {message}", file=sys.stderr, flush=True)


def _cmd_install(args: argparse.Namespace) -> int:
    root = Path(args.root)
    if sum([bool(args.tarball), args.rollback, args.recover]) != 1:
        print("error: give one of TARBALL, --rollback or --recover", file=sys.stderr)
        return 2
    try:
        if args.recover:
            done = install_module.recover(root, _note)
            print(f"{done} under {root}" if done else f"nothing to recover under {root}")
            return 0
        if args.rollback:
            result = install_module.rollback(root, _note)
        else:
            result = install_module.install(Path(args.tarball), root, _allowed_signers(args), _note)
    except release_module.VerificationError as error:
        return _print_problems(error)
    if result.recovered:
        _note(f"{result.recovered} under {root} first")
    for path in result.files:
        print(f"  {root / path}")
    if result.outcome == "rolled back":
        print(f"rolled back from {result.replaced} to {result.version} under {root}")
    elif result.outcome == "installed" and result.replaced:
        print(
            f"installed {result.version} under {root}, replacing {result.replaced} "
            f"(`install --rollback --root {root}` restores it)"
        )
    else:
        print(f"{result.outcome} {result.version} under {root}")
    return 0


def add_commands(
    commands: argparse._SubParsersAction,
    common: Callable[[argparse.ArgumentParser], None],
    project: Callable[[argparse.Namespace], build_module.Project],
) -> None:
    """Register the three commands; `common` adds --root/--jpath, `project` reads them."""
    release_parser = commands.add_parser(
        "release", help="build, validate and write build/dist/ktrdr-dashboards-<version>.tar.gz"
    )
    common(release_parser)
    release_parser.add_argument("--out", default="build", help="build folder (default: build)")
    release_parser.add_argument(
        "--allow-dirty",
        action="store_true",
        help="release uncommitted changes as <version>+dirty instead of refusing",
    )
    release_parser.add_argument(
        "--sign",
        metavar="KEY",
        help="sign the tarball with this SSH private key (ssh-keygen -Y sign); writes .sig",
    )
    release_parser.set_defaults(run=lambda args: _cmd_release(args, project))

    verify_parser = commands.add_parser(
        "verify", help="check a release tarball: checksums, safe members, valid dashboards"
    )
    verify_parser.add_argument("tarball", help="path to ktrdr-dashboards-<version>.tar.gz")
    _signers_argument(verify_parser)
    verify_parser.set_defaults(run=_cmd_verify)

    install_parser = commands.add_parser(
        "install", help="verify and install a release under a Grafana root; or roll back"
    )
    install_parser.add_argument("tarball", nargs="?", help="release tarball to install")
    install_parser.add_argument(
        "--root", required=True, help="`/` of the Grafana host or image to install into"
    )
    install_parser.add_argument(
        "--rollback", action="store_true", help="restore the previously installed release"
    )
    install_parser.add_argument(
        "--recover",
        action="store_true",
        help="only finish (roll back or complete) an install or rollback that was killed",
    )
    _signers_argument(install_parser)
    install_parser.set_defaults(run=_cmd_install)
