// System Overview: is KTRDR healthy? Services up, traffic, errors, latency, resources.
// `withLibrary(ktrdr)`: the same dashboard from the KTRDR library bound to another config
// (mixin.libsonnet passes one bound to a consumer's `_config`).
local dashboard(ktrdr) =
  local config = ktrdr.config;
  local p = ktrdr.panels;
  local links = ktrdr.links;
  local q = ktrdr.queries.systemOverview;
  local t = config.thresholds;
  local section = ktrdr.layout.section;

  ktrdr.dashboard(
    config.dashboards.systemOverview,
    'High-level health of the KTRDR backend and workers: morning health check, first triage, post-deploy check.',
    [ktrdr.variables.datasource, ktrdr.variables.job],
    [
      section('Health', [
        p.stat('Healthy Services', 'Service instances whose last scrape succeeded (up = 1) in the selected services. Compare with the expected count.', 'none', q.healthyServices, p.thresholds.higherIsBetter(t.healthyServices), decimals=0)
        + p.dataLinks([links.toWorkerStatus]) + p.size(6, 4),
        p.stat('Requests/sec', 'HTTP requests per second served by the selected services, all routes and status codes.', 'reqps', q.requestsPerSecond, decimals=2)
        + p.dataLinks([links.toOperations]) + p.size(6, 4),
        p.stat('Error Rate', 'Share of HTTP requests answered with a 5xx status; 0 % when there is no traffic.', 'percent', q.errorRatePercent, p.thresholds.lowerIsBetter(t.errorRatePercent), decimals=2)
        + p.dataLinks([links.toOperations]) + p.size(6, 4),
        p.stat('P95 Latency', '95th percentile of HTTP server response time over all selected services.', 'ms', q.p95LatencyMs, p.thresholds.lowerIsBetter(t.p95LatencyMs), decimals=1)
        + p.size(6, 4),
      ]),
      section('Traffic and latency', [
        p.timeSeries('Request Rate by Service', 'HTTP requests per second per service (Prometheus job).', 'reqps', [p.target(q.requestRateByService, '{{job}}')])
        + p.dataLinks([links.toOperations]) + p.size(12, 8),
        p.timeSeries('Response Time Percentiles', 'P50, P95 and P99 of HTTP server response time over all selected services.', 'ms', [
          p.target(q.latencyQuantile('0.50'), 'P50'),
          p.target(q.latencyQuantile('0.95'), 'P95'),
          p.target(q.latencyQuantile('0.99'), 'P99'),
        ]) + p.size(12, 8),
        p.timeSeries('Errors by Status Code', 'HTTP 4xx and 5xx responses per second by status code.', 'reqps', [p.target(q.errorsByStatusCode, '{{http_status_code}}')])
        + p.dataLinks([links.toOperations]) + p.size(24, 8),
      ]),
      section('Services', [
        p.table('Active Services', 'Every scraped instance of the selected services: Up/Down from the last scrape, uptime since the process started.', [
          p.tableTarget(q.serviceStatus),
          p.tableTarget(q.serviceUptimeSeconds),
        ], [['job', 'Service'], ['instance', 'Instance'], ['status', 'Status'], ['Value #B', 'Uptime']], unit='s')
        + p.dataLinks([links.toWorkerStatus]) + p.size(24, 8),
        p.timeSeries('CPU Usage by Service', 'CPU used by each service, in percent of one core (sum over its instances).', 'percent', [p.target(q.cpuPercentByService, '{{job}}')])
        + p.size(12, 8),
        p.timeSeries('Memory Usage by Service', 'Resident memory of each service (sum over its instances).', 'bytes', [p.target(q.memoryBytesByService, '{{job}}')])
        + p.size(12, 8),
      ]),
    ],
  );

dashboard(import 'ktrdr/ktrdr.libsonnet') + { withLibrary(ktrdr):: dashboard(ktrdr) }
