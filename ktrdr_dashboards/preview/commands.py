"""Commands `preview` and `docs`: thin wrappers over preview.preview and docs.write."""

from __future__ import annotations

import argparse
from pathlib import Path

from ktrdr_dashboards import build as build_module
from ktrdr_dashboards.preview import pictures as preview_pictures
from ktrdr_dashboards.preview import run as preview
from ktrdr_dashboards.preview import serve as preview_serve


def preview_command(args: argparse.Namespace, project: build_module.Project) -> int:
    if args.pictures:
        for path in preview_pictures.write(project, Path(args.pictures)):
            print(f"wrote {path}")
        return 0
    if args.serve:
        preview_serve.serve(project, Path(args.out), args.port, say=_say)
        return 0
    pages = preview.preview(project, Path(args.out), screenshots=not args.no_screenshots)
    for page in pages:
        shot = "" if args.no_screenshots else f" and {page.png}"
        print(f"previewed {page.title}: {page.html}{shot}")
    print(f"index: {Path(args.out) / 'index.html'}")
    return 0


def _say(line: str) -> None:
    print(line, flush=True)
