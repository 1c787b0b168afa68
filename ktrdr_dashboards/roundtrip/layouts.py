"""`import` of a v2 layout the classic model cannot hold (tabs, auto grid, rows inside tabs,
conditional rendering, section variables, row and tab repeats): calls of lib/v2.libsonnet
around the panels, which the importer writes as it writes any panel.

A panel of a grid keeps its place relative to its grid (`gridPos.y` counts from the top of
its row or tab); a panel of an auto grid has no place of its own. What the builders cannot say
is refused, naming the section and the construct; `check` then compares the layout the
written source builds with the export's, and refuses any difference."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from ktrdr_dashboards import model as dashboard_model
from ktrdr_dashboards.convert import common
from ktrdr_dashboards.errors import DashboardError, Location
from ktrdr_dashboards.roundtrip import meaning, semdiff
from ktrdr_dashboards.roundtrip.code import Call, Code, Lit, Plus

AUTO_GRIDS = ("AutoGridLayout", "ResponsiveGridLayout")  # the second: v2alpha1's name
# Auto grid fields with a setter in v2.libsonnet, and what `v2.autoGrid.new` sets already.
AUTO_GRID_SETTERS = {
    "maxColumnCount": "withMaxColumnCount",
    "columnWidthMode": "withColumnWidthMode",
    "columnWidth": "withColumnWidth",
    "rowHeightMode": "withRowHeightMode",
    "rowHeight": "withRowHeight",
    "fillScreen": "withFillScreen",
}
AUTO_GRID_NEW = {"columnWidthMode": "standard", "rowHeightMode": "standard"}
ROW_FLAGS = {
    "collapse": "withCollapse",
    "hideHeader": "withHideHeader",
    "fillScreen": "withFillScreen",
}
GRID_ITEM_FIELDS = frozenset(("x", "y", "width", "height", "element", "repeat"))
CONDITIONS = {
    "ConditionalRenderingVariable": ("variable", ("variable", "operator", "value")),
    "ConditionalRenderingData": ("data", ("value",)),
    "ConditionalRenderingTimeRangeSize": ("timeRangeSize", ("value",)),
}


_dict, _list, _whole = common.as_dict, common.as_list, common.whole_number


@dataclass
class LayoutWriter:
    """Writes one dashboard's v2 layout. `panels`: element name (`panel-<id>`) -> the classic
    panel, regenerated keys removed; `panel`: the importer's panel writer."""

    panels: dict[str, dict]
    panel: Callable[[dict], Code]
    location: Location  # the export's file and the dashboard's uid

    def refuse(self, where: str, what: str) -> DashboardError:
        return DashboardError(
            f"{where}: {what}, which lib/v2.libsonnet cannot write",
            location=self.location,
            fix="export it as Classic JSON (tabs and auto grids become rows) to import it "
            "without the construct",
        )

    def layout(self, layout: object, where: str = "the dashboard") -> Code:
        layout = _dict(layout)
        kind, spec = layout.get("kind"), _dict(layout.get("spec"))
        if kind == "GridLayout":
            return Call("v2.grid.new", (self.grid_panels(layout, where),))
        if kind in AUTO_GRIDS:
            return self.auto_grid(spec, where)
        if kind in ("RowsLayout", "TabsLayout"):
            key, noun = ("rows", "row") if kind == "RowsLayout" else ("tabs", "tab")
            extra = sorted(set(spec) - {key})
            if extra:
                raise self.refuse(where, f'the {kind} field "{extra[0]}"')
            sections = [self.section(s, noun) for s in _list(spec.get(key))]
            return Call(f"v2.{key}.new", (sections,))
        raise self.refuse(where, f"a layout of kind {semdiff.show(kind)}")

    def grid_panels(self, layout: dict, where: str) -> list[Code]:
        spec = _dict(layout.get("spec"))
        extra = sorted(set(spec) - {"items"})
        if extra:
            raise self.refuse(where, f'the grid field "{extra[0]}"')
        written: list[Code] = []
        for item in _list(spec.get("items")):
            item_spec = _dict(_dict(item).get("spec"))
            extra = sorted(set(item_spec) - GRID_ITEM_FIELDS)
            if extra:
                raise self.refuse(where, f'the grid item field "{extra[0]}"')
            panel = self.element(item_spec, where)
            place = _dict(panel.get("gridPos"))
            panel["gridPos"] = {**place, "y": max(0, _whole(item_spec.get("y"), 0))}
            written.append(self.panel(panel))
        return written

    def element(self, item_spec: dict, where: str) -> dict:
        name = _dict(item_spec.get("element")).get("name")
        panel = self.panels.get(name) if isinstance(name, str) else None
        if panel is None:
            raise self.refuse(where, f"a reference to {semdiff.show(name)}, which is no panel")
        return copy.deepcopy(panel)

    def auto_grid(self, spec: dict, where: str) -> Code:
        items: list[Code] = []
        for item in _list(spec.get("items")):
            item_spec = _dict(_dict(item).get("spec"))
            extra = sorted(set(item_spec) - {"element", "repeat", "conditionalRendering"})
            if extra:
                raise self.refuse(where, f'the auto grid item field "{extra[0]}"')
            panel = self.element(item_spec, where)
            panel.pop("gridPos", None)
            if isinstance(panel.get("repeat"), str) and panel["repeat"]:
                panel.pop("repeatDirection", None)  # always "h" in an auto grid
            code = self.panel(panel)
            if "conditionalRendering" in item_spec:
                title = semdiff.show(panel.get("title", ""))
                condition = self.condition(item_spec["conditionalRendering"], f"panel {title}")
                code = Plus(
                    (
                        Call("v2.autoGrid.item.new", (code,)),
                        Call("v2.autoGrid.item.withConditionalRendering", (condition,)),
                    )
                )
            items.append(code)
        terms: list[Code] = [Call("v2.autoGrid.new", (items,))]
        for key, value in spec.items():
            if key == "items" or AUTO_GRID_NEW.get(key, object()) == value:
                continue
            if key not in AUTO_GRID_SETTERS:
                raise self.refuse(where, f'the auto grid field "{key}"')
            terms.append(Call(f"v2.autoGrid.{AUTO_GRID_SETTERS[key]}", (Lit(value),)))
        return Plus(tuple(terms)) if len(terms) > 1 else terms[0]

    def section(self, section: object, noun: str) -> Code:
        spec = _dict(_dict(section).get("spec"))
        title = spec.get("title", "")
        where = f"{noun} {semdiff.show(title)}"
        inner = _dict(spec.get("layout"))
        if inner.get("kind") == "GridLayout":
            body: Code = self.grid_panels(inner, where)  # a list of panels is a grid
        else:
            body = self.layout(inner, where)
        terms: list[Code] = [Call(f"v2.{noun}.new", (Lit(title), body))]
        for key, value in spec.items():
            if key in ("title", "layout"):
                continue
            if key == "repeat" and self.is_repeat(value):
                terms.append(Call(f"v2.{noun}.withRepeat", (Lit(value["value"]),)))
            elif key == "conditionalRendering":
                condition = self.condition(value, where)
                terms.append(Call(f"v2.{noun}.withConditionalRendering", (condition,)))
            elif key == "variables" and isinstance(value, list):
                terms.append(Call(f"v2.{noun}.withVariables", (Lit(value),)))
            elif noun == "row" and key in ROW_FLAGS:
                terms.append(Call(f"v2.row.{ROW_FLAGS[key]}", (Lit(value),)))
            else:
                raise self.refuse(where, f'the {noun} field "{key}"')
        return Plus(tuple(terms)) if len(terms) > 1 else terms[0]

    @staticmethod
    def is_repeat(value: object) -> bool:
        return (
            isinstance(value, dict)
            and set(value) <= {"mode", "value"}
            and value.get("mode", "variable") == "variable"
            and isinstance(value.get("value"), str)
        )

    def condition(self, value: object, where: str) -> Code:
        group = _dict(value)
        spec = _dict(group.get("spec"))
        if group.get("kind") != "ConditionalRenderingGroup" or not set(spec) <= {
            "visibility",
            "condition",
            "items",
        }:
            raise self.refuse(where, "conditional rendering that is no ConditionalRenderingGroup")
        items: list[Code] = []
        for item in _list(spec.get("items")):
            kind = _dict(item).get("kind")
            known = CONDITIONS.get(kind) if isinstance(kind, str) else None
            fields = _dict(_dict(item).get("spec"))
            if known is None or set(fields) != set(known[1]):
                raise self.refuse(where, f"the rendering condition {semdiff.show(kind)}")
            name, arguments = known
            items.append(
                Call(
                    f"v2.conditionalRendering.{name}.new",
                    tuple(Lit(fields[argument]) for argument in arguments),
                )
            )
        terms: list[Code] = [Call("v2.conditionalRendering.new", (items,))]
        if spec.get("visibility", "show") != "show":
            terms.append(Call("v2.conditionalRendering.withVisibility", (Lit(spec["visibility"]),)))
        if spec.get("condition", "and") != "and":
            terms.append(Call("v2.conditionalRendering.withCondition", (Lit(spec["condition"]),)))
        return Plus(tuple(terms)) if len(terms) > 1 else terms[0]


def renumbered(layout: dict, model: dict) -> dict:
    """The layout with element references named as v2.libsonnet names them: `panel-<n>`, n
    the panel's place in the classic model, depth-first from 1, rows included."""
    names = {
        f"panel-{panel['id']}": f"panel-{index}"
        for index, panel in enumerate(dashboard_model.panels(model), start=1)
        if isinstance(panel.get("id"), int)
    }

    return common.rename_elements(layout, names)


def check(expected: dict, built: object, location: Location) -> None:
    """Refuse when the layout the written source builds differs from the export's."""
    lines = list(
        semdiff.changes(
            meaning.comparable_layout(expected, {}),
            meaning.comparable_layout(built, {}),
            "layout",
        )
    )
    if lines:
        raise DashboardError(
            f"the v2 layout comes out of lib/v2.libsonnet otherwise: {lines[0]}",
            location=location,
            fix="export it as Classic JSON (tabs and auto grids become rows) to import it; "
            "report the layout",
        )
