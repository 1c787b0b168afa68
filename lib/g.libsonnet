// A small, hand-written subset of upstream Grafonnet v11.4.0 (grafana/grafonnet,
// gen/grafonnet-v11.4.0) with the same names, argument order, defaults and
// emitted JSON, so dashboards compile unchanged against either library.
//
// Deliberately one file: the C++ jsonnet binding pays ~20 ms per imported
// file (each one is desugared together with the whole std library), more than
// evaluating this library costs.
//
// C++ jsonnet does not memoize object fields: every access re-evaluates the
// field's expression (and object-level `local`s are copied into every field).
// File-level locals, in contrast, are thunks evaluated once. So every
// namespace below that is built by a call or a `+` is a file-level local, and
// namespace fields only ever name such locals (`{ stat: statPanel }`): a call
// like `g.panel.stat.standardOptions.thresholds.withMode(...)` then walks
// ready-made objects instead of rebuilding four of them. Keep it that way
// (tests/test_builder.py guards it): a field whose value is `f(...)` or
// `a + b` is rebuilt on every use.

// --- Fragment helpers --------------------------------------------------------
local wrap(v) = if std.isArray(v) then v else [v];

// Upstream setters without a default fail when called bare. A parameter
// defaulting to this fails the same way (lazily) where a shared fragment
// needs "no default" for one panel type and a real default for another.
local required = error 'this argument has no default upstream; pass a value';

local opts(o) = { options+: o };
local defaults(o) = { fieldConfig+: { defaults+: o } };
local custom(o) = defaults({ custom+: o });

// `name` sets an array field (scalars are wrapped, as upstream does) and
// `nameMixin` appends to it; `at` nests the field where the panel keeps it.
local arrayPair(name, field, at=function(o) o) = {
  [name](value): at({ [field]: wrap(value) }),
  [name + 'Mixin'](value): at({ [field]+: wrap(value) }),
};

// Same for object fields: replace, or merge into what is already there.
local objectPair(name, field, at=function(o) o) = {
  [name](value): at({ [field]: value }),
  [name + 'Mixin'](value): at({ [field]+: value }),
};

// --- Common panel groups (panelOptions, queryOptions, standardOptions, ...) ----
local panelLink = arrayPair('withTags', 'tags') + {
  withAsDropdown(value=true): { asDropdown: value },
  withIcon(value): { icon: value },
  withIncludeVars(value=true): { includeVars: value },
  withKeepTime(value=true): { keepTime: value },
  withTargetBlank(value=true): { targetBlank: value },
  withTitle(value): { title: value },
  withTooltip(value): { tooltip: value },
  withType(value): { type: value },
  withUrl(value): { url: value },
};

// Each panel type adds its own `withType` (see panelBase).
local panelOptions = arrayPair('withLinks', 'links') + {
  withTitle(value): { title: value },
  withDescription(value): { description: value },
  withTransparent(value=true): { transparent: value },
  withMaxPerRow(value): { maxPerRow: value },
  withRepeat(value): { repeat: value },
  withRepeatDirection(value='h'): { repeatDirection: value },
  withPluginVersion(): { pluginVersion: 'v11.4.0' },
  // Only the arguments given are set, so partial updates compose.
  withGridPos(h=null, w=null, x=null, y=null):
    (if h != null then { gridPos+: { h: h } } else {})
    + (if w != null then { gridPos+: { w: w } } else {})
    + (if x != null then { gridPos+: { x: x } } else {})
    + (if y != null then { gridPos+: { y: y } } else {}),
  link: panelLink,
};

local transformationFilter = objectPair('withOptions', 'options', function(o) { filter+: o }) + {
  withId(value=''): { filter+: { id: value } },
};

local transformation = objectPair('withOptions', 'options')
                       + objectPair('withFilter', 'filter') + {
  withId(value): { id: value },
  withDisabled(value=true): { disabled: value },
  withTopic(value): { topic: value },
  filter: transformationFilter,
};

local queryOptions = arrayPair('withTargets', 'targets')
                     + arrayPair('withTransformations', 'transformations') + {
  withDatasource(type, uid): { datasource+: { type: type, uid: uid } },
  withDatasourceMixin(value): { datasource+: value },
  withMaxDataPoints(value): { maxDataPoints: value },
  withInterval(value): { interval: value },
  withQueryCachingTTL(value): { queryCachingTTL: value },
  withTimeFrom(value): { timeFrom: value },
  withTimeShift(value): { timeShift: value },
  withHideTimeOverride(value=true): { hideTimeOverride: value },
  transformation: transformation,
};

local fieldColor = {
  withMode(value): defaults({ color+: { mode: value } }),
  withFixedColor(value): defaults({ color+: { fixedColor: value } }),
  withSeriesBy(value): defaults({ color+: { seriesBy: value } }),
};

local thresholdsOf(o) = defaults({ thresholds+: o });
local fieldThresholds = arrayPair('withSteps', 'steps', thresholdsOf) + {
  withMode(value): thresholdsOf({ mode: value }),
};

local thresholdStep = {
  withColor(value): { color: value },
  withValue(value): { value: value },
};
local threshold = { step: thresholdStep };

// Mapping results share one shape across Range/Regex/Special maps.
local mapOptions(o) = { options+: o };
local mapResultOf(o) = mapOptions({ result+: o });
local mapResultGroup = {
  withColor(value): mapResultOf({ color: value }),
  withIcon(value): mapResultOf({ icon: value }),
  withIndex(value): mapResultOf({ index: value }),
  withText(value): mapResultOf({ text: value }),
};
local mapResult = objectPair('withResult', 'result', mapOptions) + {
  result: mapResultGroup,
};
// Called once per mapping kind (bound to locals below), never from a field.
local mapType(type, optionSetters={}) =
  local options = optionSetters + mapResult;
  objectPair('withOptions', 'options') + {
    withType(): { type: type },
    [if optionSetters != {} then 'options']: options,
  };

local valueMap = mapType('value');
local rangeMap = mapType('range', {
  withFrom(value): mapOptions({ from: value }),
  withTo(value): mapOptions({ to: value }),
});
local regexMap = mapType('regex', {
  withPattern(value): mapOptions({ pattern: value }),
});
local specialValueMap = mapType('special', {
  withMatch(value): mapOptions({ match: value }),
});
local mapping = {
  ValueMap: valueMap,
  RangeMap: rangeMap,
  RegexMap: regexMap,
  SpecialValueMap: specialValueMap,
};

// Flattens a panel fragment's `fieldConfig.defaults` into override
// properties; `custom` keys become `custom.<key>` ids.
local flattenDefaults(obj, prefix) = std.flattenArrays([
  if k == 'custom'
  then flattenDefaults(obj[k], prefix + k + '.')
  else [{ id: prefix + k, value: obj[k] }]
  for k in std.objectFields(obj)
]);

local matcher(id) = {
  new(value): { matcher: { id: id, options: value } },
  withProperty(id, value): { properties+: [{ id: id, value: value }] },
  withPropertiesFromOptions(options):
    local props = flattenDefaults(options.fieldConfig.defaults, '');
    if props == [] then {} else { properties+: props },
};

local byName = matcher('byName');
local byRegexp = matcher('byRegexp');
local byType = matcher('byType');
local byQuery = matcher('byQuery');
local byValue = matcher('byValue');
local override = {
  byName: byName,
  byRegexp: byRegexp,
  byType: byType,
  byQuery: byQuery,
  byValue: byValue,
};

local standardOptions = arrayPair('withLinks', 'links', defaults)
                        + arrayPair('withMappings', 'mappings', defaults)
                        + arrayPair('withOverrides', 'overrides', function(o) { fieldConfig+: o }) + {
  withUnit(value): defaults({ unit: value }),
  withMin(value): defaults({ min: value }),
  withMax(value): defaults({ max: value }),
  withDecimals(value): defaults({ decimals: value }),
  withDisplayName(value): defaults({ displayName: value }),
  withNoValue(value): defaults({ noValue: value }),
  withFilterable(value=true): defaults({ filterable: value }),
  withPath(value): defaults({ path: value }),
  color: fieldColor,
  thresholds: fieldThresholds,
  threshold: threshold,
  mapping: mapping,
  override: override,
};

local panelGridPos = {
  withH(value=9): { gridPos+: { h: value } },
  withW(value=12): { gridPos+: { w: value } },
  withX(value=0): { gridPos+: { x: value } },
  withY(value=0): { gridPos+: { y: value } },
  withStatic(value=true): { gridPos+: { static: value } },
};

local libraryPanel = {
  withName(value): { libraryPanel+: { name: value } },
  withUid(value): { libraryPanel+: { uid: value } },
};

// The groups every panel type has, plus its type id and `new`; panel types
// add their options on top. Called once per type (bound to locals below).
local panelBase(type) =
  local typedPanelOptions = panelOptions { withType(): { type: type } };
  {
    new(title): {
      type: type,
      title: title,
      pluginVersion: 'v11.4.0',
      // Mixed by default so targets carry their own datasource (upstream).
      datasource: { type: 'datasource', uid: '-- Mixed --' },
    },
    panelOptions: typedPanelOptions,
    queryOptions: queryOptions,
    standardOptions: standardOptions,
    gridPos: panelGridPos,
    libraryPanel: libraryPanel,
  };

// A panel type's `fieldConfig` namespace around its `custom` group.
local customFieldConfig(customGroup) =
  local fieldDefaults = { custom: customGroup };
  { defaults: fieldDefaults };

// --- Shared option fragments (merged into a panel type's `options`) ------------
local legendOf(o) = opts({ legend+: o });
local legendSetters = objectPair('withLegend', 'legend', opts);
// Legend defaults differ per panel type (pieChart has none).
local legendGroup(displayMode, placement) =
  arrayPair('withCalcs', 'calcs', legendOf) + {
    withAsTable(value=true): legendOf({ asTable: value }),
    withDisplayMode(value=displayMode): legendOf({ displayMode: value }),
    withIsVisible(value=true): legendOf({ isVisible: value }),
    withPlacement(value=placement): legendOf({ placement: value }),
    withShowLegend(value=true): legendOf({ showLegend: value }),
    withSortBy(value): legendOf({ sortBy: value }),
    withSortDesc(value=true): legendOf({ sortDesc: value }),
    withWidth(value): legendOf({ width: value }),
  };
local listBottomLegendGroup = legendGroup('list', 'bottom');
local listBottomLegend = legendSetters { legend: listBottomLegendGroup };

local tooltipOf(o) = opts({ tooltip+: o });
local tooltipGroup = {
  withMode(value): tooltipOf({ mode: value }),
  withSort(value): tooltipOf({ sort: value }),
  withMaxHeight(value): tooltipOf({ maxHeight: value }),
  withMaxWidth(value): tooltipOf({ maxWidth: value }),
};
local tooltip = objectPair('withTooltip', 'tooltip', opts) + { tooltip: tooltipGroup };

local reduceOptionsOf(o) = opts({ reduceOptions+: o });
local reduceOptionsGroup = arrayPair('withCalcs', 'calcs', reduceOptionsOf) + {
  withFields(value): reduceOptionsOf({ fields: value }),
  withLimit(value): reduceOptionsOf({ limit: value }),
  withValues(value=true): reduceOptionsOf({ values: value }),
};
local reduceOptions = objectPair('withReduceOptions', 'reduceOptions', opts) + {
  reduceOptions: reduceOptionsGroup,
};

local textGroup = {
  withTitleSize(value): opts({ text+: { titleSize: value } }),
  withValueSize(value): opts({ text+: { valueSize: value } }),
};
local textOptions = objectPair('withText', 'text', opts) + { text: textGroup };

local orientation = {
  withOrientation(value): opts({ orientation: value }),
};

local timezone = arrayPair('withTimezone', 'timezone', opts);

// --- Shared custom fragments (merged into `fieldConfig.defaults.custom`) -------
local axis = {
  withAxisBorderShow(value=true): custom({ axisBorderShow: value }),
  withAxisCenteredZero(value=true): custom({ axisCenteredZero: value }),
  withAxisColorMode(value): custom({ axisColorMode: value }),
  withAxisGridShow(value=true): custom({ axisGridShow: value }),
  withAxisLabel(value): custom({ axisLabel: value }),
  withAxisPlacement(value): custom({ axisPlacement: value }),
  withAxisSoftMax(value): custom({ axisSoftMax: value }),
  withAxisSoftMin(value): custom({ axisSoftMin: value }),
  withAxisWidth(value): custom({ axisWidth: value }),
};

local hideFromGroup = {
  withLegend(value=true): custom({ hideFrom+: { legend: value } }),
  withTooltip(value=true): custom({ hideFrom+: { tooltip: value } }),
  withViz(value=true): custom({ hideFrom+: { viz: value } }),
};
local hideFrom = objectPair('withHideFrom', 'hideFrom', custom) + { hideFrom: hideFromGroup };

local stackingGroup = {
  withGroup(value): custom({ stacking+: { group: value } }),
  withMode(value): custom({ stacking+: { mode: value } }),
};
local stacking = objectPair('withStacking', 'stacking', custom) + { stacking: stackingGroup };

// Defaults differ per panel type: pass `required` where upstream has none.
local lineFill(lineWidth, fillOpacity) = {
  withLineWidth(value=lineWidth): custom({ lineWidth: value }),
  withFillOpacity(value=fillOpacity): custom({ fillOpacity: value }),
};

// --- g.util --------------------------------------------------------------------
local gridWidth = 24;
local isRow(p) = p.type == 'row';
local max(a, b) = if a > b then a else b;

// Panels up to (not including) the first row.
local beforeFirstRow(panels) =
  local rows = [i for i in std.range(0, std.length(panels) - 1) if isRow(panels[i])];
  if rows == [] then panels else panels[0:rows[0]];

// Upstream's y for a box [x, w, h]: below every earlier box [x, y, w, h] it
// overlaps on x. Overlap is tested on the box's two x edges only, as upstream does.
local lowestY(box, placed) =
  local v1 = box[0];
  local v2 = v1 + box[1];
  local inside(v, q) = v >= q[0] && v < q[0] + q[2];
  std.foldl(max, [q[1] + q[3] for q in placed if inside(v1, q) || inside(v2, q)], 0);

local setPanelIDs(panels, overrideExistingIDs=true) =
  local number(panels, start) = std.foldl(
    function(acc, panel)
      local id = acc.next;
      local nested = isRow(panel) && std.objectHasAll(panel, 'panels');
      local children = if nested then panel.panels else [];
      // A row's nested panels take the ids right after the row's own.
      local next = id + 1 + std.length(children);
      {
        next: next,
        panels: acc.panels + [
          panel
          + (if overrideExistingIDs || std.get(panel, 'id', null) == null
             then { id: id } else {})
          + (if nested then { panels: number(children, id + 1) } else {}),
        ],
      },
    panels,
    { next: start, panels: [] }
  ).panels;
  number(panels, 1);

// Grafana's refId sequence: A..Z, AA, AB, ...
local refId(n) =
  local letter(i) = std.char(65 + i);
  if n < 26 then letter(n) else refId(std.floor(n / 26) - 1) + letter(n % 26);

local setRefIDs(panel, overrideExistingIDs=true) =
  // Read once: every `panel.targets` re-evaluates the panel's targets chain.
  local targets = panel.targets;
  panel {
    targets: [
      local t = targets[i];
      if overrideExistingIDs || !std.objectHas(t, 'refId') then t { refId: refId(i) } else t
      for i in std.range(0, std.length(targets) - 1)
    ],
  };

// Fills in missing gridPos (and row fields) the way upstream's sanitizePanel does.
local sanitize(p, panelWidth, panelHeight) =
  local gp = std.get(p, 'gridPos', {});
  if isRow(p) then p {
    collapsed: std.get(p, 'collapsed', false),
    panels: [sanitize(c, panelWidth, panelHeight) for c in std.get(p, 'panels', [])],
    gridPos: { x: 0, y: std.get(gp, 'y', 0), h: 1, w: 24 },
  } else p {
    gridPos: {
      x: std.get(gp, 'x', 0),
      y: std.get(gp, 'y', 0),
      h: panelHeight,
      w: panelWidth,
    },
  };

local makeGrid(panels, panelWidth=8, panelHeight=8, startY=0) =
  local sane = [sanitize(p, panelWidth, panelHeight) for p in panels];
  local perLine = std.floor(gridWidth / panelWidth);
  local withX(ps) = [
    ps[i] { gridPos+: { x: panelWidth * (i % perLine) } }
    for i in std.range(0, std.length(ps) - 1)
  ];
  // Each row takes the panels after it (up to the next row); a row that is not
  // collapsed then releases them back below itself.
  local rowIdx = [i for i in std.range(0, std.length(sane) - 1) if isRow(sane[i])];
  local rows = [
    sane[r] { panels: withX(sane[r].panels + beforeFirstRow(sane[r + 1:])) }
    for r in rowIdx
  ];
  local flat = withX(beforeFirstRow(sane)) + std.flattenArrays([
    if r.collapsed then [r] else [r { panels: [] }] + r.panels
    for r in rows
  ]);
  // Geometry as plain numbers: with objects, every overlap check would
  // re-evaluate each panel's whole gridPos chain.
  local placed = std.foldl(
    function(acc, p)
      local box = [p.gridPos.x, p.gridPos.w, p.gridPos.h];
      acc + [[box[0], lowestY(box, acc), box[1], box[2]]],
    flat,
    []
  );
  [
    flat[i] { gridPos+: { y: placed[i][1] + startY } }
    for i in std.range(0, std.length(flat) - 1)
  ];

local wrapPanels(panels, panelWidth=8, panelHeight=8, startY=0) =
  // Cursor-based layout. Upstream quirks kept on purpose: a wrapped line
  // starts at y + (this panel's height), not the tallest panel's, and a row
  // with no panels gets w: 0 at the current x.
  local place(acc, panel) =
    local gp = std.get(panel, 'gridPos', {});
    local w = std.get(gp, 'w', panelWidth);
    local h = std.get(gp, 'h', panelHeight);
    local wraps = acc.x + w > gridWidth;
    local x = if wraps then 0 else acc.x;
    local y = if wraps then acc.y + h else acc.y;
    local maxH = max(h, acc.maxH);
    {
      panels: acc.panels + [panel { gridPos+: { x: x, y: y, w: w, h: h } }],
      x: x + w,
      y: y,
      maxH: maxH,
    };
  local step(acc, panel) =
    local below = acc.y + acc.maxH;
    if !isRow(panel) then place(acc, panel)
    else if std.length(std.get(panel, 'panels', [])) > 0 then
      local inner = std.foldl(place, panel.panels, { panels: [], x: 0, y: below + 1, maxH: 0 });
      inner {
        panels: acc.panels + [panel { panels: inner.panels, gridPos+: { x: 0, y: below, w: 0 } }],
      }
    else {
      panels: acc.panels + [panel { panels: [], gridPos+: { x: acc.x, y: below, w: 0, h: 1 } }],
      x: 0,
      y: below + 1,
      maxH: 0,
    };
  std.foldl(step, panels, { panels: [], x: 0, y: startY, maxH: 0 }).panels;

local utilGrid = {
  makeGrid: makeGrid,
  wrapPanels: wrapPanels,
};
local utilPanel = {
  setPanelIDs: setPanelIDs,
  setRefIDs: setRefIDs,
  setRefIDsOnPanels(panels): [setRefIDs(p) for p in panels],
};
local util = { grid: utilGrid, panel: utilPanel };


// --- g.dashboard.variable (upstream's hand-written veneer) ---------------------
// Grafana does not derive `current`/`options` from `query` on import, so the
// first value is preselected here; multi-value variables hold arrays.
local currentOf(items, multi) = {
  selected: false,
  text: if multi then [items[0].key] else items[0].key,
  value: if multi then [items[0].value] else items[0].value,
};
local optionsOf(items) = [
  { selected: i == 0, text: items[i].key, value: items[i].value }
  for i in std.range(0, std.length(items) - 1)
];

local showOnDashboard = {
  withLabelAndValue(): { hide: 0 },
  withValueOnly(): { hide: 1 },
  withNothing(): { hide: 2 },
};
local generalOptionsGroup = {
  withName(value): { name: value },
  withLabel(value): { label: value },
  withDescription(value): { description: value },
  withCurrent(key, value=key): {
    // `self` is the finished variable, so a later `withMulti` still counts.
    local multi(v) = if std.get(self, 'multi', false) && !std.isArray(v) then [v] else v,
    current: { selected: false, text: multi(key), value: multi(value) },
  },
  showOnDashboard: showOnDashboard,
};
local generalOptions = { generalOptions: generalOptionsGroup };

local selectionOptionsGroup = {
  withMulti(value=true): { multi: value },
  withIncludeAll(value=true, customAllValue=null): {
    includeAll: value,
    [if customAllValue != null then 'allValue']: customAllValue,
  },
};
local selectionOptions = { selectionOptions: selectionOptionsGroup };

local withRegex = { withRegex(value): { regex: value } };

// Options derived from a list of {key, value} items kept hidden in `items`.
local listed = {
  current: currentOf(self.items, std.get(self, 'multi', false)),
  options: optionsOf(self.items),
};

local queryTypes = {
  withLabelValues(label, metric=''):
    { query: 'label_values(' + (if metric == '' then '' else metric + ', ') + label + ')' },
  withQueryResult(query): { query: 'query_result(' + query + ')' },
};
local queryRefresh = {
  onLoad(): { refresh: 1 },
  onTime(): { refresh: 2 },
};

local queryVariable = generalOptions + selectionOptions + withRegex + {
  new(name, query=''): { name: name, type: 'query', query: query },
  withDatasource(type, uid): { datasource+: { type: type, uid: uid } },
  withDatasourceFromVariable(variable):
    if variable.type == 'datasource'
    then self.withDatasource(variable.query, '${' + variable.name + '}')
    else error "`variable` not of type 'datasource'",
  // Numeric `i` wins; otherwise the kind/direction pick Grafana's sort code.
  withSort(i=0, type='alphabetical', asc=true, caseInsensitive=false):
    if i != 0 then { sort: i }
    else {
      sort: {
        alphabetical: if caseInsensitive then (if asc then 5 else 6) else (if asc then 1 else 2),
        numerical: if asc then 3 else 4,
      }[type],
    },
  queryTypes: queryTypes,
  refresh: queryRefresh,
};

local customVariable = generalOptions + selectionOptions + {
  new(name, values): listed {
    name: name,
    type: 'custom',
    items:: [
      if std.isObject(v) then v else { key: std.toString(v), value: std.toString(v) }
      for v in values
    ],
    query: std.join(',', [i.key + ' : ' + i.value for i in self.items]),
  },
};

local intervalVariable = generalOptions {
  new(name, values): listed {
    name: name,
    type: 'interval',
    items:: [{ key: v, value: v } for v in values],
    query: std.join(',', values),
  },
};

local textboxVariable = generalOptions {
  new(name, default=''): listed {
    name: name,
    type: 'textbox',
    local this = self,
    query: default,
    items:: [{ key: this.query, value: this.query }],
  },
};

local constantVariable = generalOptions {
  new(name, value=''): { name: name, type: 'constant', hide: 2, query: value },
};

local datasourceVariable = generalOptions + selectionOptions + withRegex + {
  new(name, type): { name: name, type: 'datasource', query: type },
};

local variable = {
  query: queryVariable,
  custom: customVariable,
  interval: intervalVariable,
  textbox: textboxVariable,
  constant: constantVariable,
  datasource: datasourceVariable,
};

// --- g.panel -------------------------------------------------------------------
local statOptions = reduceOptions + textOptions + orientation + {
  withColorMode(value='value'): opts({ colorMode: value }),
  withGraphMode(value='area'): opts({ graphMode: value }),
  withJustifyMode(value='auto'): opts({ justifyMode: value }),
  withTextMode(value='auto'): opts({ textMode: value }),
  withWideLayout(value=true): opts({ wideLayout: value }),
  withShowPercentChange(value=true): opts({ showPercentChange: value }),
  withPercentChangeColorMode(value='standard'): opts({ percentChangeColorMode: value }),
};
local statPanel = panelBase('stat') + { options: statOptions };

local timeSeriesOptions = listBottomLegend + tooltip + timezone + orientation;
local lineStyleGroup = arrayPair('withDash', 'dash', function(o) custom({ lineStyle+: o })) + {
  withFill(value): custom({ lineStyle+: { fill: value } }),
};
local thresholdsStyleGroup = {
  withMode(value): custom({ thresholdsStyle+: { mode: value } }),
};
local scaleDistributionGroup = {
  withType(value): custom({ scaleDistribution+: { type: value } }),
  withLog(value): custom({ scaleDistribution+: { log: value } }),
  withLinearThreshold(value): custom({ scaleDistribution+: { linearThreshold: value } }),
};
local timeSeriesLineFill = lineFill(required, required);
local timeSeriesCustom = axis + hideFrom + stacking + timeSeriesLineFill
                         + objectPair('withLineStyle', 'lineStyle', custom)
                         + objectPair('withThresholdsStyle', 'thresholdsStyle', custom)
                         + objectPair('withScaleDistribution', 'scaleDistribution', custom) + {
  withBarAlignment(value): custom({ barAlignment: value }),
  withBarMaxWidth(value): custom({ barMaxWidth: value }),
  withBarWidthFactor(value): custom({ barWidthFactor: value }),
  withDrawStyle(value): custom({ drawStyle: value }),
  withFillBelowTo(value): custom({ fillBelowTo: value }),
  withFillColor(value): custom({ fillColor: value }),
  withGradientMode(value): custom({ gradientMode: value }),
  withInsertNulls(value): custom({ insertNulls: value }),
  withLineColor(value): custom({ lineColor: value }),
  withLineInterpolation(value): custom({ lineInterpolation: value }),
  withPointColor(value): custom({ pointColor: value }),
  withPointSize(value): custom({ pointSize: value }),
  withPointSymbol(value): custom({ pointSymbol: value }),
  withShowPoints(value): custom({ showPoints: value }),
  withSpanNulls(value): custom({ spanNulls: value }),
  withTransform(value): custom({ transform: value }),
  lineStyle: lineStyleGroup,
  thresholdsStyle: thresholdsStyleGroup,
  scaleDistribution: scaleDistributionGroup,
};
local timeSeriesFieldConfig = customFieldConfig(timeSeriesCustom);
local timeSeriesPanel = panelBase('timeseries') + {
  options: timeSeriesOptions,
  fieldConfig: timeSeriesFieldConfig,
};

local tableFooterOf(o) = opts({ footer+: o });
local tableFooter = arrayPair('withFields', 'fields', tableFooterOf)
                    + arrayPair('withReducer', 'reducer', tableFooterOf) + {
  withCountRows(value=true): tableFooterOf({ countRows: value }),
  withEnablePagination(value=true): tableFooterOf({ enablePagination: value }),
  withShow(value=true): tableFooterOf({ show: value }),
};
local tableOptions = arrayPair('withSortBy', 'sortBy', opts)
                     + objectPair('withFooter', 'footer', opts) + {
  withCellHeight(value='sm'): opts({ cellHeight: value }),
  withFrameIndex(value=0): opts({ frameIndex: value }),
  withShowHeader(value=true): opts({ showHeader: value }),
  withShowTypeIcons(value=true): opts({ showTypeIcons: value }),
  footer: tableFooter,
};
local tableCustom = objectPair('withCellOptions', 'cellOptions', custom) + {
  withAlign(value='auto'): custom({ align: value }),
  withDisplayMode(value): custom({ displayMode: value }),
  withFilterable(value=true): custom({ filterable: value }),
  withHidden(value=true): custom({ hidden: value }),
  withHideHeader(value=true): custom({ hideHeader: value }),
  withInspect(value=true): custom({ inspect: value }),
  withMinWidth(value): custom({ minWidth: value }),
  withWidth(value): custom({ width: value }),
};
local tableFieldConfig = customFieldConfig(tableCustom);
local tablePanel = panelBase('table') + {
  options: tableOptions,
  fieldConfig: tableFieldConfig,
};

// Upstream's pie legend has no displayMode/placement defaults but adds `values`.
local pieLegendGroup = legendGroup(required, required)
                       + arrayPair('withValues', 'values', legendOf);
local pieChartOptions = legendSetters + tooltip + reduceOptions + textOptions + orientation
                        + arrayPair('withDisplayLabels', 'displayLabels', opts) + {
  legend: pieLegendGroup,
  withPieType(value): opts({ pieType: value }),
};
local pieChartFieldConfig = customFieldConfig(hideFrom);
local pieChartPanel = panelBase('piechart') + {
  options: pieChartOptions,
  fieldConfig: pieChartFieldConfig,
};

local stateTimelineOptions = listBottomLegend + tooltip + timezone + {
  withAlignValue(value='left'): opts({ alignValue: value }),
  withMergeValues(value=true): opts({ mergeValues: value }),
  withPerPage(value=20): opts({ perPage: value }),
  withRowHeight(value=0.9): opts({ rowHeight: value }),
  withShowValue(value='auto'): opts({ showValue: value }),
};
local stateTimelineLineFill = lineFill(0, 70);
local stateTimelineCustom = hideFrom + stateTimelineLineFill + {
  withInsertNulls(value=null): custom({ insertNulls: value }),
  withSpanNulls(value=null): custom({ spanNulls: value }),
};
local stateTimelineFieldConfig = customFieldConfig(stateTimelineCustom);
local stateTimelinePanel = panelBase('state-timeline') + {
  options: stateTimelineOptions,
  fieldConfig: stateTimelineFieldConfig,
};

local histogramOptions = listBottomLegend + tooltip + {
  withBucketCount(value=30): opts({ bucketCount: value }),
  withBucketOffset(value=0): opts({ bucketOffset: value }),
  withBucketSize(value): opts({ bucketSize: value }),
  withCombine(value=true): opts({ combine: value }),
};
local histogramLineFill = lineFill(1, 80);
local histogramCustom = axis + hideFrom + stacking + histogramLineFill + {
  withGradientMode(value='none'): custom({ gradientMode: value }),
};
local histogramFieldConfig = customFieldConfig(histogramCustom);
local histogramPanel = panelBase('histogram') + {
  options: histogramOptions,
  fieldConfig: histogramFieldConfig,
};

local barGaugeOptions = listBottomLegend + reduceOptions + textOptions + orientation + {
  withDisplayMode(value='gradient'): opts({ displayMode: value }),
  withMaxVizHeight(value=300): opts({ maxVizHeight: value }),
  withMinVizHeight(value=16): opts({ minVizHeight: value }),
  withMinVizWidth(value=8): opts({ minVizWidth: value }),
  withNamePlacement(value='auto'): opts({ namePlacement: value }),
  withShowUnfilled(value=true): opts({ showUnfilled: value }),
  withSizing(value='auto'): opts({ sizing: value }),
  withValueMode(value='color'): opts({ valueMode: value }),
};
local barGaugePanel = panelBase('bargauge') + { options: barGaugeOptions };

local gaugeOptions = reduceOptions + textOptions + orientation + {
  withMinVizHeight(value=75): opts({ minVizHeight: value }),
  withMinVizWidth(value=75): opts({ minVizWidth: value }),
  withShowThresholdLabels(value=true): opts({ showThresholdLabels: value }),
  withShowThresholdMarkers(value=true): opts({ showThresholdMarkers: value }),
};
local gaugePanel = panelBase('gauge') + { options: gaugeOptions };

local codeGroup = {
  withLanguage(value='plaintext'): opts({ code+: { language: value } }),
  withShowLineNumbers(value=true): opts({ code+: { showLineNumbers: value } }),
  withShowMiniMap(value=true): opts({ code+: { showMiniMap: value } }),
};
local textPanelOptions = objectPair('withCode', 'code', opts) + {
  withContent(value='# Title\n\nFor markdown syntax help: [commonmark.org/help](https://commonmark.org/help/)'):
    opts({ content: value }),
  withMode(value='markdown'): opts({ mode: value }),
  code: codeGroup,
};
local textPanel = panelBase('text') + { options: textPanelOptions };

// Rows come from the dashboard schema, not panel.libsonnet: no options,
// no datasource default, fixed geometry.
local rowPanel = arrayPair('withPanels', 'panels') + {
  new(title): {
    type: 'row',
    title: title,
    collapsed: false,
    gridPos: { h: 1, w: 24, x: 0 },
  },
  withCollapsed(value=true): { collapsed: value },
  withGridPos(y): { gridPos+: { h: 1, w: 24, x: 0, y: y } },
  withId(value): { id: value },
  withRepeat(value): { repeat: value },
  withTitle(value): { title: value },
  withType(): { type: 'row' },
};

local panel = {
  stat: statPanel,
  timeSeries: timeSeriesPanel,
  table: tablePanel,
  pieChart: pieChartPanel,
  stateTimeline: stateTimelinePanel,
  histogram: histogramPanel,
  barGauge: barGaugePanel,
  gauge: gaugePanel,
  text: textPanel,
  row: rowPanel,
};

// --- g.query -------------------------------------------------------------------
local prometheus = {
  // `datasource` is a uid string such as '${datasource}'. No refId: set it
  // with `withRefId` or `g.util.panel.setRefIDs`.
  new(datasource, expr): {
    datasource: { type: 'prometheus', uid: datasource },
    expr: expr,
  },
  withEditorMode(value): { editorMode: value },
  withExemplar(value=true): { exemplar: value },
  withExpr(value): { expr: value },
  withFormat(value): { format: value },
  withHide(value=true): { hide: value },
  withInstant(value=true): { instant: value },
  withInterval(value): { interval: value },
  withIntervalFactor(value): { intervalFactor: value },
  withLegendFormat(value): { legendFormat: value },
  withQueryType(value): { queryType: value },
  withRange(value=true): { range: value },
  withRefId(value): { refId: value },
};

local query = { prometheus: prometheus };

// --- g.dashboard ---------------------------------------------------------------
local panelsField(renumber) = {
  panels: if renumber then setPanelIDs(self._panels) else self._panels,
};

local linkOptionsGroup = {
  withAsDropdown(value=true): { asDropdown: value },
  withIncludeVars(value=true): { includeVars: value },
  withKeepTime(value=true): { keepTime: value },
  withTargetBlank(value=true): { targetBlank: value },
};
local linkOptions = { options: linkOptionsGroup };

local dashboardsLink = linkOptions {
  new(title, tags): { title: title, type: 'dashboards', tags: wrap(tags) },
};
local linkLink = linkOptions {
  new(title, url): { title: title, type: 'link', url: url },
  withIcon(value): { icon: value },
  withTooltip(value): { tooltip: value },
};
local dashboardLink = { dashboards: dashboardsLink, link: linkLink };

local dashboardTime = {
  withFrom(value='now-6h'): { time+: { from: value } },
  withTo(value='now'): { time+: { to: value } },
};

local graphTooltip = {
  withSharedCrosshair(): { graphTooltip: 1 },
  withSharedTooltip(): { graphTooltip: 2 },
};

local timepickerOf(o) = { timepicker+: o };
local timepicker = arrayPair('withRefreshIntervals', 'refresh_intervals', timepickerOf)
                   + arrayPair('withTimeOptions', 'time_options', timepickerOf) + {
  withHidden(value=true): timepickerOf({ hidden: value }),
  withNowDelay(value): timepickerOf({ nowDelay: value }),
};

local dashboardLists = arrayPair('withTags', 'tags')
                       + arrayPair('withLinks', 'links')
                       + arrayPair('withVariables', 'list', function(o) { templating+: o })
                       + arrayPair('withAnnotations', 'list', function(o) { annotations+: o });

local dashboard = dashboardLists {
  new(title): {
    title: title,
    schemaVersion: 39,
    timezone: 'utc',
    time: { from: 'now-6h', to: 'now' },
  },
  withUid(value): { uid: value },
  withTitle(value): { title: value },
  withDescription(value): { description: value },
  withRefresh(value): { refresh: value },
  withTimezone(value='browser'): { timezone: value },
  withEditable(value=true): { editable: value },
  withLiveNow(value=true): { liveNow: value },
  withWeekStart(value): { weekStart: value },
  withFiscalYearStartMonth(value=0): { fiscalYearStartMonth: value },
  withSchemaVersion(value=39): { schemaVersion: value },

  // Panels are kept in a hidden list so a Mixin can renumber all ids at once.
  withPanels(panels, setPanelIDs=true):
    { _panels:: wrap(panels) } + panelsField(setPanelIDs),
  withPanelsMixin(panels, setPanelIDs=true):
    { _panels+:: wrap(panels) } + panelsField(setPanelIDs),

  time: dashboardTime,
  graphTooltip: graphTooltip,
  timepicker: timepicker,
  link: dashboardLink,
  variable: variable,
};

{
  dashboard: dashboard,
  panel: panel,
  query: query,
  util: util,
}
