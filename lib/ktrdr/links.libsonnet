// Links between the KTRDR dashboards and out to Jaeger. Drill-downs keep the time range and
// the variables both dashboards have, so the operator lands on the same slice.
// A function of the config (ktrdr.libsonnet binds it).
local g = import 'g.libsonnet';

function(config)

  local boards = config.dashboards;
  local keepState = '${__url_time_range}&${datasource:queryparam}&${job:queryparam}';

  // Grafana's dashboard schema types data links as dashboard links and requires all their
  // fields; Grafana's data links ignore the extra ones.
  local dataLink(title, url, targetBlank=false) = {
    title: title,
    url: url,
    targetBlank: targetBlank,
    type: 'link',
    icon: 'external link',
    tooltip: '',
    tags: [],
    asDropdown: false,
    includeVars: false,
    keepTime: false,
  };

  // Explore pane of the Jaeger datasource searching the backend's traces in the panel's time.
  local jaegerSearch =
    local pane = {
      datasource: config.datasource.jaegerUid,
      queries: [{
        refId: 'A',
        datasource: { type: 'jaeger', uid: config.datasource.jaegerUid },
        queryType: 'search',
        service: config.datasource.jaegerService,
      }],
      range: { from: '${__from}', to: '${__to}' },
    };
    '/explore?schemaVersion=1&orgId=1&panes=' + std.manifestJsonMinified({ traces: pane });

  {
    // Data link (fieldConfig.defaults.links) to another KTRDR dashboard.
    toDashboard(board, title=null):
      dataLink(if title == null then 'Open ' + board.title else title, '/d/%s?%s' % [board.uid, keepState]),
    toWorkerStatus: self.toDashboard(boards.workerStatus, 'Worker Status: per-worker health'),
    toOperations: self.toDashboard(boards.operations, 'Operations: throughput and failures'),
    toJaeger: dataLink('Traces of %s in Jaeger' % config.datasource.jaegerService, jaegerSearch, targetBlank=true),

    // Dashboard link bar: every KTRDR dashboard, keeping time range and variables.
    dashboardBar: [
      g.dashboard.link.dashboards.new('KTRDR dashboards', [config.dashboard.tag])
      + g.dashboard.link.dashboards.options.withAsDropdown(false)
      + g.dashboard.link.dashboards.options.withIncludeVars()
      + g.dashboard.link.dashboards.options.withKeepTime()
      + g.dashboard.link.dashboards.options.withTargetBlank(false)
      // Grafana's dashboard schema requires every link field, whatever the link type.
      + { icon: 'external link', tooltip: '' },
    ],
    jaegerBar: [
      g.dashboard.link.link.new('Jaeger traces', jaegerSearch)
      + g.dashboard.link.link.withIcon('external link')
      + g.dashboard.link.link.withTooltip('Search %s traces in Jaeger (Explore)' % config.datasource.jaegerService)
      + g.dashboard.link.link.options.withTargetBlank()
      + g.dashboard.link.link.options.withAsDropdown(false)
      + g.dashboard.link.link.options.withIncludeVars(false)
      + g.dashboard.link.link.options.withKeepTime(false)
      + { tags: [] },
    ],
  }
