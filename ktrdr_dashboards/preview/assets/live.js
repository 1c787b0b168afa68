// Live preview (preview --serve): asks the server for the build's version every half second,
// reloads the page when a rebuild succeeded, and shows a failed build's error line on top of
// the last good render.
(function () {
  "use strict";
  var version = null;
  function show(error) {
    var banner = document.getElementById("live-error");
    if (error && !banner) {
      banner = document.createElement("div");
      banner.id = "live-error";
      banner.className = "live-error";
      document.body.insertBefore(banner, document.body.firstChild);
    }
    if (error) banner.textContent = error;
    else if (banner) banner.remove();
  }
  function tick() {
    fetch("/__live", { cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (version === null) version = state.version;
        if (state.version !== version) return location.reload();
        show(state.error);
      })
      .catch(function () { show("preview server stopped"); })
      .finally(function () { setTimeout(tick, 500); });
  }
  tick();
})();
