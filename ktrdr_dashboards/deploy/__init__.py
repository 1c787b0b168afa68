"""Deploying the built dashboards where Grafana runs: resources for Kubernetes and operators,
and `apply` / `pull` / `diff --live` against a live Grafana through its HTTP API."""
