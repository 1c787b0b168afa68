// Alerting rules for the health checks of the README's workflows. Each compares a panel's own
// expression (queries.rules) with the thresholds that colour that panel (config.thresholds),
// so an alert fires exactly when its panel, with every service selected, leaves green:
// `warning` while it is yellow or worse, `critical` while it is red.
//
// A function of `panels` ({ <dashboard uid>: { <panel title>: [panel id, ...] } }, from the
// built dashboards): the `dashboard` annotation links to the panel that shows the alert, and
// evaluation fails when that panel no longer exists, so the link cannot go stale.
//
// Also a function of the config and the queries built from it (prometheus-rules.libsonnet
// binds both), so a mixin consumer's thresholds reach the alerts as they reach the panels.
function(config, queries, panels)
  local boards = config.dashboards;
  local t = config.thresholds;
  local settings = config.rules;
  local q = queries.rules;

  local panelLink(panels, board, title) =
    local ids = std.get(std.get(panels, board.uid, {}), title, []);
    assert std.length(ids) == 1 :
           'alerts link to panel "%s" of dashboard %s, which has %d panels of that title'
           % [title, board.uid, std.length(ids)];
    '%s/d/%s?viewPanel=%s' % [settings.grafanaUrl, board.uid, ids[0]];

  // One alerting rule. `expr` is wrapped in parentheses before the comparison: the panels'
  // expressions end in `or vector(0)`, and `or` binds weaker than a comparison.
  local rule(name, expr, op, threshold, forDuration, severity, summary, description, link) = {
    alert: name,
    expr: '(%s) %s %s' % [expr, op, threshold],
    'for': forDuration,
    labels: { severity: severity },
    annotations: { summary: summary, description: description, dashboard: link },
  };

  // Warning and critical rules for a stat coloured by config.thresholds. `text(value, colour)`
  // gives [summary, description] for the threshold crossed and the colour the panel shows.
  local banded(name, expr, steps, lowerIsBetter, forDuration, link, text) =
    local bands =
      if lowerIsBetter then [['>=', steps.warning, 'yellow'], ['>=', steps.critical, 'red']]
      else [['<', steps.ok, 'yellow'], ['<', steps.warning, 'red']];
    [
      local words = text(band[1], band[2]);
      rule(name, expr, band[0], band[1], forDuration, settings.severity[band[2]], words[0], words[1], link)
      for band in bands
    ];

  local link(board, title) = panelLink(panels, board, title);
  [{
    name: 'ktrdr-health',
    rules:
      // "Is the system healthy?" step 2: Healthy Services = expected count.
      banded(
        'KtrdrServicesDown',
        q.healthyServices,
        t.healthyServices,
        lowerIsBetter=false,
        forDuration=settings['for'].servicesDown,
        link=link(boards.systemOverview, 'Healthy Services'),
        text=function(limit, colour) [
          'Fewer than %s KTRDR service instances are up' % limit,
          '{{ $value }} KTRDR service instances are up (scraped with up = 1), fewer than %s; expected %s. System Overview: Healthy Services is %s.'
          % [limit, t.healthyServices.ok, colour],
        ],
      )
      // Step 3: Error Rate < 1 %.
      + banded(
        'KtrdrHighErrorRate',
        q.errorRatePercent,
        t.errorRatePercent,
        lowerIsBetter=true,
        forDuration=settings['for'].errorRate,
        link=link(boards.systemOverview, 'Error Rate'),
        text=function(limit, colour) [
          'KTRDR HTTP error rate is at or above ' + limit + ' %',
          '{{ $value | printf "%.2f" }} % of HTTP requests to KTRDR services got a 5xx response over the last '
          + settings.rateWindow + ' (threshold ' + limit + ' %). System Overview: Error Rate is ' + colour + '.',
        ],
      )
      // Step 4: P95 Latency < 100 ms.
      + banded(
        'KtrdrHighP95Latency',
        q.p95LatencyMs,
        t.p95LatencyMs,
        lowerIsBetter=true,
        forDuration=settings['for'].p95Latency,
        link=link(boards.systemOverview, 'P95 Latency'),
        text=function(limit, colour) [
          'KTRDR P95 response time is at or above %s ms' % limit,
          'The 95th percentile of KTRDR HTTP response time over the last ' + settings.rateWindow
          + ' is {{ $value | printf "%.1f" }} ms (threshold ' + limit + ' ms). System Overview: P95 Latency is ' + colour + '.',
        ],
      )
      // "Operation failed": Success Rate.
      + banded(
        'KtrdrOperationsFailing',
        q.successRatePercent,
        t.successRatePercent,
        lowerIsBetter=false,
        forDuration=settings['for'].operationFailureRate,
        link=link(boards.operations, 'Success Rate'),
        text=function(limit, colour) [
          'Fewer than ' + limit + ' % of KTRDR operations complete',
          'Only {{ $value | printf "%.1f" }} % of the operations that ended in the last ' + config.windows.successRate
          + ' completed; the rest failed or were cancelled (threshold ' + limit + ' %). Operations: Success Rate is ' + colour + '.',
        ],
      )
      + [
        // "Workers not working": Available Workers, per type.
        rule(
          'KtrdrNoAvailableWorkers',
          q.availableWorkersByType,
          '==',
          0,
          settings['for'].noAvailableWorkers,
          settings.noAvailableWorkersSeverity,
          'No KTRDR {{ $labels.worker_type }} worker is available',
          'No {{ $labels.worker_type }} worker has been available for %s: every registered one is busy or unavailable, or none is registered. New {{ $labels.worker_type }} operations find no worker. Worker Status: Available Workers.'
          % settings['for'].noAvailableWorkers,
          link(boards.workerStatus, 'Available Workers'),
        ),
        // "Workers not working": Healthy Workers and the Worker Health Matrix.
        rule(
          'KtrdrWorkerDown',
          q.workerUp,
          '==',
          0,
          settings['for'].workerDown,
          settings.workerDownSeverity,
          'KTRDR worker {{ $labels.instance }} is down',
          'Worker {{ $labels.instance }} (job {{ $labels.job }}) has failed its scrapes for %s: it is down or unreachable. Worker Status: Worker Health Matrix shows it Down.'
          % settings['for'].workerDown,
          link(boards.workerStatus, 'Worker Health Matrix'),
        ),
      ],
  }]
