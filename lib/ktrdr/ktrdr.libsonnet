// Entry of the KTRDR conventions: `local ktrdr = import 'ktrdr/ktrdr.libsonnet';`
local g = import 'g.libsonnet';
local config = import 'ktrdr/config.libsonnet';

{
  g: g,
  config: config,
  queries: import 'ktrdr/queries.libsonnet',
  variables: import 'ktrdr/variables.libsonnet',
  links: import 'ktrdr/links.libsonnet',
  panels: import 'ktrdr/panels.libsonnet',
  layout: import 'ktrdr/layout.libsonnet',

  // A KTRDR dashboard: seed defaults (30 s refresh, last hour, browser time), the shared
  // tag, the link bar, shared crosshair; `board` is an entry of config.dashboards.
  dashboard(board, description, variables, sections, links=[]):
    g.dashboard.new(board.title)
    + g.dashboard.withUid(board.uid)
    + g.dashboard.withDescription(description)
    + g.dashboard.withTags([config.dashboard.tag])
    + g.dashboard.withRefresh(config.dashboard.refresh)
    + g.dashboard.time.withFrom(config.dashboard.from)
    + g.dashboard.time.withTo(config.dashboard.to)
    + g.dashboard.withTimezone(config.dashboard.timezone)
    + g.dashboard.withSchemaVersion(config.dashboard.schemaVersion)
    + g.dashboard.withEditable(true)
    + g.dashboard.graphTooltip.withSharedCrosshair()
    + g.dashboard.withVariables(variables)
    + g.dashboard.withLinks(self.links.dashboardBar + links)
    // Grafana's built-in annotations, which it adds on load anyway; Grafana's dashboard
    // schema requires the field.
    + g.dashboard.withAnnotations([{
      builtIn: 1,
      datasource: { type: 'grafana', uid: '-- Grafana --' },
      enable: true,
      hide: true,
      iconColor: 'rgba(0, 211, 255, 1)',
      name: 'Annotations & Alerts',
      type: 'dashboard',
    }])
    + g.dashboard.withPanels(self.layout.sections(sections)),
}
