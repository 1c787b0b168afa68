"""PromQL as Grafana and Prometheus see it: variable and macro expansion as Grafana does it
(`expand`), selector analysis on the promql-parser AST (`analysis`), Prometheus durations
(`durations`). Imports only promtool and errors."""
