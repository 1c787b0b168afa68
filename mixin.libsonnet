// Monitoring-mixin entry point: the KTRDR dashboards and Prometheus rules for a Jsonnet
// project that vendors this repository (jsonnet-bundler) and overrides `_config`:
//
//   local ktrdr = (import 'ktrdr-dashboards/mixin.libsonnet') + {
//     _config+:: { thresholds+: { errorRatePercent+: { warning: 2 } } },
//   };
//   { dashboards: ktrdr.grafanaDashboards, alerts: ktrdr.prometheusAlerts }
//
// with `-J vendor -J vendor/ktrdr-dashboards/lib` (docs/deploy.md). `_config` is
// lib/ktrdr/config.libsonnet; every panel, variable, alert and recording rule is built from
// it, so an overridden selector or threshold changes a panel and its alert together.
local bindLibrary = (import 'ktrdr/ktrdr.libsonnet').withConfig;
local ruleFiles = import 'ktrdr/prometheus-rules.libsonnet';

// uid -> panel title -> ids of the panels of that title (nested panels of rows included),
// which the alerts link to.
local panelIndex(dashboards) =
  local flat(panels) = std.flattenArrays([[p] + flat(std.get(p, 'panels', [])) for p in panels]);
  {
    [d.uid]:
      local titled = [
        p
        for p in flat(std.get(d, 'panels', []))
        if std.isNumber(std.get(p, 'id')) && std.isString(std.get(p, 'title'))
      ];
      { [title]: [p.id for p in titled if p.title == title] for title in std.set([p.title for p in titled]) }
    for d in dashboards
  };

{
  _config:: import 'ktrdr/config.libsonnet',

  local library = bindLibrary(self._config),
  local rules = ruleFiles(panelIndex(std.objectValues(self.grafanaDashboards)), self._config),

  // File name -> dashboard: the files `nox -s build` writes to build/dashboards/.
  grafanaDashboards:: {
    'operations.json': (import 'jsonnet/operations.jsonnet').withLibrary(library),
    'system-overview.json': (import 'jsonnet/system-overview.jsonnet').withLibrary(library),
    'worker-status.json': (import 'jsonnet/worker-status.jsonnet').withLibrary(library),
  },

  // The Grafana folder to file the dashboards in (the monitoring-mixin name for it).
  grafanaDashboardFolder:: self._config.folder.title,

  // { groups: [...] }, as build/prometheus/rules/ktrdr-alerts.yml and -recording.yml.
  prometheusAlerts:: rules['ktrdr-alerts.yml'],
  prometheusRules:: rules['ktrdr-recording.yml'],
}
