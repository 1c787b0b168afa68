// Entry point: a small hand-written, API-compatible subset of upstream
// Grafonnet v11.4.0 (grafana/grafonnet gen/grafonnet-v11.4.0). Swapping this
// file for upstream's g.libsonnet must compile the same dashboards to the same JSON.
{
  dashboard: import 'builder/dashboard.libsonnet',
  panel: import 'builder/panel.libsonnet',
  query: import 'builder/query.libsonnet',
  util: import 'builder/util.libsonnet',
}
