"""The doctor's report as text (one line per panel, a reason and a fix for each problem) or
JSON (for CI)."""

from __future__ import annotations

import json

from ktrdr_dashboards.doctor.diagnose import NO_DATA, PANEL_OK, Report

_LABEL = {"ok": "ok", "problem": "PROBLEM", "unknown": "unknown"}


def text(report: Report) -> str:
    lines = [f"Prometheus {report.prometheus}", "set-up"]
    for check in report.checks:
        fix = f" — fix: {check.fix}" if check.fix and check.status != "ok" else ""
        lines.append(f"  {_LABEL[check.status]:<10} {check.name}: {check.message}{fix}")
    for dashboard in report.dashboards:
        lines.append(f"{dashboard.title} ({dashboard.uid})")
        for name, values in sorted(dashboard.variables.items()):
            lines.append(f"  variable ${name}: {', '.join(values) or 'no values'}")
        for panel in dashboard.panels:
            status = panel.status
            head = f"  {status.upper() if status != PANEL_OK else 'ok':<10} {panel.title}"
            problem = panel.problem()
            if status == PANEL_OK or problem is None:
                lines.append(head)
            else:
                lines.append(f"{head}: {problem.reason} — fix: {problem.fix}")
    panels = report.panels()
    troubled = sum(p.status != PANEL_OK for _, p in panels)
    lines.append(
        f'{report.empty_panels()} of {len(panels)} panels would show "No data"; '
        f"{troubled} panels need attention"
        if troubled
        else f"all {len(panels)} panels have data; set-up "
        + ("healthy" if report.ok else "has problems (see above)")
    )
    return "\n".join(lines)


def as_json(report: Report) -> str:
    return json.dumps(report.as_dict(), indent=2, sort_keys=True)


__all__ = ["NO_DATA", "as_json", "text"]
