// Prepended to a preview page by tests/test_preview.py: records errors, then after load
// what the browser laid out, into #probe-report for Chromium's --dump-dom.
(function () {
  var errors = [];
  window.addEventListener("error", function (e) { errors.push("error: " + e.message); });
  document.addEventListener("securitypolicyviolation", function (e) {
    errors.push("blocked by CSP: " + e.violatedDirective + " " + e.blockedURI);
  });
  var original = console.error;
  console.error = function () {
    errors.push("console.error: " + Array.prototype.join.call(arguments, " "));
    return original.apply(console, arguments);
  };
  window.addEventListener("load", function () {
    var grid = document.querySelector("main.dashboard-grid").getBoundingClientRect();
    var panels = Array.prototype.map.call(document.querySelectorAll("[data-panel-id]"), function (el) {
      var r = el.getBoundingClientRect(), title = el.querySelector(".panel-title");
      var t = title.getBoundingClientRect();
      var hit = document.elementFromPoint(t.left + Math.min(t.width / 2, 20), t.top + t.height / 2);
      return {
        id: Number(el.dataset.panelId), title: title.textContent,
        collapsed: el.dataset.collapsed === "true",
        rect: { x: r.left - grid.left, y: r.top - grid.top, w: r.width, h: r.height },
        page: { x: r.left + window.scrollX, y: r.top + window.scrollY, w: r.width, h: r.height },
        titleVisible: t.width > 0 && t.height > 0 && title.contains(hit)
          && getComputedStyle(title).visibility === "visible",
        titleInside: t.top >= r.top && t.bottom <= r.bottom + 0.5 && t.left >= r.left && t.right <= r.right + 0.5,
        titleFits: title.scrollWidth <= title.clientWidth,
        noData: el.querySelectorAll(".no-data").length,
        queryErrors: Array.prototype.map.call(el.querySelectorAll(".panel-errors"), function (n) { return n.textContent; }),
        chartShapes: el.querySelectorAll(".chart canvas, .chart svg path, .timeline-band").length,
        tableRows: el.querySelectorAll(".data-table tbody tr").length,
        stats: el.querySelectorAll(".stat-value").length
      };
    });
    var out = document.createElement("script");
    out.type = "application/json";
    out.id = "probe-report";
    out.textContent = JSON.stringify({
      gridWidth: grid.width, panels: panels, errors: errors,
      rendered: document.documentElement.dataset.rendered || ""
    });
    document.body.appendChild(out);
  });
})();
