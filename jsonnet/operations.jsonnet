// Operations: throughput, success and duration of KTRDR operations (backtests, training, ...).
// `withLibrary(ktrdr)`: the same dashboard from the KTRDR library bound to another config
// (mixin.libsonnet passes one bound to a consumer's `_config`).
local dashboard(ktrdr) =
  local config = ktrdr.config;
  local p = ktrdr.panels;
  local links = ktrdr.links;
  local q = ktrdr.queries.operations;
  local t = config.thresholds;
  local section = ktrdr.layout.section;
  local ts = ktrdr.g.panel.timeSeries;

  ktrdr.dashboard(
    config.dashboards.operations,
    'Execution of KTRDR operations: throughput, success rate, durations and HTTP outcomes. Operations are counted when they end.',
    [ktrdr.variables.datasource, ktrdr.variables.job],
    [
      section('Throughput', [
        p.stat('Operations/Hour', 'Operations of every type that ended (completed, failed or cancelled) in the last hour.', 'none', q.endedPerHour, decimals=0)
        + p.size(6, 4),
        p.stat('Backtests/Hour', 'Backtest operations that ended in the last hour.', 'none', q.endedPerHourOfType('backtesting'), decimals=0)
        + p.size(6, 4),
        p.stat('Training/Hour', 'Training operations that ended in the last hour.', 'none', q.endedPerHourOfType('training'), decimals=0)
        + p.size(6, 4),
        p.stat('Success Rate', 'Completed share of the operations that ended in the last hour (cancelled and failed count as not successful).', 'percent', q.successRatePercent, p.thresholds.higherIsBetter(t.successRatePercent), decimals=1)
        + ktrdr.g.panel.stat.standardOptions.withNoValue('no operation ended')
        + p.dataLinks([links.toJaeger]) + p.size(6, 4),
      ]),
      section('Outcomes', [
        p.pieChart('Operations by Type', 'Operations that ended in the last hour, by operation type.', 'none', [p.target(q.endedPerHourByType, '{{operation_type}}') + ktrdr.g.query.prometheus.withInstant()], decimals=0)
        + p.size(8, 8),
        p.timeSeries('Success vs Failure Rate', 'Ended operations per minute by outcome: completed, failed, cancelled.', 'opm', [p.target(q.endedPerMinuteByStatus, '{{status}}')])
        + ts.standardOptions.withOverrides([
          p.seriesColor(ts, 'completed', 'green'),
          p.seriesColor(ts, 'failed', 'red'),
          p.seriesColor(ts, 'cancelled', 'yellow'),
        ])
        + p.dataLinks([links.toJaeger]) + p.size(16, 8),
      ]),
      section('Duration and HTTP', [
        p.timeSeries('Operation Duration', 'Mean and P95 duration of operations that completed in the last hour, by type (ktrdr_operation_duration_seconds).', 's', [
          p.target(q.meanDurationSeconds, '{{operation_type}} mean'),
          p.target(q.p95DurationSeconds, '{{operation_type}} p95'),
        ]) + p.size(12, 8),
        p.table('HTTP Status Distribution', 'HTTP requests of the selected services in the selected time range, by status code.', [
          p.tableTarget(q.httpRequestsByStatusCode),
        ], [['http_status_code', 'Status Code'], ['Value', 'Requests']])
        + p.dataLinks([links.toJaeger]) + p.size(12, 8),
      ]),
    ],
    links=links.jaegerBar,
  );

dashboard(import 'ktrdr/ktrdr.libsonnet') + { withLibrary(ktrdr):: dashboard(ktrdr) }
