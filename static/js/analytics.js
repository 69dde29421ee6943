// The analytics page: fetch the event's numbers (JSON) and draw them with Chart.js.
// No inline script: the URL and the labels come from data attributes.
(function () {
  "use strict";
  const root = document.getElementById("analytics");
  if (!root || typeof window.Chart === "undefined") return;
  const d = root.dataset;
  window.Chart.defaults.color = getComputedStyle(root).color || "#cbd5e1";
  const GRID = { color: "rgba(148, 163, 184, 0.25)" };
  const COLORS = ["#38bdf8", "#f472b6", "#a78bfa", "#34d399"];

  function chart(id, type, labels, data, label) {
    const canvas = document.getElementById(id);
    canvas.dataset.points = String(data.length);
    const options = { responsive: true, animation: false, aspectRatio: type === "doughnut" ? 1.6 : 1.8,
                      indexAxis: id === "chart-top" ? "y" : "x",
                      plugins: { legend: { display: type === "doughnut" } } };
    if (type !== "doughnut") {
      const counts = { beginAtZero: true, ticks: { precision: 0 }, grid: GRID };
      options.scales = id === "chart-top" ? { x: counts, y: { grid: GRID } }
        : { y: counts, x: { grid: GRID } };
    }
    return new window.Chart(canvas, {
      type: type,
      data: { labels: labels, datasets: [{
        label: label, data: data, borderColor: COLORS[0], borderWidth: type === "doughnut" ? 0 : 2,
        backgroundColor: type === "doughnut" ? [COLORS[0], COLORS[1]] : "rgba(56, 189, 248, 0.6)" }] },
      options: options,
    });
  }

  function show(stats) {
    root.querySelectorAll("[data-stat]").forEach(function (el) {
      let value = stats[el.dataset.stat];
      if (el.dataset.stat === "found_share" && value !== null) value = Math.round(value * 100) + "%";
      el.textContent = value === null || value === undefined ? "–" : String(value);
    });
    chart("chart-hours", "bar", stats.searches_per_hour.map((r) => r.hour),
          stats.searches_per_hour.map((r) => r.searches), d.labelSearches);
    chart("chart-found", "doughnut", [d.labelFound, d.labelNotFound],
          [stats.searches_with_photos, stats.searches - stats.searches_with_photos], d.labelSearches);
    chart("chart-top", "bar", stats.top_photos.map((r) => r.filename),
          stats.top_photos.map((r) => r.found), d.labelTimesFound);
    chart("chart-indexing", "line", stats.indexing_per_minute.map((r) => r.minute),
          stats.indexing_per_minute.map((r) => r.photos), d.labelPhotosPerMinute);
    root.dataset.ready = "1";
  }

  fetch(d.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : Promise.reject(r.status)))
    .then(show)
    .catch(function () { document.getElementById("analytics-error").hidden = false; });
})();
