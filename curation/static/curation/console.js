/*
 * Live progress on the job page: polls the job's progress.json every 2 seconds and updates the numbers, the
 * progress bars, the funnel and the error tables in place, without reloading. Stops once the job is finished.
 *
 * The markup it redraws is rendered first by templates/curation/job_detail.html (and curation/views.py's
 * _funnel_rows); keep the two in step. Untrusted strings (reasons, file names, error kinds) only ever go into
 * textContent and attribute values, never into HTML.
 */
(function () {
  "use strict";

  var POLL_MS = 2000;
  var MAX_BACKOFF_MS = 30000;
  var REASON_COLOURS = 6;

  var root = document.getElementById("job-live");
  if (!root) {
    return;
  }
  // Stage numbers are shown from 1 (the progress data counts from 0).
  var progressUrl = root.dataset.progressUrl;
  var samplesUrl = root.dataset.samplesUrl;
  var finishedStatuses = JSON.parse(document.getElementById("finished-statuses").textContent);
  var statusLabels = JSON.parse(document.getElementById("status-labels").textContent);

  function isFinished(status) {
    return finishedStatuses.indexOf(status) !== -1;
  }

  function setField(scope, name, value) {
    scope.querySelectorAll('[data-field="' + name + '"]').forEach(function (el) {
      el.textContent = String(value);
    });
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = String(text);
    }
    return node;
  }

  function percent(part, whole) {
    return whole ? (100 * part / whole).toFixed(2) + "%" : "0%";
  }

  // The same order as curation/views.py: most removed first, then by reason.
  function sortedReasons(removed) {
    return Object.keys(removed || {}).map(function (reason) {
      return [reason, removed[reason]];
    }).sort(function (a, b) {
      if (b[1] !== a[1]) {
        return b[1] - a[1];
      }
      return a[0] < b[0] ? -1 : (a[0] > b[0] ? 1 : 0);
    });
  }

  function updateStatus(progress) {
    var badge = root.querySelector('[data-field="status"]');
    badge.textContent = statusLabels[progress.status] || progress.status;
    badge.className = "status status-" + progress.status;
    root.dataset.status = progress.status;

    var error = root.querySelector('[data-field="error"]');
    error.textContent = progress.error || "";
    error.hidden = !progress.error;

    var cancel = root.querySelector("[data-cancel-form]");
    if (cancel) {
      cancel.hidden = isFinished(progress.status);
    }
  }

  function updateTotals(progress) {
    var done = Math.floor(progress.fraction_done * 100);
    root.querySelector('[data-field="overall"]').value = done;
    setField(root, "percent", done);
    setField(root, "documents.read", progress.documents.read);
    setField(root, "documents.kept", progress.documents.kept);
    setField(root, "documents.removed", progress.documents.removed);
    setField(root, "documents.in_progress", progress.documents.in_progress || 0);
  }

  function updateStages(progress) {
    var finished = isFinished(progress.status);
    progress.stages.forEach(function (stage) {
      var row = root.querySelector('tr[data-stage="' + stage.stage + '"]');
      if (!row) {
        return;
      }
      var bar = row.querySelector('[data-field="bar"]');
      bar.max = stage.total;
      bar.value = stage.done;
      ["done", "total", "running", "pending", "failed"].forEach(function (key) {
        setField(row, key, stage[key]);
      });
      row.classList.toggle("current", !finished && stage.stage === progress.stage);
    });
  }

  function updateFunnel(progress) {
    var base = progress.funnel.reduce(function (max, row) {
      return Math.max(max, row.docs_in);
    }, 0);
    progress.funnel.forEach(function (row, index) {
      var item = root.querySelector('[data-funnel-index="' + index + '"]');
      if (!item) {
        return;
      }
      var reasons = sortedReasons(row.removed);
      var removedTotal = reasons.reduce(function (sum, pair) {
        return sum + pair[1];
      }, 0);
      setField(item, "docs_in", row.docs_in);
      setField(item, "kept", row.kept);
      setField(item, "removed_total", removedTotal);

      var kept = el("span", "seg seg-kept");
      kept.style.width = percent(row.kept, base);
      var segments = [kept];
      var entries = [];
      reasons.forEach(function (pair, i) {
        var colour = " r" + (i % REASON_COLOURS);
        var segment = el("span", "seg seg-removed" + colour);
        segment.style.width = percent(pair[1], base);
        segment.title = pair[0] + ": " + pair[1];
        segments.push(segment);

        var entry = el("li");
        var swatch = el("span", "swatch" + colour);
        swatch.setAttribute("aria-hidden", "true");
        var link = el("a");
        link.href = samplesUrl + "?" + new URLSearchParams({ kept: "0", reason: pair[0] }).toString();
        link.appendChild(el("code", "", pair[0]));
        entry.append(swatch, link, " ", el("span", "num", pair[1]));
        entries.push(entry);
      });
      item.querySelector(".funnel-bar").replaceChildren(...segments);
      item.querySelector(".funnel-reasons").replaceChildren(...entries);
    });
  }

  // Each cell: {text, code?, className?} or {list: [strings]}.
  function cellOf(cell) {
    var td = el("td", cell.className || "");
    if (cell.list) {
      var ul = el("ul", "plain error-messages");
      cell.list.forEach(function (text) {
        ul.appendChild(el("li", "", text));
      });
      td.appendChild(ul);
    } else if (cell.code) {
      td.appendChild(el("code", "", cell.text));
    } else {
      td.textContent = String(cell.text);
    }
    return td;
  }

  function fillTable(name, rows) {
    var table = root.querySelector('[data-table="' + name + '"]');
    var empty = root.querySelector('[data-empty="' + name + '"]');
    var body = table.querySelector("tbody");
    body.replaceChildren(...rows.map(function (cells) {
      var tr = el("tr");
      cells.forEach(function (cell) {
        tr.appendChild(cellOf(cell));
      });
      return tr;
    }));
    table.hidden = rows.length === 0;
    empty.hidden = rows.length !== 0;
  }

  function updateErrors(progress) {
    fillTable("errors-by-kind", sortedReasons(progress.errors_by_kind).map(function (pair) {
      return [{ text: pair[0], code: true }, { text: pair[1], className: "num" }];
    }));
    // Read errors are summarised by the server (by kind, expected skips apart); the page reloads once when the
    // job finishes to show the final summary, duration and throughput.
  }

  function update(progress) {
    updateStatus(progress);
    updateTotals(progress);
    updateStages(progress);
    updateFunnel(progress);
    updateErrors(progress);
  }

  // Once the job finishes: the server-rendered parts that only settle then (read errors by kind, expected skips,
  // duration, finish time, throughput) are fetched once and swapped in, without reloading the page.
  function refreshSummaries() {
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.ok ? response.text() : Promise.reject(new Error("HTTP " + response.status));
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        ["job-meta", "errors-section"].forEach(function (id) {
          var mine = document.getElementById(id);
          var theirs = fresh.getElementById(id);
          if (mine && theirs) {
            mine.replaceWith(document.importNode(theirs, true));
          }
        });
      })
      .catch(function () {
        // The numbers above are final already; the summaries show on the next visit.
      });
  }

  var delay = POLL_MS;

  function schedule() {
    window.setTimeout(poll, delay);
  }

  function poll() {
    fetch(progressUrl, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 403 || response.status === 404) {
          // Logged out, or the job is gone: nothing more will come.
          throw new Error("stop");
        }
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (progress) {
        delay = POLL_MS;
        update(progress);
        if (!isFinished(progress.status)) {
          schedule();
        } else {
          refreshSummaries();
        }
      })
      .catch(function (error) {
        if (error.message === "stop") {
          return;
        }
        // A server restart or a network blip: try again, less often.
        delay = Math.min(delay * 2, MAX_BACKOFF_MS);
        schedule();
      });
  }

  if (!isFinished(root.dataset.status)) {
    schedule();
  }
})();

/*
 * The jobs list: while a job on the page is unfinished, reload the table's rows every 5 seconds (the server renders
 * them, escaped, from the same template as the page) keeping the filters.
 */
(function () {
  "use strict";

  var POLL_MS = 5000;
  var table = document.getElementById("job-table");
  if (!table || table.dataset.live !== "1") {
    return;
  }

  function poll() {
    var url = new URL(window.location.href);
    url.searchParams.set("fragment", "rows");
    fetch(url.toString(), { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.text();
      })
      .then(function (html) {
        var parsed = new DOMParser().parseFromString("<table>" + html + "</table>", "text/html");
        var body = parsed.querySelector("tbody");
        if (body) {
          table.querySelector("tbody").replaceWith(document.importNode(body, true));
          if (body.dataset.live === "1") {
            window.setTimeout(poll, POLL_MS);
          }
        }
      })
      .catch(function () {
        window.setTimeout(poll, POLL_MS * 4);
      });
  }

  window.setTimeout(poll, POLL_MS);
})();

/*
 * The submit form: the chosen built-in recipe's description, steps and YAML are shown under the choice;
 * "Edit a copy" puts its YAML into the recipe text box and switches to "my own recipe".
 */
(function () {
  "use strict";

  var select = document.getElementById("id_recipe");
  var previews = document.querySelectorAll("[data-recipe-preview]");
  if (!select || !previews.length) {
    return;
  }
  var yaml = document.getElementById("id_recipe_yaml");

  function show() {
    previews.forEach(function (preview) {
      preview.hidden = preview.dataset.recipePreview !== select.value;
    });
    var own = select.value === "";
    yaml.closest(".field").hidden = !own;
  }

  document.querySelectorAll("[data-copy-recipe]").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.dataset.copyRecipe);
      yaml.value = source.textContent;
      select.value = "";
      show();
      yaml.focus();
    });
  });
  select.addEventListener("change", show);
  show();
})();
