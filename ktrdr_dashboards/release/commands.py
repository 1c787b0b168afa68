"""Command line for `release`, `verify` and `install`, kept apart from cli.py so that file only
registers them. Output: what was done on stdout; one `error:` line per problem on stderr."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ktrdr_dashboards.project import Project
from ktrdr_dashboards.release import install as install_module
from ktrdr_dashboards.release import publish as release_module


def _print_problems(error: release_module.VerificationError) -> int:
    for problem in error.problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1


def release_command(args: argparse.Namespace, project: Project) -> int:
    result = release_module.release(
        project,
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


def verify_command(args: argparse.Namespace) -> int:
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


def _note(message: str) -> None:
    print(f"note: {message}", file=sys.stderr, flush=True)


def install_command(args: argparse.Namespace) -> int:
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
