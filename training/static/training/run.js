// The run page's live charts: polls GET /api/v1/runs/{id}/?since=STEP and draws one uPlot chart per metric.
// Text from the server is set with textContent only.
(function () {
  "use strict";
  var root = document.getElementById("run");
  var chartsBox = document.getElementById("charts");
  if (!root || !chartsBox || typeof uPlot === "undefined") { return; }
  var api = root.dataset.api;
  var stepLabel = root.dataset.labelStep || "step";
  var names = ["loss", "learning_rate", "grad_norm", "reward_accuracy", "reward_margin", "score", "kl",
               "value_loss", "entropy"];
  var steps = [];
  var series = {};
  var charts = {};
  var lastStep = -1;
  names.forEach(function (name) { series[name] = []; });

  function title(name) {
    return chartsBox.getAttribute("data-title-" + name) || name;
  }

  function ensureChart(name) {
    if (charts[name]) { return charts[name]; }
    var box = document.createElement("figure");
    box.className = "chart";
    box.setAttribute("data-metric", name);
    var heading = document.createElement("h3");
    heading.textContent = title(name);
    box.appendChild(heading);
    chartsBox.appendChild(box);
    var width = Math.max(320, Math.min(560, chartsBox.clientWidth - 16));
    charts[name] = new uPlot({
      width: width, height: 220,
      scales: { x: { time: false } },
      series: [{ label: stepLabel }, { label: title(name), stroke: "#2563eb", width: 2, spanGaps: true }],
      axes: [{ label: stepLabel }, {}]
    }, [[], []], box);
    return charts[name];
  }

  function redraw() {
    names.forEach(function (name) {
      var values = series[name];
      var has = values.some(function (v) { return v !== null; });
      if (!has) { return; }
      ensureChart(name).setData([steps.slice(), values.slice()]);
    });
    document.getElementById("no-metrics").hidden = steps.length > 0;
  }

  function update(run) {
    var status = document.getElementById("run-status");
    status.textContent = run.status_display || run.status;
    status.className = "status status-" + run.status;
    var progress = document.getElementById("run-progress");
    progress.max = run.max_steps || 1;
    progress.value = run.global_step;
    document.getElementById("run-steps").textContent = run.global_step + " / " + run.max_steps;
    var error = document.getElementById("run-error");
    error.textContent = run.error || "";
    error.hidden = !run.error;
    (run.metrics || []).forEach(function (row) {
      // A resumed run logs again the steps after its checkpoint: replace, never duplicate.
      var at = steps.indexOf(row.step);
      if (at === -1) {
        steps.push(row.step);
        names.forEach(function (name) { series[name].push(row[name]); });
      } else {
        names.forEach(function (name) { series[name][at] = row[name]; });
      }
      lastStep = Math.max(lastStep, row.step);
    });
    redraw();
    return ["succeeded", "failed", "cancelled"].indexOf(run.status) === -1;
  }

  function poll() {
    fetch(api + "?since=" + lastStep, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (run) {
        var again = run ? update(run) : true;
        if (again) { window.setTimeout(poll, 2000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  poll();
})();
