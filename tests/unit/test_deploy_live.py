"""What apply decides from what a live Grafana holds, whatever API and schema it holds it in:
discovery's choice of versions, the drift hash, and the semantic comparison of classic models
with their v2-only layouts beside."""

from __future__ import annotations

import copy

import pytest
import yaml

from ktrdr_dashboards import convert
from ktrdr_dashboards import model as dashboard_model
from ktrdr_dashboards.deploy import apis
from ktrdr_dashboards.deploy.apply import Built, decide, may_hold_v2_only
from ktrdr_dashboards.deploy.live import LiveDashboard, resource_hash
from ktrdr_dashboards.roundtrip import semdiff

UID = "ktrdr-worker-status"


def listing(**groups: tuple[str, ...]) -> dict:
    return {
        "kind": "APIGroupList",
        "groups": [
            {"name": name, "versions": [{"version": v} for v in versions]}
            for name, versions in groups.items()
        ],
    }


def test_discovery_prefers_stable_over_beta_and_never_uses_alpha():
    thirteen = listing(**{apis.DASHBOARDS: ("v0alpha1", "v1beta1", "v1", "v2alpha1", "v2")})
    assert apis.choose(thirteen, apis.DASHBOARDS, apis.DASHBOARD_V1_VERSIONS) == "v1"
    assert apis.choose(thirteen, apis.DASHBOARDS, apis.DASHBOARD_V2_VERSIONS) == "v2"
    twelve = listing(**{apis.DASHBOARDS: ("v1beta1", "v2alpha1", "v2beta1")})
    assert apis.choose(twelve, apis.DASHBOARDS, apis.DASHBOARD_V2_VERSIONS) == "v2beta1"
    alpha_only = listing(**{apis.DASHBOARDS: ("v0alpha1", "v2alpha1")})
    assert apis.choose(alpha_only, apis.DASHBOARDS, apis.DASHBOARD_V1_VERSIONS) is None
    assert apis.choose({"kind": "Status"}, apis.DASHBOARDS, apis.DASHBOARD_V1_VERSIONS) is None


@pytest.mark.parametrize(
    ("discovery", "line"),
    [
        (apis.Discovery("11.6.0"), "dashboards and folders via the legacy /api"),
        (
            apis.Discovery("12.2.0", "v1beta1", "v2beta1", "v1beta1"),
            "dashboards via dashboard.grafana.app/v1beta1+v2beta1, folders via "
            "folder.grafana.app/v1beta1",
        ),
        (
            apis.Discovery("13.3.0", "v1", "v2", None, "stacks-12"),
            "dashboards via dashboard.grafana.app/v1+v2, folders via the legacy /api, "
            "namespace stacks-12",
        ),
    ],
)
def test_discovery_says_what_it_found(discovery, line):
    assert discovery.describe() == line


def live_of(classic: dict, *, stored: str = "v1", pushed: str | None = None) -> LiveDashboard:
    """What a read returns for a dashboard holding `classic` (as v2 when `stored` is v2)."""
    layout = None
    if stored == "v2":
        spec = convert.to_v2(classic)
        classic, layout = convert.to_classic(spec, UID), convert.v2_layout(spec)
    return LiveDashboard(
        uid=UID,
        classic=classic,
        layout=layout,
        stored=stored,
        version=2,
        pushed=pushed,
        untouched=pushed == resource_hash(classic),
        who="version 2",
        managed=None,
    )


@pytest.fixture
def worker_status(dashboards) -> Built:
    return Built(UID, "build/dashboards/worker-status.json", copy.deepcopy(dashboards[UID]))


def test_format_alone_is_never_a_change(worker_status):
    """Stored as v2 (no schemaVersion) or re-saved with a newer schemaVersion: the hash apply
    recorded still holds, and nothing differs."""
    built = worker_status
    recorded = resource_hash(built.model)
    as_v2 = live_of(built.model, stored="v2", pushed=recorded)
    assert "schemaVersion" not in as_v2.classic and as_v2.untouched
    assert decide(built, as_v2, None).action == "unchanged"
    migrated = live_of({**built.model, "schemaVersion": 42}, pushed=recorded)
    assert decide(built, migrated, None).action == "unchanged"


def test_what_apply_does_follows_who_changed_what(worker_status):
    built = worker_status
    recorded = resource_hash(built.model)
    assert decide(built, None, None).action == "create"
    assert decide(built, live_of(built.model, pushed=None), None).action == "record"

    changed = copy.deepcopy(built.model)
    changed["refresh"] = "1m"
    assert decide(built, live_of(changed, pushed=recorded), None).action == "drift"
    assert decide(built, live_of(changed, pushed=resource_hash(changed)), None).action == ("update")
    managed = live_of(built.model, pushed=recorded)
    managed = LiveDashboard(**{**managed.__dict__, "managed": "managed by terraform"})
    assert decide(built, managed, None).action == "provisioned"


def test_a_v2_only_layout_is_compared_by_panel_title_not_by_id(dashboards):
    """Tabs around the same panels are the same layout even when the panels are numbered
    differently; tabs against none, or another tab title, is a difference."""
    model = dashboards[UID]
    rows = convert.to_v2(model)["layout"]
    tabs = {
        "kind": "TabsLayout",
        "spec": {"tabs": [{"kind": "TabsLayoutTab", "spec": {"title": "All", "layout": rows}}]},
    }
    renumbered = copy.deepcopy(model)
    shift = {}
    for panel in dashboard_model.panels(renumbered):
        shift[f"panel-{panel['id']}"] = f"panel-{panel['id'] + 100}"
        panel["id"] += 100

    def rename(value: object) -> object:
        if isinstance(value, dict):
            if value.get("kind") == "ElementReference":
                return {**value, "name": shift[value["name"]]}
            return {k: rename(v) for k, v in value.items()}
        return [rename(v) for v in value] if isinstance(value, list) else value

    assert semdiff.layout_diff(model, tabs, renumbered, rename(tabs)) == []
    assert semdiff.layout_diff(model, None, model, None) == []
    assert semdiff.layout_diff(model, None, model, tabs) == [
        'layout: classic rows and grid → tabs "All"; rows "Capacity", "Health", "Resources" '
        "inside a row or tab"
    ]
    retitled = copy.deepcopy(tabs)
    retitled["spec"]["tabs"][0]["spec"]["title"] = "Everything"
    assert semdiff.layout_diff(model, tabs, model, retitled) == [
        'layout.spec.tabs[0].spec.title: "All" → "Everything"'
    ]


def test_a_built_resource_is_parsed_for_its_layout_only_when_it_may_hold_one(dashboards):
    """The cheap look at a built v2 resource never misses a v2-only construct."""
    model = dashboards[UID]
    spec = convert.to_v2(model)
    rows = spec["layout"]
    grid = rows["spec"]["rows"][0]["spec"]["layout"]

    def row(**extra: object) -> dict:
        return {"kind": "RowsLayoutRow", "spec": {"title": "R", "layout": grid, **extra}}

    tab = {"kind": "TabsLayoutTab", "spec": {"title": "T", "layout": rows}}
    v2_only_layouts = [
        {"kind": "TabsLayout", "spec": {"tabs": [tab]}},
        {"kind": "AutoGridLayout", "spec": {"items": []}},
        {"kind": "RowsLayout", "spec": {"rows": [row(layout=rows)]}},
        {"kind": "RowsLayout", "spec": {"rows": [row(variables=[{"kind": "CustomVariable"}])]}},
        {"kind": "RowsLayout", "spec": {"rows": [row(conditionalRendering={"kind": "X"})]}},
        {"kind": "RowsLayout", "spec": {"rows": [row(), row(hideHeader=True)]}},
        {"kind": "RowsLayout", "spec": {"rows": [row(fillScreen=True)]}},
    ]  # fmt: skip
    for layout in v2_only_layouts:
        with_layout = {**spec, "layout": layout}
        assert convert.v2_only(with_layout), layout
        text = yaml.safe_dump({"apiVersion": "dashboard.grafana.app/v2", "spec": with_layout})
        assert may_hold_v2_only(text), layout
    for model in dashboards.values():
        text = yaml.safe_dump(
            {"apiVersion": "dashboard.grafana.app/v2", "spec": convert.to_v2(model)}
        )
        assert not convert.v2_only(convert.to_v2(model))
        assert not may_hold_v2_only(text), model["uid"]
