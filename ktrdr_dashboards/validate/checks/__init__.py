"""The validation checks, one module per family: dashboard identity, layout, datasources and
links (`dashboard`); the model against JSON Schemas (`model`); queries and telemetry
(`query`); the Kubernetes resources (`kubernetes`). Importing this package registers every
check with `validate.core`."""

from ktrdr_dashboards.validate.checks import dashboard, kubernetes, model, query

__all__ = ["dashboard", "kubernetes", "model", "query"]
