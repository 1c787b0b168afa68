"""`build` and `validate` over workers: each worker compiles a chunk and judges its dashboards
there, the parent the project. The bytes written and the findings, in their order, are those
of one process; a failure is the one a single run would meet first; a failed build leaves
build/ as it was."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ktrdr_dashboards import build, build_pool, schemas, validate
from ktrdr_dashboards.bench import generate
from ktrdr_dashboards.compile import dashboards as jsonnet_compile
from ktrdr_dashboards.errors import DashboardError

COUNT = 14
DESCRIPTION = (
    "'Operations of every type that ended (completed, failed or cancelled) in the last hour.'"
)
QUERY = "q.endedPerHour,"


def edit(root: Path, name: str, old: str, new: str) -> None:
    path = root / "jsonnet" / f"{name}.jsonnet"
    text = path.read_text()
    assert old in text, (name, old)
    path.write_text(text.replace(old, new, 1))


# (source, text, what it becomes): every kind of check reports: of one dashboard (a missing
# description), of the project (a title used twice; an unknown metric, through the one
# promtool run and the catalog), of a Kubernetes resource (a uid that is no Kubernetes name).
BREAKS = (
    ("bench-003-operations", DESCRIPTION, "''"),
    ("bench-012-operations", DESCRIPTION, "''"),
    ("bench-005-worker-status", "'Bench 005 worker-status'", "'Bench 004 system-overview'"),
    ("bench-006-operations", "uid: 'bench-006-operations'", "uid: 'Bench_006'"),
    ("bench-009-operations", QUERY, "'sum(rate(ktrdr_no_such_total[5m]))',"),
)


def fail(root: Path, name: str, message: str) -> None:
    """Make a source fail to evaluate with `message`."""
    path = root / "jsonnet" / f"{name}.jsonnet"
    path.write_text(path.read_text() + f"\n+ error '{message}'\n")


def repair(root: Path) -> None:
    for name, old, new in BREAKS:
        edit(root, name, new, old)


@pytest.fixture
def broken(repo_root: Path, tmp_path: Path) -> Path:
    """A project of COUNT dashboards, broken as BREAKS says."""
    root = generate.generate_project(repo_root, tmp_path / "project", COUNT)
    for name, old, new in BREAKS:
        edit(root, name, old, new)
    return root


@pytest.fixture
def small_chunks(monkeypatch):
    """Several chunks of a few dashboards (the parent cuts them; the workers get the paths)."""
    monkeypatch.setattr(jsonnet_compile, "PARALLEL_FROM", 4)
    monkeypatch.setattr(jsonnet_compile, "CHUNK_BYTES", 12_000)


def test_workers_write_the_bytes_and_find_the_findings_of_one_process(broken, small_chunks):
    project = build.Project(root=broken)
    assert len(jsonnet_compile.chunks(jsonnet_compile.find_sources(broken / "jsonnet"), 2)) > 3
    pooled = build_pool.run(project, workers=2)
    alone = build_pool.run(project, workers=1)
    output = build.evaluate(project)
    in_memory = validate.check_project(project, output)
    lines = [f.line() for f in pooled.findings]
    assert lines == [f.line() for f in alone.findings] == [f.line() for f in in_memory]
    rules = {f.rule for f in pooled.findings}
    assert {"identity/description", "identity/title", "kubernetes/name"} <= rules
    assert {"telemetry/metric"} <= rules
    assert [f.location.dashboard for f in pooled.findings if f.rule == "identity/description"] == [
        "bench-003-operations",
        "bench-012-operations",
    ]
    assert pooled.files == alone.files
    assert pooled.files == {path: text.encode() for path, text in output.files.items()}
    assert [d.name for d in pooled.dashboards] == [
        s.stem for s in jsonnet_compile.find_sources(broken / "jsonnet")
    ]


def test_the_first_source_that_does_not_compile_is_reported(broken, small_chunks):
    fail(broken, "bench-011-worker-status", "late")
    fail(broken, "bench-004-system-overview", "first")
    with pytest.raises(DashboardError, match=r"bench-004-system-overview\.jsonnet:\d+:\d+: first"):
        build_pool.run(build.Project(root=broken), workers=2)


def test_a_failed_build_leaves_build_as_it_was(broken, small_chunks, tmp_path):
    fresh = tmp_path / "fresh" / "build"
    with pytest.raises(validate.ValidationError):
        build.build(build.Project(root=broken), fresh, workers=2)
    assert not fresh.parent.exists() or not any(fresh.parent.iterdir())
    repair(broken)
    out = tmp_path / "out"
    build.build(build.Project(root=broken), out, workers=2)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert len([p for p in before if p.parent == out / "dashboards"]) == COUNT
    fail(broken, "bench-013-system-overview", "boom")
    with pytest.raises(DashboardError, match="boom"):
        build.build(build.Project(root=broken), out, workers=2)
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before  # no file changed, none left aside
    assert not [p for p in out.rglob(".*")]


def test_an_obstacle_stops_the_build_and_nothing_is_left_aside(broken, small_chunks, tmp_path):
    repair(broken)
    out = tmp_path / "out"
    (out / "kubernetes" / "helm-sidecar").mkdir(parents=True)
    os.symlink(tmp_path, out / "kubernetes" / "grafana-operator")
    with pytest.raises(DashboardError, match="grafana-operator is in the way"):
        build.build(build.Project(root=broken), out, workers=2)
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "kubernetes",
        "kubernetes/grafana-operator",
        "kubernetes/helm-sidecar",
    ]


def test_the_compiled_schema_check_only_skips_what_jsonschema_finds_valid(broken, monkeypatch):
    """With jsonschema-rs off, jsonschema judges every dashboard alone: the same findings."""
    project = build.Project(root=broken)
    with_fast = [f.line() for f in build_pool.run(project, workers=1).findings]
    monkeypatch.setattr(schemas.Validator, "is_valid", lambda self, document: None)
    assert [f.line() for f in build_pool.run(project, workers=1).findings] == with_fast
