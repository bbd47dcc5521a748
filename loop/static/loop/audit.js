// The audit page's live parts: what-if counts as a threshold moves, saving/re-applying a recipe version,
// training the quality classifier. Every value from the server is shown with textContent, never as HTML.
(function () {
  "use strict";
  const section = document.getElementById("whatif");

  function csrf() {
    return section ? section.dataset.csrfToken : (document.querySelector("[name=csrfmiddlewaretoken]") || {}).value;
  }

  async function post(url, body) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf(), "Accept": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      throw new Error(data.detail || response.statusText);
    }
    return data;
  }

  function percent(value) {
    return (value * 100).toFixed(1) + "%";
  }

  document.querySelectorAll("[data-train-url]").forEach((button) => {
    const output = button.parentElement.querySelector(".train-result");
    button.addEventListener("click", async () => {
      button.disabled = true;
      output.textContent = "…";
      const texts = section ? section.dataset : {};
      try {
        const card = await post(button.dataset.trainUrl, {});
        const m = card.metrics || {};
        output.textContent = `${texts.textTrained || "Model registered"}: ${card.version} · ` +
          `${texts.textPrecision || "precision"} ${m.precision} · ${texts.textRecall || "recall"} ${m.recall}`;
        output.dataset.version = card.version;
      } catch (error) {
        output.textContent = `${texts.textError || "Error"}: ${error.message}`;
      } finally {
        button.disabled = false;
      }
    });
  });

  if (!section) {
    return;
  }
  const select = document.getElementById("whatif-step");
  const counts = document.getElementById("whatif-counts");
  const result = document.getElementById("version-result");
  let pending = null;
  let sequence = 0;

  function fieldset() {
    return section.querySelector(`.whatif-params[data-position="${select.value}"]`);
  }

  function changes() {
    const params = {};
    fieldset().querySelectorAll("input[type=range]").forEach((input) => {
      if (input.value !== input.dataset.initial) {
        params[input.dataset.param] = input.dataset.kind === "int" ? parseInt(input.value, 10) : parseFloat(input.value);
      }
    });
    return params;
  }

  async function recount() {
    const mine = ++sequence;
    try {
      const data = await post(section.dataset.whatifUrl, { step: select.value, params: changes() });
      if (mine !== sequence) {
        return; // a later move already asked again
      }
      counts.querySelectorAll("[data-count]").forEach((node) => {
        const key = node.dataset.count;
        if (key === "precision") {
          const figure = data.precision && data.precision.removal_precision;
          node.textContent = figure && figure.value !== null
            ? `${percent(figure.value)} [${percent(figure.low)}–${percent(figure.high)}, n=${figure.n}]`
            : section.dataset.textNone;
        } else {
          node.textContent = String(data[key]);
        }
      });
      counts.dataset.ready = String(mine);
    } catch (error) {
      result.textContent = `${section.dataset.textError}: ${error.message}`;
    }
  }

  function schedule() {
    clearTimeout(pending);
    pending = setTimeout(recount, 120);
  }

  section.querySelectorAll(".whatif-params").forEach((group) => {
    group.querySelectorAll("input[type=range]").forEach((range) => {
      const mirror = group.querySelector(`[data-mirror="${range.dataset.param}"]`);
      range.addEventListener("input", () => { mirror.value = range.value; schedule(); });
      mirror.addEventListener("change", () => { range.value = mirror.value; schedule(); });
    });
  });
  select.addEventListener("change", () => {
    section.querySelectorAll(".whatif-params").forEach((group) => {
      group.hidden = group.dataset.position !== select.value;
    });
    schedule();
  });

  async function save(apply) {
    try {
      const version = await post(section.dataset.versionUrl, { step: select.value, params: changes(), apply });
      result.textContent = `${section.dataset.textSaved} ${version.version}` +
        (version.applied_output ? ` · ${section.dataset.textApplied} ${version.applied_output}` : "");
    } catch (error) {
      result.textContent = `${section.dataset.textError}: ${error.message}`;
    }
  }
  document.getElementById("save-version").addEventListener("click", () => save(false));
  document.getElementById("save-apply").addEventListener("click", () => save(true));
  if (select.value !== "") {
    recount();
  }
})();
