"""The validation gate: checks over compiled dashboards, queries, rule files, provisioning and
Kubernetes resources (`checks/`, one module per family), the exclusions file, and the report.
`build` and `validate` run it through build_pool.py (each dashboard judged where it is
compiled); `check_project` judges an evaluated build in one process. Imports compile,
alerting, promql, convert and compile.kubernetes; never build, release or cli."""

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
