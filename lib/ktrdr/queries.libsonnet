// All PromQL of the KTRDR dashboards, built from the config. Panels and alerts take their
// expressions from here by name; nothing else writes PromQL.
local config = import 'ktrdr/config.libsonnet';

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

local latencyQuantile(q) =
  'histogram_quantile(%s, sum by (le) (rate(%s[%s])))' % [q, http('bucket'), rateWindow];

{
  // Template variable queries.
  variables: {
    job: 'label_values(%s, job)' % sel.serviceMetric,
    workerInstance: 'label_values(up{%s, instance=~"%s"}, instance)' % [sel.job, sel.workerInstanceRegex],
  },

  systemOverview: {
    healthyServices: orZero('sum(up{%s})' % sel.job),
    requestsPerSecond: orZero('sum(rate(%s[%s]))' % [http('count'), rateWindow]),
    // 5xx share of all requests in percent; 0 (not empty) when there is no traffic.
    errorRatePercent:
      '(100 * (sum(rate(%s[%s])) or vector(0)) / sum(rate(%s[%s]))) >= 0 or vector(0)'
      % [http('count', ['http_status_code=~"5.."']), rateWindow, http('count'), rateWindow],
    latencyQuantile: latencyQuantile,
    p95LatencyMs: latencyQuantile('0.95'),
    requestRateByService: 'sum by (job) (rate(%s[%s]))' % [http('count'), rateWindow],
    errorsByStatusCode:
      'sum by (http_status_code) (rate(%s[%s]))'
      % [http('count', ['http_status_code=~"[45].."']), rateWindow],
    serviceUp: 'max by (job, instance) (up{%s})' % sel.job,
    serviceUptimeSeconds: 'max by (job, instance) (time() - process_start_time_seconds{%s})' % sel.job,
    // Percent of one CPU core.
    cpuPercentByService:
      '100 * sum by (job) (rate(process_cpu_seconds_total{%s}[%s]))' % [sel.job, rateWindow],
    memoryBytesByService: 'sum by (job) (process_resident_memory_bytes{%s})' % sel.job,
  },

  workerStatus: {
    registeredWorkers: 'sum(ktrdr_workers_registered_total)',
    availableWorkers: 'sum(ktrdr_workers_available)',
    registeredWorkersOfType(type): 'sum(ktrdr_workers_registered_total{worker_type="%s"})' % type,
    healthyWorkers: orZero('sum(%s)' % workers('up')),
    workerUp: withPort('max by (job, instance) (%s)' % workers('up')),
    workerCpuPercent:
      withPort('100 * sum by (job, instance) (rate(%s[%s]))'
               % [workers('process_cpu_seconds_total'), rateWindow]),
    workerMemoryBytes: withPort('sum by (job, instance) (%s)' % workers('process_resident_memory_bytes')),
    cpuPercentByWorker:
      '100 * sum by (instance) (rate(%s[%s]))' % [workers('process_cpu_seconds_total'), rateWindow],
    memoryBytesByWorker: 'sum by (instance) (%s)' % workers('process_resident_memory_bytes'),
    availabilityByWorker: 'max by (instance) (%s)' % workers('up'),
  },

  operations: {
    // ktrdr_operations_total counts operations when they END (completed, failed, cancelled).
    endedPerHour: orZero('sum(increase(%s[%s]))' % [operations(), win.perHour]),
    endedPerHourOfType(type):
      orZero('sum(increase(%s[%s]))' % [operations(['operation_type="%s"' % type]), win.perHour]),
    endedPerHourByType: 'sum by (operation_type) (increase(%s[%s]))' % [operations(), win.perHour],
    // Completed share of the operations that ended in the window (not lifetime counters).
    // Empty (not NaN) when no operation ended: the panel then says so.
    successRatePercent:
      '(100 * sum(increase(%s[%s])) / sum(increase(%s[%s]))) >= 0'
      % [operations(['status="completed"']), win.successRate, operations(), win.successRate],
    // Operations per minute by outcome.
    endedPerMinuteByStatus: '60 * sum by (status) (rate(%s[%s]))' % [operations(), rateWindow],
    // Mean and p95 duration of the operations that completed in the last hour.
    meanDurationSeconds:
      'sum by (operation_type) (increase(%s[%s])) / sum by (operation_type) (increase(%s[%s]))'
      % [
        select('ktrdr_operation_duration_seconds_sum', ['status="completed"']),
        win.perHour,
        select('ktrdr_operation_duration_seconds_count', ['status="completed"']),
        win.perHour,
      ],
    p95DurationSeconds:
      'histogram_quantile(0.95, sum by (operation_type, le) (increase(%s[%s])))'
      % [select('ktrdr_operation_duration_seconds_bucket', ['status="completed"']), win.perHour],
    httpRequestsByStatusCode:
      'round(sum by (http_status_code) (increase(%s[%s])))' % [http('count'), win.selectedRange],
  },
}
