"""Query truth: the proof that every panel's query returns what its spec says in promtool's
engine, with recording rules and without (`queries`, `commands`), on synthetic telemetry
(`synthetic`). Imports build, modes, promql, promtool, synthetic and validate.catalog."""
