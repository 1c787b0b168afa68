// Worker Status: capacity and health of the distributed backtest and training workers.
// `withLibrary(ktrdr)`: the same dashboard from the KTRDR library bound to another config
// (mixin.libsonnet passes one bound to a consumer's `_config`).
local dashboard(ktrdr) =
  local config = ktrdr.config;
  local p = ktrdr.panels;
  local links = ktrdr.links;
  local q = ktrdr.queries.workerStatus;
  local t = config.thresholds;
  local section = ktrdr.layout.section;

  ktrdr.dashboard(
    config.dashboards.workerStatus,
    'Capacity and health of the KTRDR workers: verify scaling, find resource-constrained workers, debug "no workers available".',
    [ktrdr.variables.datasource, ktrdr.variables.job, ktrdr.variables.workerInstance],
    [
      section('Capacity', [
        p.stat('Registered Workers', 'Workers registered with the backend (ktrdr_workers_registered_total, a gauge), all types.', 'none', q.registeredWorkers, decimals=0)
        + p.dataLinks([links.toOperations]) + p.size(5, 4),
        p.stat('Available Workers', 'Registered workers whose status is available (not busy, not temporarily unavailable).', 'none', q.availableWorkers, p.thresholds.higherIsBetter(t.availableWorkers), decimals=0)
        + p.dataLinks([links.toOperations]) + p.size(5, 4),
        p.stat('Backtest Workers', 'Registered workers of type backtesting.', 'none', q.registeredWorkersOfType(config.workerTypes.backtesting), decimals=0)
        + p.size(5, 4),
        p.stat('Training Workers', 'Registered workers of type training.', 'none', q.registeredWorkersOfType(config.workerTypes.training), decimals=0)
        + p.size(5, 4),
        p.stat('Healthy Workers', 'Worker instances (ports 5003-5008) whose last scrape succeeded (up = 1).', 'none', q.healthyWorkers, decimals=0)
        + p.size(4, 4),
      ]),
      section('Health', [
        p.table('Worker Health Matrix', 'Every selected worker: Up/Down from the last scrape, CPU in percent of one core, resident memory in MiB.', [
          p.tableTarget(q.workerStatus),
          p.tableTarget(q.workerCpuPercent),
          p.tableTarget(q.workerMemoryMiB),
        ], [['instance', 'Instance'], ['port', 'Port'], ['job', 'Job'], ['status', 'Status'], ['Value #B', 'CPU %'], ['Value #C', 'Memory MiB']])
        + p.dataLinks([links.toOperations]) + p.size(24, 8),
        p.availabilityTimeline('Worker Availability Timeline', 'Up/Down of each selected worker over time, from its scrapes.', [
          p.target(q.availabilityByWorker, '{{instance}}'),
        ]) + p.size(24, 8),
      ]),
      section('Resources', [
        p.timeSeries('Worker CPU Usage', 'CPU used by each worker process, in percent of one core.', 'percent', [p.target(q.cpuPercentByWorker, '{{instance}}')])
        + p.size(12, 8),
        p.timeSeries('Worker Memory Usage', 'Resident memory of each worker process.', 'bytes', [p.target(q.memoryBytesByWorker, '{{instance}}')])
        + p.size(12, 8),
      ]),
    ],
  );

dashboard(import 'ktrdr/ktrdr.libsonnet') + { withLibrary(ktrdr):: dashboard(ktrdr) }
