"""The validation gate: checks over compiled dashboards, queries, rule files, provisioning and
Kubernetes resources (`checks/`, one module per family), the exclusions file, and the report.
`check_project` is what `build` and `validate` run. Imports compile, alerting, promql and
compile.kubernetes; never build, release or cli."""

from ktrdr_dashboards.validate.core import RULES, Finding, Settings
from ktrdr_dashboards.validate.gate import (
    EXCLUSIONS_NAME,
    ValidationError,
    check_project,
    render,
    validate,
)

__all__ = [
    "EXCLUSIONS_NAME",
    "RULES",
    "Finding",
    "Settings",
    "ValidationError",
    "check_project",
    "render",
    "validate",
]
