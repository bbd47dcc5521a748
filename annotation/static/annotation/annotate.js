/* The annotator's page: one task at a time, from the annotation JSON API, by keyboard or pointer.
 *
 * The page is rendered by the server (annotation/templates/annotation/annotate.html); this script asks the API
 * for the next assignment, draws it, keeps the lease alive, saves drafts as the person types, runs the writing
 * checks, measures active time, and submits or skips. Page data (project settings, URLs, translated strings)
 * comes from a json_script element: the page's Content-Security-Policy allows no inline script.
 *
 * Safety: everything that comes from an item (prompts, messages, responses, documents, labels, similar
 * instructions) is put into the page with textContent or as attribute values, never as markup, so nothing in it
 * can run script, submit a form or load a resource.
 */
(function () {
  "use strict";

  var dataNode = document.getElementById("annotate-data");
  if (!dataNode) { return; }
  var DATA = JSON.parse(dataNode.textContent);
  var PROJECT = DATA.project;
  var URLS = DATA.urls;
  var T = DATA.strings;
  // Without input or focus for this long, the clock of active time stops (reading without moving is not work
  // we can tell apart from a coffee break; a minute is enough to read a long response).
  var IDLE_MS = (DATA.idle_seconds || 60) * 1000;
  var DRAFT_DELAY_MS = 1000;
  var CHECK_DELAY_MS = 700;
  var HEARTBEAT_MIN_MS = 15000;

  var root = document.getElementById("annotate-app");
  var taskNode = document.getElementById("task");
  var statusNode = document.getElementById("task-status");
  var checksNode = document.getElementById("checks");
  var doneNode = document.getElementById("all-done");
  var submitButton = document.getElementById("submit-button");
  var skipButton = document.getElementById("skip-button");
  var clockNode = document.getElementById("active-clock");
  var clockState = document.getElementById("clock-state");
  var progressBar = document.getElementById("progress-bar");
  var progressText = document.getElementById("progress-text");
  var guidelinesDialog = document.getElementById("guidelines-dialog");
  var skipDialog = document.getElementById("skip-dialog");
  var breakDialog = document.getElementById("break-dialog");

  var state = {
    assignment: null,   // the assignment as the API served it
    ui: null,           // the kind's widget: {payload(), draft(), validate(), focusFirst(), onKey(e)}
    busy: false,
    draftTimer: null,
    checkTimer: null,
    heartbeatTimer: null,
    dirty: false,
  };

  // --- small DOM helpers (text only) -------------------------------------------------------------------------

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value === null || value === undefined || value === false) { return; }
        if (key === "text") { node.textContent = String(value); }
        else if (key === "className") { node.className = value; }
        else { node.setAttribute(key, value === true ? "" : String(value)); }
      });
    }
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) { return; }
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function fmt(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (_m, key) {
      return values[key] === undefined ? "" : String(values[key]);
    });
  }

  function textBlock(text, extraClass) {
    // pre-wrap keeps the writer's line breaks; textContent keeps every character literal.
    return el("div", { className: "text-block" + (extraClass ? " " + extraClass : ""), text: text || "" });
  }

  function setStatus(message, kind) {
    statusNode.textContent = message || "";
    statusNode.className = "task-status" + (kind ? " is-" + kind : "");
  }

  function isTypingTarget(target) {
    if (!target) { return false; }
    if (target.isContentEditable) { return true; }
    if (target.tagName === "TEXTAREA" || target.tagName === "SELECT") { return true; }
    if (target.tagName === "INPUT") {
      var type = (target.getAttribute("type") || "text").toLowerCase();
      return ["range", "checkbox", "radio", "button", "submit"].indexOf(type) === -1;
    }
    return false;
  }

  // --- the API ---------------------------------------------------------------------------------------------

  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function api(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), "Accept": "application/json" },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      if (response.status === 204) { return { status: 204, body: null }; }
      return response.json().then(
        function (json) { return { status: response.status, body: json }; },
        function () { return { status: response.status, body: null }; }
      );
    });
  }

  function assignmentUrl(action) {
    return URLS.assignments + state.assignment.id + "/" + action + "/";
  }

  function errorText(result) {
    var body = result.body || {};
    if (body.detail) { return String(body.detail); }
    if (body.blocking && body.blocking.length) {
      return body.blocking.map(function (b) { return b.message; }).join(" ");
    }
    return fmt(T.server_error, { status: result.status });
  }

  // --- active time on task ---------------------------------------------------------------------------------

  var clock = {
    taskSeconds: 0,      // active seconds on the current assignment
    sinceBreak: 0,       // active seconds since the last break reminder
    lastInput: Date.now(),
    lastTick: Date.now(),
    windowFocused: true,
    running: false,
  };

  function markActivity() { clock.lastInput = Date.now(); }

  function clockTick() {
    var now = Date.now();
    var elapsed = Math.min(now - clock.lastTick, 2000) / 1000;  // a sleeping laptop does not count
    clock.lastTick = now;
    var visible = document.visibilityState === "visible";
    var active = Boolean(state.assignment) && visible && clock.windowFocused && !breakDialog.open &&
      now - clock.lastInput < IDLE_MS;
    if (active) {
      clock.taskSeconds += elapsed;
      clock.sinceBreak += elapsed;
    }
    clock.running = active;
    var total = Math.floor(clock.taskSeconds);
    clockNode.textContent = Math.floor(total / 60) + ":" + String(total % 60).padStart(2, "0");
    clockState.textContent = active ? "" : T.clock_paused;
    root.classList.toggle("is-idle", !active);
    var breakAfter = (PROJECT.break_after_minutes || 0) * 60;
    if (breakAfter > 0 && clock.sinceBreak >= breakAfter && !breakDialog.open) {
      clock.sinceBreak = 0;
      openDialog(breakDialog);
    }
  }

  // What a person does; not "focusin", which the page's own dialogs and redraws cause without anyone there.
  ["keydown", "pointerdown", "pointermove", "wheel", "input", "scroll", "touchstart"].forEach(function (type) {
    window.addEventListener(type, markActivity, { capture: true, passive: true });
  });
  window.addEventListener("focus", function () { clock.windowFocused = true; markActivity(); });
  window.addEventListener("blur", function () { clock.windowFocused = false; });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { markActivity(); }
    else if (state.assignment) { saveDraftNow(); }
  });
  setInterval(clockTick, 1000);

  // --- progress ----------------------------------------------------------------------------------------------

  function showProgress(progress) {
    if (!progress) { return; }
    var done = progress.submitted || 0;
    // "remaining" leaves out the task on screen (it is leased already); the page's own count says whether one is.
    var open = progress.leased !== undefined ? progress.leased : (state.assignment ? 1 : 0);
    var total = done + (progress.remaining || 0) + open;
    if (total > 0) {
      progressBar.max = total;
      progressBar.value = Math.min(done, total);
    }
    progressText.textContent = fmt(T.progress, { done: done, total: total });
  }

  function refreshProgress() {
    fetch(URLS.project, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (project) { if (project) { showProgress(project.progress); } })
      .catch(function () { /* progress is a nicety; the task goes on */ });
  }

  // --- dialogs -----------------------------------------------------------------------------------------------

  function openDialog(dialog) {
    if (dialog.open) { return; }
    dialog.showModal();
  }

  document.querySelectorAll("[data-close-dialog]").forEach(function (button) {
    button.addEventListener("click", function () {
      var dialog = button.closest("dialog");
      if (dialog) { dialog.close(); }
    });
  });
  document.getElementById("guidelines-button").addEventListener("click", function () { openDialog(guidelinesDialog); });
  breakDialog.addEventListener("close", function () { markActivity(); if (state.ui) { state.ui.focusFirst(); } });
  guidelinesDialog.addEventListener("close", function () { if (state.ui) { state.ui.focusFirst(); } });

  // --- drafts, checks, heartbeats ------------------------------------------------------------------------------

  function changed() {
    state.dirty = true;
    clearTimeout(state.draftTimer);
    state.draftTimer = setTimeout(saveDraftNow, DRAFT_DELAY_MS);
  }

  function saveDraftNow() {
    clearTimeout(state.draftTimer);
    if (!state.assignment || !state.ui || !state.dirty) { return; }
    state.dirty = false;
    var id = state.assignment.id;
    api(assignmentUrl("draft"), { draft: state.ui.draft(), active_seconds: clock.taskSeconds }).then(function (result) {
      if (!state.assignment || state.assignment.id !== id) { return; }
      if (result.status === 204 || result.status === 200) {
        setStatus(T.draft_saved, "quiet");
      } else if (result.status === 409 || result.status === 404) {
        leaseLost(errorText(result));
      } else {
        state.dirty = true;
        setStatus(T.draft_not_saved, "warn");
      }
    }).catch(function () { state.dirty = true; setStatus(T.offline, "warn"); });
  }

  function scheduleCheck() {
    clearTimeout(state.checkTimer);
    state.checkTimer = setTimeout(runCheck, CHECK_DELAY_MS);
  }

  function runCheck() {
    if (!state.assignment || !state.ui || !state.ui.checks) { return; }
    var payload = state.ui.payload();
    var id = state.assignment.id;
    api(assignmentUrl("check"), { payload: payload }).then(function (result) {
      if (!state.assignment || state.assignment.id !== id) { return; }
      if (result.status === 200 && result.body) { showChecks(result.body); }
    }).catch(function () { /* the submit runs the same checks */ });
  }

  function showChecksHint() {
    checksNode.replaceChildren(el("p", { className: "checks-hint", text: T.checks_hint }));
  }

  function showChecks(result) {
    checksNode.replaceChildren();
    var warnings = result.warnings || [];
    var blocking = result.blocking || [];
    if (!warnings.length && !blocking.length) {
      checksNode.appendChild(el("p", { className: "check-ok", text: T.checks_ok }));
      return;
    }
    blocking.forEach(function (b) {
      checksNode.appendChild(el("div", { className: "check check-blocking", role: "alert", "data-code": b.code }, [
        el("strong", { text: T.check_blocking + " " }), el("span", { text: b.message }),
      ]));
    });
    warnings.forEach(function (w) {
      var box = el("div", { className: "check check-warning", "data-code": w.code }, [
        el("strong", { text: T.check_warning + " " }), el("span", { text: w.message }),
      ]);
      if (w.similar && w.similar.length) {
        box.appendChild(el("p", { className: "similar-title", text: T.similar_title }));
        var list = el("ul", { className: "similar-list" });
        w.similar.forEach(function (s) {
          var percent = Math.round((s.similarity || 0) * 100);
          list.appendChild(el("li", {}, [
            el("span", { className: "similarity", text: percent + "%" }),
            el("span", { className: "similar-text", text: s.text }),
          ]));
        });
        box.appendChild(list);
      }
      checksNode.appendChild(box);
    });
  }

  function startHeartbeat() {
    clearInterval(state.heartbeatTimer);
    var interval = HEARTBEAT_MIN_MS;
    if (state.assignment && state.assignment.expires_at) {
      var left = new Date(state.assignment.expires_at).getTime() - Date.now();
      // Three beats per lease, so one lost request never costs the lease.
      if (left > 0) { interval = Math.max(HEARTBEAT_MIN_MS, Math.floor(left / 3)); }
    }
    state.heartbeatTimer = setInterval(function () {
      if (!state.assignment) { return; }
      var id = state.assignment.id;
      api(assignmentUrl("heartbeat"), { active_seconds: clock.taskSeconds }).then(function (result) {
        if (!state.assignment || state.assignment.id !== id) { return; }
        if (result.status === 409 || result.status === 404) { leaseLost(errorText(result)); }
      }).catch(function () { setStatus(T.offline, "warn"); });
    }, interval);
  }

  function leaseLost(message) {
    stopTask();
    setStatus(T.lease_lost + (message ? " " + message : ""), "warn");
    setTimeout(loadNext, 1500);
  }

  // --- the task cycle ----------------------------------------------------------------------------------------

  function stopTask() {
    clearTimeout(state.draftTimer);
    clearTimeout(state.checkTimer);
    clearInterval(state.heartbeatTimer);
    state.assignment = null;
    state.ui = null;
    state.dirty = false;
  }

  function setBusy(busy) {
    state.busy = busy;
    submitButton.disabled = busy || !state.assignment;
    skipButton.disabled = busy || !state.assignment;
    root.setAttribute("aria-busy", busy ? "true" : "false");
  }

  function loadNext() {
    stopTask();
    setBusy(true);
    setStatus(T.loading, "quiet");
    api(URLS.next, {}).then(function (result) {
      setBusy(false);
      if (result.status === 204) {
        taskNode.replaceChildren();
        checksNode.replaceChildren();
        doneNode.hidden = false;
        setBusy(false);
        submitButton.disabled = true;
        skipButton.disabled = true;
        setStatus("", null);
        refreshProgress();
        return;
      }
      if (result.status !== 200 || !result.body) {
        setStatus(errorText(result), "error");
        return;
      }
      showAssignment(result.body);
    }).catch(function () { setBusy(false); setStatus(T.offline, "error"); });
  }

  function showAssignment(assignment) {
    state.assignment = assignment;
    doneNode.hidden = true;
    showChecksHint();
    clock.taskSeconds = Number(assignment.active_seconds) || 0;
    markActivity();
    var builder = BUILDERS[PROJECT.kind];
    taskNode.replaceChildren();
    state.ui = builder(assignment, assignment.draft || null);
    taskNode.setAttribute("data-assignment", String(assignment.id));
    taskNode.setAttribute("data-item", String(assignment.item.id));
    setBusy(false);
    setStatus("", null);
    startHeartbeat();
    state.ui.focusFirst();
    if (state.ui.checks && assignment.draft) { scheduleCheck(); }
    refreshProgress();
  }

  function submit() {
    if (!state.assignment || state.busy || !state.ui) { return; }
    var problem = state.ui.validate();
    if (problem) { setStatus(problem, "error"); return; }
    clearTimeout(state.draftTimer);
    var id = state.assignment.id;
    setBusy(true);
    setStatus(T.submitting, "quiet");
    api(assignmentUrl("submit"), { payload: state.ui.payload(), active_seconds: clock.taskSeconds }).then(function (result) {
      setBusy(false);
      if (!state.assignment || state.assignment.id !== id) { return; }
      if (result.status === 201 || result.status === 200) {
        setStatus(T.submitted, "ok");
        loadNext();
      } else if (result.status === 409) {
        leaseLost(errorText(result));
      } else {
        if (result.body && (result.body.blocking || result.body.warnings)) { showChecks(result.body); }
        setStatus(errorText(result), "error");
      }
    }).catch(function () { setBusy(false); setStatus(T.offline, "error"); });
  }

  function askSkip() {
    if (!state.assignment || state.busy) { return; }
    var form = skipDialog.querySelector("form");
    form.reset();
    skipDialog.querySelector(".skip-error").textContent = "";
    openDialog(skipDialog);
    var first = skipDialog.querySelector("input[name=skip-reason]");
    if (first) { first.focus(); }
  }

  skipDialog.querySelector("form").addEventListener("submit", function (event) {
    event.preventDefault();
    var chosen = skipDialog.querySelector("input[name=skip-reason]:checked");
    var other = skipDialog.querySelector("#skip-other").value.trim();
    var reason = other || (chosen ? chosen.value : "");
    if (!reason) {
      skipDialog.querySelector(".skip-error").textContent = T.skip_reason_needed;
      return;
    }
    skipDialog.close();
    var id = state.assignment.id;
    setBusy(true);
    api(assignmentUrl("skip"), { reason: reason }).then(function (result) {
      setBusy(false);
      if (!state.assignment || state.assignment.id !== id) { return; }
      if (result.status >= 200 && result.status < 300) {
        setStatus(T.skipped, "ok");
        loadNext();
      } else if (result.status === 409) {
        leaseLost(errorText(result));
      } else {
        setStatus(errorText(result), "error");
      }
    }).catch(function () { setBusy(false); setStatus(T.offline, "error"); });
  });

  submitButton.addEventListener("click", submit);
  skipButton.addEventListener("click", askSkip);
  document.getElementById("next-button") && document.getElementById("next-button").addEventListener("click", loadNext);

  document.addEventListener("keydown", function (event) {
    if (document.querySelector("dialog[open]")) { return; }  // the dialog's own keys (Escape closes it)
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter") {
      event.preventDefault();
      submit();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (isTypingTarget(event.target)) { return; }
    if (event.key === "?" || event.key === "g" || event.key === "G") {
      event.preventDefault();
      openDialog(guidelinesDialog);
      return;
    }
    if (event.key === "s" || event.key === "S") {
      event.preventDefault();
      askSkip();
      return;
    }
    if (state.ui && state.ui.onKey) { state.ui.onKey(event); }
  });

  // --- shared pieces of the task views -------------------------------------------------------------------------

  function responsesInOrder(assignment) {
    var responses = assignment.item.responses || [];
    var order = assignment.display_order || [];
    if (!order.length) { return responses.slice(); }
    var byId = {};
    responses.forEach(function (r) { byId[String(r.id)] = r; });
    var ordered = [];
    order.forEach(function (id) { if (byId[String(id)]) { ordered.push(byId[String(id)]); } });
    return ordered.length === responses.length ? ordered : responses.slice();
  }

  function contextSection(item, heading) {
    var section = el("section", { className: "task-context", "aria-label": heading });
    section.appendChild(el("h2", { className: "section-title", text: heading }));
    var messages = item.messages || [];
    if (messages.length) {
      var list = el("ol", { className: "turns" });
      messages.forEach(function (m) {
        var role = m.role === "assistant" ? T.role_assistant : (m.role === "system" ? T.role_system : T.role_user);
        list.appendChild(el("li", { className: "turn turn-" + (m.role === "assistant" ? "assistant" : "user") }, [
          el("span", { className: "turn-role", text: role }),
          textBlock(m.content),
        ]));
      });
      section.appendChild(list);
    }
    if (item.prompt) {
      if (messages.length) { section.appendChild(el("span", { className: "turn-role", text: T.role_user })); }
      section.appendChild(textBlock(item.prompt, "prompt-text"));
    }
    return section;
  }

  function taskHeading(text) {
    return el("h2", { className: "section-title", text: text });
  }

  function textArea(id, label, value, rows, hint) {
    var area = el("textarea", { id: id, rows: rows || 6, className: "writing", spellcheck: "true" });
    area.value = value || "";
    var field = el("div", { className: "field" }, [el("label", { for: id, text: label })]);
    if (hint) { field.appendChild(el("p", { className: "hint", text: hint })); }
    field.appendChild(area);
    return { field: field, area: area };
  }

  // --- Likert -------------------------------------------------------------------------------------------------

  function buildLikert(assignment, draft) {
    var item = assignment.item;
    var responses = responsesInOrder(assignment);
    taskNode.appendChild(contextSection(item, T.prompt));
    var answer = el("section", { className: "task-response", "aria-label": T.response });
    answer.appendChild(taskHeading(T.response));
    answer.appendChild(textBlock(responses.length ? responses[0].text : "", "response-text"));
    taskNode.appendChild(answer);

    var scale = PROJECT.scale || 5;
    var criteria = PROJECT.criteria || [];
    var saved = (draft && draft.ratings) || {};
    var rows = [];
    function ticks() {
      var marks = el("div", { className: "likert-ticks", "aria-hidden": "true" });
      for (var point = 1; point <= scale; point += 1) { marks.appendChild(el("span", { text: String(point) })); }
      return marks;
    }
    var box = el("section", { className: "likert", "aria-label": T.ratings });
    box.appendChild(taskHeading(T.ratings));
    criteria.forEach(function (criterion, index) {
      var id = "likert-" + index;
      var input = el("input", {
        type: "range", id: id, min: 1, max: scale, step: 1, className: "likert-slider",
        "data-criterion": criterion, "aria-valuetext": T.not_rated,
      });
      var start = saved[criterion];
      input.value = start ? String(start) : String(Math.ceil(scale / 2));
      var output = el("output", { className: "likert-value", for: id, text: start ? String(start) : "–" });
      var row = el("div", { className: "likert-row" + (start ? " is-set" : ""), "data-criterion": criterion }, [
        el("label", { className: "likert-label", for: id, text: criterion }),
        el("div", { className: "likert-scale" }, [
          el("span", { className: "likert-end likert-low", text: "1 · " + T.likert_low }),
          el("div", { className: "likert-track" }, [input, ticks()]),
          el("span", { className: "likert-end likert-high", text: scale + " · " + T.likert_high }),
        ]),
        output,
      ]);
      var entry = { criterion: criterion, input: input, output: output, row: row, set: Boolean(start) };
      function setValue(value) {
        entry.set = true;
        input.value = String(value);
        output.textContent = String(value);
        input.setAttribute("aria-valuetext", String(value));
        row.classList.add("is-set");
        changed();
      }
      entry.setValue = setValue;
      input.addEventListener("input", function () { setValue(Number(input.value)); });
      // A click on the thumb where it already sits rates the middle value too.
      input.addEventListener("pointerup", function () { if (!entry.set) { setValue(Number(input.value)); } });
      input.addEventListener("focus", function () {
        rows.forEach(function (r) { r.row.classList.remove("is-focused"); });
        row.classList.add("is-focused");
      });
      rows.push(entry);
      box.appendChild(row);
    });
    taskNode.appendChild(box);

    function focusedIndex() {
      for (var i = 0; i < rows.length; i += 1) {
        if (rows[i].input === document.activeElement) { return i; }
      }
      return -1;
    }

    // Number keys and Up/Down reach here from the slider too (a range input is not a typing target).
    function onKey(event) {
      var index = focusedIndex();
      if (/^[1-9]$/.test(event.key)) {
        var value = Number(event.key);
        if (value > scale) { return; }
        event.preventDefault();
        var target = index === -1 ? 0 : index;
        rows[target].setValue(value);
        rows[target].input.focus();
        return;
      }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();  // a slider would otherwise change its value
        var next = index === -1 ? 0 : index + (event.key === "ArrowDown" ? 1 : -1);
        next = Math.max(0, Math.min(rows.length - 1, next));
        rows[next].input.focus();
      }
    }

    return {
      checks: false,
      onKey: onKey,
      focusFirst: function () {
        var firstUnset = rows.filter(function (r) { return !r.set; })[0] || rows[0];
        if (firstUnset) { firstUnset.input.focus(); }
      },
      payload: function () {
        var ratings = {};
        rows.forEach(function (r) { if (r.set) { ratings[r.criterion] = Number(r.input.value); } });
        return { ratings: ratings };
      },
      draft: function () { return this.payload(); },
      validate: function () {
        var missing = rows.filter(function (r) { return !r.set; }).map(function (r) { return r.criterion; });
        return missing.length ? fmt(T.rate_all, { criteria: missing.join(", ") }) : "";
      },
    };
  }

  // --- pairwise -----------------------------------------------------------------------------------------------

  function buildPairwise(assignment, draft) {
    var item = assignment.item;
    var responses = responsesInOrder(assignment);
    taskNode.appendChild(contextSection(item, T.prompt));
    var pair = el("div", { className: "pair" });
    ["a", "b"].forEach(function (side, index) {
      var response = responses[index] || { text: "" };
      pair.appendChild(el("section", { className: "pair-side", "data-side": side, "aria-label": T["response_" + side] }, [
        el("h2", { className: "section-title" }, [el("kbd", { text: side.toUpperCase() }), " " + T["response_" + side]]),
        textBlock(response.text, "response-text"),
      ]));
    });
    taskNode.appendChild(pair);

    var choice = (draft && draft.choice) || null;
    var strength = (draft && draft.strength) || null;
    var choiceButtons = {};
    var strengthButtons = {};
    var controls = el("section", { className: "pair-controls", "aria-label": T.your_choice });
    var choiceGroup = el("div", { className: "button-row", role: "group", "aria-label": T.which_better });
    [["a", T.choose_a, "A"], ["tie", T.choose_tie, "T"], ["b", T.choose_b, "B"]].forEach(function (spec) {
      var button = el("button", { type: "button", className: "choice", "data-choice": spec[0], "aria-pressed": "false" }, [
        el("kbd", { text: spec[2] }), " " + spec[1],
      ]);
      button.addEventListener("click", function () { choose(spec[0]); });
      choiceButtons[spec[0]] = button;
      choiceGroup.appendChild(button);
    });
    var strengthGroup = el("div", { className: "button-row", role: "group", "aria-label": T.strength });
    [[1, T.strength_1], [2, T.strength_2], [3, T.strength_3]].forEach(function (spec) {
      var button = el("button", { type: "button", className: "strength", "data-strength": spec[0], "aria-pressed": "false" }, [
        el("kbd", { text: String(spec[0]) }), " " + spec[1],
      ]);
      button.addEventListener("click", function () { setStrength(spec[0]); });
      strengthButtons[spec[0]] = button;
      strengthGroup.appendChild(button);
    });
    controls.appendChild(el("h2", { className: "section-title", text: T.which_better }));
    controls.appendChild(choiceGroup);
    controls.appendChild(el("h2", { className: "section-title", text: T.strength }));
    controls.appendChild(strengthGroup);
    taskNode.appendChild(controls);

    function render() {
      Object.keys(choiceButtons).forEach(function (key) {
        choiceButtons[key].setAttribute("aria-pressed", key === choice ? "true" : "false");
      });
      Object.keys(strengthButtons).forEach(function (key) {
        var pressed = Number(key) === strength;
        strengthButtons[key].setAttribute("aria-pressed", pressed ? "true" : "false");
        strengthButtons[key].disabled = choice === "tie";
      });
      pair.querySelectorAll(".pair-side").forEach(function (side) {
        side.classList.toggle("is-chosen", side.getAttribute("data-side") === choice || choice === "tie");
      });
    }
    function choose(value) { choice = value; render(); changed(); }
    function setStrength(value) { strength = value; render(); changed(); }
    render();

    return {
      checks: false,
      onKey: function (event) {
        var key = event.key.toLowerCase();
        if (key === "a" || key === "b") { event.preventDefault(); choose(key); }
        else if (key === "t") { event.preventDefault(); choose("tie"); }
        else if (key === "1" || key === "2" || key === "3") { event.preventDefault(); setStrength(Number(key)); }
      },
      focusFirst: function () { (choiceButtons[choice] || choiceButtons.a).focus(); },
      payload: function () {
        // A tie has no direction, hence no strength.
        return choice === "tie" ? { choice: choice } : { choice: choice, strength: strength };
      },
      draft: function () { return { choice: choice, strength: strength }; },
      validate: function () {
        if (!choice) { return T.choose_first; }
        if (choice !== "tie" && !strength) { return T.strength_first; }
        return "";
      },
    };
  }

  // --- ranking ------------------------------------------------------------------------------------------------

  function buildRanking(assignment, draft) {
    var item = assignment.item;
    var responses = responsesInOrder(assignment);
    var byId = {};
    responses.forEach(function (r) { byId[String(r.id)] = r; });
    taskNode.appendChild(contextSection(item, T.prompt));

    // Rounds: the backend may split many responses into rounds of about round_size; each is ranked on its own.
    var rounds = (assignment.rounds && assignment.rounds.length)
      ? assignment.rounds.map(function (ids) { return ids.map(String); })
      : [responses.map(function (r) { return String(r.id); })];
    var roundResults = (draft && draft.rounds) ? draft.rounds.slice() : [];
    var roundIndex = Math.min(roundResults.length, rounds.length - 1);
    var allBad = Boolean(draft && draft.all_bad);

    var section = el("section", { className: "ranking", "aria-label": T.ranking });
    var roundTitle = el("h2", { className: "section-title" });
    var hint = el("p", { className: "hint", text: T.ranking_hint });
    var list = el("ol", { className: "rank-list", id: "rank-list" });
    var allBadBox = el("input", { type: "checkbox", id: "all-bad" });
    allBadBox.checked = allBad;
    allBadBox.addEventListener("change", function () { allBad = allBadBox.checked; changed(); });
    var allBadLabel = el("label", { className: "all-bad", for: "all-bad" }, [allBadBox, " ", el("kbd", { text: "X" }), " " + T.all_bad]);
    var roundNext = el("button", { type: "button", className: "round-next", hidden: true, text: T.next_round });
    roundNext.addEventListener("click", finishRound);
    section.appendChild(roundTitle);
    section.appendChild(hint);
    section.appendChild(list);
    section.appendChild(el("div", { className: "ranking-footer" }, [allBadLabel, roundNext]));
    taskNode.appendChild(section);

    // The current round as a flat list of entries; `tied` joins an entry to the group of the one above it.
    var entries = [];

    function startRound() {
      var ids = rounds[roundIndex];
      var saved = (draft && draft.current && draft.round === roundIndex) ? draft.current : null;
      if (saved) {
        entries = [];
        saved.forEach(function (group) {
          group.forEach(function (id, i) { if (byId[id]) { entries.push({ id: id, tied: i > 0 }); } });
        });
        ids.forEach(function (id) {
          if (!entries.some(function (e) { return e.id === id; })) { entries.push({ id: id, tied: false }); }
        });
      } else {
        entries = ids.map(function (id) { return { id: id, tied: false }; });
      }
      roundTitle.textContent = rounds.length > 1
        ? fmt(T.round_of, { round: roundIndex + 1, rounds: rounds.length })
        : T.ranking;
      roundNext.hidden = rounds.length <= 1 || roundIndex >= rounds.length - 1;
      render(null);
    }

    function groups() {
      var result = [];
      entries.forEach(function (entry, index) {
        if (index > 0 && entry.tied) { result[result.length - 1].push(entry.id); }
        else { result.push([entry.id]); }
      });
      return result;
    }

    function render(focusId) {
      list.replaceChildren();
      var rank = 0;
      entries.forEach(function (entry, index) {
        if (index === 0 || !entry.tied) { rank += 1; }
        var response = byId[entry.id] || { text: "" };
        var up = el("button", { type: "button", className: "icon", "aria-label": T.move_up, title: T.move_up, text: "↑" });
        var down = el("button", { type: "button", className: "icon", "aria-label": T.move_down, title: T.move_down, text: "↓" });
        var tie = el("button", {
          type: "button", className: "tie-toggle", "aria-pressed": entry.tied ? "true" : "false",
          disabled: index === 0, text: T.tie_with_above,
        });
        up.addEventListener("click", function () { move(entry.id, -1); });
        down.addEventListener("click", function () { move(entry.id, 1); });
        tie.addEventListener("click", function () { toggleTie(entry.id); });
        var li = el("li", {
          className: "rank-item" + (entry.tied && index > 0 ? " is-tied" : ""),
          tabindex: "0", "data-response-id": entry.id,
          "aria-label": fmt(T.rank_label, { rank: rank }),
        }, [
          el("div", { className: "rank-side" }, [
            el("span", { className: "rank-number", text: String(rank) }),
            el("span", { className: "drag-handle", "aria-hidden": "true", title: T.drag, text: "⠿" }),
          ]),
          textBlock(response.text, "response-text"),
          el("div", { className: "rank-tools" }, [up, down, tie]),
        ]);
        if (entry.tied && index > 0) {
          li.insertBefore(el("span", { className: "tie-badge", text: "= " + T.tied }), li.firstChild);
        }
        list.appendChild(li);
      });
      if (focusId) {
        var node = list.querySelector('[data-response-id="' + CSS.escape(focusId) + '"]');
        if (node) { node.focus(); }
      }
    }

    function indexOf(id) {
      for (var i = 0; i < entries.length; i += 1) { if (entries[i].id === id) { return i; } }
      return -1;
    }

    function move(id, delta) {
      var from = indexOf(id);
      var to = from + delta;
      if (from < 0 || to < 0 || to >= entries.length) { return; }
      var entry = entries.splice(from, 1)[0];
      entries.splice(to, 0, entry);
      entries[0].tied = false;
      render(id);
      changed();
    }

    function toggleTie(id) {
      var index = indexOf(id);
      if (index <= 0) { return; }
      entries[index].tied = !entries[index].tied;
      render(id);
      changed();
    }

    function finishRound() {
      roundResults[roundIndex] = groups();
      if (roundIndex < rounds.length - 1) {
        roundIndex += 1;
        startRound();
        changed();
        var first = list.querySelector(".rank-item");
        if (first) { first.focus(); }
      }
    }

    if (window.Sortable) {
      window.Sortable.create(list, {
        animation: 120,
        draggable: ".rank-item",
        // Pointer events instead of native HTML5 drag and drop: the same behaviour with mouse, pen and touch.
        forceFallback: true,
        filter: "button",
        preventOnFilter: false,
        onEnd: function (event) {
          if (event.oldIndex === event.newIndex) { return; }
          var entry = entries.splice(event.oldIndex, 1)[0];
          entries.splice(event.newIndex, 0, entry);
          entry.tied = false;  // a dragged response leaves its tie group
          entries[0].tied = false;
          render(entry.id);
          changed();
        },
      });
    }

    startRound();

    return {
      checks: false,
      onKey: function (event) {
        var focused = document.activeElement && document.activeElement.closest ? document.activeElement.closest(".rank-item") : null;
        var key = event.key;
        if (key === "x" || key === "X") {
          event.preventDefault();
          allBadBox.checked = !allBadBox.checked;
          allBad = allBadBox.checked;
          changed();
          return;
        }
        if (key === "Enter" && !roundNext.hidden && !focused) { event.preventDefault(); finishRound(); return; }
        if (key === "n" || key === "N") {
          if (!roundNext.hidden) { event.preventDefault(); finishRound(); }
          return;
        }
        if (!focused) {
          if (key === "j" || key === "k" || key === "ArrowDown" || key === "ArrowUp") {
            event.preventDefault();
            var first = list.querySelector(".rank-item");
            if (first) { first.focus(); }
          }
          return;
        }
        var id = focused.getAttribute("data-response-id");
        var index = indexOf(id);
        if (key === "ArrowUp") { event.preventDefault(); move(id, -1); }
        else if (key === "ArrowDown") { event.preventDefault(); move(id, 1); }
        else if (key === "=" || key === "t" || key === "T") { event.preventDefault(); toggleTie(id); }
        else if (key === "k" || key === "j") {
          event.preventDefault();
          var target = entries[index + (key === "j" ? 1 : -1)];
          if (target) { render(target.id); }
        }
      },
      focusFirst: function () {
        var first = list.querySelector(".rank-item");
        if (first) { first.focus(); }
      },
      payload: function () {
        if (rounds.length > 1) {
          var results = roundResults.slice();
          results[roundIndex] = groups();
          return { rounds: results, all_bad: allBad };
        }
        return { ranking: groups(), all_bad: allBad };
      },
      draft: function () {
        return { rounds: roundResults.slice(0, roundIndex), round: roundIndex, current: groups(), all_bad: allBad };
      },
      validate: function () {
        if (rounds.length > 1 && roundIndex < rounds.length - 1) { return T.finish_rounds; }
        return "";
      },
    };
  }

  // --- instruction writing ------------------------------------------------------------------------------------

  function buildInstruction(assignment, draft) {
    var item = assignment.item;
    var format = PROJECT.instruction_format || "plain";
    draft = draft || {};
    var box = el("section", { className: "writing-task", "aria-label": T.write_instruction });
    box.appendChild(taskHeading(T.write_instruction));
    if (item.prompt || (item.messages && item.messages.length)) {
      taskNode.appendChild(contextSection(item, T.task_brief));
    }
    box.appendChild(el("p", { className: "hint", text: T["format_" + format] || "" }));

    var categories = PROJECT.categories || [];
    var categoryHint = (item.metadata && item.metadata.category) || "";
    var select = el("select", { id: "instruction-category" });
    select.appendChild(el("option", { value: "", text: T.choose_category }));
    categories.forEach(function (category) {
      select.appendChild(el("option", { value: category, text: category }));
    });
    select.value = draft.category || (categories.indexOf(categoryHint) !== -1 ? categoryHint : "");
    box.appendChild(el("div", { className: "field" }, [el("label", { for: "instruction-category", text: T.category }), select]));

    var turns = [];
    var turnsBox = null;
    var instruction = null;
    var reasoning = null;
    var examples = [];
    var examplesBox = null;

    if (format === "multi_turn") {
      // The earlier turns of the conversation (user, assistant, ... ending with the assistant), then the
      // instruction: the user's next message.
      box.appendChild(el("h3", { className: "subsection", text: T.earlier_turns }));
      turnsBox = el("ol", { className: "write-turns" });
      box.appendChild(turnsBox);
      var savedTurns = draft.turns && draft.turns.length ? draft.turns : [{ role: "user", content: "" }, { role: "assistant", content: "" }];
      savedTurns.forEach(function (t) { addTurn(t.role, t.content); });
      if (turns.length % 2 === 1) { addTurn("assistant", ""); }
      var addTurnButton = el("button", { type: "button", className: "secondary", text: T.add_turn });
      addTurnButton.addEventListener("click", function () {
        addTurn("user", "");
        addTurn("assistant", "");
        turns[turns.length - 2].area.focus();
        changed();
      });
      box.appendChild(addTurnButton);
    }
    instruction = textArea("instruction-text", format === "multi_turn" ? T.next_user_message : T.instruction,
                           draft.instruction, 7, T.instruction_hint);
    box.appendChild(instruction.field);
    if (format === "few_shot") {
      box.appendChild(el("h3", { className: "subsection", text: T.examples }));
      examplesBox = el("ol", { className: "examples" });
      box.appendChild(examplesBox);
      var savedExamples = draft.examples && draft.examples.length ? draft.examples : [{ input: "", output: "" }];
      savedExamples.forEach(function (e) { addExample(e.input, e.output); });
      var addExampleButton = el("button", { type: "button", className: "secondary", text: T.add_example });
      addExampleButton.addEventListener("click", function () { addExample("", ""); examples[examples.length - 1].input.focus(); changed(); });
      box.appendChild(addExampleButton);
    }
    if (format === "chain_of_thought") {
      reasoning = textArea("instruction-reasoning", T.reasoning, draft.reasoning, 6, T.reasoning_hint);
      box.appendChild(reasoning.field);
    }
    taskNode.appendChild(box);

    function addTurn(role, content) {
      var index = turns.length;
      var id = "turn-" + index;
      var area = el("textarea", { id: id, rows: 4, className: "writing" });
      area.value = content || "";
      var label = role === "assistant" ? T.role_assistant : T.role_user;
      var li = el("li", { className: "write-turn turn-" + role }, [el("label", { for: id, text: label }), area]);
      turnsBox.appendChild(li);
      turns.push({ role: role, area: area });
    }

    function addExample(input, output) {
      var index = examples.length;
      var inArea = el("textarea", { id: "example-in-" + index, rows: 3, className: "writing" });
      var outArea = el("textarea", { id: "example-out-" + index, rows: 3, className: "writing" });
      inArea.value = input || "";
      outArea.value = output || "";
      var remove = el("button", { type: "button", className: "secondary small", text: T.remove });
      var li = el("li", { className: "example" }, [
        el("label", { for: "example-in-" + index, text: T.example_input }), inArea,
        el("label", { for: "example-out-" + index, text: T.example_output }), outArea, remove,
      ]);
      var entry = { input: inArea, output: outArea, node: li };
      remove.addEventListener("click", function () {
        examples = examples.filter(function (e) { return e !== entry; });
        li.remove();
        changed();
        scheduleCheck();
      });
      examplesBox.appendChild(li);
      examples.push(entry);
    }

    box.addEventListener("input", function () { changed(); scheduleCheck(); });
    select.addEventListener("change", changed);

    function text() { return instruction.area.value.trim(); }

    return {
      checks: true,
      focusFirst: function () { (turns.length && !turns[0].area.value ? turns[0].area : instruction.area).focus(); },
      payload: function () {
        var payload = { instruction: text(), category: select.value };
        if (examples.length) {
          payload.examples = examples
            .map(function (e) { return { input: e.input.value.trim(), output: e.output.value.trim() }; })
            .filter(function (e) { return e.input || e.output; });
        }
        if (reasoning) { payload.reasoning = reasoning.area.value.trim(); }
        if (turns.length) {
          payload.turns = turns.map(function (t) { return { role: t.role, content: t.area.value.trim() }; });
        }
        return payload;
      },
      draft: function () { return this.payload(); },
      validate: function () {
        if (categories.length && !select.value) { return T.category_needed; }
        if (!text()) { return T.text_needed; }
        if (turns.some(function (t) { return !t.area.value.trim(); })) { return T.turns_needed; }
        if (examplesBox && !examples.some(function (e) { return e.input.value.trim() && e.output.value.trim(); })) {
          return T.example_needed;
        }
        if (reasoning && !reasoning.area.value.trim()) { return T.reasoning_needed; }
        return "";
      },
    };
  }

  // --- response writing ---------------------------------------------------------------------------------------

  function buildResponse(assignment, draft) {
    taskNode.appendChild(contextSection(assignment.item, T.conversation));
    var box = el("section", { className: "writing-task", "aria-label": T.write_response });
    box.appendChild(taskHeading(T.write_response));
    var answer = textArea("response-text", T.your_response, draft && draft.response, 10, T.response_hint);
    box.appendChild(answer.field);
    taskNode.appendChild(box);
    answer.area.addEventListener("input", function () { changed(); scheduleCheck(); });
    return {
      checks: true,
      focusFirst: function () { answer.area.focus(); },
      payload: function () { return { response: answer.area.value.trim() }; },
      draft: function () { return this.payload(); },
      validate: function () { return answer.area.value.trim() ? "" : T.text_needed; },
    };
  }

  // --- document labels ----------------------------------------------------------------------------------------

  function buildLabel(assignment, draft) {
    var item = assignment.item;
    var doc = el("section", { className: "task-context", "aria-label": T.document });
    doc.appendChild(taskHeading(T.document));
    doc.appendChild(textBlock(item.prompt || (item.messages || []).map(function (m) { return m.content; }).join("\n\n"), "document-text"));
    taskNode.appendChild(doc);
    var multi = Boolean(PROJECT.multi_label);
    var chosen = {};
    ((draft && draft.labels) || []).forEach(function (l) { chosen[l] = true; });
    var fieldset = el("fieldset", { className: "labels" }, [el("legend", { text: multi ? T.choose_labels : T.choose_label })]);
    var inputs = [];
    (PROJECT.labels || []).forEach(function (label, index) {
      var id = "label-" + index;
      var input = el("input", { type: multi ? "checkbox" : "radio", name: "labels", id: id, value: label });
      input.checked = Boolean(chosen[label]);
      input.addEventListener("change", changed);
      var key = index < 9 ? el("kbd", { text: String(index + 1) }) : null;
      fieldset.appendChild(el("label", { className: "label-choice", for: id }, [input, " ", key, " ", label]));
      inputs.push(input);
    });
    taskNode.appendChild(fieldset);
    return {
      checks: false,
      onKey: function (event) {
        if (/^[1-9]$/.test(event.key)) {
          var input = inputs[Number(event.key) - 1];
          if (!input) { return; }
          event.preventDefault();
          input.checked = multi ? !input.checked : true;
          input.focus();
          changed();
        }
      },
      focusFirst: function () { if (inputs[0]) { inputs[0].focus(); } },
      payload: function () {
        return { labels: inputs.filter(function (i) { return i.checked; }).map(function (i) { return i.value; }) };
      },
      draft: function () { return this.payload(); },
      validate: function () { return inputs.some(function (i) { return i.checked; }) ? "" : T.label_needed; },
    };
  }

  var BUILDERS = {
    likert: buildLikert,
    pairwise: buildPairwise,
    ranking: buildRanking,
    instruction: buildInstruction,
    response: buildResponse,
    label: buildLabel,
  };

  window.addEventListener("beforeunload", saveDraftNow);
  showProgress(DATA.progress);
  loadNext();
})();
