"""Smoke test of the bench machinery on a tiny size: it produces figures of the right shape.
Never asserts times: the bench prints figures, it does not judge them here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ktrdr_dashboards import bench, project
from ktrdr_dashboards.bench import generate, import_cost
from ktrdr_dashboards.compile import dashboards as jsonnet_compile
from ktrdr_dashboards.errors import DashboardError
from ktrdr_dashboards.synthetic import telemetry


def test_generated_copies_get_their_own_uid_and_compile_like_the_real_ones(
    repo_root: Path, tmp_path: Path
) -> None:
    root = generate.generate_project(repo_root, tmp_path / "many", 5)
    compiled = jsonnet_compile.compile_all(
        jsonnet_compile.find_sources(root / "jsonnet"), project.library_path(root)
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
    library = project.library_path(root)
    together = jsonnet_compile.compile_all(sources, library)
    pooled = jsonnet_compile.compile_chunk(sources[:3], library, None) + [
        d for chunk in (sources[3:],) for d in jsonnet_compile.compile_chunk(chunk, library, None)
    ]
    one_by_one = [jsonnet_compile.compile_file(s, library) for s in sources]
    rendered = [[jsonnet_compile.render_json(d.model) for d in run] for run in (together, pooled)]
    assert rendered[0] == rendered[1] == [jsonnet_compile.render_json(d.model) for d in one_by_one]


def test_many_dashboards_compile_over_a_process_pool(
    repo_root: Path, tmp_path: Path, monkeypatch
) -> None:
    root = generate.generate_project(repo_root, tmp_path / "many", 8)
    sources = jsonnet_compile.find_sources(root / "jsonnet")
    library = project.library_path(root)
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
            project.library_path(project_copy),
        )


def test_tiny_bench_prints_every_engine_side_by_side_and_the_query_costs(
    repo_root: Path,
) -> None:
    lines: list[str] = []
    figures, costs = bench.run(
        repo_root,
        runs=1,
        generated=[4],
        engines=["go", "cpp", "nope"],
        sizes=["tiny"],
        refreshes=1,
        print_line=lines.append,
    )
    work = [(3, "compile"), (3, "validate"), (3, "build")]
    work += [(4, "compile"), (4, "validate"), (4, "build")]
    assert [(f.dashboards, f.stage, f.engine) for f in figures] == [(0, "baseline", "")] + [
        (n, stage, engine) for n, stage in work for engine in ("go", "cpp")
    ]
    assert all(len(f.runs) == 1 for f in figures)
    assert all(r.seconds > 0 and r.peak_mb > 0 for f in figures[1:] for r in f.runs)
    # Memory is the tree's; the main process is part of it; promtool, run by the validator,
    # is counted apart.
    assert all(0 < r.main_mb <= r.peak_mb for f in figures for r in f.runs)
    assert any("promtool" in r.tools_mb for f in figures if f.stage == "build" for r in f.runs)
    text = "\n".join(lines)
    for heading in ("BUILD BY JSONNET ENGINE", "BUILD TARGETS", "QUERIES", "QUERY TARGETS"):
        assert heading in text
    # The engine that does not load is named, with how to get one, and left out.
    assert "not measured: unknown Jsonnet engine 'nope'" in text
    # Every engine's row carries its ratio to cpp; cpp's own is 1.
    table = lines[: lines.index(next(x for x in lines if x.startswith("BUILD TARGETS")))]
    rows = [line.split() for line in table if line.startswith("3 dashboards compiled ")]
    assert [row[3] for row in rows] == ["go", "cpp"]
    assert rows[1][10:12] == ["1.00", "1.00"]
    assert float(rows[0][10]) > 0 and rows[0][11].endswith("x") and rows[0][12] == "faster)"
    targets = lines[len(table) :]
    whole = next(x for x in targets if x.startswith("`python -m ktrdr_dashboards build`"))
    assert " s, " in whole and " MB" in whole  # go's time and peak against <= 0.25 s, <= 60 MB
    assert "not measured" in next(x for x in targets if x.startswith("100 compiled + validated"))
    names = ["operations", "system-overview", "worker-status"]
    # Each dashboard as built (reading the recording rules, backfilled) and raw.
    assert sorted(c.name for c in costs) == sorted([*names, *(f"{n} (raw)" for n in names)])
    series = telemetry.count_series(telemetry.telemetry_for("tiny"))
    for cost in costs:
        assert cost.series == series
        assert cost.queries > 0 and cost.selected > 0 and cost.samples > 0
        assert len(cost.refresh_seconds) == 1
        assert 1 <= len(cost.top_panels()) <= 3
        assert cost.server_mb > 0
    assert json.loads(bench.as_json(figures, costs))["queries"]


def test_the_import_bench_compares_each_dashboard_with_itself_in_every_form(
    repo_root: Path, tmp_path: Path
) -> None:
    from ktrdr_dashboards.build import Project
    from ktrdr_dashboards.roundtrip import documents, exports, semdiff

    project = Project(root=repo_root)
    bindings = exports.project_bindings(project.library(), project.provisioning_dir)
    forms = import_cost._exports(repo_root, bindings)
    assert {"operations", "system-overview", "worker-status", "v2-tabs fixture"} <= set(forms)
    for dashboard, texts in forms.items():
        read = {}
        for form, text in texts.items():
            path = tmp_path / f"{dashboard}-{form.replace(' ', '-')}"
            path.write_text(text, encoding="utf-8")
            read[form] = exports.read(documents.read(path), str(path), bindings)
        classic = read.pop("classic JSON")
        assert read, dashboard
        for form, other in read.items():
            # The same panels; only the tabs of the v2 export are more than its classic rows.
            lines = semdiff.diff(classic.model, other.model, None, other.layout)
            tabs = [] if other.layout is None else ["dashboard.layout: (classic rows) → tabs"]
            assert [line.partition(' "')[0] for line in lines] == tabs, (dashboard, form)


def test_an_import_over_its_target_is_printed_as_missed() -> None:
    costs = [
        import_cost.ImportCost("fast", {"classic JSON": 0.2, "V2 JSON": 0.25}),
        import_cost.ImportCost("slow", {"classic JSON": 0.2, "V2 YAML": 0.35}),
    ]
    lines = import_cost.lines(costs)
    assert lines[0] == "import: V2 export vs classic JSON (target: at most +0.1 s)"
    assert lines[1].endswith("V2 JSON 0.25 s (+0.05)  met")
    assert lines[2].endswith("V2 YAML 0.35 s (+0.15)  MISSED")


def test_the_convert_bench_converts_the_real_dashboards_and_names_its_verdict(
    repo_root: Path,
) -> None:
    from ktrdr_dashboards.bench import convert_cost

    cost = convert_cost.measure(repo_root, runs=1)
    assert cost.dashboards == 1000 and len(cost.seconds) == 1 and cost.best > 0
    slow = convert_cost.ConvertCost(1000, (1.5, 1.2))
    assert convert_cost.lines(slow)[0].endswith("1.20 s (target ≤ 1 s)  MISSED")
    fast = convert_cost.ConvertCost(1000, (0.3,))
    assert convert_cost.lines(fast)[0].endswith("0.30 s (target ≤ 1 s)  met")
