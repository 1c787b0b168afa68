"""Alert and recording rules from the same config as the dashboards: rule files rendered as
YAML and the series they record (`rules`), their promtool unit tests and coverage
(`rule_tests`). Imports only core modules (promtool, promql, model, errors)."""
