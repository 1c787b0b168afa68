"""The Jsonnet engine seam on every engine: the same bytes out, the same one-line errors, the
same library search order, and no import outside the project.

These are the seam's own per-engine tests; every other test evaluates on the default engine."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

from ktrdr_dashboards import build, cli, jsonnet

ENGINES = tuple(jsonnet.ENGINES)
CHECKSUMS = Path(__file__).resolve().parents[1] / "fixtures" / "build.sha256"


def checksums(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def committed() -> dict[str, str]:
    """tests/fixtures/build.sha256: what `build` writes today. A change that alters the
    output on purpose updates this list in the same commit (`sha256sum` of build/)."""
    pairs = (line.split() for line in CHECKSUMS.read_text().splitlines() if line.strip())
    return {name: digest for digest, name in pairs}


def build_with(engine: str, root: Path, out: Path, *extra: str) -> int:
    return cli.main(["build", "--engine", engine, "--root", str(root), "--out", str(out), *extra])


@pytest.mark.parametrize("engine", ENGINES)
def test_every_engine_writes_the_committed_bytes(engine: str, repo_root: Path, tmp_path: Path):
    assert build_with(engine, repo_root, tmp_path / "out") == 0
    assert checksums(tmp_path / "out") == committed()


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("source", "position", "message"),
    [
        ("{\n  title: 'x',\n  panels: [ },\n}\n", "broken.jsonnet:3:", ""),
        ("local m = import 'ktrdr/nope.libsonnet';\nm.dashboard\n", "broken.jsonnet:1:", "nope"),
        ("local f(x) = error 'no such panel: ' + x;\n{\n  title: f('y'),\n}\n",
         "broken.jsonnet:1:", "no such panel: y"),
        ("local o = { a: 1 };\n{\n  title: o.missing,\n}\n", "broken.jsonnet:3:", "missing"),
    ],
)  # fmt: skip
def test_broken_source_names_file_line_and_column_on_every_engine(
    engine: str, project_copy: Path, tmp_path: Path, capsys, source, position, message
):
    out = tmp_path / "out"
    assert build_with(engine, project_copy, out) == 0
    before = checksums(out)
    (project_copy / "jsonnet" / "broken.jsonnet").write_text(source)
    capsys.readouterr()
    assert build_with(engine, project_copy, out) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: ")
    line_and_column = err.split(position, 1)[1].split(":", 1)[0]
    assert line_and_column.isdigit(), err  # the column follows the line
    assert message.lower() in err.lower()
    assert checksums(out) == before


@pytest.mark.parametrize("engine", ENGINES)
def test_a_non_object_result_is_one_line_on_every_engine(
    engine: str, project_copy: Path, tmp_path: Path, capsys
):
    (project_copy / "jsonnet" / "broken.jsonnet").write_text("[1, 2]\n")
    assert build_with(engine, project_copy, tmp_path / "out") == 1
    err = capsys.readouterr().err.strip()
    assert "broken.jsonnet: evaluates to a list, not one dashboard object" in err
    assert not (tmp_path / "out" / "dashboards").exists()


@pytest.mark.parametrize("engine", ENGINES)
def test_the_first_jpath_folder_wins_on_every_engine(
    engine: str, project_copy: Path, tmp_path: Path
):
    """rjsonnet searches its own library paths first-wins, go and C++ last-wins: the seam
    gives all three the same order, so `--jpath` replaces lib/'s g.libsonnet everywhere."""
    first, second = tmp_path / "first", tmp_path / "second"
    ours = project_copy / "lib" / "g.libsonnet"
    for folder in (first, second):
        folder.mkdir()
        suffix = f" ({folder.name})"
        patch = f"dashboard+: {{ new(title): super.new(title + '{suffix}') }}"
        (folder / "g.libsonnet").write_text(f"(import '{ours}') + {{ {patch} }}\n")
    out = tmp_path / "out"
    assert build_with(engine, project_copy, out, "--jpath", str(first), "-J", str(second)) == 0
    text = (out / "dashboards" / "operations.json").read_text()
    assert '"title": "KTRDR Operations (first)"' in text


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "spelling", ["importstr '/etc/hostname'", "importstr '../../../../../../../etc/hostname'"]
)
def test_an_import_outside_the_project_is_refused_on_every_engine(
    engine: str, spelling: str, project_copy: Path, tmp_path: Path, capsys
):
    source = f"local secret = {spelling};\n{{ title: secret }}\n"
    (project_copy / "jsonnet" / "leak.jsonnet").write_text(source)
    assert build_with(engine, project_copy, tmp_path / "out") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "leak.jsonnet:1:" in err and "outside the folders Jsonnet may read" in err
    assert not (tmp_path / "out").exists() or not (tmp_path / "out" / "dashboards").exists()


def test_a_symlink_out_of_the_project_is_judged_by_where_it_resolves(
    project_copy: Path, tmp_path: Path, capsys
):
    outside = tmp_path / "outside.libsonnet"
    outside.write_text("{ title: 'from outside' }\n")
    (project_copy / "lib" / "inside.libsonnet").symlink_to(outside)
    (project_copy / "jsonnet" / "leak.jsonnet").write_text("import 'inside.libsonnet'\n")
    assert cli.main(["build", "--root", str(project_copy), "--out", str(tmp_path / "out")]) == 1
    assert "outside the folders Jsonnet may read" in capsys.readouterr().err


def test_a_jpath_folder_named_by_the_user_may_be_read(project_copy: Path, tmp_path: Path):
    """The documented config override imports the real config by absolute path."""
    override = tmp_path / "override" / "ktrdr"
    override.mkdir(parents=True)
    real = project_copy / "lib" / "ktrdr" / "config.libsonnet"
    (override / "config.libsonnet").write_text(
        f"(import '{real}') + {{ dashboard+: {{ refresh: '1m' }} }}\n"
    )
    project = build.Project(root=project_copy, jpath=(override.parent,))
    output = build.evaluate(project)
    assert {d.model["refresh"] for d in output.dashboards} == {"1m"}


def test_an_unknown_engine_is_one_line(capsys, monkeypatch, repo_root: Path, tmp_path: Path):
    monkeypatch.setenv(jsonnet.ENGINE_ENV, "java")
    assert cli.main(["build", "--root", str(repo_root), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        "error: unknown Jsonnet engine 'java' — choose one of go, cpp, rs "
        f"(--engine or {jsonnet.ENGINE_ENV})"
    )


def test_an_engine_that_is_not_installed_names_the_pip_install(
    capsys, monkeypatch, repo_root: Path, tmp_path: Path
):
    monkeypatch.setitem(sys.modules, "rjsonnet", None)  # makes `import rjsonnet` fail
    assert build_with("rs", repo_root, tmp_path / "out") == 1
    err = capsys.readouterr().err.strip()
    assert "Jsonnet engine 'rs'" in err and "is not installed" in err
    assert "pip install '.[fast]'" in err
    assert not (tmp_path / "out").exists()


def test_the_default_engine_is_go(monkeypatch):
    monkeypatch.delenv(jsonnet.ENGINE_ENV, raising=False)
    jsonnet.use(None)
    assert jsonnet.selected() == "go"
