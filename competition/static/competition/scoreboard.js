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

  // An agency's name on as many lines as the room beside the bars needs, broken between words
  // (Chart.js gives the axis of names at most half the chart's width and draws a longer name from
  // the canvas's edge outwards, cut: "ent of Science and Technology" on a phone).
  function nameLines(name, room, context) {
    var lines = [];
    name.split(" ").forEach(function (word) {
      var last = lines.length - 1;
      if (last >= 0 && context.measureText(lines[last] + " " + word).width <= room) {
        lines[last] += " " + word;
      } else {
        lines.push(word);
      }
    });
    return lines;
  }
  // The room for names in a chart `width` pixels wide: half of it, less the ticks and their padding.
  function nameRoom(width) {
    return width / 2 - 16;
  }
  function tickFont() {
    return window.Chart.helpers.toFont(window.Chart.defaults.font).string;
  }

  if (data.ranking) {
    // One bar pair per agency of the table's page, every name shown whole: the chart grows with
    // them, each agency's row at least 2.2rem high and as high as its name's lines.
    var rankingCanvas = document.getElementById("ranking-chart");
    var measure = document.createElement("canvas").getContext("2d");
    var rem = parseFloat(getComputedStyle(document.documentElement).fontSize) || 16;
    var fitHeight = function (width) {
      if (!rankingCanvas || !width) {
        return;
      }
      measure.font = tickFont();
      var lineHeight = window.Chart.helpers.toFont(window.Chart.defaults.font).lineHeight;
      var rows = data.ranking.labels.reduce(function (total, name) {
        return total + Math.max(2.2 * rem, nameLines(name, nameRoom(width), measure).length * lineHeight + 0.6 * rem);
      }, 0);
      var height = Math.max(12 * rem, rows + 4 * rem) + "px";
      if (rankingCanvas.parentElement.style.height !== height) {
        rankingCanvas.parentElement.style.height = height;
      }
    };
    if (rankingCanvas) {
      fitHeight(rankingCanvas.parentElement.clientWidth);
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
      options: {
        indexAxis: "y",
        maintainAspectRatio: false,
        onResize: function (chart, size) { fitHeight(size.width); },
        scales: {
          x: { beginAtZero: true },
          y: {
            ticks: {
              autoSkip: false,
              callback: function (value) {
                var context = this.chart.ctx;
                context.save();
                context.font = window.Chart.helpers.toFont(this.options.ticks.font).string;
                var lines = nameLines(this.getLabelForValue(value), nameRoom(this.chart.width), context);
                context.restore();
                return lines;
              }
            }
          }
        }
      }
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
