// Draws each panel of a dashboard preview from the JSON the page carries (#preview-data):
// stat values coloured by threshold, time series as lines, tables as tables, pie charts as
// pies and state timelines as bands. Charts are ECharts (SVG renderer), inlined before this.
(function () {
  "use strict";
  // Grafana's dark-theme named colours and its classic palette.
  var NAMED = {
    green: "#73BF69", "dark-green": "#37872D", red: "#F2495C", "dark-red": "#C4162A",
    yellow: "#FADE2A", orange: "#FF9830", blue: "#5794F2", purple: "#B877D9",
    text: "#ccccdc", transparent: "transparent"
  };
  var PALETTE = ["#7EB26D", "#EAB839", "#6ED0E0", "#EF843C", "#E24D42", "#1F78C1",
    "#BA43A6", "#705DA0", "#508642", "#CCA300", "#447EBC", "#C15C17"];
  var TEXT = "#ccccdc", MUTED = "rgba(204,204,220,0.65)", GRID = "rgba(204,204,220,0.10)";

  function colour(name) { return NAMED[name] || name || TEXT; }

  function fixed(value, decimals) {
    if (decimals === null || decimals === undefined) {
      var size = Math.abs(value);
      decimals = size >= 100 || Number.isInteger(value) ? 0 : size >= 10 ? 1 : 2;
    }
    return value.toFixed(decimals);
  }

  function scaled(value, decimals, steps) {
    // steps: [[factor, suffix], ...] ascending; the largest factor not above |value| wins.
    var chosen = steps[0];
    for (var i = 0; i < steps.length; i++) {
      if (Math.abs(value) >= steps[i][0]) chosen = steps[i];
    }
    return fixed(value / chosen[0], decimals) + chosen[1];
  }

  // Grafana's value formats for the units these dashboards use.
  function format(value, unit, decimals) {
    if (value === null || value === undefined || Number.isNaN(value)) return "No data";
    switch (unit) {
      case "percent": return fixed(value, decimals) + "%";
      case "percentunit": return fixed(value * 100, decimals) + "%";
      case "reqps": return fixed(value, decimals) + " req/s";
      case "opm": return fixed(value, decimals) + " ops/min";
      case "ops": return fixed(value, decimals) + " ops/s";
      case "ms": return scaled(value, decimals, [[1, " ms"], [1000, " s"], [60000, " min"]]);
      case "s": return scaled(value, decimals, [[1, " s"], [60, " min"], [3600, " hour"], [86400, " day"]]);
      case "bytes": return scaled(value, decimals, [[1, " B"], [1024, " KiB"], [1048576, " MiB"], [1073741824, " GiB"]]);
      default: return fixed(value, decimals);
    }
  }

  function thresholdColour(value, thresholds) {
    var steps = (thresholds && thresholds.steps) || [];
    var found = steps.length ? steps[0].color : "text";
    for (var i = 0; i < steps.length; i++) {
      if (steps[i].value === null || value >= steps[i].value) found = steps[i].color;
    }
    return colour(found);
  }

  function mapped(value, mappings) {
    for (var i = 0; i < (mappings || []).length; i++) {
      var options = mappings[i].options || {};
      if (mappings[i].type === "value" && value !== null && options[String(value)]) {
        return options[String(value)];
      }
    }
    return null;
  }

  function seriesColour(panel, name, index) {
    var fixedColour = (panel.seriesColours || {})[name];
    return fixedColour ? colour(fixedColour) : PALETTE[index % PALETTE.length];
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function noData(body) { body.appendChild(element("div", "no-data", "No data")); }

  function chart(body) {
    var node = element("div", "chart");
    body.appendChild(node);
    return echarts.init(node, null, { renderer: "svg" });
  }

  function axisTime(panel) {
    return {
      type: "time", min: panel.range.from, max: panel.range.to,
      axisLabel: { color: MUTED, hideOverlap: true, formatter: "{HH}:{mm}" },
      axisLine: { lineStyle: { color: GRID } }, splitLine: { show: false }
    };
  }

  function drawStat(panel, body) {
    var series = panel.view.series;
    if (!series.length) return noData(body);
    var box = element("div", "stat-values");
    body.appendChild(box);
    var height = body.clientHeight, width = body.clientWidth / series.length;
    series.forEach(function (item) {
      var text = format(item.value, panel.unit, panel.decimals);
      var node = element("div", "stat-value", text);
      node.style.color = item.value === null ? MUTED : thresholdColour(item.value, panel.thresholds);
      // As Grafana does: as large as the panel allows, by height and by text length.
      node.style.fontSize = Math.max(12, Math.min(height * 0.7, (width / Math.max(text.length, 3)) * 1.6)) + "px";
      node.dataset.value = item.value === null ? "" : String(item.value);
      box.appendChild(node);
    });
  }

  function drawTimeSeries(panel, body) {
    var series = panel.view.series;
    if (!series.length) return noData(body);
    chart(body).setOption({
      animation: false, useUTC: true, textStyle: { color: TEXT },
      grid: { left: 4, right: 12, top: 8, bottom: 28, containLabel: true },
      legend: { type: "scroll", bottom: 0, textStyle: { color: TEXT }, itemHeight: 4, icon: "rect" },
      xAxis: axisTime(panel),
      yAxis: {
        type: "value", axisLabel: { color: MUTED, formatter: function (v) { return format(v, panel.unit, null); } },
        splitLine: { lineStyle: { color: GRID } }
      },
      series: series.map(function (item, index) {
        var c = seriesColour(panel, item.name, index);
        return {
          type: "line", name: item.name, data: item.points, showSymbol: false, connectNulls: false,
          color: c, lineStyle: { width: 1 }, areaStyle: { opacity: 0.1 }
        };
      })
    });
  }

  function drawPie(panel, body) {
    var slices = panel.view.series.filter(function (s) { return s.value !== null && s.value > 0; });
    if (!slices.length) return noData(body);
    var values = {};
    slices.forEach(function (s) { values[s.name] = s.value; });
    chart(body).setOption({
      animation: false, textStyle: { color: TEXT },
      legend: {
        orient: "vertical", right: 0, top: "middle", textStyle: { color: TEXT },
        formatter: function (name) { return name + "  " + format(values[name], panel.unit, panel.decimals); }
      },
      series: [{
        type: "pie", radius: "80%", center: ["28%", "50%"], label: { show: false },
        data: slices.map(function (s, index) {
          return { name: s.name, value: s.value, itemStyle: { color: seriesColour(panel, s.name, index) } };
        })
      }]
    });
  }

  function drawStateTimeline(panel, body) {
    var series = panel.view.series;
    if (!series.length) return noData(body);
    var bands = [];
    series.forEach(function (item, row) {
      var start = null, current = null;
      item.points.concat([[panel.range.to, undefined]]).forEach(function (point) {
        if (point[1] !== current) {
          if (current !== null && current !== undefined) bands.push([row, start, point[0], current]);
          start = point[0];
          current = point[1];
        }
      });
    });
    chart(body).setOption({
      animation: false, useUTC: true, textStyle: { color: TEXT },
      grid: { left: 4, right: 12, top: 4, bottom: 4, containLabel: true },
      xAxis: axisTime(panel),
      yAxis: {
        type: "category", inverse: true, data: series.map(function (s) { return s.name; }),
        axisLabel: { color: TEXT }, axisLine: { show: false }, axisTick: { show: false }
      },
      series: [{
        type: "custom", data: bands, encode: { x: [1, 2], y: 0 },
        renderItem: function (params, api) {
          var value = api.value(3), row = api.value(0);
          var from = api.coord([api.value(1), row]), to = api.coord([api.value(2), row]);
          var height = api.size([0, 1])[1] * panel.rowHeight;
          var mapping = mapped(value, panel.mappings);
          var fill = mapping && mapping.color ? colour(mapping.color) : thresholdColour(value, panel.thresholds);
          var width = Math.max(to[0] - from[0], 1);
          var label = mapping && mapping.text ? mapping.text : format(value, panel.unit, panel.decimals);
          return {
            type: "group", children: [
              { type: "rect", shape: { x: from[0], y: from[1] - height / 2, width: width, height: height },
                style: { fill: fill, opacity: panel.fillOpacity } },
              { type: "text", invisible: width < 40, style: { text: label, x: from[0] + width / 2, y: from[1],
                align: "center", verticalAlign: "middle", fill: "#111217", font: "12px sans-serif" } }
            ]
          };
        }
      }]
    });
  }

  function drawTable(panel, body) {
    var data = panel.view.table;
    if (!data || !data.rows.length) return noData(body);
    var wrap = element("div", "table-wrap"), table = element("table", "data-table");
    var head = element("tr");
    data.columns.forEach(function (name) { head.appendChild(element("th", null, name)); });
    table.appendChild(element("thead")).appendChild(head);
    var tbody = table.appendChild(element("tbody"));
    data.rows.forEach(function (row) {
      var tr = tbody.appendChild(element("tr"));
      row.forEach(function (value, index) {
        var name = data.columns[index], mapping = mapped(value, data.mappings[name]);
        var text = mapping && mapping.text ? mapping.text
          : typeof value === "number" ? format(value, data.units[name] || "none", null)
          : value === null ? "" : String(value);
        var td = tr.appendChild(element("td", null, text));
        if (mapping && mapping.color) {
          td.style.background = colour(mapping.color);
          td.style.color = "#111217";
        }
      });
    });
    wrap.appendChild(table);
    body.appendChild(wrap);
  }

  var DRAW = {
    stat: drawStat, timeseries: drawTimeSeries, piechart: drawPie,
    "state-timeline": drawStateTimeline, table: drawTable
  };

  var data = JSON.parse(document.getElementById("preview-data").textContent);
  data.panels.forEach(function (panel) {
    var draw = DRAW[panel.type];
    var body = document.querySelector('[data-panel-id="' + panel.id + '"] .panel-body');
    if (!draw || !body) return;
    panel.range = data.range;
    draw(panel, body);
  });
  document.documentElement.dataset.rendered = "true";
})();
