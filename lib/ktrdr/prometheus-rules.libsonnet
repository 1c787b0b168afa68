// Entry of the Prometheus rule files: file name under build/prometheus/rules/ -> rule file.
// `panels` ({ <dashboard uid>: { <panel title>: [panel id, ...] } }) comes from the built
// dashboards, so every alert links to a panel that exists (see alerts.libsonnet). `config`
// is the project's unless given (mixin.libsonnet passes a consumer's `_config`).
local alerts = import 'ktrdr/alerts.libsonnet';
local recordings = import 'ktrdr/rules.libsonnet';

function(panels, config=import 'ktrdr/config.libsonnet')
  local queries = (import 'ktrdr/queries.libsonnet')(config);
  {
    'ktrdr-alerts.yml': { groups: alerts(config, queries, panels) },
    'ktrdr-recording.yml': { groups: recordings(queries) },
  }
