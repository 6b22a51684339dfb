// The cost pages' charts: each <div data-figure="ID"> draws the figure embedded as JSON data in the
// <script id="ID" type="application/json"> that json_script wrote (the Content-Security-Policy allows no
// inline script); plotly.js is served locally (vendor/plotly.min.js).
(function () {
  function draw() {
    if (!window.Plotly) return;
    document.querySelectorAll("[data-figure]").forEach(function (holder) {
      const source = document.getElementById(holder.dataset.figure);
      if (!source) return;
      const figure = JSON.parse(source.textContent);
      window.Plotly.newPlot(holder, figure.data, figure.layout, {
        responsive: true,
        displaylogo: false,
        modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"],
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
