"""Every format Grafana exports a dashboard in is recognised by its content and read as one
classic model (with the v2-only layout beside it); what is no dashboard is one line."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from ktrdr_dashboards import convert
from ktrdr_dashboards.errors import DashboardError
from ktrdr_dashboards.roundtrip import documents, exports, formats

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "import"
BINDINGS = exports.Bindings(
    datasource_variable={"name": "datasource", "type": "datasource", "query": "prometheus"},
    datasource_uids={"prometheus": "prometheus", "jaeger": "jaeger"},
    schema_version=39,
)


def load(name: str) -> exports.Export:
    return exports.load(FIXTURES / name, BINDINGS)


@pytest.mark.parametrize(
    ("name", "form", "uid", "v2_only"),
    [
        ("reference-shape.json", "classic model", "ktrdr-reference-shape", False),
        ("api-wrapper.json", "classic model in an HTTP API answer", "ktrdr-capacity", False),
        ("v1-resource.json", "V1 Resource (dashboard.grafana.app/v1)", "ktrdr-training", False),
        (
            "v1-resource.yaml",
            "V1 Resource (dashboard.grafana.app/v1beta1)",
            "ktrdr-workers-detail",
            False,
        ),
        ("v2-tabs.yaml", "V2 Resource (dashboard.grafana.app/v2)", "ktrdr-operations-tabs", True),
        (
            "v2-external.json",
            "V2 Resource (dashboard.grafana.app/v2beta1)",
            "ktrdr-backend-shared",
            True,
        ),
        ("v2-spec.json", "v2 spec", None, False),
    ],
)
def test_each_format_is_recognised(name, form, uid, v2_only):
    loaded = load(name)
    assert loaded.form == form
    assert loaded.model.get("uid") == uid
    assert isinstance(loaded.model.get("panels"), list) and loaded.model["panels"]
    assert (loaded.layout is not None) == v2_only


def test_a_v1_resource_is_its_spec_named_by_its_metadata():
    resource = documents.read(FIXTURES / "v1-resource.json")
    assert isinstance(resource, dict)
    loaded = load("v1-resource.json")
    assert loaded.model == {**resource["spec"], "uid": "ktrdr-training"}


def test_a_v2_resource_is_its_classic_model_with_its_tabs_beside_it():
    loaded = load("v2-tabs.yaml")
    rows = [p["title"] for p in loaded.model["panels"] if p["type"] == "row"]
    assert rows == ["Overview", "Workers / Health", "Workers / Latency", "Per worker"]
    assert loaded.model["schemaVersion"] == BINDINGS.schema_version  # v2 has none
    assert loaded.layout is not None and loaded.layout["kind"] == "TabsLayout"
    ids = {p.get("id"): p.get("title") for p in loaded.model["panels"]}
    first = loaded.layout["spec"]["tabs"][0]["spec"]["layout"]["spec"]["items"][0]
    name = first["spec"]["element"]["name"]
    assert ids[int(name.removeprefix("panel-"))] == "Operations Started"


def test_an_external_v2_export_is_bound_by_query_group():
    loaded = load("v2-external.json")
    targets = {
        p["title"]: p["targets"][0]["datasource"]
        for p in loaded.model["panels"]
        if p.get("targets")
    }
    assert targets == {
        "Request Rate": {"type": "prometheus", "uid": "${datasource}"},
        "Backend Up": {"type": "prometheus", "uid": "${datasource}"},
        "Slowest Handlers": {"type": "prometheus", "uid": "${datasource}"},
        "Error Traces": {"type": "jaeger", "uid": "jaeger"},
    }
    variables = [v["name"] for v in loaded.model["templating"]["list"]]
    assert variables == ["datasource", "job"]  # the project's variable, added first
    annotation = loaded.model["annotations"]["list"][0]
    assert annotation["datasource"] == {"type": "grafana", "uid": "-- Grafana --"}
    assert loaded.notes == []


def test_a_query_of_a_plugin_nothing_provides_is_left_with_a_note():
    spec = copy.deepcopy(documents.read(FIXTURES / "v2-external.json"))
    assert isinstance(spec, dict)
    query = spec["spec"]["elements"]["panel-3"]["spec"]["data"]["spec"]["queries"][0]
    query["spec"]["query"]["group"] = "tempo"
    loaded = exports.read(spec, "shared.json", BINDINGS)
    assert loaded.notes == [
        'a tempo query of panel "Error Traces" names no datasource and provisioning/ has none '
        "of that type: it is left to Grafana's default"
    ]
    traces = next(p for p in loaded.model["panels"] if p["title"] == "Error Traces")
    assert traces["targets"][0]["datasource"] == {"type": "tempo"}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {"apiVersion": "folder.grafana.app/v1", "kind": "Folder", "spec": {}},
            "a Folder of folder.grafana.app/v1, not a dashboard",
        ),
        (
            {"apiVersion": "dashboard.grafana.app/v3", "kind": "Dashboard", "spec": {}},
            "dashboard version v3 is none of v1beta1, v1, v2alpha1, v2beta1, v2",
        ),
        (
            {"apiVersion": "dashboard.grafana.app/v2", "kind": "Dashboard", "spec": []},
            "a dashboard.grafana.app/v2 dashboard without a spec object",
        ),
        ({"title": "old", "panels": [], "schemaVersion": 27}, "schemaVersion 27 is outside"),
        ({"title": "new", "panels": [], "schemaVersion": 43}, "schemaVersion 43 is outside"),
        ([1, 2], "not a Grafana dashboard"),
    ],
)
def test_what_is_no_dashboard_it_can_read_is_one_line(document, message):
    with pytest.raises(DashboardError) as caught:
        exports.read(document, "export.json", BINDINGS)
    assert str(caught.value).startswith("export.json: ")
    assert message in str(caught.value)


def test_a_v2_element_the_classic_model_cannot_hold_names_file_and_element():
    resource = copy.deepcopy(documents.read(FIXTURES / "v2-tabs.yaml"))
    assert isinstance(resource, dict)
    resource["spec"]["elements"]["panel-17"]["kind"] = "CustomElement"
    with pytest.raises(DashboardError) as caught:
        exports.read(resource, "tabs.yaml", BINDINGS)
    line = str(caught.value)
    assert line.startswith("tabs.yaml: dashboard ktrdr-operations-tabs")
    assert "panel-17" in line and "'CustomElement'" in line


def test_the_classic_versions_read_as_they_are():
    for version in formats.SCHEMA_VERSIONS:
        model = {"title": "t", "panels": [], "schemaVersion": version}
        assert exports.read(json.loads(json.dumps(model)), "x", BINDINGS).model == model
    assert list(formats.SCHEMA_VERSIONS) == list(range(36, 43))


def test_every_v2_fixture_is_valid_against_the_published_schema():
    for name, version in (
        ("v2-tabs.yaml", "v2"),
        ("v2-external.json", "v2beta1"),
        ("v2-spec.json", "v2"),
    ):
        value = documents.read(FIXTURES / name)
        assert isinstance(value, dict)
        spec = value.get("spec", value)
        assert convert.schema_errors(spec, version) == [], name
