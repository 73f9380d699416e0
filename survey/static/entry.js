/* SIPAS paper entry: keyboard-first keying screen.
 *
 * One keystroke per coded answer: a digit that completes a valid code moves on by itself;
 * Enter moves on (or leaves an optional field empty); ArrowUp / Shift+Tab go back to fix a
 * field (its content is selected, so the next digit replaces it). Skip logic comes from each
 * item's relevant condition (Expr.to_json(), in data-relevant), evaluated by sipas-expr.js
 * with the same semantics as survey/instruments/expressions.py (a parity test holds them
 * together); the server re-checks everything with validate_answers, which is the authority.
 * Without JavaScript the form still works: every field is a plain text box and the server
 * reports what is wrong.
 */
(function () {
  "use strict";
  var form = document.getElementById("keying");
  if (!form) { return; }
  var save = document.getElementById("save");
  var progress = document.getElementById("progress");
  var NO_INTERVIEW = { "3": true, "4": true, "5": true };
  var CODED = { select_one: true, scale: true };

  var textEl = document.getElementById("entry-text");
  var T = textEl ? JSON.parse(textEl.textContent) : {};
  function say(key, values) {  /* the page's language: the server put the sentences here */
    return (T[key] || key).replace(/\{(\w+)\}/g, function (_, name) { return values && name in values ? values[name] : ""; });
  }

  var X = window.SipasExpr, isMissing = X.isMissing, asNumber = X.asNumber;
  var codeText = X.codeText, holds = X.holds;

  // --- the fields ------------------------------------------------------------------
  var fields = Array.prototype.slice.call(form.querySelectorAll(".kf")).map(function (el) {
    var codes = (el.getAttribute("data-codes") || "").split(" ").filter(Boolean);
    var missing = el.getAttribute("data-missing");
    var rel = el.getAttribute("data-relevant");
    return {
      el: el, input: el.querySelector("input"), err: el.querySelector(".err"),
      code: el.getAttribute("data-code"), type: el.getAttribute("data-type"),
      codes: codes, valid: missing !== null ? codes.concat([missing]) : codes,
      missing: missing, required: el.hasAttribute("data-required"),
      min: el.hasAttribute("data-min") ? parseFloat(el.getAttribute("data-min")) : null,
      max: el.hasAttribute("data-max") ? parseFloat(el.getAttribute("data-max")) : null,
      relevant: rel ? JSON.parse(rel) : null, outcome: el.hasAttribute("data-outcome"),
      label: ((el.querySelector("label") || {}).textContent || "").replace(/^\s*\d+\s*/, "").trim()
    };
  });

  function typed(f, text) {
    if (f.type === "select_multiple") {
      return text.split(/[\s,]+/).filter(Boolean).map(function (c) { var n = asNumber(c); return n === null ? c : n; });
    }
    if (CODED[f.type] || f.type === "integer" || f.type === "decimal") {
      var n = asNumber(text);
      return n === null ? text : n;
    }
    return text;
  }

  /* Mirror of validation._effective_answers: walk in form order, keep only relevant answers. */
  function refresh() {
    var kept = {}, outcome = null;
    fields.forEach(function (f) {
      var on = true;
      if (f.outcome) { outcome = f.input.value.trim(); }
      else if (outcome !== null && NO_INTERVIEW[outcome]) { on = false; }
      else if (f.relevant) { on = holds(f.relevant, kept); }
      f.input.disabled = !on;
      f.el.classList.toggle("skipped", !on);
      if (on && !f.outcome && !isMissing(f.input.value)) { kept[f.code] = typed(f, f.input.value.trim()); }
    });
    showProgress();
  }

  function active() { return fields.filter(function (f) { return !f.input.disabled; }); }
  function showProgress(current) {
    var on = active(), done = on.filter(function (f) { return f.input.value.trim() !== ""; }).length;
    var at = current ? on.indexOf(current) + 1 : 0;
    if (progress) {
      var label = current ? (current.label.length > 60 ? current.label.slice(0, 57) + "…" : current.label) : "";
      progress.textContent = (at ? at + " / " + on.length + " · " + label + " · " : "") +
        done + " / " + on.length + " ✓";
    }
  }

  /* A coded or whole-number field: is the text complete, a valid start, or impossible? */
  function status(f, text) {
    if (CODED[f.type]) {
      var exact = f.valid.indexOf(text) >= 0;
      var longer = f.valid.some(function (c) { return c.length > text.length && c.indexOf(text) === 0; });
      return exact && !longer ? "complete" : (exact || longer ? "partial" : "invalid");
    }
    var n = parseInt(text, 10);
    var inRange = (f.min === null || n >= f.min) && (f.max === null || n <= f.max);
    var isMissingCode = f.missing !== null && text === f.missing;
    var grows = (f.max === null || n * 10 <= f.max) && !(text === "0") ||
      (f.missing !== null && f.missing.length > text.length && f.missing.indexOf(text) === 0);
    if ((inRange || isMissingCode) && !grows) { return "complete"; }
    return inRange || isMissingCode || grows ? "partial" : "invalid";
  }

  function problem(f) {
    var text = f.input.value.trim();
    if (text === "") {
      if (!f.required) { return null; }
      return f.missing !== null ? say("required_missing", { code: f.missing }) : say("required");
    }
    if (CODED[f.type] && f.valid.indexOf(codeText(text)) < 0) { return say("valid_codes", { codes: f.valid.join(", ") }); }
    if (f.type === "integer" || f.type === "decimal") {
      if (f.missing !== null && codeText(text) === f.missing) { return null; }
      var n = asNumber(text);
      if (n === null || (f.type === "integer" && Math.floor(n) !== n)) { return say("not_number"); }
      if ((f.min !== null && n < f.min) || (f.max !== null && n > f.max)) { return say("out_of_range", { min: f.min, max: f.max }); }
    }
    if (f.type === "select_multiple") {
      var chosen = text.split(/[\s,]+/).filter(Boolean).map(codeText), seen = {};
      for (var i = 0; i < chosen.length; i++) {
        if (f.codes.indexOf(chosen[i]) < 0) { return say("valid_codes", { codes: f.codes.join(", ") }); }
        if (seen[chosen[i]]) { return say("repeated"); }
        seen[chosen[i]] = true;
      }
    }
    return null;
  }

  function flag(f, message) {
    f.err.textContent = message || "";
    f.el.classList.toggle("bad", Boolean(message));
  }

  function focusField(f) {
    f.input.focus();
    f.input.select();
    showProgress(f);
  }

  function neighbour(f, step) {
    var on = active(), i = on.indexOf(f) + step;
    return i >= 0 && i < on.length ? on[i] : null;
  }

  // --- the draft on the server ----------------------------------------------------
  var draftUrl = form.getAttribute("data-draft-url");
  var draftState = document.getElementById("draft-state");
  var EVERY = 3, sinceKept = 0, inFlight = false, stopped = false;
  function keepDraft(leaving) {
    if (!draftUrl || stopped || (inFlight && !leaving)) { return; }
    inFlight = true;
    var sent = sinceKept;
    fetch(draftUrl, { method: "POST", body: new FormData(form), credentials: "same-origin",
                      keepalive: Boolean(leaving), headers: { "Accept": "application/json" } })
      .then(function (reply) {
        return reply.json().then(function (data) { return { status: reply.status, data: data }; });
      })
      .then(function (r) {
        inFlight = false;
        if (r.status === 200) {
          sinceKept = Math.max(0, sinceKept - sent);
          if (draftState) { draftState.textContent = say("kept", { time: r.data.saved }); }
        } else if (r.status === 401) {
          stopped = true;
          if (draftState) {
            draftState.textContent = say("expired") + " ";
            var link = document.createElement("a");
            link.href = r.data.login; link.textContent = say("log_in");
            draftState.appendChild(link);
            draftState.className = "flash error";
          }
        } else { stopped = r.status === 409 || r.status === 404; }
      })
      .catch(function () {
        inFlight = false;
        if (draftState) { draftState.textContent = say("not_kept"); }
      });
  }
  form.addEventListener("submit", function () { stopped = true; });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden" && sinceKept > 0) { keepDraft(true); }
  });

  function advance(f) {
    sinceKept += 1;
    if (sinceKept >= EVERY) { keepDraft(false); }
    refresh();
    var next = neighbour(f, 1);
    if (next) { focusField(next); } else { save.focus(); showProgress(); }
  }

  function commit(f) {
    var message = problem(f);
    flag(f, message);
    if (!message) { advance(f); }
  }

  fields.forEach(function (f) {
    f.input.addEventListener("focus", function () { f.input.select(); showProgress(f); });
    f.input.addEventListener("input", function () { refresh(); });
    f.input.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey) { return; }
      if (e.key === "Enter") { e.preventDefault(); commit(f); return; }
      if (e.key === "ArrowUp") { e.preventDefault(); var p = neighbour(f, -1); if (p) { focusField(p); } return; }
      if (e.key === "ArrowDown") { e.preventDefault(); var n = neighbour(f, 1); if (n) { focusField(n); } else { save.focus(); } return; }
      var keyed = CODED[f.type] || f.type === "integer";
      if (!keyed || e.key.length !== 1) { return; }
      e.preventDefault();
      var input = f.input;
      var replace = input.selectionStart === 0 && input.selectionEnd === input.value.length;
      var text = (replace ? "" : input.value) + e.key;
      var state = /^\d$/.test(e.key) ? status(f, text) : "invalid";
      if (state === "invalid") {
        flag(f, say("invalid_code", { code: text }) +
          (CODED[f.type] ? " (" + f.valid.join(", ") + ")" : ""));
        return;
      }
      input.value = text;
      flag(f, null);
      refresh();
      if (state === "complete") { advance(f); } else { showProgress(f); }
    });
  });

  save.addEventListener("keydown", function (e) {
    if (e.key === "ArrowUp") { e.preventDefault(); var on = active(); if (on.length) { focusField(on[on.length - 1]); } }
  });

  refresh();
  var first = fields.filter(function (f) { return !f.input.disabled && f.el.classList.contains("bad"); })[0] ||
    active().filter(function (f) { return f.input.value.trim() === ""; })[0] || active()[0];
  if (first) { focusField(first); }
  form.setAttribute("data-ready", "1");  // keys typed from now on are handled here
}());
