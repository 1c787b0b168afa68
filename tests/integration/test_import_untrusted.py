"""`import` treats an export as data: whatever strings it holds come back as exactly those
strings from the written source, and nothing in them runs (no trace output, no file read
outside the project)."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ktrdr_dashboards import cli
from ktrdr_dashboards.build import Project
from ktrdr_dashboards.compile import dashboards as jsonnet_compile
from ktrdr_dashboards.compile.dashboards import render_json
from ktrdr_dashboards.roundtrip import code, exports, importer

REPO_ROOT = Path(__file__).resolve().parents[2]
ATTACK = "ok\nassert std.trace('X: ' + importstr '/etc/hostname', true);\n//"

# Pieces that end a comment, a string or a text block in Jsonnet, or that some lexer, editor
# or terminal reads as a line break: mixed into arbitrary text.
NASTY = (
    "\n", "\r", "\r\n", "\u2028", "\u2029", "\x00", "\x1b", "\x7f", "\x85", "\u202e", "\ufeff",
    "'", '"', "\\", "\\n", "\\u0000", "|||", "||| ", "//", "/*", "*/", "#", "${x}", "%(a)s",
    "std.trace('x', true)", "importstr '/etc/hostname'", "\U0001f600",
)  # fmt: skip
texts = st.one_of(
    st.text(max_size=40),
    st.lists(st.one_of(st.sampled_from(NASTY), st.text(max_size=5)), max_size=8).map("".join),
)


def base_model() -> dict:
    """A dashboard with one of each place an export's strings reach the written source."""
    return {
        "uid": "untrusted",
        "title": "t",
        "description": "d",
        "schemaVersion": 39,
        "links": [{"title": "l", "type": "link", "url": "u"}],
        "templating": {
            "list": [
                {"name": "text", "type": "textbox", "query": "q", "current": {}},
                {"name": "fixed", "type": "constant", "query": "c", "hide": 2},
            ]
        },
        "panels": [
            {
                "type": "timeseries",
                "title": "p",
                "description": "pd",
                "gridPos": {"h": 8, "w": 12, "x": 0, "y": 0},
                "links": [{"title": "pl", "url": "pu"}],
                "fieldConfig": {
                    "defaults": {"links": [{"title": "dl", "url": "du"}]},
                    "overrides": [],
                },
                "options": {"k": "v"},
                "targets": [{"refId": "A", "expr": "e", "legendFormat": "lf"}],
            },
            {"type": "no-such-plugin", "title": "x", "gridPos": {"h": 4, "w": 4, "x": 0, "y": 8}},
        ],
        "k": "v",
    }


def with_strings(s: dict[str, str]) -> dict:
    model = base_model()
    model["title"], model["description"] = s["title"], s["description"]
    model["links"][0]["url"] = s["link"]
    variables = model["templating"]["list"]
    variables[0]["query"] = s["variable"]
    variables[0]["current"] = {"text": s["variable"], "value": s["variable"]}
    variables[1]["query"] = s["constant"]
    panel = model["panels"][0]
    panel["title"], panel["description"] = s["panel"], s["panel description"]
    panel["links"][0]["url"] = s["panel link"]
    panel["fieldConfig"]["defaults"]["links"][0]["url"] = s["data link"]
    panel["targets"][0]["expr"], panel["targets"][0]["legendFormat"] = s["query"], s["legend"]
    panel["options"] = {s["key"]: s["option"]}
    model[s["dashboard key"]] = s["value"]
    model["panels"][1]["type"] = s["panel type"]
    return model


OWN_COMMENTS = {line for line in importer.HEADER.splitlines()} | {
    "// no builder for this panel type: shared options from g.panel.stat"
}
FIELDS = (
    "title", "description", "link", "variable", "constant", "panel", "panel description",
    "panel link", "data link", "query", "legend", "key", "option", "dashboard key", "value",
    "panel type",
)  # fmt: skip


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    root = tmp_path_factory.mktemp("untrusted") / "repo"
    for name in ("jsonnet", "lib", "provisioning"):
        shutil.copytree(REPO_ROOT / name, root / name)
    return Project(root=root)


def imported_model(project: Project, model: dict, folder: Path) -> dict:
    export = folder / "export.json"
    export.write_text(json.dumps(model, ensure_ascii=False), encoding="utf-8")
    source, _ = importer.write_source(project, export, "untrusted", force=True)
    return jsonnet_compile.compile_file(source, project.library()).model


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(strings=st.fixed_dictionaries({name: texts for name in FIELDS}))
def test_any_string_comes_back_exactly_and_runs_nothing(
    project: Project, strings: dict[str, str], tmp_path: Path, capfd: pytest.CaptureFixture
):
    strings["dashboard key"] = "x-" + strings["dashboard key"]  # not a key the builder sets
    strings["key"] = "x-" + strings["key"]
    strings["panel type"] = "x-" + strings["panel type"]  # a type without a builder
    model = with_strings(strings)
    capfd.readouterr()
    got = imported_model(project, copy.deepcopy(model), tmp_path)
    assert render_json(exports.strip_regenerated(got)) == render_json(model)
    # Evaluation prints only what std.trace prints; go-jsonnet writes it to the process's fd 2.
    assert capfd.readouterr().err == ""
    # Comments are the importer's own words only: no export text outside string literals.
    # (Lines as the Jsonnet lexer sees them: only \n ends a `//` comment. jsonnetfmt writes
    # U+2028 and the like raw inside string literals, where they are only text.)
    text = (project.jsonnet_dir / "untrusted.jsonnet").read_text(encoding="utf-8")
    comments = {line.strip() for line in text.split("\n") if line.strip().startswith("//")}
    assert comments <= OWN_COMMENTS


def test_jsonnet_string_escapes_every_line_break_and_control_character():
    written = code.jsonnet_string("a\nb\u2028c\u2029d\x00e\x1bf\u202eg'h\"i\\j|||k")
    assert written == '"a\\nb\\u2028c\\u2029d\\u0000e\\u001bf\\u202eg\'h\\"i\\\\j|||k"'
    assert "\n" not in written and written.isprintable()


def test_the_reported_attack_is_a_title_and_nothing_runs(
    project_copy: Path, tmp_path: Path, capfd: pytest.CaptureFixture
):
    model = json.loads(
        (Path(__file__).resolve().parents[1] / "fixtures/import/reference-shape.json").read_text()
    )
    model["title"] = ATTACK
    export = tmp_path / "attack.json"
    export.write_text(json.dumps(model))
    capfd.readouterr()

    code = cli.main(["import", "--root", str(project_copy), str(export), "attack"])

    out, err = capfd.readouterr()
    assert "TRACE" not in err and "X: " not in err
    assert "/etc/hostname" not in err  # neither read nor refused: it is never code
    assert "wrote " in out
    source = project_copy / "jsonnet" / "attack.jsonnet"
    text = source.read_text()
    assert not any(line.lstrip().startswith("assert") for line in text.splitlines())
    model_back = jsonnet_compile.compile_file(source, Project(root=project_copy).library()).model
    assert model_back["title"] == ATTACK
    assert code == 1  # the gate's findings on a dashboard made in the UI, not an error
    assert "error:" not in err
