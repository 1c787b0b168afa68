"""Synthetic KTRDR telemetry, the one place it is made: every series the telemetry catalog says
a KTRDR environment exports (`environments`: promtool test input, OpenMetrics), and the same
over bigger topologies with the history a local Prometheus holds (`telemetry`). Used by query
truth, previews, the bench and the tests. Imports validate.catalog only."""
