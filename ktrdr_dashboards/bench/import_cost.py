"""What reading schema v2 adds to `import`: each built dashboard imported from its Classic
JSON export and from its V2 Resource (JSON and YAML), and a V2 export in tabs against its
classic rows. Target: a V2 export costs at most `TARGET_EXTRA_S` more than the same
dashboard's classic import."""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from ktrdr_dashboards import build, convert
from ktrdr_dashboards.compile.dashboards import render_json
from ktrdr_dashboards.roundtrip import documents, exports, importer

TARGET_EXTRA_S = 0.1
TABS_EXPORT = Path("tests") / "fixtures" / "import" / "v2-tabs.yaml"


@dataclass(frozen=True)
class ImportCost:
    dashboard: str
    seconds: dict[str, float]  # form ("classic JSON", "V2 JSON", "V2 YAML") -> best of runs

    @property
    def worst_extra_s(self) -> float:
        classic = self.seconds["classic JSON"]
        return max(s - classic for form, s in self.seconds.items() if form != "classic JSON")


def _resource(spec: dict, name: str) -> dict:
    return {
        "apiVersion": "dashboard.grafana.app/v2",
        "kind": "Dashboard",
        "metadata": {"name": name},
        "spec": spec,
    }


def _exports(repo_root: Path, bindings: exports.Bindings) -> dict[str, dict[str, str]]:
    """dashboard -> form -> the export's text."""
    found: dict[str, dict[str, str]] = {}
    for dashboard in build.evaluate(build.Project(root=repo_root)).dashboards:
        resource = _resource(convert.to_v2(dashboard.model), dashboard.uid)
        found[dashboard.name] = {
            "classic JSON": render_json(dashboard.model),
            "V2 JSON": json.dumps(resource),
            "V2 YAML": yaml.safe_dump(resource, allow_unicode=True),
        }
    tabs = repo_root / TABS_EXPORT
    if tabs.is_file():
        loaded = exports.read(documents.read(tabs), str(tabs), bindings)
        found["v2-tabs fixture"] = {
            "classic JSON": render_json(loaded.model),
            "V2 YAML": tabs.read_text(encoding="utf-8"),
        }
    return found


def measure(repo_root: Path, runs: int = 3) -> list[ImportCost]:
    """The best wall time of `runs` (at least 5) `importer.write_source` calls (read, convert,
    write, format, compile) per form, in a throwaway copy of the sources: the best, as other
    work on the machine only ever adds time."""
    with tempfile.TemporaryDirectory(prefix="bench-import-") as folder:
        root = Path(folder) / "repo"
        for name in ("jsonnet", "lib", "provisioning"):
            shutil.copytree(repo_root / name, root / name)
        project = build.Project(root=root)
        bindings = exports.project_bindings(project.library(), project.provisioning_dir)
        costs = []
        for dashboard, forms in _exports(repo_root, bindings).items():
            seconds = {}
            for form, text in forms.items():
                export = Path(folder) / f"{dashboard}-{form.replace(' ', '-')}"
                export.write_text(text, encoding="utf-8")
                times = []
                for _ in range(max(5, runs)):
                    start = time.perf_counter()
                    importer.write_source(project, export, "bench-import", force=True)
                    times.append(time.perf_counter() - start)
                seconds[form] = min(times)
            costs.append(ImportCost(dashboard, seconds))
    return costs


def lines(costs: list[ImportCost]) -> list[str]:
    head = f"import: V2 export vs classic JSON (target: at most +{TARGET_EXTRA_S:.1f} s)"
    out = [head]
    for cost in costs:
        classic = cost.seconds["classic JSON"]
        forms = "  ".join(
            f"{form} {s:.2f} s" + ("" if form == "classic JSON" else f" ({s - classic:+.2f})")
            for form, s in cost.seconds.items()
        )
        verdict = "met" if cost.worst_extra_s <= TARGET_EXTRA_S else "MISSED"
        out.append(f"  {cost.dashboard:<24} {forms}  {verdict}")
    return out
