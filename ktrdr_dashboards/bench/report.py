"""The bench's printed tables: figures (median of the runs, min-max) per Jsonnet engine next
to their ratio to the C++ engine and the build targets, and the query costs next to theirs.
Never asserts: a missed target is printed as MISSED."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from ktrdr_dashboards.bench.build_bench import BuildFigure
from ktrdr_dashboards.bench.query_cost import DashboardCost

# Upstream Grafonnet v11.4.0 on the C++ binding, per 8-panel dashboard, as the reference
# states it (shared/reference/grafonnet-api.md); upstream cannot be fetched here to measure.
UPSTREAM_SECONDS = 1.5
UPSTREAM_MB = 500.0
TARGETS = {
    # Prometheus time of one refresh of any dashboard as built by default, by telemetry size.
    "refresh_ms": {"10k": 50.0, "100k": 100.0},
    "faster": 15.0,
    "leaner": 8.0,
}
GROWTH_SLACK = 1.25
REFERENCE_ENGINE = "cpp"  # every engine's ratio is to this one


@dataclass(frozen=True)
class BuildTarget:
    figure: str
    stage: str  # compile, validate, build; "" for a figure the bench does not take
    dashboards: int  # 0: the real dashboards, however many there are
    today: str  # the C++ engine's figure when the targets were set
    seconds: dict[str, float]  # engine -> at most this many seconds
    peak_mb: dict[str, float]  # engine -> at most this peak
    linear: tuple[str, ...] = ()  # engines whose time per dashboard must not grow with size


BUILD_TARGETS = (
    BuildTarget("real dashboards compiled", "compile", 0, "0.216 s", {"go": 0.05, "rs": 0.02}, {}),
    BuildTarget("`python -m ktrdr_dashboards build`, whole process", "build", 0, "~0.5 s, 67 MB",
                {"go": 0.25, "rs": 0.2}, {"go": 60.0}),
    BuildTarget("`nox -s build`, warm (not taken by the bench: `time nox -s build`)", "", 0,
                "~4 s", {"go": 1.2}, {}),
    BuildTarget("100 compiled + validated", "validate", 100, "6.28 s", {"go": 1.5, "rs": 1.0}, {}),
    BuildTarget("1000 compiled + validated", "validate", 1000, "not measured",
                {"go": 15.0, "rs": 10.0}, {}, linear=("go",)),
)  # fmt: skip
TARGET_ENGINES = ("go", "rs")


def spread(values: Sequence[float], scale: float = 1.0, digits: int = 3) -> str:
    """`median (min-max)` of values times scale."""
    v = [x * scale for x in values]
    if len(v) == 1:
        return f"{v[0]:.{digits}f}"
    return f"{statistics.median(v):.{digits}f} ({min(v):.{digits}f}-{max(v):.{digits}f})"


def verdict(value: float, limit: float, higher_is_better: bool = False) -> str:
    met = value >= limit if higher_is_better else value <= limit
    return "met" if met else "MISSED"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows, strict=True)]
    line = lambda cells: "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True))  # noqa: E731
    return [line(header), line(["-" * w for w in widths]), *[line(r) for r in rows]]


def _median(figure: BuildFigure, attribute: str) -> float:
    return statistics.median(getattr(r, attribute) for r in figure.runs)


def _ratios(figure: BuildFigure, reference: BuildFigure | None) -> tuple[str, str]:
    """The figure's median time and peak over the reference engine's on the same work."""
    if reference is None or not figure.engine:
        return "-", "-"
    time_ratio = _median(figure, "seconds") / _median(reference, "seconds")
    peak_ratio = _median(figure, "peak_mb") / _median(reference, "peak_mb")
    faster = f" ({1 / time_ratio:.1f}x faster)" if figure.engine != reference.engine else ""
    return f"{time_ratio:.2f}{faster}", f"{peak_ratio:.2f}"


def _tools(figure: BuildFigure) -> str:
    """Each program the tree ran that is counted apart, with its median peak over the runs."""
    names = sorted({name for r in figure.runs for name in r.tools_mb})
    return (
        ", ".join(
            f"{name} {statistics.median(r.tools_mb.get(name, 0.0) for r in figure.runs):.1f}"
            for name in names
        )
        or "-"
    )


def build_lines(figures: Sequence[BuildFigure], missing: dict[str, str] | None = None) -> list[str]:
    by = {(f.label, f.engine): f for f in figures}
    rows = []
    for f in figures:
        reference = by.get((f.label, REFERENCE_ENGINE))
        per = [r.seconds / f.dashboards for r in f.runs] if f.dashboards else []
        rows.append([
            f.label, f.engine or "-", str(len(f.runs)),
            spread([r.seconds for r in f.runs]),
            spread([r.cpu_seconds for r in f.runs]),
            spread([r.peak_mb for r in f.runs], digits=1),
            spread([r.main_mb for r in f.runs], digits=1),
            str(max(r.processes for r in f.runs)),
            *_ratios(f, reference),
            spread(per, 1000, 1) if per else "-",
            _tools(f),
        ])  # fmt: skip
    lines = [
        "BUILD BY JSONNET ENGINE (each run a fresh process; median (min-max) of the runs; "
        f"x {REFERENCE_ENGINE} = engine / {REFERENCE_ENGINE} on the same work)",
        "memory: peak MB = the process tree at its worst moment (the process and its pool "
        "workers, sampled from /proc), main MB = the process alone, procs = processes in the "
        "tree, tools MB = promtool and prometheus, counted apart",
    ]
    ratios = [f"time x {REFERENCE_ENGINE}", f"peak x {REFERENCE_ENGINE}"]
    header = ["figure", "engine", "runs", "wall s", "cpu s", "peak MB", "main MB", "procs",
              *ratios, "ms/dashboard", "tools MB"]  # fmt: skip
    lines += _table(header, rows)
    lines += [f"not measured: {message}" for message in (missing or {}).values()]
    return [*lines, "", *build_targets(figures)]


def _measured(target: BuildTarget, engine: str, by: dict, real: int) -> BuildFigure | None:
    return by.get((target.stage, target.dashboards or real, engine))


def _target_cells(target: BuildTarget, engine: str, by: dict, real: int) -> tuple[str, str, str]:
    seconds, peak = target.seconds.get(engine), target.peak_mb.get(engine)
    if seconds is None and peak is None:
        return "", "", ""
    parts = [f"<= {seconds:g} s"] if seconds is not None else []
    parts += [f"<= {peak:g} MB"] if peak is not None else []
    linear = engine in target.linear
    limits = ", ".join(parts + ["linear"] * linear)
    figure = _measured(target, engine, by, real)
    if figure is None:
        return "not measured", limits, ""
    wall, mb = _median(figure, "seconds"), _median(figure, "peak_mb")
    verdicts = []
    if seconds is not None:
        verdicts.append(wall <= seconds)
    if peak is not None:
        verdicts.append(mb <= peak)
    measured = f"{wall:.3f} s" + (f", {mb:.0f} MB" if peak is not None else "")
    if linear:
        smaller = [n for (stage, n, e) in by if stage == target.stage and e == engine
                   and n < figure.dashboards]  # fmt: skip
        if smaller:
            base = by[(target.stage, max(smaller), engine)]
            growth = (wall / figure.dashboards) / (_median(base, "seconds") / base.dashboards)
            measured += f", x{growth:.2f} per dashboard vs {base.dashboards}"
            verdicts.append(growth <= GROWTH_SLACK)
        else:
            measured += ", linearity not checked"
    return measured, limits, "met" if all(verdicts) else "MISSED"


def build_targets(figures: Sequence[BuildFigure]) -> list[str]:
    by = {(f.stage, f.dashboards, f.engine): f for f in figures if f.engine}
    real = min((n for _, n, _ in by), default=0)
    rows = []
    for target in BUILD_TARGETS:
        label = target.figure.replace("real dashboards", f"{real} dashboards")
        cells = [label, target.today]
        for engine in TARGET_ENGINES:
            cells += _target_cells(target, engine, by, real)
        rows.append(cells)
    header = ["target", "today (C++)"]
    for engine in TARGET_ENGINES:
        header += [f"{engine} measured", f"{engine} target", ""]
    lines = [
        "BUILD TARGETS (median of the runs; linear: time per dashboard at most "
        f"x{GROWTH_SLACK} that of the next smaller size)",
        *_table(header, rows),
    ]
    return [*lines, *_upstream_note(by, real)]


def _upstream_note(by: dict, real: int) -> list[str]:
    """The default engine against the reference's figure for upstream Grafonnet."""
    from ktrdr_dashboards.jsonnet import DEFAULT_ENGINE

    compiled = by.get(("compile", real, DEFAULT_ENGINE))
    if compiled is None or not real:
        return []
    faster = UPSTREAM_SECONDS / (_median(compiled, "seconds") / real)
    leaner = UPSTREAM_MB / _median(compiled, "peak_mb")
    faster_limit, leaner_limit = TARGETS["faster"], TARGETS["leaner"]
    return [
        f"vs upstream Grafonnet ({UPSTREAM_SECONDS} s, {UPSTREAM_MB:.0f} MB per 8-panel "
        f"dashboard on the C++ binding, grafonnet-api.md; not measured), {DEFAULT_ENGINE}: "
        f"{faster:.0f}x faster (>= {faster_limit:.0f}x: {verdict(faster, faster_limit, True)}), "
        f"{leaner:.1f}x leaner (>= {leaner_limit:.0f}x: {verdict(leaner, leaner_limit, True)})"
    ]


def query_lines(costs: Sequence[DashboardCost]) -> list[str]:
    lines = ["QUERIES (Prometheus time = sum of execTotalTime over one full refresh; "
             "median (min-max) of the refreshes; prom MB = the server's peak resident memory "
             "once the dashboard was measured)"]  # fmt: skip
    rows = []
    for c in costs:
        top = "; ".join(f"{p} {s * 1000:.1f} ms/{n:,}" for p, s, n in c.top_panels())
        rows.append([
            c.size, f"{c.series:,}", c.name, f"{c.selected:,}", str(c.queries),
            spread(c.refresh_seconds, 1000, 1), f"{c.samples:,}", f"{c.peak:,}",
            f"{c.server_mb:.0f}", top,
        ])  # fmt: skip
    header = ["size", "series", "dashboard", "selected", "queries", "refresh ms",
              "samples", "peak", "prom MB", "top 3 panels (ms/samples)"]  # fmt: skip
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
