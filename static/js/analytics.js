// The analytics page: fetch the event's numbers (JSON) and draw them with Chart.js.
// No inline script: the URL and the labels come from data attributes.
(function () {
  "use strict";
  const root = document.getElementById("analytics");
  if (!root || typeof window.Chart === "undefined") return;
  const d = root.dataset;

  function chart(id, type, labels, data, label) {
    const canvas = document.getElementById(id);
    canvas.dataset.points = String(data.length);
    return new window.Chart(canvas, {
      type: type,
      data: { labels: labels, datasets: [{ label: label, data: data }] },
      options: { responsive: true, animation: false, indexAxis: type === "bar" && id === "chart-top" ? "y" : "x",
                 plugins: { legend: { display: type === "doughnut" } } },
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
