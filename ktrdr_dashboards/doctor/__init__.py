"""`doctor`: asks a live Prometheus, read-only, for everything the built dashboards need
(metrics, the jobs and instances their variables select, the scrape interval the datasource
assumes, the recording rules they read) and says per dashboard and panel which would show
"No data", why, and how to fix it. `apply --prometheus` reuses its recording rules check.
Imports build, modes, model, queryplan (the queries a load sends), promql and
validate.catalog."""
