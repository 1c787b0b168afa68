"""`build`: output files, determinism, `--jpath`, and errors that leave build/ as it was."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from ktrdr_dashboards import cli

EXPECTED_FILES = {
    "dashboards/operations.json",
    "dashboards/system-overview.json",
    "dashboards/worker-status.json",
    "provisioning/dashboards/ktrdr.yaml",
    "provisioning/datasources/ktrdr.yaml",
}


def tree_digest(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def run_build(root: Path, out: Path, *extra: str) -> int:
    return cli.main(["build", "--root", str(root), "--out", str(out), *extra])


@pytest.fixture
def built_once(project_copy: Path, tmp_path: Path) -> Path:
    out = tmp_path / "build"
    assert run_build(project_copy, out) == 0
    return out


def test_build_writes_dashboards_and_provisioning(built_once: Path):
    written = {k for k in tree_digest(built_once) if not k.startswith("prometheus/")}
    assert written >= EXPECTED_FILES
    for name in ("operations", "system-overview", "worker-status"):
        text = (built_once / "dashboards" / f"{name}.json").read_text()
        model = json.loads(text)
        assert text == json.dumps(model, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_build_is_byte_identical_on_every_run(project_copy: Path, built_once: Path, tmp_path):
    second = tmp_path / "second"
    assert run_build(project_copy, second) == 0
    assert tree_digest(built_once) == tree_digest(second)


def test_rebuild_keeps_folders_it_does_not_own(project_copy: Path, built_once: Path):
    release = built_once / "dist" / "keep.tar.gz"
    release.parent.mkdir()
    release.write_bytes(b"release")
    assert run_build(project_copy, built_once) == 0
    assert release.read_bytes() == b"release"
    assert not [p for p in built_once.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{ title: 'x', panels: [ }\n", "jsonnet/broken.jsonnet:1:"),
        ("local x = error 'no such panel';\n{ title: x }\n", "no such panel"),
        ("local ktrdr = import 'ktrdr/nope.libsonnet';\nktrdr.dashboard\n", "nope.libsonnet"),
        ("[1, 2]\n", "evaluates to a list, not one dashboard object"),
    ],
)
def test_broken_source_is_one_line_and_build_untouched(
    project_copy: Path, built_once: Path, capsys, source: str, expected: str
):
    before = tree_digest(built_once)
    capsys.readouterr()
    (project_copy / "jsonnet" / "broken.jsonnet").write_text(source)
    assert run_build(project_copy, built_once) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "broken.jsonnet" in err and expected in err
    assert tree_digest(built_once) == before
    assert not [p for p in built_once.iterdir() if p.name.startswith(".")]


def test_jpath_directory_is_searched_before_lib(project_copy: Path, tmp_path: Path):
    """A `g.libsonnet` in a --jpath folder replaces ours (how upstream Grafonnet is swapped in)."""
    override = tmp_path / "upstream"
    override.mkdir()
    ours = project_copy / "lib" / "g.libsonnet"
    renamed = "dashboard+: { new(title): super.new(title + ' (upstream)') }"
    (override / "g.libsonnet").write_text(f"(import '{ours}') + {{ {renamed} }}\n")
    out = tmp_path / "out"
    assert run_build(project_copy, out, "--jpath", str(override)) == 0
    model = json.loads((out / "dashboards" / "operations.json").read_text())
    assert model["title"] == "KTRDR Operations (upstream)"


def test_provisioning_provider_matches_the_seed(built_once: Path):
    provider_file = yaml.safe_load((built_once / "provisioning/dashboards/ktrdr.yaml").read_text())
    (provider,) = provider_file["providers"]
    assert provider["name"] == "KTRDR Dashboards"
    assert provider["folder"] == "KTRDR"
    assert provider["type"] == "file"
    assert provider["options"]["path"] == "/var/lib/grafana/dashboards"
    assert provider["allowUiUpdates"] is True and provider["updateIntervalSeconds"] == 30


def test_datasources_one_default_and_urls_from_environment(built_once: Path):
    text = (built_once / "provisioning/datasources/ktrdr.yaml").read_text()
    sources = {d["uid"]: d for d in yaml.safe_load(text)["datasources"]}
    assert set(sources) == {"prometheus", "jaeger"}
    assert sources["prometheus"]["type"] == "prometheus"
    assert sources["jaeger"]["type"] == "jaeger"
    assert [uid for uid, d in sources.items() if d.get("isDefault")] == ["prometheus"]
    assert sources["prometheus"]["url"] == "${KTRDR_PROMETHEUS_URL}"
    assert sources["jaeger"]["url"] == "${KTRDR_JAEGER_URL}"
    assert not any("secureJsonData" in d or "password" in d for d in sources.values())


def test_invalid_provisioning_yaml_is_one_line(project_copy: Path, tmp_path: Path, capsys):
    (project_copy / "provisioning/datasources/ktrdr.yaml").write_text("datasources: [\n")
    assert run_build(project_copy, tmp_path / "out") == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "provisioning/datasources/ktrdr.yaml:" in err
    assert "not valid YAML" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "out" / "dashboards").exists()
