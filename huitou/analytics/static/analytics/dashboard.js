/* Draws the dashboard's charts with plotly.js (loaded before this file, from the install).
 *
 * The figures come from the server in <script id="dash-chart-data"> (huitou/analytics/charts_dashboard.py),
 * keyed by the id of the element each is drawn in. Drawn on load, again after htmx swaps in new
 * results, and after htmx restores a page from its history.
 */
(function () {
  "use strict";

  function draw() {
    var holder = document.getElementById("dash-chart-data");
    if (!holder || !window.Plotly) return;
    var charts = JSON.parse(holder.textContent);
    Object.keys(charts).forEach(function (id) {
      var el = document.getElementById(id);
      if (!el) return;
      if (!el._fullLayout) el.replaceChildren();
      var figure = charts[id];
      window.Plotly.react(el, figure.data, figure.layout, figure.config);
    });
  }

  function purge(root) {
    if (!window.Plotly || !root || !root.querySelectorAll) return;
    root.querySelectorAll(".dash-chart").forEach(function (el) {
      if (el._fullLayout) window.Plotly.purge(el);
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:beforeSwap", function (event) { purge(event.detail.target); });
  document.addEventListener("htmx:afterSettle", draw);
  document.addEventListener("htmx:historyRestore", draw);
})();
