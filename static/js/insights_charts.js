// The dashboard's charts: each <div data-chart-url> gets its plotly figure as JSON from the server
// (the Content-Security-Policy allows no inline script; plotly.js is served locally).
(function () {
  function draw(holder) {
    fetch(holder.dataset.chartUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("The chart could not be loaded (" + response.status + ").");
        return response.json();
      })
      .then(function (figure) {
        holder.textContent = "";
        window.Plotly.newPlot(holder, figure.data, figure.layout, {
          responsive: true,
          displaylogo: false,
          modeBarButtonsToRemove: ["select2d", "lasso2d"],
        });
        holder.dataset.drawn = "1";
      })
      .catch(function (error) {
        holder.textContent = error.message + " Refresh the page to try again.";
      });
  }
  function drawAll() {
    if (!window.Plotly) return;
    document.querySelectorAll("[data-chart-url]").forEach(draw);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
})();
