"""The validation gate (issue #3): rules over compiled dashboards, queries and provisioning.
`check_project` is what `build` and `validate` run; `promql` holds Grafana's expansion rules."""

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
