"""Untrusted files as JSON values: JSON or YAML told apart by content, YAML read without
anchors, aliases or tags, both bounded in size and nesting; anything else one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ktrdr_dashboards.errors import DashboardError
from ktrdr_dashboards.roundtrip import documents


def read(tmp_path: Path, text: str, name: str = "export") -> object:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return documents.read(path)


def refusal(tmp_path: Path, text: str, name: str = "export.yaml") -> str:
    with pytest.raises(DashboardError) as caught:
        read(tmp_path, text, name)
    line = str(caught.value)
    assert "\n" not in line
    return line


def test_the_format_is_told_by_content_not_by_name(tmp_path):
    model = {"title": "T", "panels": [{"id": 1, "title": "P"}]}
    assert read(tmp_path, json.dumps(model), "looks-like.yaml") == model
    assert read(tmp_path, "title: T\npanels:\n  - id: 1\n    title: P\n", "looks.json") == model
    # A YAML comment first, and JSON written as YAML's flow style of one line.
    assert read(tmp_path, "# exported\n" + json.dumps(model), "x") == model
    assert read(tmp_path, "\ufeff" + json.dumps(model), "bom.json") == model


def test_yaml_plain_scalars_are_read_as_yaml_1_2_core(tmp_path):
    value = read(
        tmp_path,
        "a: [1, -2, 2.5, 1e3, 0x1f, 0o17, true, False, null, ~, '', yes, off, 1_000, 2026-12-01]\n"
        "'1': quoted key\n"
        "2: plain key\n"
        "text: |\n  two\n  lines\n",
    )
    assert value == {
        "a": [1, -2, 2.5, 1000.0, 31, 15, True, False, None, None, "", "yes", "off", "1_000",
              "2026-12-01"],
        "1": "quoted key",
        "2": "plain key",
        "text": "two\nlines\n",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: &x 1\nb: 2\n", "an anchor (&x) is not accepted"),
        ("a: [1]\nb: *x\n", "an alias (*x) is not accepted"),
        ("a: !!python/object:os.system x\n", "a tag (tag:yaml.org,2002:python/object:os.system)"),
        ("a: !!str 1\n", "a tag (tag:yaml.org,2002:str)"),
        ("a: !custom x\n", "a tag (!custom)"),
        ("a: 1\na: 2\n", "the key 'a' appears twice"),
        ("? [a]\n: 1\n", "a mapping key that is not text"),
        ("a: 1\n---\nb: 2\n", "more than one YAML document"),
        ("a: .inf\n", ".inf is not a JSON number"),
        ("a: .nan\n", ".nan is not a JSON number"),
        ("a: [1,\n", "neither JSON nor YAML"),
    ],
)
def test_yaml_constructs_no_export_has_are_one_line(tmp_path, text, expected):
    assert expected in refusal(tmp_path, text)


def test_an_alias_expansion_bomb_is_refused_at_its_first_anchor(tmp_path):
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 12)]
    line = refusal(tmp_path, "\n".join(lines) + "\n")
    assert line == (
        f"{tmp_path / 'export.yaml'}:1: YAML: an anchor (&l0) is not accepted; a Grafana export"
        f" has none — {documents.AGAIN}"
    )


def test_nesting_beyond_the_bound_is_refused_in_both_formats(tmp_path):
    deep_yaml = "a: " + "[" * 70 + "]" * 70 + "\n"
    assert "nested deeper than 64 levels" in refusal(tmp_path, deep_yaml)
    deep_json = "[" * 100_000 + "]" * 100_000
    assert "nested deeper than 64 levels" in refusal(tmp_path, deep_json, "deep.json")
    deep_block = "".join(f"{'  ' * i}k{i}:\n" for i in range(70)) + "  " * 70 + "end: 1\n"
    assert "nested deeper than 64 levels" in refusal(tmp_path, deep_block)


def test_size_unicode_and_number_bounds_hold_for_yaml_too(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: " + b"x" * documents.MAX_BYTES + b"\n")
    with pytest.raises(DashboardError, match="larger than 16 MiB"):
        documents.read(big)
    assert "beyond what Grafana's numbers hold" in refusal(tmp_path, "a: 9007199254740993\n")
    assert "invalid Unicode" in refusal(tmp_path, 'a: "\\ud800"\n')  # libyaml's own check
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("title: caf\xe9\n".encode("latin-1"))
    with pytest.raises(DashboardError, match="not UTF-8 text"):
        documents.read(latin)
