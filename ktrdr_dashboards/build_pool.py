"""`build` and `validate` at scale: workers compile the dashboards chunk by chunk and judge
each dashboard where they compiled it (its JSON, its Kubernetes resources, every check of one
dashboard or one resource), handing back its files and findings, never its model; the parent
then runs the checks of the whole project (uids and titles, links between dashboards, the
rule files and their alerts' panel links, one promtool run) on what the workers gathered.
The same functions run in one process for a few dashboards, with the same files and
findings in the same order (tests/integration/test_build_pool.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ktrdr_dashboards import jsonnet, validate
from ktrdr_dashboards.alerting import rules
from ktrdr_dashboards.compile import dashboards as jsonnet_compile
from ktrdr_dashboards.compile import kubernetes, provisioning
from ktrdr_dashboards.compile import output as compile_output
from ktrdr_dashboards.errors import DashboardError, Location, shown, shown_all
from ktrdr_dashboards.project import Project
from ktrdr_dashboards.validate import core, gate
from ktrdr_dashboards.validate.core import Context, DashboardSource, Inputs


@dataclass(frozen=True)
class Job:
    """What every chunk of one build shares; handed to each worker once. What the config
    says (lib/ktrdr/config.libsonnet) each chunk reads in the evaluation of its dashboards."""

    library: jsonnet.LibraryPath
    engine: str
    root: Path
    provisioned_uids: frozenset[str]  # what provisioning/datasources provides
    official_schema: dict | None = None  # --grafana-schema


@dataclass(frozen=True)
class ChunkSettings:
    """What a chunk's dashboards are made and judged with: the config's settings."""

    context: Context
    kubernetes: kubernetes.Settings


@dataclass(frozen=True)
class Made:
    """One dashboard as a worker hands it back: its files and what the gate found and
    gathered on it and on its Kubernetes resources."""

    name: str
    uid: object  # the model's uid, whatever it is
    source: Path
    panels: int  # top-level panels, as `build` reports them
    panel_index: dict[str, dict[str, list[int]]]  # alerting.rules.panel_index of the model
    files: dict[str, bytes]  # path under build/ -> content
    verdict: gate.Verdict
    resources: dict[str, gate.Verdict]  # shown path (build/kubernetes/...) -> verdict


@dataclass
class Result:
    """Everything `build` writes (files: path under build/ -> bytes) and every finding."""

    dashboards: list[Made]
    files: dict[str, bytes]
    findings: list[validate.Finding]
    config: dict = field(default_factory=dict)


def make(dashboard: jsonnet_compile.CompiledDashboard, settings: ChunkSettings, file: str) -> Made:
    """One compiled dashboard made and judged; `file`: its source as findings show it."""
    files, resources = compile_output.dashboard_outputs(dashboard, settings.kubernetes, file)
    source = DashboardSource(file, dashboard.model)
    built = gate.built_models([source])
    for version, spec in kubernetes.v2_specs(resources.values()):
        # The spec is this model converted, here: the resource checks need not convert again.
        for item in built.values():
            item.converted(dashboard.v2_layout, version, spec)
    return Made(
        name=dashboard.name,
        uid=dashboard.model.get("uid"),
        source=dashboard.source,
        panels=len(dashboard.model.get("panels", [])),
        panel_index=rules.panel_index([dashboard.model]),
        files={path: text.encode("utf-8") for path, text in files.items()},
        verdict=gate.judge_dashboard(source, settings.context),
        resources={
            f"build/{path}": gate.judge_resource(f"build/{path}", resource, built)
            for path, resource in resources.items()
        },
    )


def make_chunk(sources: Sequence[Path], job: Job) -> list[Made]:
    """A chunk compiled in one evaluation, then made and judged dashboard by dashboard: only
    this chunk's models are alive, and none leaves the worker."""
    compiled, config = jsonnet_compile.compile_beside(
        sources, compile_output.CONFIG, job.library, job.engine
    )
    assert isinstance(config, dict)
    settings = ChunkSettings(
        Context(gate.settings_from_config(config), job.provisioned_uids, job.official_schema),
        kubernetes.settings_from_config(config),
    )
    files = shown_all([d.source for d in compiled], job.root)
    compiled.reverse()
    made = []
    for file in files:  # each model dropped once made
        made.append(make(compiled.pop(), settings, file))
    return made


_JOB: Job | None = None


def _start_worker(job: Job) -> None:
    global _JOB
    _JOB = job


def _make_in_worker(sources: Sequence[Path]) -> list[Made]:
    assert _JOB is not None, "started by _start_worker"
    return make_chunk(sources, _JOB)


Stage = Callable[[Mapping[str, bytes]], None]


def _pooled(runs: list[list[Path]], job: Job, workers: int, stage: Stage | None) -> list[Made]:
    """Each run's dashboards, in order, made by `workers` spawned processes (a fork would copy
    go-jsonnet's runtime without its threads and hang) that hand each run back as it is done,
    its files then given to `stage`. The first failure in the order of the runs is raised,
    as one process would meet it."""
    # A pool's machinery is loaded only by a build that has one.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("spawn")
    results: list[list[Made] | None] = [None] * len(runs)
    failed: int | None = None
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_start_worker, initargs=(job,)
    )
    try:
        futures = {pool.submit(_make_in_worker, run): index for index, run in enumerate(runs)}
        for future in as_completed(futures):
            index = futures[future]
            if future.cancelled():
                continue
            if future.exception() is not None:
                failed = index if failed is None else min(failed, index)
                for other, later in futures.items():
                    if later > failed:
                        other.cancel()
                continue
            results[index] = future.result()
            if stage is not None and failed is None:
                stage({path: data for made in future.result() for path, data in made.files.items()})
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    if failed is not None:
        raise next(f for f, i in futures.items() if i == failed).exception()  # type: ignore[misc]
    return [made for run in results for made in run or ()]


def make_all(
    sources: Sequence[Path], job: Job, workers: int | None = None, stage: Stage | None = None
) -> list[Made]:
    """Every source made and judged, in order; the files of each run given to `stage` as
    soon as it is made."""
    workers = workers or os.cpu_count() or 1
    if len(sources) < jsonnet_compile.PARALLEL_FROM or workers == 1:
        made = make_chunk(sources, job) if sources else []
        if stage is not None:
            stage({path: data for item in made for path, data in item.files.items()})
        return made
    runs = jsonnet_compile.chunks(sources, workers)
    return _pooled(runs, job, min(workers, len(runs)), stage)


def _unique_uids(made: Sequence[Made], root: Path) -> None:
    """compile.output.check_unique_uids on what the workers handed back."""
    seen: dict[str, Path] = {}
    for item in made:
        if not isinstance(item.uid, str):
            continue
        if item.uid in seen:
            raise DashboardError(
                f"uid {item.uid} is also the uid of {shown(seen[item.uid], root)}",
                location=Location(file=shown(item.source, root), dashboard=item.uid),
                fix="give each dashboard its own uid",
            )
        seen[item.uid] = item.source


def _panel_index(made: Sequence[Made]) -> dict[str, dict[str, list[int]]]:
    index: dict[str, dict[str, list[int]]] = {}
    for item in made:
        for uid, titles in item.panel_index.items():
            target = index.setdefault(uid, {})
            for title, ids in titles.items():
                target.setdefault(title, []).extend(ids)
    return index


def run(
    project: Project,
    *,
    grafana_schema: Path | None = None,
    exclusions_file: Path | None = None,
    workers: int | None = None,
    stage: Stage | None = None,
) -> Result:
    """Compile, make and judge every dashboard, then the project: the files `build` writes and
    every finding the gate reports; each dashboard's files are given to `stage` as soon as
    they are made (atomic.Staging.add writes them aside while the rest is compiled). Raises
    DashboardError on the first problem that stops a build (a source that does not compile,
    a shared uid, a config Kubernetes would refuse)."""
    sources = jsonnet_compile.find_sources(project.jsonnet_dir)
    prov = provisioning.load(project.provisioning_dir)
    names = gate.provisioning_names(prov, project.root)
    readme = gate.read_readme(project.root / "README.md", project.root)
    official = gate.read_schema(grafana_schema) if grafana_schema is not None else None
    job = Job(
        library=project.library(),
        engine=jsonnet.selected(),
        root=project.root,
        provisioned_uids=core.provisioned_uids(prov),
        official_schema=official,
    )
    made = make_all(sources, job, workers, stage)
    _unique_uids(made, project.root)
    shared = compile_output.shared_parts(project, _panel_index(made))
    rule_files = rules.build_files(shared["ruleFiles"])
    dashboard_resources = [path.removeprefix("build/") for m in made for path in m.resources]
    shared_files, shared_resources = compile_output.shared_outputs(
        kubernetes.settings_from_config(shared["config"]),
        provisioning.datasources(prov),
        rule_files,
        dashboard_resources,
    )
    files = {path: data for m in made for path, data in m.files.items()}
    texts = {f"provisioning/{p.kind}/{p.path.name}": p.text for p in prov}
    texts.update(rule_files)
    texts.update(shared_files)
    files.update((path, text.encode("utf-8")) for path, text in texts.items())
    verdicts = {path: v for m in made for path, v in m.resources.items()}
    verdicts.update(
        (f"build/{path}", gate.judge_resource(f"build/{path}", resource, {}))
        for path, resource in shared_resources.items()
    )
    inputs = Inputs(
        dashboards=[],
        provisioning=prov,
        settings=gate.settings_from_config(shared["config"]),
        catalog=gate.project_catalog(rule_files),
        provisioning_names=names,
        official_schema=official,
        readme=readme,
        rule_files=rule_files,
    )
    findings = gate.conclude(inputs, [m.verdict for m in made], verdicts)
    findings = gate.excused(
        findings, exclusions_file or project.root / gate.EXCLUSIONS_NAME, project.root
    )
    return Result(made, dict(sorted(files.items())), findings, shared["config"])
