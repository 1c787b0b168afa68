// Entry of the KTRDR conventions: `local ktrdr = import 'ktrdr/ktrdr.libsonnet';`, bound to
// the project's config. `ktrdr.withConfig(config)` is the same library bound to another config
// (mixin.libsonnet passes a consumer's `_config`); the dashboards take the library as their
// parameter, so every value they show comes from the config it was bound to.
local g = import 'g.libsonnet';

local library(config) = {
  g: g,
  config: config,
  queries: (import 'ktrdr/queries.libsonnet')(config),
  variables: (import 'ktrdr/variables.libsonnet')(config, self.queries),
  links: (import 'ktrdr/links.libsonnet')(config),
  panels: (import 'ktrdr/panels.libsonnet')(config),
  layout: import 'ktrdr/layout.libsonnet',
  withConfig(other):: library(other),

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
    + g.dashboard.withSchemaVersion(config.grafana.schemaVersion)
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
};

library(import 'ktrdr/config.libsonnet')
