// Layout: a dashboard is a list of sections; each is a row followed by its panels, wrapped
// over Grafana's 24 columns in the order given, each panel keeping its own size. Targets get
// refIds A, B, ... (tables name their columns "Value #A" after them).
// (Upstream's wrapPanels gives a row in its list width 0, so rows are placed here instead.)
local g = import 'g.libsonnet';

local bottom(panels) = std.foldl(function(y, p) std.max(y, p.gridPos.y + p.gridPos.h), panels, 0);

{
  section(title, panels): { title: title, panels: panels },

  // Rows and panels with absolute gridPos, top to bottom.
  sections(list)::
    std.foldl(
      function(laid, section)
        local y = bottom(laid);
        local row = g.panel.row.new(section.title) + g.panel.row.withGridPos(y) + g.panel.row.withPanels([]);
        laid + [row] + g.util.grid.wrapPanels(g.util.panel.setRefIDsOnPanels(section.panels), startY=y + 1),
      list,
      []
    ),
}
