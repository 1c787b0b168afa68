"""A project of N dashboards made from the real ones: each a copy of a real source with its
own uid and title, so N dashboards cost what N real dashboards of this size cost."""

from __future__ import annotations

import os
import re
from pathlib import Path

# The real sources pass their identity as `config.dashboards.<key>` (lib/ktrdr/config.libsonnet).
_IDENTITY = re.compile(r"\bconfig\.dashboards\.(?P<key>\w+)\b")


def copy_source(text: str, uid: str, title: str) -> str:
    """The source with its uid and title replaced; ValueError if it names no identity."""
    replaced, count = _IDENTITY.subn(f"{{ uid: '{uid}', title: '{title}' }}", text, count=1)
    if count != 1:
        raise ValueError("source does not pass `config.dashboards.<key>` to ktrdr.dashboard")
    return replaced


def generate_project(repo_root: Path, out_root: Path, count: int) -> Path:
    """Write out_root/jsonnet with `count` dashboards: the real sources as they are (their
    drill-down links need their uids), then copies of them in turn (bench-<n>-<name>);
    lib/ and provisioning/ link to the repo's. Returns out_root."""
    sources = sorted((repo_root / "jsonnet").glob("*.jsonnet"))
    jsonnet_dir = out_root / "jsonnet"
    jsonnet_dir.mkdir(parents=True, exist_ok=True)
    for name in ("lib", "provisioning"):
        link = out_root / name
        if not link.exists():
            os.symlink(repo_root / name, link, target_is_directory=True)
    for source in sources[:count]:
        (jsonnet_dir / source.name).write_text(source.read_text(encoding="utf-8"), "utf-8")
    for n in range(len(sources), count):
        source = sources[n % len(sources)]
        uid = f"bench-{n:03d}-{source.stem}"
        text = copy_source(source.read_text(encoding="utf-8"), uid, f"Bench {n:03d} {source.stem}")
        (jsonnet_dir / f"{uid}.jsonnet").write_text(text, encoding="utf-8")
    return out_root
