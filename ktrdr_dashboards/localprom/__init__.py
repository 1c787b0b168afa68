"""A throwaway Prometheus on 127.0.0.1 for previews, the bench and the tests: started over a
data dir and stopped by its pid (`server`), the data dir backfilled from OpenMetrics before it
starts and the recording rules' series recorded over the same span (`backfill`). Scrapes
nothing: it serves what was backfilled. Imports promtool, tools, errors and validate.catalog."""
