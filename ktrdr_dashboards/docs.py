"""`docs`: docs/dashboards.md generated from the built dashboards and the metadata kept beside
their sources (`jsonnet/<name>.meta.yaml`: purpose, use cases; `jsonnet/workflows.yaml`: the
diagnostic workflows). Panels, units, thresholds, queries, variables and links come from the
dashboards themselves, so the document cannot list a panel that does not exist."""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from ktrdr_dashboards import build
from ktrdr_dashboards import model as dashboard_model
from ktrdr_dashboards.errors import DashboardError, Location

GRAFANA_URL = "http://localhost:3000"  # KTRDR's local Grafana (docker compose)
DOCS_PATH = Path("docs/dashboards.md")
WORKFLOWS_FILE = "workflows.yaml"


def _load_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise DashboardError(
            "missing documentation metadata",
            location=Location(file=str(path)),
            fix="add it with `purpose:` and `use_cases:` (see the other *.meta.yaml files)",
        )
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise DashboardError("expected a mapping", location=Location(file=str(path)))
    return data


def anchor(dashboard: str, panel_title: str) -> str:
    """The id of a panel's row in the document, e.g. `system-overview-p95-latency`."""
    slug = re.sub(r"[^a-z0-9]+", "-", panel_title.lower()).strip("-")
    return f"{dashboard}-{slug}"


def _cell(text: object) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    text = " ".join(text.split())
    fence = "``" if "`" in text else "`"
    return _cell(f"{fence}{text}{fence}")


def _thresholds(defaults: Mapping[str, Any]) -> str:
    steps = (defaults.get("thresholds") or {}).get("steps") or []
    if len(steps) < 2:
        return ""
    suffix = "%" if (defaults.get("thresholds") or {}).get("mode") == "percentage" else ""
    parts = [str(steps[0]["color"])]
    parts += [f"{s['color']} ≥ {s['value']:g}{suffix}" for s in steps[1:]]
    return ", ".join(parts)


def _unit(panel: Mapping[str, Any]) -> str:
    defaults = (panel.get("fieldConfig") or {}).get("defaults") or {}
    columns = []
    for override in (panel.get("fieldConfig") or {}).get("overrides") or []:
        for prop in override.get("properties") or []:
            if prop.get("id") == "unit":
                columns.append(f"{override['matcher']['options']}: {prop['value']}")
    unit = defaults.get("unit")
    return ", ".join(([unit] if unit and not columns else []) + columns)


def _panel_table(name: str, model: Mapping[str, Any]) -> list[str]:
    lines = [
        "| section | panel | type | unit | thresholds | shows | query |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for section, panel in dashboard_model.sections(model):
        defaults = (panel.get("fieldConfig") or {}).get("defaults") or {}
        title = str(panel.get("title", ""))
        queries = "<br>".join(
            _code(t["expr"])
            for t in panel.get("targets") or []
            if t.get("expr") and not t.get("hide")
        )
        lines.append(
            f'| {_cell(section)} | <a id="{anchor(name, title)}"></a>**{_cell(title)}** '
            f"| {_cell(panel.get('type', ''))} | {_cell(_unit(panel))} "
            f"| {_cell(_thresholds(defaults))} | {_cell(panel.get('description', ''))} "
            f"| {queries} |"
        )
    return lines


def _variables(model: Mapping[str, Any]) -> list[str]:
    lines = [
        "| variable | label | type | query | multi / All | default |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for item in (model.get("templating") or {}).get("list") or []:
        query = item.get("query")
        query = query.get("query") if isinstance(query, dict) else query
        flags = " / ".join(
            f for f, on in (("multi", item.get("multi")), ("All", item.get("includeAll"))) if on
        )
        current = (item.get("current") or {}).get("text", "")
        current = ", ".join(current) if isinstance(current, list) else current
        lines.append(
            f"| `${_cell(item.get('name'))}` | {_cell(item.get('label', ''))} "
            f"| {_cell(item.get('type'))} | {_code(str(query)) if query else ''} | {flags} "
            f"| {_cell(current)} |"
        )
    return lines


def _links(model: Mapping[str, Any]) -> list[str]:
    lines = []
    for link in model.get("links") or []:
        if link.get("type") == "dashboards":
            tags = ", ".join(f"`{t}`" for t in link.get("tags") or [])
            lines.append(
                f"- **{link.get('title')}**: every dashboard tagged {tags}"
                + (" (keeps time range and variables)" if link.get("keepTime") else "")
            )
        else:
            lines.append(f"- **{link.get('title')}**: {link.get('tooltip') or link.get('url')}")
    for _, panel in dashboard_model.sections(model):
        for link in ((panel.get("fieldConfig") or {}).get("defaults") or {}).get("links") or []:
            lines.append(f"- data link on *{panel.get('title')}*: {link.get('title')}")
    return lines or ["(none)"]


def _dashboard_section(name: str, model: Mapping[str, Any], meta: Mapping[str, Any]) -> list[str]:
    time = model.get("time") or {}
    lines = [
        f"## {model.get('title')}",
        "",
        f"**URL**: {GRAFANA_URL}/d/{model.get('uid')} — source `jsonnet/{name}.jsonnet`, "
        f"built to `build/dashboards/{name}.json`; preview `build/preview/{name}.html`.",
        "",
        f"**Purpose**: {' '.join(str(meta.get('purpose', '')).split())}",
        "",
        f"Time range {time.get('from')} to {time.get('to')}, refresh {model.get('refresh')}, "
        f"tags {', '.join(f'`{t}`' for t in model.get('tags') or [])}.",
        "",
        "**Use cases**:",
        "",
        *[f"- {case}" for case in meta.get("use_cases") or []],
        "",
        "### Panels",
        "",
        *_panel_table(name, model),
        "",
        "### Variables",
        "",
        *_variables(model),
        "",
        "### Links",
        "",
        *_links(model),
        "",
    ]
    return lines


def _workflow_steps(
    workflow: Mapping[str, Any], models: Mapping[str, Mapping[str, Any]], source: Path
) -> list[str]:
    start = str(workflow.get("start"))
    if start not in models:
        raise DashboardError(
            f"workflow {workflow.get('title')!r}: no dashboard {start!r}",
            location=Location(file=str(source)),
        )
    lines = [f"**Start**: [{models[start].get('title')}](#{_heading_id(models[start])})."]
    for step in workflow.get("steps") or []:
        name = str(step.get("dashboard", start))
        model = models.get(name)
        where = f"workflow {workflow.get('title')!r}, step {step.get('action')!r}"
        if model is None:
            raise DashboardError(
                f"{where}: no dashboard {name!r}", location=Location(file=str(source))
            )
        titles = {str(p.get("title")) for _, p in dashboard_model.sections(model)}
        link_titles = {str(link.get("title")) for link in model.get("links") or []}
        parts = []
        if name != start:
            parts.append(f"{model.get('title')} →")
        for title in step.get("links") or []:
            if title not in link_titles:
                raise DashboardError(
                    f"{where}: dashboard {name!r} has no link {title!r}",
                    location=Location(file=str(source)),
                )
            parts.append(f"the *{title}* link")
        panels = []
        for title in step.get("panels") or []:
            if title not in titles:
                raise DashboardError(
                    f"{where}: dashboard {name!r} has no panel {title!r}",
                    location=Location(file=str(source)),
                    fix=f"use one of: {', '.join(sorted(titles))}",
                )
            panels.append(f"[*{title}*](#{anchor(name, title)})")
        if panels:
            parts.append(("or " if step.get("links") else "") + " and ".join(panels))
        if step.get("note"):
            parts.append(str(step["note"]))
        text = " ".join(parts).rstrip(",")
        lines.append(
            f"**{step.get('action')}**: {text}" + ("" if text.endswith((".", "?")) else ".")
        )
    return [f"{number}. {line}" for number, line in enumerate(lines, 1)]


def _heading_id(model: Mapping[str, Any]) -> str:
    # GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens.
    return re.sub(r"[^a-z0-9 -]", "", str(model.get("title", "")).lower()).replace(" ", "-")


def generate(project: build.Project) -> str:
    """The text of docs/dashboards.md for the project's sources."""
    built = {d.name: d.model for d in build.evaluate(project).dashboards}
    metas = {name: _load_yaml(project.jsonnet_dir / f"{name}.meta.yaml") for name in built}
    # In the order the metadata gives (as the team reads them), then by name.
    models = {n: built[n] for n in sorted(built, key=lambda n: (metas[n].get("order", 99), n))}
    workflows_path = project.jsonnet_dir / WORKFLOWS_FILE
    workflows = _load_yaml(workflows_path).get("workflows") or []
    lines = [
        "# KTRDR dashboards",
        "",
        "<!-- Generated by `nox -s docs` from jsonnet/*.jsonnet, jsonnet/*.meta.yaml and",
        "     jsonnet/workflows.yaml. Do not edit: change those and regenerate. -->",
        "",
        "| dashboard | uid | panels | purpose |",
        "| --- | --- | --- | --- |",
    ]
    for name, model in models.items():
        count = sum(1 for _ in dashboard_model.sections(model))
        purpose = " ".join(str(metas[name].get("purpose", "")).split())
        lines.append(
            f"| [{_cell(model.get('title'))}](#{_heading_id(model)}) | `{model.get('uid')}` "
            f"| {count} | {_cell(purpose)} |"
        )
    lines.append("")
    for name, model in models.items():
        lines += _dashboard_section(name, model, metas[name])
    lines += ["## Diagnostic workflows", "", "Every step links to the panel it uses.", ""]
    for workflow in workflows:
        lines += [
            f'### "{workflow.get("title")}"',
            "",
            *_workflow_steps(workflow, models, workflows_path),
            "",
        ]
    return "\n".join(lines).rstrip("\n") + "\n"


def write(project: build.Project, path: Path) -> bool:
    """Write the generated docs; True when the file changed."""
    text = generate(project)
    if path.is_file() and path.read_text(encoding="utf-8") == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True


def stale(project: build.Project, path: Path) -> bool:
    """True when `path` differs from what the sources generate."""
    return not path.is_file() or path.read_text(encoding="utf-8") != generate(project)


__all__: Sequence[str] = ("DOCS_PATH", "anchor", "command", "generate", "stale", "write")


def command(args: argparse.Namespace, project: build.Project) -> int:
    path = Path(args.out)
    if args.check:
        if stale(project, path):
            print(f"{path}: differs from the sources — run `nox -s docs`", file=sys.stderr)
            return 1
        print(f"{path} is up to date")
        return 0
    changed = write(project, path)
    print(f"{'wrote' if changed else 'unchanged'} {path}")
    return 0
