"""The validation checks, one module per family: dashboard identity, layout, datasources and
links (`dashboard`); the model against JSON Schemas (`model`); queries and telemetry
(`query`); the Kubernetes resources (`kubernetes`) and the schema v2 dashboards they carry
(`v2`). Importing this package registers every check with `validate.core`."""

from ktrdr_dashboards.validate.checks import dashboard, kubernetes, model, query, v2

__all__ = ["dashboard", "kubernetes", "model", "query", "v2"]
