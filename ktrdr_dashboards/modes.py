"""The two query modes of the dashboards: reading the recording rules the build writes
(`useRecordingRules: true` in lib/ktrdr/config.libsonnet, the default) or raw expressions
(`false`). The other mode than the project's own is built through a `--jpath` config override,
as a deployment switches it, so both are always proven from the same sources."""

from __future__ import annotations

import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ktrdr_dashboards import build

# Where the build writes the recording rules (relative to build/).
RECORDING_RULES = "prometheus/rules/ktrdr-recording.yml"
RECORDED, RAW = "recorded", "raw"


@dataclass(frozen=True)
class Mode:
    """The dashboards as one mode builds them."""

    name: str  # RECORDED or RAW
    output: build.BuildOutput

    @property
    def models(self) -> dict[str, Mapping]:
        """uid -> dashboard model."""
        return {d.uid: d.model for d in self.output.dashboards}

    @property
    def recording_rules(self) -> str | None:
        """The recording rules YAML the dashboards read; None when they read raw series."""
        return self.output.files.get(RECORDING_RULES) if self.name == RECORDED else None


def mode_of(output: build.BuildOutput) -> Mode:
    return Mode(RECORDED if output.config.get("useRecordingRules") else RAW, output)


def switched(project: build.Project, folder: Path, use_recording_rules: bool) -> build.Project:
    """`project` with `useRecordingRules` overridden by a config in `folder` put first on the
    Jsonnet path (the override imports the project's own config by absolute path)."""
    real = project.root / "lib" / "ktrdr" / "config.libsonnet"
    override = folder / "ktrdr" / "config.libsonnet"
    override.parent.mkdir(parents=True, exist_ok=True)
    patch = json.dumps({"useRecordingRules": use_recording_rules})
    override.write_text(f"(import {json.dumps(str(real))}) + {patch}\n", encoding="utf-8")
    return build.Project(root=project.root, jpath=(folder, *project.jpath))


def both(project: build.Project) -> list[Mode]:
    """The project's own mode first, then the other one."""
    own = mode_of(build.evaluate(project))
    with tempfile.TemporaryDirectory(prefix="ktrdr-mode-") as tmp:
        other = switched(project, Path(tmp), own.name == RAW)
        return [own, mode_of(build.evaluate(other))]
