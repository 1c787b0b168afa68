// Template variables shared by the KTRDR dashboards.
// A function of the config and the queries built from it (ktrdr.libsonnet binds both).
local g = import 'g.libsonnet';

function(config, queries)

  local var = g.dashboard.variable;

  local datasource =
    var.datasource.new(config.datasource.variable, config.datasource.type)
    + var.datasource.generalOptions.withLabel('Data source')
    + var.datasource.generalOptions.withCurrent(config.datasource.prometheusUid);

  // A multi-select query variable with All, refreshed when the time range changes so it
  // lists what exists in the range shown.
  local multiQuery(name, label, query) =
    var.query.new(name, query)
    + var.query.withDatasourceFromVariable(datasource)
    + var.query.generalOptions.withLabel(label)
    + var.query.refresh.onTime()
    + var.query.withSort()
    + var.query.selectionOptions.withMulti()
    + var.query.selectionOptions.withIncludeAll()
    + var.query.generalOptions.withCurrent('All', '$__all');

  {
    datasource: datasource,
    job: multiQuery('job', 'Service', queries.variables.job),
    workerInstance: multiQuery('instance', 'Worker', queries.variables.workerInstance),
  }
