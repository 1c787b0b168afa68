"""Query truth: synthetic KTRDR telemetry (`synth`) and the proof that every panel's query
returns what its spec says in promtool's engine, with recording rules and without
(`queries`, `commands`). Imports build, modes, promql, promtool and validate.catalog."""
