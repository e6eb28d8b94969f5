// Session Lab's only script. The pages work without it; it adds two comforts:
//  - the large-type (projector) toggle, remembered in localStorage;
//  - the panels remember which ones you closed.
// It is loaded from /static (the CSP forbids inline script) and runs in the
// <head> so a remembered large-type setting applies before the first paint.
(function () {
  "use strict";

  var LARGE = "sessionlab.largeType";
  var CLOSED = "sessionlab.closedPanels";
  var root = document.documentElement;

  function load(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }
  function save(key, value) {
    try { window.localStorage.setItem(key, value); } catch (e) { /* private mode: forget it */ }
  }

  if (load(LARGE) === "1") root.classList.add("large-type");

  function closedPanels() {
    try { return JSON.parse(load(CLOSED) || "[]"); } catch (e) { return []; }
  }

  function init() {
    var btn = document.getElementById("toggle-large");
    if (btn) {
      btn.setAttribute("aria-pressed", root.classList.contains("large-type") ? "true" : "false");
      btn.addEventListener("click", function () {
        var on = root.classList.toggle("large-type");
        btn.setAttribute("aria-pressed", on ? "true" : "false");
        save(LARGE, on ? "1" : "0");
      });
    }

    var closed = closedPanels();
    var panels = document.querySelectorAll("details.panel[data-panel]");
    Array.prototype.forEach.call(panels, function (d) {
      var name = d.getAttribute("data-panel");
      if (closed.indexOf(name) !== -1) d.open = false;
      d.addEventListener("toggle", function () {
        var now = closedPanels().filter(function (n) { return n !== name; });
        if (!d.open) now.push(name);
        save(CLOSED, JSON.stringify(now));
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
