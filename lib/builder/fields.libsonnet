// Building blocks shared by every panel type. Each setter returns a small
// fragment that composes with `+`; names, defaults and emitted JSON follow
// upstream Grafonnet v11.4.0 so dashboards compile unchanged against either.
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

// Mapping results share one shape across Range/Regex/Special maps.
local mapOptions(o) = { options+: o };
local mapResult = objectPair('withResult', 'result', mapOptions) + {
  result: {
    local r(o) = mapOptions({ result+: o }),
    withColor(value): r({ color: value }),
    withIcon(value): r({ icon: value }),
    withIndex(value): r({ index: value }),
    withText(value): r({ text: value }),
  },
};
local mapType(type, optionSetters={}) = objectPair('withOptions', 'options') + {
  withType(): { type: type },
  [if optionSetters != {} then 'options']: optionSetters + mapResult,
};

local matcher(id) = {
  new(value): { matcher: { id: id, options: value } },
  withProperty(id, value): { properties+: [{ id: id, value: value }] },
  // Flattens a panel fragment's `fieldConfig.defaults` into override
  // properties; `custom` keys become `custom.<key>` ids.
  withPropertiesFromOptions(options):
    local flatten(obj, prefix) = std.flattenArrays([
      if k == 'custom'
      then flatten(obj[k], prefix + k + '.')
      else [{ id: prefix + k, value: obj[k] }]
      for k in std.objectFields(obj)
    ]);
    local props = flatten(options.fieldConfig.defaults, '');
    if props == [] then {} else { properties+: props },
};

local common = {
  panelOptions: arrayPair('withLinks', 'links') + {
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
    link: arrayPair('withTags', 'tags') + {
      withAsDropdown(value=true): { asDropdown: value },
      withIcon(value): { icon: value },
      withIncludeVars(value=true): { includeVars: value },
      withKeepTime(value=true): { keepTime: value },
      withTargetBlank(value=true): { targetBlank: value },
      withTitle(value): { title: value },
      withTooltip(value): { tooltip: value },
      withType(value): { type: value },
      withUrl(value): { url: value },
    },
  },

  queryOptions: arrayPair('withTargets', 'targets')
                + arrayPair('withTransformations', 'transformations') + {
    withDatasource(type, uid): { datasource+: { type: type, uid: uid } },
    withDatasourceMixin(value): { datasource+: value },
    withMaxDataPoints(value): { maxDataPoints: value },
    withInterval(value): { interval: value },
    withQueryCachingTTL(value): { queryCachingTTL: value },
    withTimeFrom(value): { timeFrom: value },
    withTimeShift(value): { timeShift: value },
    withHideTimeOverride(value=true): { hideTimeOverride: value },
    transformation: objectPair('withOptions', 'options')
                    + objectPair('withFilter', 'filter') + {
      withId(value): { id: value },
      withDisabled(value=true): { disabled: value },
      withTopic(value): { topic: value },
      filter: objectPair('withOptions', 'options', function(o) { filter+: o }) + {
        withId(value=''): { filter+: { id: value } },
      },
    },
  },

  standardOptions: arrayPair('withLinks', 'links', defaults)
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
    color: {
      withMode(value): defaults({ color+: { mode: value } }),
      withFixedColor(value): defaults({ color+: { fixedColor: value } }),
      withSeriesBy(value): defaults({ color+: { seriesBy: value } }),
    },
    thresholds: arrayPair('withSteps', 'steps', function(o) defaults({ thresholds+: o })) + {
      withMode(value): defaults({ thresholds+: { mode: value } }),
    },
    threshold: {
      step: {
        withColor(value): { color: value },
        withValue(value): { value: value },
      },
    },
    mapping: {
      ValueMap: mapType('value'),
      RangeMap: mapType('range', {
        withFrom(value): mapOptions({ from: value }),
        withTo(value): mapOptions({ to: value }),
      }),
      RegexMap: mapType('regex', {
        withPattern(value): mapOptions({ pattern: value }),
      }),
      SpecialValueMap: mapType('special', {
        withMatch(value): mapOptions({ match: value }),
      }),
    },
    override: {
      byName: matcher('byName'),
      byRegexp: matcher('byRegexp'),
      byType: matcher('byType'),
      byQuery: matcher('byQuery'),
      byValue: matcher('byValue'),
    },
  },

  gridPos: {
    withH(value=9): { gridPos+: { h: value } },
    withW(value=12): { gridPos+: { w: value } },
    withX(value=0): { gridPos+: { x: value } },
    withY(value=0): { gridPos+: { y: value } },
    withStatic(value=true): { gridPos+: { static: value } },
  },

  libraryPanel: {
    withName(value): { libraryPanel+: { name: value } },
    withUid(value): { libraryPanel+: { uid: value } },
  },
};

{
  wrap: wrap,
  required: required,
  arrayPair: arrayPair,
  objectPair: objectPair,
  opts: opts,
  custom: custom,

  // `common` plus a type id and `new`; panel types add their options on top.
  panel(type): common {
    new(title): {
      type: type,
      title: title,
      pluginVersion: 'v11.4.0',
      // Mixed by default so targets carry their own datasource (upstream).
      datasource: { type: 'datasource', uid: '-- Mixed --' },
    },
    panelOptions+: { withType(): { type: type } },
  },

  // Fragments merged into a panel type's `options`.
  // Legend defaults differ per panel type (pieChart has none).
  legend(displayMode, placement):
    objectPair('withLegend', 'legend', opts) + {
      legend: arrayPair('withCalcs', 'calcs', function(o) opts({ legend+: o })) + {
        local l(o) = opts({ legend+: o }),
        withAsTable(value=true): l({ asTable: value }),
        withDisplayMode(value=displayMode): l({ displayMode: value }),
        withIsVisible(value=true): l({ isVisible: value }),
        withPlacement(value=placement): l({ placement: value }),
        withShowLegend(value=true): l({ showLegend: value }),
        withSortBy(value): l({ sortBy: value }),
        withSortDesc(value=true): l({ sortDesc: value }),
        withWidth(value): l({ width: value }),
      },
    },

  tooltip: objectPair('withTooltip', 'tooltip', opts) + {
    tooltip: {
      local t(o) = opts({ tooltip+: o }),
      withMode(value): t({ mode: value }),
      withSort(value): t({ sort: value }),
      withMaxHeight(value): t({ maxHeight: value }),
      withMaxWidth(value): t({ maxWidth: value }),
    },
  },

  reduceOptions: objectPair('withReduceOptions', 'reduceOptions', opts) + {
    reduceOptions: arrayPair('withCalcs', 'calcs', function(o) opts({ reduceOptions+: o })) + {
      local r(o) = opts({ reduceOptions+: o }),
      withFields(value): r({ fields: value }),
      withLimit(value): r({ limit: value }),
      withValues(value=true): r({ values: value }),
    },
  },

  text: objectPair('withText', 'text', opts) + {
    text: {
      withTitleSize(value): opts({ text+: { titleSize: value } }),
      withValueSize(value): opts({ text+: { valueSize: value } }),
    },
  },

  orientation: {
    withOrientation(value): opts({ orientation: value }),
  },

  timezone: arrayPair('withTimezone', 'timezone', opts),

  // Fragments merged into a panel type's `fieldConfig.defaults.custom`.
  axis: {
    withAxisBorderShow(value=true): custom({ axisBorderShow: value }),
    withAxisCenteredZero(value=true): custom({ axisCenteredZero: value }),
    withAxisColorMode(value): custom({ axisColorMode: value }),
    withAxisGridShow(value=true): custom({ axisGridShow: value }),
    withAxisLabel(value): custom({ axisLabel: value }),
    withAxisPlacement(value): custom({ axisPlacement: value }),
    withAxisSoftMax(value): custom({ axisSoftMax: value }),
    withAxisSoftMin(value): custom({ axisSoftMin: value }),
    withAxisWidth(value): custom({ axisWidth: value }),
  },

  hideFrom: objectPair('withHideFrom', 'hideFrom', custom) + {
    hideFrom: {
      withLegend(value=true): custom({ hideFrom+: { legend: value } }),
      withTooltip(value=true): custom({ hideFrom+: { tooltip: value } }),
      withViz(value=true): custom({ hideFrom+: { viz: value } }),
    },
  },

  stacking: objectPair('withStacking', 'stacking', custom) + {
    stacking: {
      withGroup(value): custom({ stacking+: { group: value } }),
      withMode(value): custom({ stacking+: { mode: value } }),
    },
  },

  // Defaults differ per panel type: pass `required` where upstream has none.
  lineFill(lineWidth, fillOpacity): {
    withLineWidth(value=lineWidth): custom({ lineWidth: value }),
    withFillOpacity(value=fillOpacity): custom({ fillOpacity: value }),
  },
}
