// Layout and id helpers, mirroring upstream Grafonnet v11.4.0's `g.util`
// (grid.makeGrid/wrapPanels, panel.setPanelIDs/setRefIDs/setRefIDsOnPanels),
// including upstream's quirks so output matches byte for byte.
local gridWidth = 24;
local isRow(p) = p.type == 'row';
local max(a, b) = if a > b then a else b;

// Panels up to (not including) the first row.
local beforeFirstRow(panels) =
  local rows = [i for i in std.range(0, std.length(panels) - 1) if isRow(panels[i])];
  if rows == [] then panels else panels[0:rows[0]];

// Upstream's y for a panel: below every earlier panel it overlaps on x.
// Overlap is tested on the panel's two x edges only, as upstream does.
local lowestY(panel, placed) =
  local v1 = panel.gridPos.x;
  local v2 = v1 + panel.gridPos.w;
  local inside(v, p) = v >= p.gridPos.x && v < p.gridPos.x + p.gridPos.w;
  std.foldl(max, [
    p.gridPos.y + p.gridPos.h
    for p in placed
    if inside(v1, p) || inside(v2, p)
  ], 0);

local setPanelIDs(panels, overrideExistingIDs=true) =
  local number(panels, start) = std.foldl(
    function(acc, panel)
      local nested = isRow(panel) && std.objectHasAll(panel, 'panels');
      {
        next: acc.next + 1 + (if nested then std.length(panel.panels) else 0),
        panels: acc.panels + [
          panel
          + (if overrideExistingIDs || std.get(panel, 'id', null) == null
             then { id: acc.next } else {})
          + (if nested then { panels: number(panel.panels, acc.next + 1) } else {}),
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

local setRefIDs(panel, overrideExistingIDs=true) = panel {
  targets: [
    local t = panel.targets[i];
    if overrideExistingIDs || !std.objectHas(t, 'refId') then t { refId: refId(i) } else t
    for i in std.range(0, std.length(panel.targets) - 1)
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
  local placed = std.foldl(
    function(acc, p) acc + [p { gridPos+: { y: lowestY(p, acc) } }], flat, []
  );
  [p { gridPos+: { y+: startY } } for p in placed];

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
    {
      panels: acc.panels + [panel { gridPos+: { x: x, y: y, w: w, h: h } }],
      x: x + w,
      y: y,
      maxH: max(h, acc.maxH),
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

{
  grid: {
    makeGrid: makeGrid,
    wrapPanels: wrapPanels,
  },
  panel: {
    setPanelIDs: setPanelIDs,
    setRefIDs: setRefIDs,
    setRefIDsOnPanels(panels): [setRefIDs(p) for p in panels],
  },
}
