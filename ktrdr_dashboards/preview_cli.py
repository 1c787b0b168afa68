"""Commands `preview` and `docs`: thin wrappers over preview.preview and docs.write."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from ktrdr_dashboards import build as build_module
from ktrdr_dashboards import docs
from ktrdr_dashboards.preview import pictures as preview_pictures
from ktrdr_dashboards.preview import run as preview
from ktrdr_dashboards.preview import serve as preview_serve

ProjectOf = Callable[[argparse.Namespace], build_module.Project]


def _cmd_preview(args: argparse.Namespace, project: ProjectOf) -> int:
    if args.pictures:
        for path in preview_pictures.write(project(args), Path(args.pictures)):
            print(f"wrote {path}")
        return 0
    if args.serve:
        preview_serve.serve(project(args), Path(args.out), args.port, say=_say)
        return 0
    pages = preview.preview(project(args), Path(args.out), screenshots=not args.no_screenshots)
    for page in pages:
        shot = "" if args.no_screenshots else f" and {page.png}"
        print(f"previewed {page.title}: {page.html}{shot}")
    print(f"index: {Path(args.out) / 'index.html'}")
    return 0


def _say(line: str) -> None:
    print(line, flush=True)


def _cmd_docs(args: argparse.Namespace, project: ProjectOf) -> int:
    path = Path(args.out)
    if args.check:
        if docs.stale(project(args), path):
            print(f"{path}: differs from the sources — run `nox -s docs`", file=sys.stderr)
            return 1
        print(f"{path} is up to date")
        return 0
    changed = docs.write(project(args), path)
    print(f"{'wrote' if changed else 'unchanged'} {path}")
    return 0


def add_commands(
    commands: argparse._SubParsersAction,
    common: Callable[[argparse.ArgumentParser], None],
    project: ProjectOf,
) -> None:
    """Register `preview` and `docs`; `common` adds --root/--jpath, `project` reads them."""
    preview_parser = commands.add_parser(
        "preview", help="HTML page and PNG of every dashboard with data, in build/preview/"
    )
    common(preview_parser)
    preview_parser.add_argument("--out", default="build/preview", help="default: build/preview")
    preview_parser.add_argument(
        "--no-screenshots", action="store_true", help="write the HTML pages only"
    )
    preview_parser.add_argument(
        "--serve",
        action="store_true",
        help="serve the pages on 127.0.0.1, rebuild and reload on changes under jsonnet/ and "
        "lib/ (Ctrl-C stops)",
    )
    preview_parser.add_argument(
        "--pictures",
        metavar="DIR",
        help="instead: one picture per panel type, preview beside panel JSON (docs/previews)",
    )
    preview_parser.add_argument(
        "--port", type=int, default=8800, help="with --serve: default 8800, 0 picks a free one"
    )
    preview_parser.set_defaults(run=lambda args: _cmd_preview(args, project))

    docs_parser = commands.add_parser("docs", help="generate docs/dashboards.md from the sources")
    common(docs_parser)
    docs_parser.add_argument(
        "--out", default=str(docs.DOCS_PATH), help="default: docs/dashboards.md"
    )
    docs_parser.add_argument(
        "--check", action="store_true", help="fail when the file differs from the sources"
    )
    docs_parser.set_defaults(run=lambda args: _cmd_docs(args, project))
