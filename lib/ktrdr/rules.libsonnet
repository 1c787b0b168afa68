// Recording rules: the expensive expressions of the panels and alerts, evaluated once per
// rule interval by Prometheus instead of on every dashboard refresh. Names and expressions
// come from queries.recordings; with config.useRecordingRules the panels and alerts read
// these series instead (the series keep `job`, so the $job variable still filters them).
// A function of the queries (prometheus-rules.libsonnet binds them).
function(queries) [{
  name: 'ktrdr-recording',
  rules: queries.recordings,
}]
