"""docs/dashboards.md: generated from the dashboards and the metadata beside their sources,
committed, and never out of date."""

from __future__ import annotations

from pathlib import Path

import pytest

from ktrdr_dashboards import build, docs
from ktrdr_dashboards.errors import DashboardError


@pytest.fixture(scope="module")
def generated(repo_root: Path) -> str:
    return docs.generate(build.Project(root=repo_root))


def test_committed_docs_match_what_the_sources_generate(repo_root: Path, generated: str):
    committed = (repo_root / docs.DOCS_PATH).read_text(encoding="utf-8")
    assert committed == generated, "docs/dashboards.md is stale: run `nox -s docs` and commit it"


def test_generation_is_repeatable(repo_root: Path, generated: str):
    assert docs.generate(build.Project(root=repo_root)) == generated


def test_every_dashboard_is_documented_with_url_panels_variables_and_links(dashboards, generated):
    for uid, model in dashboards.items():
        assert f"## {model['title']}" in generated
        assert f"http://localhost:3000/d/{uid}" in generated
        for panel in model["panels"]:
            if panel["type"] != "row":
                assert f"**{panel['title']}**" in generated, panel["title"]
            for target in panel.get("targets", []):
                assert " ".join(target["expr"].split()) in generated.replace("\\|", "|")
        for variable in model["templating"]["list"]:
            assert f"`${variable['name']}`" in generated
        for link in model.get("links", []):
            assert f"**{link['title']}**" in generated


def test_thresholds_and_units_are_listed_for_the_panels_that_have_them(dashboards, generated):
    row = next(line for line in generated.splitlines() if "**Error Rate**" in line)
    assert "| percent |" in row and "green, yellow ≥ 1, red ≥ 5" in row


def test_every_workflow_link_leads_to_a_panel_row_or_dashboard_heading(dashboards, generated):
    headings = {m["title"].lower().replace(" ", "-") for m in dashboards.values()}
    workflows = generated.split("## Diagnostic workflows", 1)[1]
    targets = [part.split(")", 1)[0] for part in workflows.split("](#")[1:]]
    assert len(targets) > len(headings), "workflows link no panels"
    for target in targets:
        assert f'id="{target}"' in generated or target in headings, target


def test_a_workflow_naming_a_missing_panel_fails_generation(project_copy: Path):
    workflows = project_copy / "jsonnet" / "workflows.yaml"
    workflows.write_text(
        workflows.read_text().replace("[P95 Latency]", "[P99 Latency]", 1), encoding="utf-8"
    )
    with pytest.raises(DashboardError, match="no panel 'P99 Latency'"):
        docs.generate(build.Project(root=project_copy))


def test_a_dashboard_without_metadata_fails_generation(project_copy: Path):
    (project_copy / "jsonnet" / "operations.meta.yaml").unlink()
    with pytest.raises(DashboardError, match=r"operations\.meta\.yaml: missing documentation"):
        docs.generate(build.Project(root=project_copy))


def test_docs_check_reports_a_stale_file(project_copy: Path, generated: str, tmp_path: Path):
    stale_copy = tmp_path / "dashboards.md"
    stale_copy.write_text(generated.replace("P95 Latency", "P95 latency"), encoding="utf-8")
    project = build.Project(root=project_copy)
    assert docs.stale(project, stale_copy)
    docs.write(project, stale_copy)
    assert not docs.stale(project, stale_copy)
