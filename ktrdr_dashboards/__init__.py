"""KTRDR Grafana dashboards as code: compile, validate, test and package."""
