// Entry of the Prometheus rule files: file name under build/prometheus/rules/ -> rule file.
// `panels` ({ <dashboard uid>: { <panel title>: [panel id, ...] } }) comes from the built
// dashboards, so every alert links to a panel that exists (see alerts.libsonnet).
local alerts = import 'ktrdr/alerts.libsonnet';
local recordings = import 'ktrdr/rules.libsonnet';

function(panels) {
  'ktrdr-alerts.yml': { groups: alerts(panels) },
  'ktrdr-recording.yml': { groups: recordings },
}
