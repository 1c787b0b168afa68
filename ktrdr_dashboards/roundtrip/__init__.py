"""Grafana exports in and out: reading untrusted exports (`exports`), turning one into Jsonnet
through the builder library (`importer`), and the semantic panel-level diff (`semdiff`);
`import` and `diff` (`commands`). Imports build, validate, compile and the engine seam."""
