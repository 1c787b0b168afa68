// Panel types: the shared fragments from fields.libsonnet plus each type's
// own options, mirroring upstream Grafonnet v11.4.0's `g.panel.*`.
local f = import 'fields.libsonnet';
local opts = f.opts;
local custom = f.custom;

local listBottomLegend = f.legend('list', 'bottom');

{
  stat: f.panel('stat') + {
    options: f.reduceOptions + f.text + f.orientation + {
      withColorMode(value='value'): opts({ colorMode: value }),
      withGraphMode(value='area'): opts({ graphMode: value }),
      withJustifyMode(value='auto'): opts({ justifyMode: value }),
      withTextMode(value='auto'): opts({ textMode: value }),
      withWideLayout(value=true): opts({ wideLayout: value }),
      withShowPercentChange(value=true): opts({ showPercentChange: value }),
      withPercentChangeColorMode(value='standard'): opts({ percentChangeColorMode: value }),
    },
  },

  timeSeries: f.panel('timeseries') + {
    options: listBottomLegend + f.tooltip + f.timezone + f.orientation,
    fieldConfig: {
      defaults: {
        custom: f.axis + f.hideFrom + f.stacking + f.lineFill(f.required, f.required)
                + f.objectPair('withLineStyle', 'lineStyle', custom)
                + f.objectPair('withThresholdsStyle', 'thresholdsStyle', custom)
                + f.objectPair('withScaleDistribution', 'scaleDistribution', custom) + {
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
          lineStyle: f.arrayPair('withDash', 'dash', function(o) custom({ lineStyle+: o })) + {
            withFill(value): custom({ lineStyle+: { fill: value } }),
          },
          thresholdsStyle: {
            withMode(value): custom({ thresholdsStyle+: { mode: value } }),
          },
          scaleDistribution: {
            withType(value): custom({ scaleDistribution+: { type: value } }),
            withLog(value): custom({ scaleDistribution+: { log: value } }),
            withLinearThreshold(value): custom({ scaleDistribution+: { linearThreshold: value } }),
          },
        },
      },
    },
  },

  table: f.panel('table') + {
    options: f.arrayPair('withSortBy', 'sortBy', opts)
             + f.objectPair('withFooter', 'footer', opts) + {
      withCellHeight(value='sm'): opts({ cellHeight: value }),
      withFrameIndex(value=0): opts({ frameIndex: value }),
      withShowHeader(value=true): opts({ showHeader: value }),
      withShowTypeIcons(value=true): opts({ showTypeIcons: value }),
      footer: f.arrayPair('withFields', 'fields', function(o) opts({ footer+: o }))
              + f.arrayPair('withReducer', 'reducer', function(o) opts({ footer+: o })) + {
        withCountRows(value=true): opts({ footer+: { countRows: value } }),
        withEnablePagination(value=true): opts({ footer+: { enablePagination: value } }),
        withShow(value=true): opts({ footer+: { show: value } }),
      },
    },
    fieldConfig: {
      defaults: {
        custom: f.objectPair('withCellOptions', 'cellOptions', custom) + {
          withAlign(value='auto'): custom({ align: value }),
          withDisplayMode(value): custom({ displayMode: value }),
          withFilterable(value=true): custom({ filterable: value }),
          withHidden(value=true): custom({ hidden: value }),
          withHideHeader(value=true): custom({ hideHeader: value }),
          withInspect(value=true): custom({ inspect: value }),
          withMinWidth(value): custom({ minWidth: value }),
          withWidth(value): custom({ width: value }),
        },
      },
    },
  },

  pieChart: f.panel('piechart') + {
    // Upstream's pie legend has no displayMode/placement defaults but adds `values`.
    options: f.legend(f.required, f.required) + f.tooltip + f.reduceOptions + f.text + f.orientation
             + f.arrayPair('withDisplayLabels', 'displayLabels', opts) + {
      legend+: f.arrayPair('withValues', 'values', function(o) opts({ legend+: o })),
      withPieType(value): opts({ pieType: value }),
    },
    fieldConfig: { defaults: { custom: f.hideFrom } },
  },

  stateTimeline: f.panel('state-timeline') + {
    options: listBottomLegend + f.tooltip + f.timezone + {
      withAlignValue(value='left'): opts({ alignValue: value }),
      withMergeValues(value=true): opts({ mergeValues: value }),
      withPerPage(value=20): opts({ perPage: value }),
      withRowHeight(value=0.9): opts({ rowHeight: value }),
      withShowValue(value='auto'): opts({ showValue: value }),
    },
    fieldConfig: {
      defaults: {
        custom: f.hideFrom + f.lineFill(0, 70) + {
          withInsertNulls(value=null): custom({ insertNulls: value }),
          withSpanNulls(value=null): custom({ spanNulls: value }),
        },
      },
    },
  },

  histogram: f.panel('histogram') + {
    options: listBottomLegend + f.tooltip + {
      withBucketCount(value=30): opts({ bucketCount: value }),
      withBucketOffset(value=0): opts({ bucketOffset: value }),
      withBucketSize(value): opts({ bucketSize: value }),
      withCombine(value=true): opts({ combine: value }),
    },
    fieldConfig: {
      defaults: {
        custom: f.axis + f.hideFrom + f.stacking + f.lineFill(1, 80) + {
          withGradientMode(value='none'): custom({ gradientMode: value }),
        },
      },
    },
  },

  barGauge: f.panel('bargauge') + {
    options: listBottomLegend + f.reduceOptions + f.text + f.orientation + {
      withDisplayMode(value='gradient'): opts({ displayMode: value }),
      withMaxVizHeight(value=300): opts({ maxVizHeight: value }),
      withMinVizHeight(value=16): opts({ minVizHeight: value }),
      withMinVizWidth(value=8): opts({ minVizWidth: value }),
      withNamePlacement(value='auto'): opts({ namePlacement: value }),
      withShowUnfilled(value=true): opts({ showUnfilled: value }),
      withSizing(value='auto'): opts({ sizing: value }),
      withValueMode(value='color'): opts({ valueMode: value }),
    },
  },

  gauge: f.panel('gauge') + {
    options: f.reduceOptions + f.text + f.orientation + {
      withMinVizHeight(value=75): opts({ minVizHeight: value }),
      withMinVizWidth(value=75): opts({ minVizWidth: value }),
      withShowThresholdLabels(value=true): opts({ showThresholdLabels: value }),
      withShowThresholdMarkers(value=true): opts({ showThresholdMarkers: value }),
    },
  },

  text: f.panel('text') + {
    options: f.objectPair('withCode', 'code', opts) + {
      withContent(value='# Title\n\nFor markdown syntax help: [commonmark.org/help](https://commonmark.org/help/)'):
        opts({ content: value }),
      withMode(value='markdown'): opts({ mode: value }),
      code: {
        withLanguage(value='plaintext'): opts({ code+: { language: value } }),
        withShowLineNumbers(value=true): opts({ code+: { showLineNumbers: value } }),
        withShowMiniMap(value=true): opts({ code+: { showMiniMap: value } }),
      },
    },
  },

  // Rows come from the dashboard schema, not panel.libsonnet: no options,
  // no datasource default, fixed geometry.
  row: f.arrayPair('withPanels', 'panels') + {
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
  },
}
