"""Alert and recording rules from the same config as the dashboards: rule files rendered as
YAML (`rules`), their promtool unit tests and coverage (`rule_tests`), the `test-rules`
command (`commands`). Imports promtool, promql and errors; the commands module also build."""
