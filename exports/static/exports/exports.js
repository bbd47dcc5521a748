// The export page: poll progress.json every second while the export runs, update the numbers in place (as text),
// and reload once when it finishes so the card and the downloads appear. No inline script: CSP-friendly.
(function () {
  "use strict";
  var section = document.querySelector("[data-export-progress]");
  if (!section || section.getAttribute("data-finished") === "1") {
    return;
  }
  var url = section.getAttribute("data-export-progress");
  var bar = section.querySelector("progress");
  function field(name) {
    return section.querySelector('[data-field="' + name + '"]');
  }
  function show(progress) {
    field("status").textContent = progress.status_label;
    field("stage").textContent = progress.stage_label || "";
    field("done").textContent = String(progress.done);
    field("total").textContent = progress.total ? String(progress.total) : "";
    field("of").hidden = !progress.total;
    field("counted").textContent = progress.counted || "";
    if (progress.fraction !== null && progress.fraction !== undefined) {
      bar.value = progress.fraction;
    } else {
      bar.removeAttribute("value");  // indeterminate: how much is left is not known yet
    }
    if (progress.error) {
      field("error").textContent = progress.error;
      field("error").hidden = false;
    }
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (progress) {
        show(progress);
        if (progress.status === "completed" || progress.status === "failed") {
          window.location.reload();
          return;
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
