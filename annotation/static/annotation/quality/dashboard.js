/* The manager's quality dashboard: fetches the project's figures from the JSON API and draws them with uPlot.
 * Everything that comes from the server (usernames, model names) is put on the page with textContent, never as
 * markup. Strings arrive translated in the #quality-data JSON block (the page's CSP allows no inline script). */
(function () {
  "use strict";

  var data = JSON.parse(document.getElementById("quality-data").textContent);
  var S = data.strings;

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) { return String(values[key]); });
  }
  function fixed(value, digits) {
    return value === null || value === undefined ? S.unknown : Number(value).toFixed(digits);
  }
  function percent(value) {
    return value === null || value === undefined ? S.unknown : (100 * value).toFixed(0) + "%";
  }
  function duration(seconds) {
    if (seconds === null || seconds === undefined) { return S.unknown; }
    var s = Math.round(seconds);
    var u = S.units;
    if (s < 60) { return s + " " + u.s; }
    if (s < 3600) { return Math.floor(s / 60) + " " + u.min + " " + (s % 60) + " " + u.s; }
    return Math.floor(s / 3600) + " " + u.h + " " + Math.floor((s % 3600) / 60) + " " + u.min;
  }
  function el(tag, text, className) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (className) { node.className = className; }
    return node;
  }
  function setText(id, text) { document.getElementById(id).textContent = String(text); }
  function status(text, kind) {
    var node = document.getElementById("qc-status");
    node.textContent = text;
    node.className = "task-status " + (kind || "is-quiet");
  }
  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function chartWidth(container) { return Math.max(280, container.clientWidth - 8); }

  function empty(container) {
    container.textContent = "";
    container.appendChild(el("p", S.no_data, "qc-empty"));
  }

  function draw(containerId, options, columns) {
    var container = document.getElementById(containerId);
    container.textContent = "";
    if (!columns[0].length) { empty(container); return null; }
    options.width = chartWidth(container);
    options.height = 220;
    return new uPlot(options, columns, container);
  }

  var bars = uPlot.paths && uPlot.paths.bars ? uPlot.paths.bars({ size: [0.7, 60] }) : undefined;

  function drawThroughput(throughput) {
    var points = throughput.points || [];
    var xs = points.map(function (p) { return Date.parse(p.t.length === 10 ? p.t + "T00:00:00Z" : p.t) / 1000; });
    draw("chart-throughput", {
      series: [{ label: S.time }, { label: S.annotations, stroke: "#3b6fd8", fill: "rgba(59,111,216,0.25)", paths: bars },
               { label: S.active_hours, stroke: "#2e8b57", scale: "h" }],
      axes: [{}, { label: S.annotations }, { side: 1, scale: "h", label: S.active_hours, grid: { show: false } }],
    }, [xs, points.map(function (p) { return p.n; }), points.map(function (p) { return p.seconds / 3600; })]);
  }

  function drawAgreementOverTime(series, metric) {
    var xs = series.map(function (p) { return Date.parse(p.bucket + "T00:00:00Z") / 1000; });
    draw("chart-agreement", {
      series: [{ label: S.time }, { label: S.metrics[metric] || S.agreement, stroke: "#7b3fb8", width: 2, points: { show: true } }],
      axes: [{}, { label: S.agreement }],
      scales: { y: { range: [-0.2, 1] } },
    }, [xs, series.map(function (p) { return p.value; })]);
  }

  function drawTimePerTask(histogram) {
    if (!histogram || !histogram.counts || !histogram.counts.length) { empty(document.getElementById("chart-time")); return; }
    var edges = histogram.edges;
    var centres = histogram.counts.map(function (_, i) { return (edges[i] + edges[i + 1]) / 2; });
    draw("chart-time", {
      scales: { x: { time: false } },
      series: [{ label: S.seconds }, { label: S.tasks, stroke: "#c0762b", fill: "rgba(192,118,43,0.3)", paths: bars }],
      axes: [{ label: S.seconds }, { label: S.tasks }],
    }, [centres, histogram.counts]);
  }

  function drawBias(annotators) {
    var rows = annotators.filter(function (a) { return a.position && a.position.n; });
    if (!rows.length) { document.getElementById("bias-section").hidden = true; return; }
    var xs = rows.map(function (_, i) { return i; });
    var names = rows.map(function (a) { return a.username; });
    draw("chart-bias", {
      scales: { x: { time: false, range: [-0.5, rows.length - 0.5] }, y: { range: [0, 1] } },
      series: [
        { label: S.annotator, value: function (_, i) { return i === null || i === undefined ? "" : (names[i] || ""); } },
        { label: S.share_first, stroke: "#d04a4a", width: 0, points: { show: true, size: 9, fill: "#d04a4a" } },
        { label: S.share_longer, stroke: "#3b6fd8", width: 0, points: { show: true, size: 9, fill: "#3b6fd8" } },
        { label: S.even, stroke: "#999", dash: [4, 4], points: { show: false } },
      ],
      axes: [{ values: function (_, ticks) { return ticks.map(function (t) { return names[t] || ""; }); },
               splits: function () { return xs; } }, {}],
    }, [xs,
        rows.map(function (a) { return a.position.share; }),
        rows.map(function (a) { return a.length ? a.length.share : null; }),
        rows.map(function () { return 0.5; })]);
  }

  function agreementTable(agreement) {
    var body = document.querySelector("#agreement-table tbody");
    body.textContent = "";
    Object.keys(agreement).forEach(function (part) {
      agreement[part].forEach(function (figure) {
        var row = document.createElement("tr");
        row.appendChild(el("td", part === "overall" ? S.overall : part));
        row.appendChild(el("td", (S.metrics[figure.metric] || figure.metric) + (figure.level ? " (" + (S.levels[figure.level] || figure.level) + ")" : "")));
        row.appendChild(el("td", fixed(figure.value, 3), "num"));
        row.appendChild(el("td", figure.n_items, "num"));
        body.appendChild(row);
      });
    });
  }

  function pauseButton(row, annotator) {
    var button = el("button", annotator.paused ? S.resume : S.pause, "secondary small");
    button.type = "button";
    button.addEventListener("click", function () {
      var url = data.pause_url.replace(/\/0\/pause\/$/, "/" + annotator.user_id + "/pause/");
      button.disabled = true;
      fetch(url, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ paused: !annotator.paused }),
      }).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      }).then(function (body) {
        annotator.paused = body.paused;
        button.textContent = body.paused ? S.resume : S.pause;
        row.classList.toggle("is-paused", body.paused);
        row.querySelector(".qc-name-paused").hidden = !body.paused;
      }).catch(function (error) {
        status(fill(S.pause_failed, { status: error.message }), "is-error");
      }).then(function () { button.disabled = false; });
    });
    return button;
  }

  function annotatorTable(annotators) {
    var body = document.querySelector("#annotator-table tbody");
    body.textContent = "";
    annotators.forEach(function (a) {
      var row = document.createElement("tr");
      row.dataset.annotator = a.username;
      var name = el("td", a.username);
      var pausedBadge = el("span", " " + S.paused, "badge qc-name-paused");
      pausedBadge.hidden = !a.paused;
      name.appendChild(pausedBadge);
      row.appendChild(name);
      row.appendChild(el("td", a.tasks, "num"));
      row.appendChild(el("td", duration(a.active_seconds), "num"));
      row.appendChild(el("td", duration(a.median_active_seconds), "num"));
      row.appendChild(el("td", a.gold.n ? fill(S.gold_cell, {
        accuracy: percent(a.gold.accuracy), correct: a.gold.correct, n: a.gold.n,
        low: percent(a.gold.wilson_low), high: percent(a.gold.wilson_high) }) : S.unknown));
      row.appendChild(el("td", a.agreement.rate === null ? S.unknown : percent(a.agreement.rate) + " (" + a.agreement.items + " " + S.items + ")", "num"));
      var trust = el("td", fixed(a.trust, 2), "qc-trust");
      trust.appendChild(el("span", fill(S.trust_inputs, {
        gold: fixed(a.trust_inputs.gold_wilson_low, 2), agreement: fixed(a.trust_inputs.agreement_rate, 2) }), "qc-inputs"));
      row.appendChild(trust);
      var flags = el("td");
      (a.flags || []).forEach(function (flag) { flags.appendChild(el("span", S.flags[flag] || flag, "qc-flag")); });
      row.appendChild(flags);
      var action = el("td");
      action.appendChild(pauseButton(row, a));
      row.appendChild(action);
      body.appendChild(row);
    });
  }

  function leaderboard(board) {
    var table = document.getElementById("leaderboard-table");
    var emptyNote = document.getElementById("leaderboard-empty");
    var body = table.querySelector("tbody");
    body.textContent = "";
    if (!board.models || !board.models.length) {
      table.hidden = true;
      document.getElementById("winrate-table").hidden = true;
      emptyNote.textContent = S.no_leaderboard;
      emptyNote.hidden = false;
      return;
    }
    board.models.forEach(function (m) {
      var row = document.createElement("tr");
      row.appendChild(el("td", m.rank_upper, "num"));
      row.appendChild(el("td", m.model));
      row.appendChild(el("td", fixed(m.rating, 0), "num"));
      row.appendChild(el("td", fill(S.rating_ci, { low: fixed(m.rating_low, 0), high: fixed(m.rating_high, 0) }), "num"));
      row.appendChild(el("td", m.battles, "num"));
      row.appendChild(el("td", m.wins + " / " + m.ties + " / " + m.losses, "num"));
      body.appendChild(row);
    });
    var matrix = board.matrix;
    var head = document.querySelector("#winrate-table thead");
    var mbody = document.querySelector("#winrate-table tbody");
    head.textContent = "";
    mbody.textContent = "";
    var headRow = document.createElement("tr");
    headRow.appendChild(el("th", ""));
    matrix.models.forEach(function (name) { var th = el("th", name); th.scope = "col"; headRow.appendChild(th); });
    head.appendChild(headRow);
    matrix.models.forEach(function (name, i) {
      var row = document.createElement("tr");
      var th = el("th", name); th.scope = "row"; row.appendChild(th);
      matrix.win_rate[i].forEach(function (share, j) {
        var cell = el("td", share === null ? S.unknown : percent(share));
        if (share !== null) {
          cell.title = matrix.battles[i][j] + " " + S.annotations;
          cell.className = share > 0.55 ? "qc-hi" : (share < 0.45 ? "qc-lo" : "");
        }
        row.appendChild(cell);
      });
      mbody.appendChild(row);
    });
  }

  function show(quality) {
    var headline = quality.headline;
    setText("qc-metric", headline ? (S.metrics[headline.metric] || headline.metric) : S.agreement);
    setText("qc-headline", headline ? fixed(headline.value, 3) : S.unknown);
    setText("qc-headline-items", headline ? headline.n_items + " " + S.items : "");
    setText("qc-items", quality.counts.items);
    setText("qc-annotations", quality.counts.annotations);
    setText("qc-gold", quality.counts.gold);
    setText("qc-more", quality.routing.more_annotators);
    setText("qc-review", quality.counts.needs_review);
    var computed = document.getElementById("qc-computed");
    computed.textContent = quality.computed_at ? new Date(quality.computed_at).toLocaleString() : S.unknown;
    if (quality.computed_at) { computed.dateTime = quality.computed_at; }
    document.getElementById("qc-stale").hidden = !quality.stale;
    drawThroughput(quality.throughput);
    drawAgreementOverTime(quality.agreement_over_time || [], headline ? headline.metric : "");
    drawTimePerTask(quality.time_per_task);
    drawBias(quality.annotators);
    agreementTable(quality.agreement || {});
    annotatorTable(quality.annotators);
  }

  function getJson(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    });
  }

  status(S.loading);
  Promise.all([getJson(data.quality_url), getJson(data.leaderboard_url)]).then(function (answers) {
    show(answers[0]);
    leaderboard(answers[1]);
    status("");
    document.body.dataset.qcReady = "1";
  }).catch(function (error) {
    status(fill(S.load_failed, { status: error.message }), "is-error");
  });
})();
