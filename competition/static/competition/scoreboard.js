/* Charts of the public scoreboard pages. Progressive enhancement: every figure is also in a
   table on the page; the data comes from a json_script element, never from inline script. */
(function () {
  "use strict";
  var dataElement = document.getElementById("chart-data");
  if (!dataElement || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(dataElement.textContent);
  // Words come translated with the data; numbers follow the page's language (a decimal comma in Vietnamese).
  var text = data.text || {};
  window.Chart.defaults.locale = document.documentElement.lang || "en";
  if (window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches) {
    window.Chart.defaults.animation = false;
  }
  var palette = ["#0b5cad", "#b3541e", "#2e7d32", "#6a1b9a", "#00838f", "#ad1457", "#5d4037", "#455a64"];
  var dashes = [[], [6, 3], [2, 2], [8, 3, 2, 3]];

  function show(canvasId, config) {
    var canvas = document.getElementById(canvasId);
    if (!canvas) {
      return;
    }
    canvas.closest("figure").classList.add("chart--ready");
    return new window.Chart(canvas, config);
  }

  // Dates as the page's language writes them ("30 thg 6, 2025", "Jun 30, 2025"), not ISO.
  var dateFormat = new Intl.DateTimeFormat(window.Chart.defaults.locale, { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" });
  function readableDate(iso) {
    var parts = iso.split("-");
    return dateFormat.format(new Date(Date.UTC(+parts[0], +parts[1] - 1, +parts[2])));
  }

  function timeAxis(points) {
    return points.map(function (point) { return readableDate(point.date); });
  }

  if (data.ranking) {
    // One bar pair per agency of the table's page, every label shown: the chart grows with it.
    var rankingCanvas = document.getElementById("ranking-chart");
    if (rankingCanvas) {
      rankingCanvas.parentElement.style.height = Math.max(12, data.ranking.labels.length * 2.2 + 4) + "rem";
    }
    show("ranking-chart", {
      type: "bar",
      data: {
        labels: data.ranking.labels,
        datasets: [
          { label: text.score || "Score %", data: data.ranking.scores, backgroundColor: palette[0] },
          { label: text.progress || "Progress %", data: data.ranking.progress, backgroundColor: palette[1] }
        ]
      },
      options: { indexAxis: "y", maintainAspectRatio: false, scales: { x: { beginAtZero: true }, y: { ticks: { autoSkip: false } } } }
    });
  }
  if (data.progress) {
    show("progress-chart", {
      type: "line",
      data: {
        labels: timeAxis(data.progress),
        datasets: [{ label: text.mean_progress || "Mean progress %", data: data.progress.map(function (p) { return p.progress; }), borderColor: palette[0], backgroundColor: palette[0], pointStyle: "rectRot" }]
      },
      options: { maintainAspectRatio: false, scales: { y: { beginAtZero: true, suggestedMax: 100 } } }
    });
  }
  function seriesChart(canvasId, series, trajectory, percent) {
    var dates = {};
    series.forEach(function (s) { s.points.forEach(function (p) { dates[p.date] = true; }); });
    (trajectory || []).forEach(function (p) { dates[p.date] = true; });
    var labels = Object.keys(dates).sort();
    var datasets = series.map(function (s, i) {
      var byDate = {};
      s.points.forEach(function (p) { byDate[p.date] = p.value; });
      return {
        label: s.label,
        data: labels.map(function (d) { return d in byDate ? byDate[d] : null; }),
        spanGaps: true,
        borderColor: palette[i % palette.length],
        backgroundColor: palette[i % palette.length],
        borderDash: dashes[Math.floor(i / palette.length) % dashes.length]
      };
    });
    if (trajectory) {
      var byDate = {};
      trajectory.forEach(function (p) { byDate[p.date] = p.value; });
      datasets.unshift({
        label: text.trajectory || "Expected trajectory",
        data: labels.map(function (d) { return d in byDate ? byDate[d] : null; }),
        spanGaps: true,
        borderColor: "#1b1f24",
        borderDash: [4, 4],
        pointStyle: "crossRot"
      });
    }
    var options = { maintainAspectRatio: false };
    if (percent) {
      options.scales = { y: { min: 0, max: 100, title: { display: true, text: text.progress || "Progress %" } } };
    }
    show(canvasId, { type: "line", data: { labels: labels.map(readableDate), datasets: datasets }, options: options });
  }
  if (data.series && document.getElementById("target-chart")) {
    seriesChart("target-chart", data.series, data.trajectory);
  }
  if (data.series && document.getElementById("commitment-chart")) {
    seriesChart("commitment-chart", data.series, null, data.percent);
  }
})();
