// KTRDR panel styles: each builder returns a panel already on the datasource variable, with
// the team's units, colours and defaults. A dashboard adds targets, links and a size.
// A function of the config (ktrdr.libsonnet binds it).
local g = import 'g.libsonnet';

function(config)

  local promDatasource = '${%s}' % config.datasource.variable;

  // Threshold steps from the config: colours as in the seed (green good, yellow warning,
  // red bad; blue for figures that have no good or bad value).
  local steps(list) = [
    g.panel.stat.standardOptions.threshold.step.withColor(s[0])
    + g.panel.stat.standardOptions.threshold.step.withValue(s[1])
    for s in list
  ];

  local thresholds = {
    higherIsBetter(t): steps([['red', null], ['yellow', t.warning], ['green', t.ok]]),
    lowerIsBetter(t): steps([['green', null], ['yellow', t.warning], ['red', t.critical]]),
    informational: steps([['blue', null]]),
  };

  // Grafana value mapping for `up`-style 0/1 series.
  local upDown =
    g.panel.stat.standardOptions.mapping.ValueMap.withType()
    + g.panel.stat.standardOptions.mapping.ValueMap.withOptions({
      '0': { text: 'Down', color: 'red', index: 1 },
      '1': { text: 'Up', color: 'green', index: 0 },
    });

  // The text of a `status` label (queries turn `up` into Up/Down), coloured.
  local statusText =
    g.panel.table.standardOptions.mapping.ValueMap.withType()
    + g.panel.table.standardOptions.mapping.ValueMap.withOptions({
      Up: { text: 'Up', color: 'green', index: 0 },
      Down: { text: 'Down', color: 'red', index: 1 },
    });

  // Parts every KTRDR panel has; `type` is a g.panel.<type> namespace. The plugin version is
  // the targeted Grafana's (config.grafana): Grafonnet's own is v11.4.0, and Grafana migrates
  // a panel whose version is older than its own each time it loads it.
  local base(type, title, description, unit=null) =
    type.new(title)
    + { pluginVersion: config.grafana.pluginVersion }
    + type.panelOptions.withDescription(description)
    + type.queryOptions.withDatasource(config.datasource.type, promDatasource)
    + type.standardOptions.withOverrides([])  // Grafana's schema requires the field
    + (if unit == null then {} else type.standardOptions.withUnit(unit));

  // A Prometheus target on the datasource variable.
  local target(expr, legend=null) =
    g.query.prometheus.new(promDatasource, expr)
    + (if legend == null then {} else g.query.prometheus.withLegendFormat(legend));

  {
    thresholds: thresholds,
    upDown: upDown,
    target: target,

    // Instant, table-formatted target (tables and current-value panels).
    tableTarget(expr):
      target(expr)
      + g.query.prometheus.withInstant()
      + g.query.prometheus.withFormat('table'),

    // Big number with threshold colours; `steps` from `thresholds`.
    stat(title, description, unit, expr, steps=thresholds.informational, decimals=null):
      local stat = g.panel.stat;
      base(stat, title, description, unit)
      + stat.queryOptions.withTargets([target(expr) + g.query.prometheus.withInstant()])
      + stat.standardOptions.thresholds.withMode('absolute')
      + stat.standardOptions.thresholds.withSteps(steps)
      + stat.standardOptions.color.withMode('thresholds')
      + (if decimals == null then {} else stat.standardOptions.withDecimals(decimals))
      + stat.options.reduceOptions.withCalcs(['lastNotNull'])
      + stat.options.withColorMode('value')
      + stat.options.withGraphMode('none')
      + stat.options.withTextMode('auto'),

    // Lines over time, one per series; legend as a table with mean and max for triage.
    timeSeries(title, description, unit, targets):
      local ts = g.panel.timeSeries;
      base(ts, title, description, unit)
      + ts.queryOptions.withTargets(targets)
      + ts.standardOptions.color.withMode('palette-classic')
      + ts.fieldConfig.defaults.custom.withDrawStyle('line')
      + ts.fieldConfig.defaults.custom.withLineWidth(1)
      + ts.fieldConfig.defaults.custom.withFillOpacity(10)
      + ts.fieldConfig.defaults.custom.withShowPoints('never')
      + ts.fieldConfig.defaults.custom.withSpanNulls(false)
      + ts.options.legend.withDisplayMode('table')
      + ts.options.legend.withPlacement('bottom')
      + ts.options.legend.withCalcs(['mean', 'max', 'lastNotNull'])
      + ts.options.legend.withShowLegend(true)
      + ts.options.tooltip.withMode('multi')
      + ts.options.tooltip.withSort('desc'),

    // Current values as rows; `columns` ([field, header] pairs) picks, orders and renames
    // fields. Tables carry no per-column overrides (Grafana's official dashboard schema only
    // takes object-valued overrides): one `unit` for the numeric columns, and Up/Down comes as
    // a `status` label (see queries) coloured by a text mapping.
    table(title, description, targets, columns, unit='none'):
      local table = g.panel.table;
      base(table, title, description, unit)
      + table.queryOptions.withTargets(targets)
      + table.queryOptions.withTransformations([
        table.queryOptions.transformation.withId('merge')
        + table.queryOptions.transformation.withOptions({}),
        table.queryOptions.transformation.withId('organize')
        + table.queryOptions.transformation.withOptions({
          excludeByName: { Time: true },
          indexByName: { [columns[i][0]]: i for i in std.range(0, std.length(columns) - 1) },
          renameByName: { [c[0]]: c[1] for c in columns },
          includeByName: { [c[0]]: true for c in columns },
        }),
      ])
      + table.standardOptions.withMappings([statusText])
      + table.standardOptions.thresholds.withMode('absolute')
      + table.standardOptions.thresholds.withSteps(steps([['text', null]]))
      + table.standardOptions.color.withMode('thresholds')
      + table.options.withShowHeader()
      + table.options.withCellHeight('sm')
      + table.fieldConfig.defaults.custom.withAlign('auto')
      + table.fieldConfig.defaults.custom.withCellOptions({ type: 'color-text' }),

    // Share of a whole by label.
    pieChart(title, description, unit, targets, decimals=null):
      local pie = g.panel.pieChart;
      base(pie, title, description, unit)
      + (if decimals == null then {} else pie.standardOptions.withDecimals(decimals))
      + pie.queryOptions.withTargets(targets)
      + pie.options.withPieType('pie')
      + pie.options.reduceOptions.withCalcs(['lastNotNull'])
      + pie.options.reduceOptions.withValues(false)
      + pie.options.legend.withDisplayMode('table')
      + pie.options.legend.withPlacement('right')
      + pie.options.legend.withShowLegend(true),

    // Up/Down bands over time, one row per series.
    availabilityTimeline(title, description, targets):
      local st = g.panel.stateTimeline;
      base(st, title, description, 'none')
      + st.queryOptions.withTargets(targets)
      + st.standardOptions.withMappings([upDown])
      + st.standardOptions.thresholds.withMode('absolute')
      + st.standardOptions.thresholds.withSteps(steps([['red', null], ['green', 1]]))
      + st.standardOptions.color.withMode('thresholds')
      + st.options.withMergeValues()
      + st.options.withShowValue('auto')
      + st.options.withRowHeight(0.9)
      + st.fieldConfig.defaults.custom.withFillOpacity(70)
      + st.fieldConfig.defaults.custom.withLineWidth(0),

    // Colour a series by name (e.g. completed green, failed red). `byNames` takes its names as
    // an object, which Grafana's official schema requires of matcher options.
    seriesColor(type, name, color):
      { matcher: { id: 'byNames', options: { mode: 'include', names: [name] } } }
      + type.standardOptions.override.byName.withProperty('color', { mode: 'fixed', fixedColor: color }),

    // Data links (drill-downs) on a panel's values; every panel type has the same setter.
    dataLinks(list): g.panel.stat.standardOptions.withLinks(list),

    // Size of a panel; rows place it (see layout).
    size(w, h): g.panel.stat.panelOptions.withGridPos(h=h, w=w),
  }
