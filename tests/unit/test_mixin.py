"""mixin.libsonnet as a jsonnet-bundler consumer uses it: from its own folder, with this
repository vendored the way `jb install` lays it out, overriding `_config`."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest
import yaml

from ktrdr_dashboards import build, jsonnet
from ktrdr_dashboards.compile.dashboards import render_json

REMOTE = "https://github.com/ktrdr/ktrdr-dashboards.git"
VENDORED = Path("vendor/github.com/ktrdr/ktrdr-dashboards")
# What the repository holds that a consumer imports.
SHIPPED = ("mixin.libsonnet", "jsonnetfile.json", "jsonnet", "lib")


def tree_sum(folder: Path) -> str:
    """A stand-in for jb's `sum` (base64 sha256 over the vendored files)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes())
    return base64.b64encode(digest.digest()).decode()


@pytest.fixture(scope="module")
def consumer(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Path:
    """A consumer project after `jb install github.com/ktrdr/ktrdr-dashboards@main`: its own
    jsonnetfile.json and lock file, the repository under vendor/github.com/..., and the legacy
    import name vendor/ktrdr-dashboards as a relative symlink to it (legacyImports)."""
    root = tmp_path_factory.mktemp("consumer")
    source = {"git": {"remote": REMOTE, "subdir": ""}}
    manifest = {"version": 1, "dependencies": [{"source": source, "version": "main"}]}
    (root / "jsonnetfile.json").write_text(json.dumps({**manifest, "legacyImports": True}))
    vendored = root / VENDORED
    for name in SHIPPED:
        if (repo_root / name).is_dir():
            shutil.copytree(repo_root / name, vendored / name)
        else:
            vendored.mkdir(parents=True, exist_ok=True)
            shutil.copy2(repo_root / name, vendored / name)
    os.symlink(VENDORED.relative_to("vendor"), root / "vendor" / "ktrdr-dashboards")
    locked = {"source": source, "version": "0" * 40, "sum": tree_sum(vendored)}
    (root / "jsonnetfile.lock.json").write_text(
        json.dumps({"version": 1, "dependencies": [locked], "legacyImports": True})
    )
    return root


def evaluate(consumer: Path, text: str) -> dict:
    """`jsonnet -J vendor -J vendor/ktrdr-dashboards/lib main.jsonnet` in the consumer's
    folder, through the engine seam: imports reach vendor/ and the consumer's folder only."""
    library = jsonnet.LibraryPath(
        search=(consumer / "vendor", consumer / "vendor" / "ktrdr-dashboards" / "lib"),
        allowed=(consumer,),
    )
    value = jsonnet.evaluate_snippet(consumer / "main.jsonnet", text, library)
    assert isinstance(value, dict)
    return value


PARTS = """{
  dashboards: mixin.grafanaDashboards,
  alerts: mixin.prometheusAlerts,
  rules: mixin.prometheusRules,
}
"""


def panel(model: dict, title: str) -> dict:
    return next(p for p in model["panels"] if p.get("title") == title)


def alert_exprs(groups: dict, name: str) -> list[str]:
    return [r["expr"] for g in groups["groups"] for r in g["rules"] if r.get("alert") == name]


def test_the_mixin_as_vendored_gives_the_build(consumer: Path, built: build.BuildOutput):
    parts = evaluate(consumer, "local mixin = import 'ktrdr-dashboards/mixin.libsonnet';\n" + PARTS)
    files = {f"dashboards/{name}": render_json(m) for name, m in parts["dashboards"].items()}
    assert files == {k: v for k, v in built.files.items() if k.startswith("dashboards/")}
    rule_files = built.files
    assert parts["alerts"] == yaml.safe_load(rule_files["prometheus/rules/ktrdr-alerts.yml"])
    assert parts["rules"] == yaml.safe_load(rule_files["prometheus/rules/ktrdr-recording.yml"])


def test_the_mixin_lists_every_dashboard_source(consumer: Path, repo_root: Path):
    parts = evaluate(consumer, "local mixin = import 'ktrdr-dashboards/mixin.libsonnet';\n" + PARTS)
    sources = {f"{p.stem}.json" for p in (repo_root / "jsonnet").glob("*.jsonnet")}
    assert set(parts["dashboards"]) == sources


def test_an_overridden_selector_and_threshold_reach_a_panel_and_its_alert(consumer: Path):
    parts = evaluate(
        consumer,
        """local mixin = (import 'ktrdr-dashboards/mixin.libsonnet') + {
  _config+:: {
    selectors+: { serviceInstanceRegex: '.+:(9100|9200)' },
    thresholds+: { errorRatePercent+: { warning: 2 } },
  },
};
"""
        + PARTS,
    )
    overview = parts["dashboards"]["system-overview.json"]
    # Threshold: Error Rate turns yellow at 2 %, and its warning alert fires at 2 %.
    steps = panel(overview, "Error Rate")["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [s["value"] for s in steps] == [None, 2, 5]
    assert [e.rsplit(" ", 2)[1:] for e in alert_exprs(parts["alerts"], "KtrdrHighErrorRate")] == [
        [">=", "2"],
        [">=", "5"],
    ]
    # Selector: Healthy Services counts the services of the $job variable, which now lists the
    # jobs on the consumer's ports; its alert counts the same targets.
    healthy = panel(overview, "Healthy Services")
    assert 'up{job=~"$job"}' in healthy["targets"][0]["expr"]
    job = next(v for v in overview["templating"]["list"] if v["name"] == "job")
    query = job["query"]["query"] if isinstance(job["query"], dict) else job["query"]
    assert query == 'label_values(up{instance=~".+:(9100|9200)"}, job)'
    for expr in alert_exprs(parts["alerts"], "KtrdrServicesDown"):
        assert 'up{instance=~".+:(9100|9200)"}' in expr
    assert "8000" not in json.dumps(parts["alerts"]) + json.dumps(overview)


def test_an_import_outside_vendor_is_refused(consumer: Path, tmp_path: Path):
    outside = tmp_path / "secret.libsonnet"
    outside.write_text("{}")
    with pytest.raises(jsonnet.JsonnetError, match=r"secret\.libsonnet, outside the folders"):
        evaluate(consumer, f"import '{outside}'")
