"""Previews: every dashboard rendered with data as Grafana would show it, by @grafana/data in
headless Chromium (`run`, `page`, `bundle`, `browser`, `assets/`), the data from a real
Prometheus loaded with synthetic telemetry (`data`, `frames`), the live preview (`serve`)
and per-panel-type pictures (`pictures`); `preview` (`commands`). Imports build, modes,
model, queryplan, localprom (the Prometheus) and synthetic (its telemetry)."""
