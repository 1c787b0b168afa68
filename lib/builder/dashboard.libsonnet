// Dashboard-level setters, mirroring upstream Grafonnet v11.4.0's `g.dashboard`.
local fields = import 'fields.libsonnet';
local util = import 'util.libsonnet';
local arrayPair = fields.arrayPair;

local panelsField(setPanelIDs) = {
  panels: if setPanelIDs then util.panel.setPanelIDs(self._panels) else self._panels,
};

local linkOptions = {
  options: {
    withAsDropdown(value=true): { asDropdown: value },
    withIncludeVars(value=true): { includeVars: value },
    withKeepTime(value=true): { keepTime: value },
    withTargetBlank(value=true): { targetBlank: value },
  },
};

arrayPair('withTags', 'tags')
+ arrayPair('withLinks', 'links')
+ arrayPair('withVariables', 'list', function(o) { templating+: o })
+ arrayPair('withAnnotations', 'list', function(o) { annotations+: o })
+ {
  new(title): {
    title: title,
    schemaVersion: 39,
    timezone: 'utc',
    time: { from: 'now-6h', to: 'now' },
  },
  withUid(value): { uid: value },
  withTitle(value): { title: value },
  withDescription(value): { description: value },
  withRefresh(value): { refresh: value },
  withTimezone(value='browser'): { timezone: value },
  withEditable(value=true): { editable: value },
  withLiveNow(value=true): { liveNow: value },
  withWeekStart(value): { weekStart: value },
  withFiscalYearStartMonth(value=0): { fiscalYearStartMonth: value },
  withSchemaVersion(value=39): { schemaVersion: value },

  // Panels are kept in a hidden list so a Mixin can renumber all ids at once.
  withPanels(panels, setPanelIDs=true):
    { _panels:: fields.wrap(panels) } + panelsField(setPanelIDs),
  withPanelsMixin(panels, setPanelIDs=true):
    { _panels+:: fields.wrap(panels) } + panelsField(setPanelIDs),

  time: {
    withFrom(value='now-6h'): { time+: { from: value } },
    withTo(value='now'): { time+: { to: value } },
  },
  graphTooltip: {
    withSharedCrosshair(): { graphTooltip: 1 },
    withSharedTooltip(): { graphTooltip: 2 },
  },
  timepicker: arrayPair('withRefreshIntervals', 'refresh_intervals', function(o) { timepicker+: o })
              + arrayPair('withTimeOptions', 'time_options', function(o) { timepicker+: o }) + {
    withHidden(value=true): { timepicker+: { hidden: value } },
    withNowDelay(value): { timepicker+: { nowDelay: value } },
  },

  link: {
    dashboards: linkOptions {
      new(title, tags): { title: title, type: 'dashboards', tags: fields.wrap(tags) },
    },
    link: linkOptions {
      new(title, url): { title: title, type: 'link', url: url },
      withIcon(value): { icon: value },
      withTooltip(value): { tooltip: value },
    },
  },

  variable: import 'variable.libsonnet',
}
