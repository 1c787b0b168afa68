"""Grafana exports in and out: reading an untrusted file, JSON or YAML (`documents`), telling
its format (`formats`: Classic, V1 and V2 Resources, a v2 spec) and making it one classic
model (`exports`); turning one into Jsonnet through the builder libraries (`importer`, with
`code` the Jsonnet it writes and `layouts` the v2-only layout); what `diff` compares
(`meaning`) and the semantic panel-level diff (`semdiff`); `import` and `diff` (`commands`).
Imports build, validate, compile, convert and the engine seam."""
