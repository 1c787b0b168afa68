"""The YAML the build writes for Kubernetes: any JSON value reads back as itself (PyYAML's
pure and libyaml readers alike), strings are plain only where no YAML reader can take them
for anything else, and a dashboard's JSON text stays a readable literal block."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ktrdr_dashboards import yamltext

# Text as hostile as JSON allows: every plane, control characters, line breaks of every kind,
# YAML's indicators and words that read as other types.
texts = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=30),
    st.sampled_from(
        ["y", "N", "yes", "Off", "null", "~", "", " ", "-", "- a", "a: b", "a #b", "#", "&a",
         "*a", "!a", "|", ">", "%", "@", "`", "'", '"', "1", "1.5", "1e5", ".inf", "0x1f",
         "1:30", "2001-12-14", "=", "<<", "15s", "1h", "a\n", "\nb", " a\nb\n", "a\n\n",
         "a\r\nb", "a\u2028b", "a\x85b", "\ufeffa", "\t", "a\tb\n", "line\n  indented\n"]
    ),
)  # fmt: skip
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats(allow_nan=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(value=json_values)
def test_every_json_value_reads_back_as_itself(value):
    text = yamltext.dumps(value)
    assert text.endswith("\n")
    assert yaml.load(text, Loader=yaml.SafeLoader) == value
    assert yaml.load(text, Loader=yaml.CSafeLoader) == value


def test_a_key_longer_than_a_simple_key_is_explicit():
    value = {"k" * 2000: {"a": 1}, "b": ["x" * 2000]}
    assert yaml.safe_load(yamltext.dumps(value)) == value


def test_a_dashboard_json_is_a_literal_block_and_plain_words_stay_plain():
    dashboard = json.dumps({"title": "Operations", "panels": []}, indent=2) + "\n"
    resource = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "dashboard-ktrdr-operations", "labels": {"app": "ktrdr"}},
        "data": {"operations.json": dashboard},
        "grid": {"x": 0, "y": 1},
        "interval": "15s",
        "flags": ["on", "off"],
        "empty": {},
    }
    assert yamltext.dumps(resource) == (
        "apiVersion: v1\n"
        "kind: ConfigMap\n"
        "metadata:\n"
        "  name: dashboard-ktrdr-operations\n"
        "  labels:\n"
        "    app: ktrdr\n"
        "data:\n"
        "  operations.json: |\n"
        "    {\n"
        '      "title": "Operations",\n'
        '      "panels": []\n'
        "    }\n"
        "grid:\n"
        "  x: 0\n"
        "  'y': 1\n"  # YAML 1.1 readers (kubectl's among them) take a bare y for true
        "interval: 15s\n"
        "flags:\n"
        "- 'on'\n"
        "- 'off'\n"
        "empty: {}\n"
    )


def test_floats_read_back_as_floats_in_yaml_1_1():
    for value in (1e-05, 1e16, 0.5, -0.0, 100.0, float("inf"), float("-inf")):
        assert yaml.safe_load(yamltext.dumps({"v": value})) == {"v": value}


@pytest.mark.parametrize("value", [{1: "a"}, {"a": {1, 2}}, [b"bytes"]])
def test_what_json_cannot_hold_is_refused(value):
    with pytest.raises(TypeError):
        yamltext.dumps(value)


@settings(max_examples=200, deadline=None)
@given(value=st.dictionaries(texts, json_values, min_size=1, max_size=4))
def test_a_mapping_written_before_stands_for_itself_in_another_document(value):
    """A resource carried in another (a GrafanaManifest's template) is written once."""
    inside = {"spec": {"selector": {"a": "b"}, "template": value}, "z": [1]}
    written = {
        "spec": {"selector": {"a": "b"}, "template": yamltext.Written(yamltext.dumps(value))},
        "z": [1],
    }
    assert yamltext.dumps(written) == yamltext.dumps(inside)
