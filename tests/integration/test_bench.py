"""Smoke test of the bench machinery on a tiny size: it produces figures of the right shape.
Never asserts times: the bench prints figures, it does not judge them here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ktrdr_dashboards import bench
from ktrdr_dashboards.bench import generate, telemetry
from ktrdr_dashboards.compile import dashboards as jsonnet_compile
from ktrdr_dashboards.errors import DashboardError


def test_generated_copies_get_their_own_uid_and_compile_like_the_real_ones(
    repo_root: Path, tmp_path: Path
) -> None:
    root = generate.generate_project(repo_root, tmp_path / "many", 5)
    compiled = jsonnet_compile.compile_all(
        jsonnet_compile.find_sources(root / "jsonnet"), jsonnet_compile.library_path(root)
    )
    uids = [d.uid for d in compiled]
    assert len(set(uids)) == 5
    real = {d.name: d.model for d in compiled if not d.uid.startswith("bench-")}
    assert len(real) == 3
    copy = next(d.model for d in compiled if d.uid == "bench-003-operations")
    assert len(copy["panels"]) == len(real["operations"]["panels"])


def test_one_evaluation_a_process_pool_and_file_by_file_agree(
    repo_root: Path, tmp_path: Path
) -> None:
    root = generate.generate_project(repo_root, tmp_path / "many", 6)
    sources = jsonnet_compile.find_sources(root / "jsonnet")
    library = jsonnet_compile.library_path(root)
    together = jsonnet_compile.compile_all(sources, library)
    pooled = jsonnet_compile._compile_chunk(sources[:3], library, None) + [
        d for chunk in (sources[3:],) for d in jsonnet_compile._compile_chunk(chunk, library, None)
    ]
    one_by_one = [jsonnet_compile.compile_file(s, library) for s in sources]
    rendered = [[jsonnet_compile.render_json(d.model) for d in run] for run in (together, pooled)]
    assert rendered[0] == rendered[1] == [jsonnet_compile.render_json(d.model) for d in one_by_one]


def test_many_dashboards_compile_over_a_process_pool(
    repo_root: Path, tmp_path: Path, monkeypatch
) -> None:
    root = generate.generate_project(repo_root, tmp_path / "many", 8)
    sources = jsonnet_compile.find_sources(root / "jsonnet")
    library = jsonnet_compile.library_path(root)
    monkeypatch.setattr(jsonnet_compile, "PARALLEL_FROM", 4)
    pooled = jsonnet_compile.compile_all(sources, library, workers=2)
    assert [d.name for d in pooled] == [s.stem for s in sources]
    alone = jsonnet_compile.compile_all(sources, library, workers=1)
    assert [d.model for d in pooled] == [d.model for d in alone]


def test_a_broken_source_still_names_its_file(repo_root: Path, project_copy: Path) -> None:
    broken = project_copy / "jsonnet" / "operations.jsonnet"
    lines = broken.read_text().count("\n")
    broken.write_text(broken.read_text() + "\n+ error 'boom'\n")
    with pytest.raises(DashboardError, match=rf"operations\.jsonnet:{lines + 2}:\d+: boom"):
        jsonnet_compile.compile_all(
            jsonnet_compile.find_sources(project_copy / "jsonnet"),
            jsonnet_compile.library_path(project_copy),
        )


def test_tiny_bench_prints_figures_of_the_right_shape(repo_root: Path) -> None:
    lines: list[str] = []
    figures, costs = bench.run(
        repo_root, runs=1, generated=4, sizes=["tiny"], refreshes=1, print_line=lines.append
    )
    assert [(f.dashboards, f.stage) for f in figures] == [
        (0, "baseline"), (3, "compile"), (3, "validate"), (4, "compile"), (4, "validate"),
    ]  # fmt: skip
    assert all(r.seconds > 0 and r.peak_mb > 0 for f in figures[1:] for r in f.runs)
    names = ["operations", "system-overview", "worker-status"]
    # Each dashboard as built (reading the recording rules, backfilled) and raw.
    assert sorted(c.name for c in costs) == sorted([*names, *(f"{n} (raw)" for n in names)])
    series = telemetry.count_series(telemetry.telemetry_for("tiny"))
    for cost in costs:
        assert cost.series == series
        assert cost.queries > 0 and cost.selected > 0 and cost.samples > 0
        assert len(cost.refresh_seconds) == 1
        assert 1 <= len(cost.top_panels()) <= 3
    text = "\n".join(lines)
    for heading in ("BUILD", "BUILD TARGETS", "QUERIES", "QUERY TARGETS"):
        assert heading in text
    assert json.loads(bench.as_json(figures, costs))["queries"]
