// All PromQL of the KTRDR dashboards, built from the config. Panels and alerts take their
// expressions from here by name; nothing else writes PromQL. A function of the config
// (ktrdr.libsonnet binds it), so a mixin consumer's `_config` reaches every expression.
function(config)

  local sel = config.selectors;
  local win = config.windows;
  local rateWindow = '$__rate_interval';

  // `metric{matchers}` from a list of matchers, empty ones left out.
  local select(metric, matchers) =
    if matchers == [] then metric else metric + '{' + std.join(', ', matchers) + '}';

  local http(suffix, extra=[]) = select('http_server_duration_milliseconds_' + suffix, [sel.job] + extra);
  local workers(metric) = select(metric, [sel.job, sel.workerInstance]);
  local operations(matchers=[]) = select('ktrdr_operations_total', matchers);

  // An absent counter means nothing happened: show 0, not "No data".
  local orZero(expr) = '(' + expr + ') or vector(0)';

  // Add a `port` label taken from the instance (`host:port`): workers are told apart by port.
  local withPort(expr) = 'label_replace(' + expr + ', "port", "$1", "instance", ".+:([0-9]+)")';

  // Up/Down of an `up`-valued expression as a `status` label, for tables (labels show as text).
  local withStatus(upExpr) =
    'label_replace(%(up)s == 1, "status", "Up", "", "") or label_replace(%(up)s == 0, "status", "Down", "", "")'
    % { up: upExpr };

  // Where an expression runs. On a dashboard the $job and $instance variables pick the series
  // and Grafana sizes the rate window. A Prometheus rule has no variables: every job that
  // exports the HTTP server histogram is a service (what the $job variable lists, so no job
  // name is written down), a worker is an instance on a worker port, and rates use
  // config.rules.rateWindow. `recorded`: read a recording rule's series where one exists.
  local scopes = {
    dashboard: {
      services: [sel.job],
      serviceUp: select('up', [sel.job]),
      workers: [sel.job, sel.workerInstance],
      rateWindow: rateWindow,
      recorded: config.useRecordingRules,
    },
    rule: {
      services: [],
      // A rule has no $job: the KTRDR targets are those on KTRDR ports (config.selectors).
      serviceUp: select('up', ['instance=~"%s"' % sel.serviceInstanceRegex]),
      workers: ['instance=~"%s"' % sel.workerInstanceRegex],
      rateWindow: config.rules.rateWindow,
      recorded: config.useRecordingRules,
    },
  };

  // Series of the recording rules (build/prometheus/rules/ktrdr-recording.yml), named
  // level:metric:operations as Prometheus recommends; `recordings` below defines each one.
  // They keep `job`, so the $job variable still filters them.
  local recordedNames = {
    local w = config.rules.rateWindow,
    requestRate: 'job:http_server_duration_milliseconds_count:rate' + w,
    requestRateByStatus: 'job_http_status_code:http_server_duration_milliseconds_count:rate' + w,
    latencyBuckets: 'job:http_server_duration_milliseconds_bucket:rate' + w,
    cpuSeconds: 'job:process_cpu_seconds:rate' + w,
    operationsEnded(window): 'operation_type_status:ktrdr_operations:increase' + window,
    durationP95(window): 'operation_type_status:ktrdr_operation_duration_seconds:p95_' + window,
  };

  // Expression builders shared by panels, alerts and recordings; each takes a scope.
  // Per-second HTTP requests of the scope's services; `status` is a status-code matcher.
  local requestRate(scope, status=null) =
    local matchers = scope.services + (if status == null then [] else [status]);
    if scope.recorded then
      select(if status == null then recordedNames.requestRate else recordedNames.requestRateByStatus, matchers)
    else 'rate(%s[%s])' % [select('http_server_duration_milliseconds_count', matchers), scope.rateWindow];

  local latencyBuckets(scope) =
    if scope.recorded then select(recordedNames.latencyBuckets, scope.services)
    else 'rate(%s[%s])' % [select('http_server_duration_milliseconds_bucket', scope.services), scope.rateWindow];

  local cpuSeconds(scope) =
    if scope.recorded then select(recordedNames.cpuSeconds, scope.services)
    else 'rate(%s[%s])' % [select('process_cpu_seconds_total', scope.services), scope.rateWindow];

  // Operations (of `matchers`) that ended in the last `window`.
  local ended(scope, window, matchers=[]) =
    if scope.recorded then select(recordedNames.operationsEnded(window), matchers)
    else 'increase(%s[%s])' % [operations(matchers), window];

  local durationP95(by, matchers, window) =
    'histogram_quantile(0.95, sum by (%s) (increase(%s[%s])))' % [std.join(', ', by), select('ktrdr_operation_duration_seconds_bucket', matchers), window];

  local healthyServices(scope) = orZero('sum(%s)' % scope.serviceUp);

  // 5xx share of all requests in percent; 0 (not empty) when there is no traffic.
  local errorRatePercent(scope) =
    '(100 * (sum(%s) or vector(0)) / sum(%s)) >= 0 or vector(0)' % [requestRate(scope, 'http_status_code=~"5.."'), requestRate(scope)];

  local latencyQuantileOf(scope, q) =
    'histogram_quantile(%s, sum by (le) (%s))' % [q, latencyBuckets(scope)];
  local latencyQuantile(q) = latencyQuantileOf(scopes.dashboard, q);

  local workerUp(scope) = 'max by (job, instance) (%s)' % select('up', scope.workers);

  // Completed share of the operations that ended in the window (not lifetime counters).
  // Empty (not NaN) when no operation ended; 0 when operations ended but none completed, even
  // before a `completed` series exists (a labelled counter appears on its first increment).
  local successRatePercent(scope) =
    '(100 * (sum(%s) or vector(0)) / sum(%s)) >= 0' % [ended(scope, win.successRate, ['status="completed"']), ended(scope, win.successRate)];

  local board = scopes.dashboard;

  {
    // Template variable queries.
    variables: {
      job: 'label_values(up{instance=~"%s"}, job)' % sel.serviceInstanceRegex,
      workerInstance: 'label_values(up{%s, instance=~"%s"}, instance)' % [sel.job, sel.workerInstanceRegex],
    },

    systemOverview: {
      healthyServices: healthyServices(board),
      requestsPerSecond: orZero('sum(%s)' % requestRate(board)),
      errorRatePercent: errorRatePercent(board),
      latencyQuantile: latencyQuantile,
      p95LatencyMs: latencyQuantile('0.95'),
      requestRateByService: 'sum by (job) (%s)' % requestRate(board),
      errorsByStatusCode:
        'sum by (http_status_code) (%s)' % requestRate(board, 'http_status_code=~"[45].."'),
      serviceStatus: withStatus('max by (job, instance) (up{%s})' % sel.job),
      serviceUptimeSeconds: 'max by (job, instance) (time() - process_start_time_seconds{%s})' % sel.job,
      // Percent of one CPU core.
      cpuPercentByService: '100 * sum by (job) (%s)' % cpuSeconds(board),
      memoryBytesByService: 'sum by (job) (process_resident_memory_bytes{%s})' % sel.job,
    },

    workerStatus: {
      registeredWorkers: 'sum(ktrdr_workers_registered_total)',
      availableWorkers: 'sum(ktrdr_workers_available)',
      registeredWorkersOfType(type): 'sum(ktrdr_workers_registered_total{worker_type="%s"})' % type,
      healthyWorkers: orZero('sum(%s)' % workers('up')),
      workerStatus: withPort(withStatus(workerUp(board))),
      workerCpuPercent:
        withPort('100 * sum by (job, instance) (rate(%s[%s]))' % [workers('process_cpu_seconds_total'), rateWindow]),
      // MiB: the table has one unit for its numeric columns (see panels.table).
      workerMemoryMiB:
        withPort('sum by (job, instance) (%s) / 1048576' % workers('process_resident_memory_bytes')),
      cpuPercentByWorker:
        '100 * sum by (instance) (rate(%s[%s]))' % [workers('process_cpu_seconds_total'), rateWindow],
      memoryBytesByWorker: 'sum by (instance) (%s)' % workers('process_resident_memory_bytes'),
      availabilityByWorker: 'max by (instance) (%s)' % workers('up'),
    },

    operations: {
      // ktrdr_operations_total counts operations when they END (completed, failed, cancelled).
      endedPerHour: orZero('sum(%s)' % ended(board, win.perHour)),
      endedPerHourOfType(type):
        orZero('sum(%s)' % ended(board, win.perHour, ['operation_type="%s"' % type])),
      endedPerHourByType: 'sum by (operation_type) (%s)' % ended(board, win.perHour),
      // Empty when no operation ended: the panel then says so.
      successRatePercent: successRatePercent(board),
      // Operations per minute by outcome.
      endedPerMinuteByStatus: '60 * sum by (status) (rate(%s[%s]))' % [operations(), rateWindow],
      // Mean and p95 duration of the operations that completed in the last hour.
      meanDurationSeconds:
        'sum by (operation_type) (increase(%(sum)s[%(window)s])) / sum by (operation_type) (increase(%(count)s[%(window)s]))' % {
          sum: select('ktrdr_operation_duration_seconds_sum', ['status="completed"']),
          count: select('ktrdr_operation_duration_seconds_count', ['status="completed"']),
          window: win.perHour,
        },
      // The recording keeps `status`; one series per type is selected, so `max by` only drops
      // that label and the panel shows the same series in both modes.
      p95DurationSeconds:
        if board.recorded then
          'max by (operation_type) (%s)' % select(recordedNames.durationP95(win.perHour), ['status="completed"'])
        else durationP95(['operation_type', 'le'], ['status="completed"'], win.perHour),
      httpRequestsByStatusCode:
        'round(sum by (http_status_code) (increase(%s[%s])))' % [http('count'), win.selectedRange],
    },

    // The panels' expressions as Prometheus rules evaluate them (every service, no Grafana
    // variables); lib/ktrdr/alerts.libsonnet compares them with config.thresholds.
    rules: {
      healthyServices: healthyServices(scopes.rule),  // System Overview: Healthy Services
      errorRatePercent: errorRatePercent(scopes.rule),  // System Overview: Error Rate
      p95LatencyMs: latencyQuantileOf(scopes.rule, '0.95'),  // System Overview: P95 Latency
      // Worker Status: Available Workers, per type (the backend always reports both types).
      availableWorkersByType: 'sum by (worker_type) (ktrdr_workers_available)',
      successRatePercent: successRatePercent(scopes.rule),  // Operations: Success Rate
      workerUp: workerUp(scopes.rule),  // Worker Status: Worker Health Matrix, Status
    },

    // Recording rules: record -> the raw expression it stores (a recording never reads another
    // recording). Only expressions that are expensive (many series or long windows) and used by
    // panels or alerts are recorded.
    recordings:
      local raw = scopes.rule { recorded: false };
      [
        { record: recordedNames.requestRate, expr: 'sum by (job) (%s)' % requestRate(raw) },
        {
          record: recordedNames.requestRateByStatus,
          expr: 'sum by (job, http_status_code) (%s)' % requestRate(raw),
        },
        { record: recordedNames.latencyBuckets, expr: 'sum by (job, le) (%s)' % latencyBuckets(raw) },
        { record: recordedNames.cpuSeconds, expr: 'sum by (job) (%s)' % cpuSeconds(raw) },
      ]
      + [
        // One per distinct window (Operations/Hour and Success Rate share 1h today).
        { record: recordedNames.operationsEnded(w), expr: 'sum by (operation_type, status) (%s)' % ended(raw, w) }
        for w in std.set([win.perHour, win.successRate])
      ]
      + [{
        record: recordedNames.durationP95(win.perHour),
        expr: durationP95(['operation_type', 'status', 'le'], [], win.perHour),
      }],
  }
