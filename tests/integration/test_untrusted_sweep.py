"""Malformed exports and dashboards (wrong types, missing fields, deep nesting, huge strings)
through `import`, `diff` and the validation gate: always the project's one-line error or a
finding, never a traceback."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from unittest import mock

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_validate_rules import inputs_of, valid_world

from ktrdr_dashboards import cli, convert, schemas
from ktrdr_dashboards.convert import schemas as convert_schemas
from ktrdr_dashboards.errors import DashboardError
from ktrdr_dashboards.roundtrip import documents
from ktrdr_dashboards.validate import gate as lint
from ktrdr_dashboards.validate.checks import model as model_checks

REPO_ROOT = Path(__file__).resolve().parents[2]
EXPORT = json.loads(
    (Path(__file__).resolve().parents[1] / "fixtures/import/reference-shape.json").read_text()
)
# A V2 Resource in tabs (YAML), read as any export is.
V2_EXPORT = documents.read(Path(__file__).resolve().parents[1] / "fixtures/import/v2-tabs.yaml")

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**60), 2**60),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)


def places(value: object, path: tuple = ()) -> list[tuple]:
    """The path of every value inside `value`, itself excluded."""
    found: list[tuple] = []
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in items:
        found.append((*path, key))
        found += places(child, (*path, key))
    return found


def nested(depth: int) -> object:
    value: object = "deep"
    for _ in range(depth):
        value = {"panels": [value]}
    return value


@st.composite
def malformed(draw: st.DrawFn, base: dict) -> dict:
    """`base` with one to four of: a value replaced by one of another type, a key removed, a
    value nested deep, a huge string."""
    model = copy.deepcopy(base)
    for _ in range(draw(st.integers(1, 4))):
        # Shallow places as often as deep ones: a few keys hold most of the structure.
        depth = draw(st.sampled_from((1, 1, 2, 3, 6)))
        where = [place for place in places(model) if len(place) <= depth]
        if not where:
            break
        *parent_path, key = draw(st.sampled_from(where))
        parent = model
        for part in parent_path:
            parent = parent[part]
        action = draw(st.sampled_from(("replace", "remove", "deep", "huge")))
        if action == "remove":
            del parent[key]
        elif action == "deep":
            parent[key] = nested(draw(st.sampled_from((20, 60, 200))))
        elif action == "huge":
            parent[key] = "x" * 300_000
        else:
            parent[key] = draw(json_values)
    return model


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sweep") / "repo"
    for name in ("jsonnet", "lib", "provisioning"):
        shutil.copytree(REPO_ROOT / name, root / name)
    return root


SWEEP = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def one_line_or_success(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    code = cli.main(argv)  # anything but a DashboardError escapes and fails the test
    err = capsys.readouterr().err
    assert code in (0, 1)
    assert "Traceback" not in err


@settings(SWEEP, max_examples=25)
@given(model=malformed(EXPORT))
def test_import_of_a_malformed_export(
    root: Path, model: dict, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    export = tmp_path / "export.json"
    export.write_text(json.dumps(model))
    one_line_or_success(["import", "--root", str(root), str(export), "sweep", "--force"], capsys)


@settings(SWEEP, max_examples=40)
@given(model=malformed(V2_EXPORT), as_yaml=st.booleans())
def test_import_and_diff_of_a_malformed_v2_export(
    root: Path, model: dict, as_yaml: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    export = tmp_path / "export"
    export.write_text(yaml.safe_dump(model) if as_yaml else json.dumps(model))
    one_line_or_success(["import", "--root", str(root), str(export), "sweep", "--force"], capsys)
    one_line_or_success(["diff", "--root", str(root), str(export), str(export)], capsys)


@settings(SWEEP, max_examples=60)
@given(left=malformed(EXPORT), right=st.one_of(malformed(EXPORT), json_values))
def test_diff_of_malformed_exports(
    root: Path, left: dict, right: object, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(left))
    b.write_text(json.dumps(right))
    one_line_or_success(["diff", "--root", str(root), str(a), str(b)], capsys)


@settings(SWEEP, max_examples=40)
@given(dashboard=malformed(valid_world()["dashboards"][0]))
def test_the_gate_on_a_malformed_dashboard(dashboard: dict):
    world = valid_world()
    world["dashboards"][0] = dashboard
    try:
        findings = lint.run_checks(inputs_of(world))
    except DashboardError as error:
        assert "\n" not in str(error)
        return
    assert all("\n" not in finding.line() for finding in findings)


@settings(SWEEP, max_examples=150)
@given(dashboard=st.one_of(malformed(valid_world()["dashboards"][0]), malformed(EXPORT)))
def test_the_compiled_schema_check_agrees_with_jsonschema(dashboard: dict):
    """jsonschema-rs only says whether a dashboard is valid (jsonschema writes every finding):
    on hostile models it says what jsonschema says, and the gate's lines are the same with it
    as without it."""
    validator = schemas.Validator(model_checks.own_schema("dashboard"))
    fast = validator.is_valid(dashboard)
    assert fast is not None
    assert fast == (next(validator.slow().iter_errors(dashboard), None) is None)
    world = valid_world()
    world["dashboards"][0] = dashboard
    with_fast = [f.line() for f in lint.run_checks(inputs_of(world))]
    with mock.patch.object(schemas.Validator, "is_valid", lambda self, document: None):
        assert [f.line() for f in lint.run_checks(inputs_of(world))] == with_fast


V2_SPEC = convert.to_v2(valid_world()["dashboards"][0])


@settings(SWEEP, max_examples=100)
@given(spec=malformed(V2_SPEC))
def test_the_compiled_v2_schema_check_agrees_with_jsonschema(spec: dict):
    for version in ("v2", "v2beta1"):
        validator = convert_schemas.validator(version)
        fast = validator.is_valid(spec)
        assert fast is not None
        assert fast == (next(validator.slow().iter_errors(spec), None) is None)


def test_a_deeply_nested_export_is_one_line(root: Path, tmp_path: Path, capsys):
    export = tmp_path / "deep.json"
    export.write_text("[" * 100_000 + "]" * 100_000)
    assert cli.main(["import", "--root", str(root), str(export), "deep"]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: {export}: nested deeper than 64 levels; no dashboard is"
        " — export the dashboard again (Export → Export as code; on Grafana 11 Share → Export)"
    ]


@pytest.mark.parametrize(
    "change",
    [
        {"panels": 5},
        {"panels": [5, {"type": "row", "panels": 3}]},
        {"templating": [1]},
        {"templating": {"list": [{"name": "x", "type": "query", "hide": [1], "refresh": {}}]}},
        {"__inputs": 3},
        {"graphTooltip": {"a": 1}},
    ],
)
def test_wrong_types_where_structure_belongs(root: Path, tmp_path: Path, change: dict, capsys):
    export = tmp_path / "export.json"
    export.write_text(json.dumps({**EXPORT, **change}))
    other = Path(__file__).resolve().parents[1] / "fixtures/import/reference-shape.json"
    one_line_or_success(["diff", "--root", str(root), str(export), str(other)], capsys)
    one_line_or_success(["import", "--root", str(root), str(export), "wrong", "--force"], capsys)
