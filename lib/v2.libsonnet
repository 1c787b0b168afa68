// Grafana 13 schema v2 layouts for dashboards built with g.libsonnet (or upstream Grafonnet,
// which this file does not import): tabs, auto grids, rows inside rows or tabs, conditional
// rendering, section variables, row and tab repeats. Grafonnet style: `new`, `withX`, `+`.
//
//   local v2 = import 'v2.libsonnet';
//   g.dashboard.new('Workers')
//   + v2.dashboard.withLayout(v2.tabs.new([
//       v2.tab.new('Capacity', [panelA, panelB]),  // a list of panels is a grid
//       v2.tab.new('About', v2.autoGrid.new([panelC]) + v2.autoGrid.withMaxColumnCount(2)),
//     ]))
//
// `v2.dashboard.withLayout` sets both models of the dashboard at once:
// - `panels`, the classic model Grafana 11 and 12 read: tabs laid out as rows, a row or tab
//   inside another as a row titled `Outer / Inner`, an auto grid left to right in equal
//   columns (docs/grafana-versions.md); ids numbered depth-first from 1, rows included, as
//   g.dashboard.withPanels numbers them;
// - the hidden field `v2Layout`, the schema v2 layout whose element references name those
//   panels `panel-<id>`: the build writes it into the v2 resources, never into classic JSON.
// In a grid a panel's gridPos counts from the top of its grid (its row or tab), not from the
// top of the dashboard. Conditional rendering and section variables exist in v2 only.

local gridColumns = 24;
local autoGridHeights = { short: 5, standard: 9, tall: 14 };  // grid units of 30 px

local ref(id) = { kind: 'ElementReference', name: 'panel-%d' % id };
local whole(value, default) =
  if std.isNumber(value) && value == std.floor(value) then value else default;
// Halves to the even neighbour.
local round(x) =
  local low = std.floor(x);
  local rest = x - low;
  if rest > 0.5 then low + 1 else if rest < 0.5 then low else low + (low % 2);
local repeatOf(panel) =
  local value = std.get(panel, 'repeat', '');
  if std.isString(value) && value != '' then value else null;

local grid = {
  new(panels): { kind: 'GridLayout', spec: {}, panels:: panels },
  withPanels(panels): { panels:: panels },
};

// A layout argument: a layout object, or a list of panels for a grid.
local layoutOf(value) = if std.isArray(value) then grid.new(value) else value;

local autoGridItem = {
  new(panel): { kind: 'AutoGridLayoutItem', spec: {}, panel:: panel },
  withConditionalRendering(value): { spec+: { conditionalRendering: value } },
};
local itemOf(value) =
  if std.objectHas(value, 'kind') && value.kind == 'AutoGridLayoutItem'
  then value else autoGridItem.new(value);

local autoGrid = {
  new(items): {
    kind: 'AutoGridLayout',
    spec: { columnWidthMode: 'standard', rowHeightMode: 'standard' },
    items:: [itemOf(i) for i in items],
  },
  withItems(items): { items:: [itemOf(i) for i in items] },
  withMaxColumnCount(value): { spec+: { maxColumnCount: value } },
  withColumnWidthMode(value): { spec+: { columnWidthMode: value } },
  withColumnWidth(value): { spec+: { columnWidth: value } },
  withRowHeightMode(value): { spec+: { rowHeightMode: value } },
  withRowHeight(value): { spec+: { rowHeight: value } },
  withFillScreen(value=true): { spec+: { fillScreen: value } },
  item: autoGridItem,
};

// What rows and tabs share.
local section(kind) = {
  new(title, layout): { kind: kind, spec: { title: title }, layout:: layoutOf(layout) },
  withTitle(value): { spec+: { title: value } },
  withLayout(layout): { layout:: layoutOf(layout) },
  withRepeat(variable): { spec+: { repeat: { mode: 'variable', value: variable } } },
  withConditionalRendering(value): { spec+: { conditionalRendering: value } },
  // Schema v2 variable kinds ({kind: 'QueryVariable', spec: {...}}), for this section only.
  withVariables(value): { spec+: { variables: value } },
};

local row = section('RowsLayoutRow') + {
  withCollapse(value=true): { spec+: { collapse: value } },
  withHideHeader(value=true): { spec+: { hideHeader: value } },
  withFillScreen(value=true): { spec+: { fillScreen: value } },
};
local tab = section('TabsLayoutTab');

local rows = {
  new(rows): { kind: 'RowsLayout', spec: {}, sections:: rows },
  withRows(rows): { sections:: rows },
};
local tabs = {
  new(tabs): { kind: 'TabsLayout', spec: {}, sections:: tabs },
  withTabs(tabs): { sections:: tabs },
};

local conditionalRendering = {
  new(items): {
    kind: 'ConditionalRenderingGroup',
    spec: { visibility: 'show', condition: 'and', items: items },
  },
  withVisibility(value): { spec+: { visibility: value } },  // 'show' | 'hide'
  withCondition(value): { spec+: { condition: value } },  // 'and' | 'or'
  withItems(items): { spec+: { items: items } },
  variable: {
    // operator: 'equals' | 'notEquals' | 'matches' | 'notMatches'
    new(variable, operator, value): {
      kind: 'ConditionalRenderingVariable',
      spec: { variable: variable, operator: operator, value: value },
    },
  },
  data: {
    new(value=true): { kind: 'ConditionalRenderingData', spec: { value: value } },
  },
  timeRangeSize: {
    new(value): { kind: 'ConditionalRenderingTimeRangeSize', spec: { value: value } },
  },
};

// --- laying a layout out: {panels (classic), layout (v2), bottom (y), next (id)} ------------

local layGrid(layout, top, next) =
  local panels = layout.panels;
  local placed = [
    local panel = panels[i];
    local box = std.get(panel, 'gridPos', {});
    local x = whole(std.get(box, 'x', 0), 0);
    local y = std.max(0, whole(std.get(box, 'y', 0), 0));
    local width = whole(std.get(box, 'w', 12), 12);
    local height = whole(std.get(box, 'h', 8), 8);
    local repeat = repeatOf(panel);
    {
      panel: panel { id::: next + i, gridPos::: { h: height, w: width, x: x, y: top + y } },
      item: {
        kind: 'GridLayoutItem',
        spec: {
          x: x,
          y: y,
          width: width,
          height: height,
          element: ref(next + i),
        } + (
          if repeat == null then {} else {
            repeat: { mode: 'variable', value: repeat }
                    + (if std.member(['h', 'v'], std.get(panel, 'repeatDirection', null))
                       then { direction: panel.repeatDirection } else {})
                    + (if std.isNumber(std.get(panel, 'maxPerRow', null))
                       then { maxPerRow: panel.maxPerRow } else {}),
          }
        ),
      },
      bottom: top + y + height,
    }
    for i in std.range(0, std.length(panels) - 1)
  ];
  {
    panels: [p.panel for p in placed],
    layout: { kind: 'GridLayout', spec: layout.spec { items: [p.item for p in placed] } },
    bottom: std.foldl(std.max, [p.bottom for p in placed], top),
    next: next + std.length(panels),
  };

local layAutoGrid(layout, top, next) =
  local spec = layout.spec;
  local items = layout.items;
  local columns = std.min(gridColumns, std.max(1, whole(std.get(spec, 'maxColumnCount', 3), 3)));
  local width = std.floor(gridColumns / columns);
  local mode = std.get(spec, 'rowHeightMode', 'standard');
  local custom = std.get(spec, 'rowHeight', null);
  local height =
    if mode == 'custom' then
      std.max(3, round((if custom == null || custom == 0 then 270 else custom) / 30))
    else if std.isString(mode) then std.get(autoGridHeights, mode, autoGridHeights.standard)
    else autoGridHeights.standard;
  local placed = [
    local item = items[i];
    local repeat = repeatOf(item.panel);
    {
      panel: item.panel {
        id::: next + i,
        gridPos::: {
          h: height,
          w: width,
          x: (i % columns) * width,
          y: top + std.floor(i / columns) * height,
        },
      } + (if repeat == null then {} else { repeatDirection::: 'h' }),
      item: item {
        spec+: { element: ref(next + i) }
               + (if repeat == null then {} else { repeat: { mode: 'variable', value: repeat } }),
      },
    }
    for i in std.range(0, std.length(items) - 1)
  ];
  {
    panels: [p.panel for p in placed],
    layout: { kind: 'AutoGridLayout', spec: spec { items: [p.item for p in placed] } },
    bottom: top + std.ceil(std.length(items) / columns) * height,
    next: next + std.length(items),
  };

local nests(layout) = std.member(['RowsLayout', 'TabsLayout'], layout.kind);

local laying = {
  lay(layout, top, next)::
    if layout.kind == 'GridLayout' then layGrid(layout, top, next)
    else if layout.kind == 'AutoGridLayout' then layAutoGrid(layout, top, next)
    else if nests(layout) then self.sections(layout, top, next, null)
    else error 'v2.libsonnet: a layout is a grid, auto grid, rows or tabs, not %s' % layout.kind,

  // Rows or tabs: each a classic row with its panels (inside it when collapsed); a section
  // holding rows or tabs gives no row of its own, its sections are titled `Outer / Inner`.
  sections(layout, top, next, prefix)::
    local isRows = layout.kind == 'RowsLayout';
    local sections = layout.sections;
    local step(acc, i) =
      local section = sections[i];
      local spec = section.spec;
      local inner = section.layout;
      local own = std.get(spec, 'title', '');
      local title = if prefix == null then own else prefix + ' / ' + own;
      local collapsed = isRows && std.get(spec, 'collapse', false) == true;
      local headless = isRows && std.get(spec, 'hideHeader', false) == true
                       && i == 0 && prefix == null;
      local out(laid) = { kind: section.kind, spec: spec { layout: laid } };
      if nests(inner) then
        local laid = self.sections(inner, acc.y, acc.next, title);
        acc {
          panels: acc.panels + laid.panels,
          sections: acc.sections + [out(laid.layout)],
          y: laid.bottom,
          next: laid.next,
        }
      else if headless then
        local laid = self.lay(inner, acc.y, acc.next);
        acc {
          panels: acc.panels + laid.panels,
          sections: acc.sections + [out(laid.layout)],
          y: laid.bottom,
          next: laid.next,
        }
      else
        local laid = self.lay(inner, acc.y + 1, acc.next + 1);
        local repeat = std.get(std.get(spec, 'repeat', {}), 'value', '');
        local rowPanel = {
          collapsed: collapsed,
          gridPos: { h: 1, w: gridColumns, x: 0, y: acc.y },
          id: acc.next,
          panels: if collapsed then laid.panels else [],
          title: title,
          type: 'row',
        } + (if std.isString(repeat) && repeat != '' then { repeat: repeat } else {});
        acc {
          panels: acc.panels + [rowPanel] + (if collapsed then [] else laid.panels),
          sections: acc.sections + [out(laid.layout)],
          y: if collapsed then acc.y + 1 else std.max(acc.y + 1, laid.bottom),
          next: laid.next,
        };
    local done = std.foldl(
      step,
      std.range(0, std.length(sections) - 1),
      { panels: [], sections: [], y: top, next: next }
    );
    {
      panels: done.panels,
      layout: {
        kind: layout.kind,
        spec: layout.spec + (if isRows then { rows: done.sections } else { tabs: done.sections }),
      },
      bottom: done.y,
      next: done.next,
    },
};

{
  dashboard: {
    // The dashboard's panels (classic) and its hidden `v2Layout`, from one layout.
    withLayout(layout):
      local laid = laying.lay(layoutOf(layout), 0, 1);
      { panels: laid.panels, v2Layout:: laid.layout },
  },
  grid: grid,
  autoGrid: autoGrid,
  rows: rows,
  row: row,
  tabs: tabs,
  tab: tab,
  conditionalRendering: conditionalRendering,
}
