// The usage page's chart: the figure is embedded as JSON data (json_script), because the
// Content-Security-Policy allows no inline script; plotly.js is served locally (vendor/plotly.min.js).
(function () {
  function draw() {
    const holder = document.getElementById("usage-chart");
    const source = document.getElementById("usage-fig");
    if (!holder || !source || !window.Plotly) return;
    const figure = JSON.parse(source.textContent);
    window.Plotly.newPlot(holder, figure.data, figure.layout, {
      responsive: true,
      displaylogo: false,
      modeBarButtonsToRemove: ["select2d", "lasso2d"],
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
