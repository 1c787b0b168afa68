// Writes ktrdr_dashboards/data/grafana-units.json: the unit ids the pinned @grafana/data knows
// (its unit picker's categories) and the parameterised unit prefixes it parses ("suffix:x").
// The validation gate reads that file. Run after the @grafana/data pin moves:
//   npm ci --prefix preview && node preview/scripts/grafana-units.js
"use strict";
const fs = require("fs");
const path = require("path");

// @grafana/data reads the browser's navigator when it builds the date units (Node 20 has none).
// No window stand-in: with one, libraries @grafana/data loads take Node for a browser and look
// for a document.
if (typeof navigator === "undefined") globalThis.navigator = { language: "en-US", languages: ["en-US"] };

const grafana = require("@grafana/data");
const version = require("@grafana/data/package.json").version;

const units = new Set();
for (const category of grafana.getValueFormats()) {
  for (const unit of category.submenu) units.add(unit.value);
}
// Units with a parameter after the colon; each is checked against the library here.
const prefixes = ["count:", "currency:", "prefix:", "si:", "suffix:", "time:"].filter((prefix) => {
  const text = grafana.formattedValueToString(grafana.getValueFormat(`${prefix}X`)(1, 0));
  return text !== grafana.formattedValueToString(grafana.getValueFormat("none")(1, 0));
});

const out = path.join(__dirname, "..", "..", "ktrdr_dashboards", "data", "grafana-units.json");
const data = { "@grafana/data": version, prefixes, units: Array.from(units).sort() };
fs.writeFileSync(out, JSON.stringify(data, null, 1) + "\n");
console.log(`wrote ${path.relative(process.cwd(), out)}: ${units.size} units of @grafana/data ${version}`);
