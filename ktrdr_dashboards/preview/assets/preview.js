// The page script of a dashboard preview, bundled with esbuild (with @grafana/data and uPlot)
// at preview time. Every value text, unit, decimal, colour, value mapping, field override,
// reduction and null insertion comes from @grafana/data; this file only lays out what it
// returns, draws charts with uPlot, and records what is on screen into #preview-seen.
import "./no-eval.js"; // first: before @grafana/data's modules load
import {
  FieldConfigOptionsRegistry,
  FieldType,
  applyFieldOverrides,
  applyNullInsertThreshold,
  booleanOverrideProcessor,
  colorManipulator,
  createTheme,
  displayNameOverrideProcessor,
  fieldReducers,
  formattedValueToString,
  getFieldDisplayName,
  getFieldDisplayValues,
  getFieldSeriesColor,
  guessDecimals,
  identityOverrideProcessor,
  numberOverrideProcessor,
  outerJoinDataFrames,
  reduceField,
  standardTransformers,
  standardTransformersRegistry,
  stringOverrideProcessor,
  thresholdsOverrideProcessor,
  toDataFrame,
  transformDataFrame,
  unitOverrideProcessor,
  valueMappingsOverrideProcessor,
} from "@grafana/data";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

const theme = createTheme(); // Grafana's default: dark
const TIME_ZONE = "utc";
const noVariables = (text) => text;

// Grafana's application fills these registries; the page registers what the dashboards use.
// standardTransformers lists some transformations under more than one export name.
// Each item resolves its transformation asynchronously.
standardTransformersRegistry.setInit(() => {
  const seen = new Set();
  return Object.values(standardTransformers).filter((t) => !seen.has(t.id) && seen.add(t.id)).map((t) => ({
    id: t.id, aliasIds: t.aliasIds, name: t.name, description: t.description,
    defaultOptions: t.defaultOptions, transformation: () => Promise.resolve(t),
  }));
});

function option(id, process, extra) {
  return { id, path: id, name: id, process, override: null, editor: null,
    shouldApply: () => true, ...extra };
}
function custom(path, process) {
  return option(`custom.${path}`, process, { path, isCustom: true });
}
const numbers = { min: null, max: null, integer: false };
const fieldOptions = new FieldConfigOptionsRegistry(() => [
  option("unit", unitOverrideProcessor),
  option("decimals", numberOverrideProcessor, { settings: { ...numbers, integer: true } }),
  option("min", numberOverrideProcessor, { settings: numbers }),
  option("max", numberOverrideProcessor, { settings: numbers }),
  option("thresholds", thresholdsOverrideProcessor),
  option("mappings", valueMappingsOverrideProcessor),
  option("color", identityOverrideProcessor),
  option("noValue", stringOverrideProcessor),
  option("displayName", displayNameOverrideProcessor),
  option("links", identityOverrideProcessor),
  custom("drawStyle", identityOverrideProcessor),
  custom("lineWidth", numberOverrideProcessor),
  custom("fillOpacity", numberOverrideProcessor),
  custom("showPoints", identityOverrideProcessor),
  custom("spanNulls", identityOverrideProcessor),
  custom("insertNulls", identityOverrideProcessor),
  custom("stacking", identityOverrideProcessor),
  custom("hideFrom", identityOverrideProcessor),
  custom("align", identityOverrideProcessor),
  custom("cellOptions", identityOverrideProcessor),
  custom("hidden", booleanOverrideProcessor),
]);

// What each panel plugin puts under a panel's own fieldConfig.defaults and options.
const THRESHOLDS = { mode: "absolute", steps: [{ value: null, color: "green" }, { value: 80, color: "red" }] };
const TIMESERIES_CUSTOM = { drawStyle: "line", lineWidth: 1, fillOpacity: 0, showPoints: "auto",
  spanNulls: false, stacking: { mode: "none" } };
const PLUGIN_DEFAULTS = {
  stat: { defaults: { thresholds: THRESHOLDS, color: { mode: "thresholds" } },
    options: { reduceOptions: { calcs: ["lastNotNull"], values: false }, colorMode: "value",
      graphMode: "area", textMode: "auto", justifyMode: "auto", orientation: "auto" } },
  timeseries: { defaults: { thresholds: THRESHOLDS, color: { mode: "palette-classic" }, custom: TIMESERIES_CUSTOM },
    options: { legend: { showLegend: true, displayMode: "list", placement: "bottom", calcs: [] } } },
  piechart: { defaults: { thresholds: THRESHOLDS, color: { mode: "palette-classic" } },
    options: { reduceOptions: { calcs: ["lastNotNull"], values: false }, pieType: "pie",
      legend: { showLegend: true, displayMode: "list", placement: "right", values: [] }, displayLabels: [] } },
  table: { defaults: { thresholds: THRESHOLDS, color: { mode: "thresholds" },
    custom: { align: "auto", cellOptions: { type: "auto" } } }, options: { showHeader: true, cellHeight: "sm" } },
  "state-timeline": { defaults: { thresholds: THRESHOLDS, color: { mode: "thresholds" },
    custom: { fillOpacity: 70, lineWidth: 0 } },
    options: { mergeValues: true, rowHeight: 0.9, showValue: "auto", legend: { showLegend: true } } },
};

function isObject(value) { return value && typeof value === "object" && !Array.isArray(value); }
function withDefaults(defaults, value) {
  if (!isObject(defaults) || !isObject(value)) return value === undefined ? defaults : value;
  const out = { ...defaults };
  for (const [key, v] of Object.entries(value)) out[key] = withDefaults(defaults[key], v);
  return out;
}

// Options of a supported panel type that the preview cannot draw: shown, never drawn wrong.
function notRendered(panel) {
  const o = panel.options, c = panel.fieldConfig.defaults.custom || {};
  const reasons = {
    stat: [[o.graphMode !== "none", `graphMode ${o.graphMode}`],
      [!["auto", "value", "value_and_name", "name", "none"].includes(o.textMode), `textMode ${o.textMode}`],
      [!["value", "none", "background", "background_solid"].includes(o.colorMode), `colorMode ${o.colorMode}`]],
    timeseries: [[c.drawStyle !== "line", `drawStyle ${c.drawStyle}`],
      [(c.stacking || {}).mode && c.stacking.mode !== "none", `stacking ${(c.stacking || {}).mode}`]],
    piechart: [[(o.displayLabels || []).length > 0, "slice labels"]],
    table: [], "state-timeline": [],
  }[panel.type];
  if (!reasons) return `panel type ${panel.type}`;
  const found = reasons.find(([bad]) => bad);
  return found ? `${panel.type} ${found[1]}` : null;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
const displayText = (field, value, decimals) => formattedValueToString(field.display(value, decimals));

function frames(item) {
  return item.frames.map((frame) => toDataFrame(frame));
}

// The frames a panel's transformations end with (they are resolved asynchronously).
function transformed(transformations, data) {
  return new Promise((resolve, reject) => {
    let out = data;
    transformDataFrame(transformations, data).subscribe({
      next: (result) => { out = result; }, error: reject, complete: () => resolve(out) });
  });
}

async function prepared(panel, data) {
  const out = (panel.transformations || []).length ? await transformed(panel.transformations, data) : data;
  return applyFieldOverrides({ data: out, fieldConfig: panel.fieldConfig, fieldConfigRegistry: fieldOptions,
    replaceVariables: noVariables, theme, timeZone: TIME_ZONE });
}

function noData(body, panel) {
  const text = panel.fieldConfig.defaults.noValue || "No data";
  body.appendChild(el("div", "no-data", text));
}

function displayValues(panel, data) {
  return getFieldDisplayValues({ fieldConfig: panel.fieldConfig, reduceOptions: panel.options.reduceOptions,
    replaceVariables: noVariables, theme, data, timeZone: TIME_ZONE });
}

// Grafana sizes a big value to fill the space it has; the font size here is the largest that
// fits the text into the value's box, measured with the panel's font.
function fitFont(text, width, height, maxSize) {
  const context = fitFont.canvas.getContext("2d");
  context.font = `500 100px ${getComputedStyle(document.body).fontFamily}`;
  const textWidth = context.measureText(text).width / 100 || 1;
  return Math.max(12, Math.floor(Math.min(maxSize, height * 0.8, (width * 0.9) / textWidth)));
}
fitFont.canvas = document.createElement("canvas");

async function drawStat(panel, body, data) {
  const ready = await prepared(panel, data);
  if (!valueFields(ready).length) return noData(body, panel);
  const values = displayValues(panel, ready);
  const box = body.appendChild(el("div", "stat-values"));
  const width = body.clientWidth / values.length, height = body.clientHeight;
  for (const item of values) {
    const text = formattedValueToString(item.display);
    const node = box.appendChild(el("div", "stat-value"));
    const showName = panel.options.textMode === "value_and_name" || panel.options.textMode === "name"
      || (panel.options.textMode === "auto" && values.length > 1);
    if (showName) node.appendChild(el("div", "stat-name", item.display.title || ""));
    if (panel.options.textMode !== "name") node.appendChild(el("div", "stat-text", text));
    const colour = item.display.color ? colorManipulator.asHexString(item.display.color) : null;
    const mode = panel.options.colorMode;
    if (mode === "value" && colour) node.style.color = colour;
    if (mode.startsWith("background") && colour) { node.style.background = colour; node.style.color = "#ffffff"; }
    node.querySelector(".stat-text").style.fontSize = `${fitFont(text, width, height, 120)}px`;
  }
}

function legendBox(panel, body, rows) {
  const legend = panel.options.legend || {};
  if (legend.showLegend === false) return;
  const table = legend.displayMode === "table";
  const calcs = legend.calcs || [];
  const wrap = el("div", `legend legend-${legend.placement}`);
  const box = wrap.appendChild(el(table ? "table" : "div", `legend-${table ? "table" : "list"}`));
  if (table && calcs.length) {
    const head = box.appendChild(el("thead")).appendChild(el("tr"));
    head.appendChild(el("th"));
    for (const calc of calcs) head.appendChild(el("th", "legend-calc-name", fieldReducers.get(calc).name));
  }
  const container = table ? box.appendChild(el("tbody")) : box;
  for (const row of rows) {
    const line = container.appendChild(el(table ? "tr" : "div", "legend-row"));
    const name = line.appendChild(el(table ? "td" : "span", "legend-name"));
    const swatch = name.appendChild(el("i", "legend-swatch"));
    swatch.style.background = row.colour;
    name.appendChild(el("span", "legend-label", row.name));
    for (const text of row.calcs || []) line.appendChild(el(table ? "td" : "span", "legend-calc", text));
  }
  body.classList.add(`with-legend-${legend.placement}`);
  body.appendChild(wrap);
}

function valueFields(data) {
  const out = [];
  for (const frame of data) {
    for (const field of frame.fields) {
      if (field.type === FieldType.number && !(field.config.custom || {}).hidden) out.push({ frame, field });
    }
  }
  return out;
}

function axisValues(field) {
  return (u, splits) => {
    const incr = splits.length > 1 ? Math.abs(splits[1] - splits[0]) : 0;
    const decimals = field.config.decimals ?? guessDecimals(incr);
    return splits.map((v) => displayText(field, v, decimals));
  };
}

// Grafana's time axis in 24-hour time, in the dashboard's time zone (UTC here).
function timeLabels(u, splits) {
  return splits.map((s) => new Date(s * 1000).toISOString().slice(11, 16));
}

async function drawTimeSeries(panel, body, data, range) {
  const withNulls = (await prepared(panel, data)).map((frame) =>
    applyNullInsertThreshold({ frame, refFieldPseudoMin: range.from, refFieldPseudoMax: range.to }));
  const series = valueFields(withNulls);
  if (!series.length) return noData(body, panel);
  const joined = outerJoinDataFrames({ frames: withNulls, keepDisplayNames: true });
  const time = joined.fields.find((f) => f.type === FieldType.time);
  const columns = [time.values.map((t) => t / 1000)];
  const calcs = (panel.options.legend || {}).calcs || [];
  const rows = [];
  const uSeries = [{}];
  for (const { frame, field } of series) {
    const name = getFieldDisplayName(field, frame, withNulls);
    const joinedField = joined.fields.find((f) => f !== time && f.state && f.state.displayName === name)
      || joined.fields.find((f) => f !== time && getFieldDisplayName(f, joined, [joined]) === name);
    columns.push(joinedField.values);
    const colour = colorManipulator.asHexString(getFieldSeriesColor(field, theme).color);
    const reduced = reduceField({ field, reducers: calcs });
    rows.push({ name, colour, calcs: calcs.map((calc) => displayText(field, reduced[calc])) });
    const c = field.config.custom || {};
    uSeries.push({ label: name, stroke: colour, width: c.lineWidth ?? 1,
      fill: c.fillOpacity ? colorManipulator.alpha(colour, c.fillOpacity / 100) : undefined,
      spanGaps: c.spanNulls === true, points: { show: c.showPoints === "always" } });
  }
  legendBox(panel, body, rows);
  const chart = body.insertBefore(el("div", "chart"), body.firstChild);
  const first = series[0].field;
  const axis = { stroke: "rgba(204,204,220,0.65)", grid: { stroke: "rgba(204,204,220,0.10)", width: 1 },
    ticks: { show: false }, font: "11px Inter, 'DejaVu Sans', sans-serif" };
  new uPlot({
    width: chart.clientWidth, height: chart.clientHeight, legend: { show: false }, cursor: { show: false },
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    scales: { x: { time: true, min: range.from / 1000, max: range.to / 1000 } },
    axes: [{ ...axis, grid: { show: false }, values: timeLabels }, { ...axis, values: axisValues(first), size: 60 }],
    series: uSeries,
  }, columns, chart);
}

async function drawPie(panel, body, data) {
  const values = displayValues(panel, await prepared(panel, data));
  const slices = values.filter((v) => Number.isFinite(v.display.numeric) && v.display.numeric > 0);
  if (!slices.length) return noData(body, panel);
  const legendValues = (panel.options.legend || {}).values || [];
  const total = slices.reduce((sum, s) => sum + s.display.numeric, 0);
  legendBox(panel, body, slices.map((s) => ({
    name: s.display.title, colour: colorManipulator.asHexString(s.display.color),
    calcs: legendValues.map((kind) => (kind === "percent"
      ? `${Math.round((s.display.numeric / total) * 100)}%` : formattedValueToString(s.display))),
  })));
  const chart = body.insertBefore(el("div", "chart pie"), body.firstChild);
  const size = Math.min(chart.clientWidth, chart.clientHeight), r = size / 2 - 4;
  const svgNS = "http://www.w3.org/2000/svg";
  const svg = chart.appendChild(document.createElementNS(svgNS, "svg"));
  svg.setAttribute("width", size); svg.setAttribute("height", size);
  let angle = -Math.PI / 2;
  for (const s of slices) {
    const sweep = (s.display.numeric / total) * 2 * Math.PI;
    const [x1, y1] = [size / 2 + r * Math.cos(angle), size / 2 + r * Math.sin(angle)];
    const [x2, y2] = [size / 2 + r * Math.cos(angle + sweep), size / 2 + r * Math.sin(angle + sweep)];
    const path = svg.appendChild(document.createElementNS(svgNS, "path"));
    const large = sweep > Math.PI ? 1 : 0;
    path.setAttribute("d", slices.length === 1
      ? `M${size / 2 - r},${size / 2}a${r},${r} 0 1,0 ${2 * r},0a${r},${r} 0 1,0 ${-2 * r},0`
      : `M${size / 2},${size / 2}L${x1},${y1}A${r},${r} 0 ${large} 1 ${x2},${y2}Z`);
    path.setAttribute("fill", colorManipulator.asHexString(s.display.color));
    path.setAttribute("class", "pie-slice");
    path.dataset.label = s.display.title;
    path.dataset.value = formattedValueToString(s.display);
    path.appendChild(document.createElementNS(svgNS, "title")).textContent =
      `${s.display.title}: ${formattedValueToString(s.display)}`;
    angle += sweep;
  }
}

async function drawStateTimeline(panel, body, data, range) {
  const series = valueFields(await prepared(panel, data));
  if (!series.length) return noData(body, panel);
  const all = series.map(({ frame }) => frame);
  const chart = body.appendChild(el("div", "timeline"));
  const span = range.to - range.from;
  const opacity = ((panel.fieldConfig.defaults.custom || {}).fillOpacity ?? 70) / 100;
  for (const { frame, field } of series) {
    const row = chart.appendChild(el("div", "timeline-row"));
    row.appendChild(el("div", "timeline-name", getFieldDisplayName(field, frame, all)));
    const lane = row.appendChild(el("div", "timeline-lane"));
    lane.style.height = `${Math.round((panel.options.rowHeight ?? 0.9) * 100)}%`;
    const times = frame.fields.find((f) => f.type === FieldType.time).values;
    const step = (frame.fields.find((f) => f.type === FieldType.time).config || {}).interval || 0;
    let start = null, text = null;
    const bands = [];
    times.forEach((t, i) => {
      const value = field.values[i];
      const shown = value == null ? null : field.display(value);
      const label = shown ? formattedValueToString(shown) : null;
      const gap = i > 0 && step && t - times[i - 1] > step * 2;
      if (label !== text || gap || !panel.options.mergeValues) {
        if (text !== null) bands[bands.length - 1].to = gap ? times[i - 1] + step : t;
        if (label !== null) bands.push({ from: t, to: range.to, text: label, colour: shown.color });
        start = t;
        text = label;
      }
    });
    for (const band of bands) {
      const node = lane.appendChild(el("div", "timeline-band"));
      node.style.left = `${((band.from - range.from) / span) * 100}%`;
      node.style.width = `${((band.to - band.from) / span) * 100}%`;
      node.style.background = colorManipulator.alpha(colorManipulator.asHexString(band.colour), opacity);
      node.dataset.colour = colorManipulator.asHexString(band.colour);
      node.appendChild(el("span", "timeline-text", band.text));
    }
    void start;
  }
}

async function drawTable(panel, body, data) {
  const frame = (await prepared(panel, data))[0];
  if (!frame || !frame.length) return noData(body, panel);
  const fields = frame.fields.filter((f) => !(f.config.custom || {}).hidden);
  const wrap = body.appendChild(el("div", "table-wrap"));
  const table = wrap.appendChild(el("table", `data-table cell-${panel.options.cellHeight || "sm"}`));
  if (panel.options.showHeader !== false) {
    const head = table.appendChild(el("thead")).appendChild(el("tr"));
    for (const field of fields) head.appendChild(el("th", null, getFieldDisplayName(field, frame)));
  }
  const tbody = table.appendChild(el("tbody"));
  for (let i = 0; i < frame.length; i++) {
    const tr = tbody.appendChild(el("tr"));
    for (const field of fields) {
      const shown = field.display(field.values[i]);
      const td = tr.appendChild(el("td", null, formattedValueToString(shown)));
      const cell = (field.config.custom || {}).cellOptions || {};
      const colour = shown.color ? colorManipulator.asHexString(shown.color) : null;
      if (cell.type === "color-text" && colour) td.style.color = colour;
      if (cell.type === "color-background" && colour) { td.style.background = colour; td.style.color = "#ffffff"; }
      if (field.type === FieldType.number && (field.config.custom || {}).align !== "left") td.classList.add("number");
    }
  }
}

const DRAW = { stat: drawStat, timeseries: drawTimeSeries, piechart: drawPie,
  "state-timeline": drawStateTimeline, table: drawTable };

// What a viewer sees, read back from the page after drawing.
function rgbHex(css) {
  if (!css || css === "rgba(0, 0, 0, 0)" || css === "transparent") return null;
  return colorManipulator.asHexString(css).toUpperCase();
}
const texts = (root, selector) => Array.from(root.querySelectorAll(selector), (n) => n.textContent);
function seenPanel(node) {
  const out = { id: Number(node.dataset.panelId), title: node.querySelector(".panel-title").textContent,
    type: node.dataset.type };
  if (node.dataset.collapsedRow !== undefined) out.collapsedRow = node.dataset.collapsedRow;
  const blocked = node.querySelector(".not-rendered");
  if (blocked) out.notRendered = blocked.textContent;
  const nothing = node.querySelector(".no-data");
  if (nothing) out.noData = nothing.textContent;
  const errors = texts(node, ".panel-errors");
  if (errors.length) out.errors = errors;
  const stats = node.querySelectorAll(".stat-value");
  if (stats.length) {
    out.stats = Array.from(stats, (s) => ({ text: s.querySelector(".stat-text").textContent,
      colour: rgbHex(getComputedStyle(s).color), background: rgbHex(getComputedStyle(s).backgroundColor) }));
  }
  const legend = node.querySelector(".legend");
  if (legend) {
    out.legend = { calcs: texts(legend, ".legend-calc-name"), series: Array.from(legend.querySelectorAll(".legend-row"), (r) => ({
      name: r.querySelector(".legend-label").textContent,
      colour: rgbHex(getComputedStyle(r.querySelector(".legend-swatch")).backgroundColor),
      calcs: texts(r, ".legend-calc") })) };
  }
  const slices = node.querySelectorAll(".pie-slice");
  if (slices.length) {
    out.slices = Array.from(slices, (s) => ({ label: s.dataset.label, value: s.dataset.value,
      colour: rgbHex(s.getAttribute("fill")) }));
  }
  const table = node.querySelector("table.data-table");
  if (table) {
    out.table = { columns: texts(table, "th"), rows: Array.from(table.querySelectorAll("tbody tr"), (tr) =>
      Array.from(tr.querySelectorAll("td"), (td) => ({ text: td.textContent, colour: rgbHex(getComputedStyle(td).color) }))) };
  }
  const rows = node.querySelectorAll(".timeline-row");
  if (rows.length) {
    out.timeline = Array.from(rows, (r) => ({ name: r.querySelector(".timeline-name").textContent,
      bands: Array.from(r.querySelectorAll(".timeline-band"), (b) => ({ text: b.textContent,
        colour: b.dataset.colour.toUpperCase() })) }));
  }
  return out;
}

async function draw() {
  const data = JSON.parse(document.getElementById("preview-data").textContent);
  for (const item of data.panels) {
    const node = document.querySelector(`[data-panel-id="${item.id}"]`);
    const body = node && node.querySelector(".panel-body");
    if (!body) continue;
    const base = PLUGIN_DEFAULTS[item.panel.type] || { defaults: {}, options: {} };
    const fieldConfig = item.panel.fieldConfig || {};
    const panel = { ...item.panel, options: withDefaults(base.options, item.panel.options || {}),
      fieldConfig: { defaults: withDefaults(base.defaults, fieldConfig.defaults || {}), overrides: fieldConfig.overrides || [] } };
    const reason = notRendered(panel);
    if (reason) {
      body.appendChild(el("div", "not-rendered", `not rendered: ${reason}`));
      continue;
    }
    try {
      await DRAW[panel.type](panel, body, frames(item), data.range);
    } catch (error) {
      body.appendChild(el("div", "not-rendered", `not rendered: ${error.message}`));
    }
  }
  const seen = Array.from(document.querySelectorAll("section.panel[data-panel-id]"), seenPanel);
  const out = document.createElement("script");
  out.type = "application/json";
  out.id = "preview-seen";
  out.textContent = JSON.stringify({ panels: seen });
  document.body.appendChild(out);
  document.documentElement.dataset.rendered = "true";
}

// A failure outside a panel is a console error, which the browser tests report.
draw().catch((error) => console.error(error));
