// KTRDR conventions: every value the dashboards (and the alerts built from them) share.
// Change a threshold or a selector here, once; panels, queries and rules follow.
// Other modules import this as 'ktrdr/config.libsonnet' (never relatively) so a `--jpath`
// directory can put an overriding config first without touching the sources.
{
  datasource: {
    // Every panel queries through this variable so one dashboard works against any
    // Prometheus in Grafana; its default is the provisioned uid.
    variable: 'datasource',
    type: 'prometheus',
    prometheusUid: 'prometheus',
    jaegerUid: 'jaeger',
    // Jaeger service of the backend API, whose spans cover the operations.
    jaegerService: 'ktrdr-api',
  },

  // The Grafana the build targets: 13, because KTRDR's compose files run
  // grafana/grafana:latest, which is Grafana 13 (schema v2 dashboards, the /apis resource
  // API); 11 and 12 are still served. `major` (11, 12 or 13) is the one value to change: the
  // rest follows from it (docs/grafana-versions.md lists what each target writes).
  grafana: {
    major: 13,
    // Per major, the values of one release of it, the newest when the target was set.
    local targets = {
      // schemaVersion: the classic model version that release writes itself, so it migrates
      // nothing on load (42 since 12.2; on 11, 39 as the reference dashboards). pluginVersion:
      // what Grafana writes on its core panels, its own version (a panel saved by an older
      // Grafana is migrated on load). dashboardApi/folderApi: Grafana's resources written for
      // /apis and the operator's GrafanaManifests (schema v2); Grafana 11 serves none.
      '11': { pluginVersion: '11.4.0', schemaVersion: 39, dashboardApi: null, folderApi: null },
      '12': {
        pluginVersion: '12.4.9',
        schemaVersion: 42,
        dashboardApi: 'dashboard.grafana.app/v2beta1',
        folderApi: 'folder.grafana.app/v1beta1',
      },
      '13': {
        pluginVersion: '13.2.3',
        schemaVersion: 42,
        dashboardApi: 'dashboard.grafana.app/v2',
        folderApi: 'folder.grafana.app/v1',
      },
    },
    local target =
      local key = std.toString(self.major);
      if std.objectHas(targets, key) then targets[key]
      else error 'grafana.major: %s is no Grafana this project targets; use 11, 12 or 13' % key,
    schemaVersion: target.schemaVersion,
    pluginVersion: target.pluginVersion,
    dashboardApi: target.dashboardApi,
    folderApi: target.folderApi,
  },

  dashboard: {
    refresh: '30s',  // seed: auto-refresh every 30 s
    from: 'now-1h',  // seed: last hour
    to: 'now',
    timezone: 'browser',  // operators read their own local time
    // Every KTRDR dashboard carries this tag; the dashboards' link bar lists by it.
    tag: 'ktrdr',
  },

  dashboards: {
    // uids are part of the seed's URLs (/d/<uid>): never change them.
    systemOverview: { uid: 'ktrdr-system-overview', title: 'KTRDR System Overview' },
    workerStatus: { uid: 'ktrdr-worker-status', title: 'KTRDR Worker Status' },
    operations: { uid: 'ktrdr-operations', title: 'KTRDR Operations' },
  },

  // The Grafana folder of the KTRDR dashboards wherever they are deployed: the title the
  // Helm sidecar's folder annotation and the operators' folder carry, and the uid `apply`
  // and the Grafana resources file them under (provisioning/dashboards/ktrdr.yaml names the
  // same title for file provisioning).
  folder: { title: 'KTRDR', uid: 'ktrdr' },

  // Kubernetes resources under build/kubernetes/<flavour>/ (docs/deploy.md). Names, the
  // namespace and labels are checked against Kubernetes' rules before anything is written.
  kubernetes: {
    // The ways to deploy that `build` writes; drop the ones a team does not use. The Grafana
    // resources (/apis, gcx) and the operator's GrafanaManifests of them need Grafana 12 or 13.
    flavours: ['helm-sidecar', 'grafana-operator', 'prometheus-operator']
              + (if $.grafana.dashboardApi != null then ['grafana-resources', 'grafana-manifests'] else []),
    // Where kube-prometheus and the Grafana Helm chart's usual installs run Grafana and
    // Prometheus; the Helm sidecar watches its own namespace unless told otherwise.
    namespace: 'monitoring',
    // On every resource, so `kubectl get cm,grafanadashboards -l app.kubernetes.io/part-of=ktrdr`
    // finds them all (Kubernetes' recommended label names).
    labels: {
      'app.kubernetes.io/name': 'ktrdr-dashboards',
      'app.kubernetes.io/part-of': 'ktrdr',
    },
    // The Grafana Helm chart's dashboard sidecar: it loads ConfigMaps carrying `label` =
    // `labelValue` (the chart's defaults, sidecar.dashboards.label/labelValue) and puts each in
    // the folder named by `folderAnnotation` when the chart's sidecar.dashboards.folderAnnotation
    // is set to this name.
    helmSidecar: { label: 'grafana_dashboard', labelValue: '1', folderAnnotation: 'grafana_folder' },
    // grafana-operator: which Grafana instances (their labels) receive the folder, dashboards
    // and datasources, and where those datasources reach Prometheus and Jaeger in-cluster
    // (prometheus-operated is the Service every operator-managed Prometheus gets).
    grafanaOperator: {
      instanceSelector: { matchLabels: { dashboards: 'grafana' } },
      datasourceUrls: {
        prometheus: 'http://prometheus-operated.monitoring.svc:9090',
        jaeger: 'http://jaeger-query.monitoring.svc:16686',
      },
    },
    // prometheus-operator: the labels the Prometheus object's ruleSelector matches
    // (kube-prometheus' own rules carry these; kube-prometheus-stack wants `release: <name>`).
    prometheusOperator: { ruleLabels: { prometheus: 'k8s', role: 'alert-rules' } },
    // Grafana resources (gcx, grafanactl, and the templates of the GrafanaManifests): the
    // namespace of Grafana's own API, `default` for organisation 1 (`stacks-<id>` on Grafana
    // Cloud).
    grafanaResources: { namespace: 'default' },
  },

  // Prometheus scrape interval in every KTRDR environment; Grafana derives
  // $__rate_interval from it (datasource `timeInterval`).
  scrapeInterval: '15s',

  selectors: {
    // A KTRDR service is a scrape target on a KTRDR port: the backend API on 8000, workers on
    // 5003-5008, in every environment. Selecting by port, not by job name (job names differ
    // between environments; naming them broke the reference), also keeps a service that is
    // down, or has served no request yet, in the Service list and the health tables.
    serviceInstanceRegex: '.+:(8000|500[3-8])',
    // Workers listen on 5003-5008 in every environment, the backend on 8000: the port, not
    // the job name, tells a worker.
    workerInstanceRegex: '.+:500[3-8]',
    job: 'job=~"$job"',
    workerInstance: 'instance=~"$instance"',
  },

  // Windows that are part of a panel's meaning; every other rate uses $__rate_interval.
  windows: {
    perHour: '1h',  // "/Hour" panels count operations that ended in the last hour
    // Recent enough that new failures move Success Rate, long enough to hold several
    // ended operations (they take minutes).
    successRate: '1h',
    // Tables that summarize the selected time range.
    selectedRange: '$__range',
  },

  // Stat colours: each list is [base, then each step's lower bound].
  thresholds: {
    healthyServices: { warning: 2, ok: 4 },  // design notes: green >= 4, yellow >= 2
    errorRatePercent: { warning: 1, critical: 5 },  // green < 1 %, yellow < 5 %
    p95LatencyMs: { warning: 100, critical: 500 },  // green < 100 ms, yellow < 500 ms
    availableWorkers: { warning: 2, ok: 4 },  // green >= 4, yellow >= 2
    successRatePercent: { warning: 80, ok: 95 },  // green >= 95 %, yellow >= 80 %
  },

  // The worker types the backend reports, always both (0 when none).
  workerTypes: { backtesting: 'backtesting', training: 'training' },

  // Panels and alerts read the recording rules of build/prometheus/rules where one exists:
  // every way of deploying ships those rules, and a refresh then costs a fraction of the raw
  // expressions. false: raw expressions, for a Prometheus that cannot load the rules.
  useRecordingRules: true,

  // Prometheus rules (build/prometheus/rules, lib/ktrdr/prometheus-rules.libsonnet). Alerts
  // compare the dashboards' own expressions with `thresholds` above, so a panel and its
  // alert change together: an alert fires exactly when the panel (all services selected)
  // leaves green. Healthy Services' `ok` is the expected service count.
  rules: {
    // Rules have no $__rate_interval: rates in alerts and recordings use this window
    // (20 scrapes, smooth enough that one slow request does not page anyone).
    rateWindow: '5m',
    // Grafana as the people who get the alerts reach it, prefixed to the `dashboard`
    // annotation; '' keeps the links relative (/d/<uid>?viewPanel=<id>).
    grafanaUrl: '',
    // Alert severity by the colour the panel shows: yellow warns, red is critical.
    severity: { yellow: 'warning', red: 'critical' },
    // Severity of the checks that have no panel colour.
    noAvailableWorkersSeverity: 'warning',  // work queues up; nothing is lost
    workerDownSeverity: 'warning',  // the other workers of its type take over
    // How long a condition must hold before its alert fires: long enough that a single
    // failed scrape or one slow minute is not an alert.
    'for': {
      servicesDown: '2m',  // 8 failed scrapes
      errorRate: '5m',
      p95Latency: '10m',  // latency is spikier than errors
      // All workers of a type busy is normal under load for a while; only a long stretch
      // means operations of that type are stuck waiting.
      noAvailableWorkers: '15m',
      operationFailureRate: '10m',  // the rate itself already spans config.windows.successRate
      workerDown: '2m',
    },
  },
}
