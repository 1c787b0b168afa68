"""The bench's printed table: figures (median of the runs, min-max) next to the targets of
issue #7. Never asserts: a missed target is printed as missed."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from ktrdr_dashboards.bench.build_bench import BuildFigure
from ktrdr_dashboards.bench.queries import DashboardCost

# Upstream Grafonnet v11.4.0 on the C++ binding, per 8-panel dashboard, as the reference
# states it (shared/reference/grafonnet-api.md); upstream cannot be fetched here to measure.
UPSTREAM_SECONDS = 1.5
UPSTREAM_MB = 500.0
TARGETS = {
    "compile3_s": 0.1,
    "compile3_mb": 60.0,
    "validate3_s": 0.3,
    "validate100_s": 2.0,
    # Prometheus time of one refresh of any dashboard as built by default, by telemetry size.
    "refresh_ms": {"10k": 50.0, "100k": 100.0},
    "faster": 15.0,
    "leaner": 8.0,
}
GROWTH_SLACK = 1.25


def spread(values: Sequence[float], scale: float = 1.0, digits: int = 3) -> str:
    """`median (min-max)` of values times scale."""
    v = [x * scale for x in values]
    return f"{statistics.median(v):.{digits}f} ({min(v):.{digits}f}-{max(v):.{digits}f})"


def verdict(value: float, limit: float, higher_is_better: bool = False) -> str:
    met = value >= limit if higher_is_better else value <= limit
    return "met" if met else "MISSED"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    return [line(header), line(["-" * w for w in widths]), *[line(r) for r in rows]]


def build_lines(figures: Sequence[BuildFigure]) -> list[str]:
    rows = []
    for f in figures:
        per = [r.seconds / f.dashboards for r in f.runs] if f.dashboards else []
        rows.append([
            f.label,
            spread([r.seconds for r in f.runs]),
            spread([r.cpu_seconds for r in f.runs]),
            spread([r.peak_mb for r in f.runs], digits=1),
            spread(per, 1000, 1) if per else "-",
        ])  # fmt: skip
    lines = ["BUILD (each run a fresh process; median (min-max) of the runs)"]
    lines += _table(["measurement", "wall s", "cpu s", "peak MB", "wall ms/dashboard"], rows)
    lines += ["", *build_targets(figures)]
    return lines


def _median(figure: BuildFigure, attribute: str) -> float:
    return statistics.median(getattr(r, attribute) for r in figure.runs)


def build_targets(figures: Sequence[BuildFigure]) -> list[str]:
    by = {(f.dashboards, f.stage): f for f in figures if f.stage != "baseline"}
    real = min(n for n, _ in by)
    many = max(n for n, _ in by)
    compile3, validate3 = by[(real, "compile")], by[(real, "validate")]
    validate_many = by[(many, "validate")]
    t3, mb3 = _median(compile3, "seconds"), _median(compile3, "peak_mb")
    faster = UPSTREAM_SECONDS / (t3 / real)
    leaner = UPSTREAM_MB / mb3
    v3, vmany = _median(validate3, "seconds"), _median(validate_many, "seconds")
    compile_many = by[(many, "compile")]
    growth = _median(compile_many, "seconds") / t3
    marginal = (_median(compile_many, "seconds") - t3) / (many - real)
    rows = [
        [f"{real} compiled: wall", f"{t3:.3f} s", f"<= {TARGETS['compile3_s']} s",
         verdict(t3, TARGETS["compile3_s"])],
        [f"{real} compiled: peak memory", f"{mb3:.1f} MB", f"<= {TARGETS['compile3_mb']:.0f} MB",
         verdict(mb3, TARGETS["compile3_mb"])],
        ["vs upstream (reference figure, not measured)", f"{faster:.1f}x faster",
         f">= {TARGETS['faster']:.0f}x", verdict(faster, TARGETS["faster"], True)],
        ["", f"{leaner:.1f}x leaner", f">= {TARGETS['leaner']:.0f}x",
         verdict(leaner, TARGETS["leaner"], True)],
        [f"{real} compiled + validated", f"{v3:.3f} s", f"<= {TARGETS['validate3_s']} s",
         verdict(v3, TARGETS["validate3_s"])],
        [f"{many} compiled + validated", f"{vmany:.3f} s", f"<= {TARGETS['validate100_s']} s",
         verdict(vmany, TARGETS["validate100_s"])],
        [f"growth {real} -> {many} dashboards (compile)",
         f"{growth:.1f}x time for {many / real:.1f}x dashboards", "", ""],
        ["marginal compile cost per dashboard", f"{marginal * 1000:.1f} ms", "", ""],
    ]  # fmt: skip
    note = (
        f"upstream baseline: {UPSTREAM_SECONDS} s and {UPSTREAM_MB:.0f} MB per 8-panel dashboard "
        "(grafonnet-api.md); ratios = upstream per dashboard / ours per dashboard (time) "
        "and upstream peak / our peak for all of them (memory)"
    )
    return ["BUILD TARGETS", *_table(["target", "measured", "target", ""], rows), note]


def query_lines(costs: Sequence[DashboardCost]) -> list[str]:
    lines = ["QUERIES (Prometheus time = sum of execTotalTime over one full refresh; "
             "median (min-max) of the refreshes)"]  # fmt: skip
    rows = []
    for c in costs:
        top = "; ".join(f"{p} {s * 1000:.1f} ms/{n:,}" for p, s, n in c.top_panels())
        rows.append([
            c.size, f"{c.series:,}", c.name, f"{c.selected:,}", str(c.queries),
            spread(c.refresh_seconds, 1000, 1), f"{c.samples:,}", f"{c.peak:,}", top,
        ])  # fmt: skip
    header = ["size", "series", "dashboard", "selected", "queries", "refresh ms",
              "samples", "peak", "top 3 panels (ms/samples)"]  # fmt: skip
    lines += _table(header, rows)
    return [*lines, "", *query_targets(costs)]


def query_targets(costs: Sequence[DashboardCost]) -> list[str]:
    lines = ["QUERY TARGETS"]
    rows = []
    for c in costs:
        target = TARGETS["refresh_ms"].get(c.size)
        ms = statistics.median(c.refresh_seconds) * 1000
        if target is not None and "(" not in c.name:  # the default build's dashboards
            rows.append([f"{c.name} refresh at {c.size}", f"{ms:.1f} ms", f"<= {target:.0f} ms",
                         verdict(ms, target)])  # fmt: skip
        elif target is not None:  # the other mode of the switch: for comparison
            rows.append([f"{c.name} refresh at {c.size}", f"{ms:.1f} ms", "(no target)", ""])
    names = sorted({c.name for c in costs})
    sizes = list(dict.fromkeys(c.size for c in costs))
    for name in names:
        mine = [c for c in costs if c.name == name]
        if len(mine) < 2 or not mine[0].selected or not mine[0].samples:
            continue
        first, last = mine[0], mine[-1]
        samples_growth = last.samples / first.samples
        selected_growth = last.selected / first.selected
        # Cost grows with what the panels select when samples per selected series stay put;
        # 25 % slack for the instance regex and the few series every size has.
        per_series = samples_growth / selected_growth
        rows.append([
            f"{name} cost growth {sizes[0]} -> {sizes[-1]}",
            f"samples x{samples_growth:.1f}, selected series x{selected_growth:.1f}",
            "samples/selected <= x1.25", verdict(per_series, GROWTH_SLACK),
        ])  # fmt: skip
    return lines + _table(["target", "measured", "target", ""], rows)
