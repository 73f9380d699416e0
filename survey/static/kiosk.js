/* The counter tablet (templates/kiosk/screen.html): waits for a ticket, asks one question a
 * screen, forgets each citizen, and never loses an evaluation to a network drop.
 *
 * - Waiting: polls GET data-ticket every data-poll seconds for a ticket the queue system
 *   opened; the officer (or the citizen) can also start with the button.
 * - Asking: skip rules are the form's own (data-relevant, evaluated by sipas-expr.js as the
 *   keying screen does); after data-reset seconds without a touch the screen goes back to
 *   waiting and everything answered is wiped, as it is after every evaluation.
 * - Sending: each evaluation gets a UUID when the citizen presses "send" and goes into a queue
 *   in localStorage first; the queue is sent oldest first whenever the network allows (at
 *   once, on the browser's "online" event, and with back-off), and an item leaves the queue
 *   only when the server says it is stored (201, or 200 for one stored before). What the
 *   server refuses (422, 409) is kept aside on the tablet and counted on screen, never
 *   dropped. The server stores one evaluation per UUID, so a reply lost on the way back
 *   costs nothing.
 */
(function () {
  "use strict";
  var body = document.body, X = window.SipasExpr;
  var words = JSON.parse(document.getElementById("words").textContent);
  var form = document.getElementById("questions");
  var steps = Array.prototype.slice.call(form.querySelectorAll("section.q"));
  var screens = Array.prototype.slice.call(document.querySelectorAll("section.screen"));
  var store = body.getAttribute("data-store");
  var resetMs = 1000 * (parseInt(body.getAttribute("data-reset"), 10) || 30);
  var thanksMs = 1000 * (parseInt(body.getAttribute("data-thanks"), 10) || 5);
  var pollMs = 1000 * (parseInt(body.getAttribute("data-poll"), 10) || 3);
  var state = { current: null, ticket: null, known: {}, idle: null, revoked: false };
  var sending = false, retryTimer = null, backoff = 2000, netDown = false;

  // --- storage -------------------------------------------------------------------
  function load(name, fallback) {
    try { var v = JSON.parse(window.localStorage.getItem(store + "." + name)); return v === null ? fallback : v; }
    catch (e) { return fallback; }
  }
  function save(name, value) { window.localStorage.setItem(store + "." + name, JSON.stringify(value)); }

  function uuid4() {
    var b = new Uint8Array(16);
    window.crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  // --- words in the citizen's language ---------------------------------------------
  function lang() { return body.getAttribute("data-lang") === "en" ? "en" : "vi"; }
  function say(key, params) {
    var text = (words[lang()] || words.vi)[key] || key;
    Object.keys(params || {}).forEach(function (k) { text = text.replace("%(" + k + ")s", params[k]); });
    return text;
  }
  function setLang(code) {
    body.setAttribute("data-lang", code);
    document.documentElement.lang = code;
    showStatus();
    if (state.current) { showCount(state.current); }
  }

  // --- answers and skip rules -----------------------------------------------------------
  function valueOf(step) {
    var type = step.getAttribute("data-type");
    var inputs = step.querySelectorAll("input, textarea");
    if (type === "select_multiple") {
      return Array.prototype.filter.call(inputs, function (i) { return i.checked; })
        .map(function (i) { return X.asNumber(i.value); });
    }
    if (type === "select_one" || type === "scale") {
      var on = Array.prototype.filter.call(inputs, function (i) { return i.checked; })[0];
      return on ? X.asNumber(on.value) : null;
    }
    var text = inputs[0] ? inputs[0].value.trim() : "";
    if (type === "integer") { return text === "" ? null : (X.asNumber(text) === null ? text : X.asNumber(text)); }
    return text === "" ? null : text;
  }
  /* Mirror of validation._effective_answers: in form order, only the questions that apply.
   * What the ticket's dossier answers (state.known) counts for the skip rules but is not
   * asked, and not sent: the server takes it from the dossier. */
  function effective() {
    var kept = {}, on = [], asked = {}, known = state.known || {};
    steps.forEach(function (step) {
      var code = step.getAttribute("data-code");
      var rel = step.getAttribute("data-relevant");
      if (rel && !X.holds(JSON.parse(rel), kept)) { return; }
      if (Object.prototype.hasOwnProperty.call(known, code)) { kept[code] = known[code]; return; }
      on.push(step);
      var v = valueOf(step);
      if (!X.isMissing(v)) { kept[code] = v; asked[code] = v; }
    });
    return { answers: asked, steps: on };
  }

  // --- screens --------------------------------------------------------------------
  function show(id) {
    screens.forEach(function (s) { s.hidden = s.id !== id; });
    var step = document.getElementById(id);
    state.current = step && step.classList.contains("q") ? step : null;
    if (state.current) { showCount(state.current); }
  }
  function showCount(step) {
    var on = effective().steps, at = on.indexOf(step);
    step.querySelector(".count").textContent = say("question", { n: at + 1, total: on.length });
    var last = at === on.length - 1;
    step.querySelector(".next").hidden = last;
    step.querySelector(".send").hidden = !last;
    step.querySelector(".back").hidden = at === 0;
  }
  function wipe() {
    form.reset();
    Array.prototype.forEach.call(form.querySelectorAll(".error"), function (e) { e.hidden = true; e.textContent = ""; });
    state.ticket = null;
    state.known = {};
  }
  function wait() {
    clearTimeout(state.idle);
    wipe();
    setLang("vi");
    show(state.revoked ? "s-revoked" : "s-wait");
  }
  function begin(ticket) {
    wipe();
    state.ticket = ticket;
    state.known = (ticket && ticket.known) || {};
    var on = effective().steps;
    if (!on.length) { return; }
    show(on[0].id);
    touched();
  }
  function touched() {  // a touch while asking restarts the idle countdown (not the thanks one)
    if (!state.current) { return; }
    clearTimeout(state.idle);
    state.idle = setTimeout(wait, resetMs);
  }

  function problem(step) {
    var v = valueOf(step), type = step.getAttribute("data-type");
    if (X.isMissing(v)) { return step.hasAttribute("data-required") ? say("required") : null; }
    if (type === "integer") {
      var min = step.getAttribute("data-min"), max = step.getAttribute("data-max");
      var n = X.asNumber(String(v));
      if (n === null || Math.floor(n) !== n || (min !== null && n < +min) || (max !== null && n > +max)) {
        return say("number", { min: min === null ? "" : min, max: max === null ? "" : max });
      }
    }
    return null;
  }
  function move(step, by, skipping) {
    var error = step.querySelector(".error");
    if (skipping) {
      Array.prototype.forEach.call(step.querySelectorAll("input, textarea"), function (i) {
        if (i.type === "radio" || i.type === "checkbox") { i.checked = false; } else { i.value = ""; }
      });
    }
    if (by > 0 && !skipping) {
      var wrong = problem(step);
      error.textContent = wrong || ""; error.hidden = !wrong;
      if (wrong) { return; }
    }
    error.hidden = true;
    var on = effective().steps, at = on.indexOf(step) + by;
    if (at < 0) { return; }
    if (at >= on.length) { send(); return; }
    show(on[at].id);
  }

  // --- sending ----------------------------------------------------------------------
  function send() {
    var queue = load("queue", []);
    queue.push({ uuid: uuid4(), iv: parseInt(body.getAttribute("data-iv"), 10),
                 answers: effective().answers, answered_at: new Date().toISOString(),
                 ticket: state.ticket ? state.ticket.id : null });
    save("queue", queue);
    wipe();
    show("s-thanks");
    clearTimeout(state.idle);
    state.idle = setTimeout(wait, thanksMs);
    showStatus();
    flush();
  }
  function later() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(flush, backoff);
    backoff = Math.min(backoff * 2, 60000);
  }
  function flush() {
    clearTimeout(retryTimer); retryTimer = null;
    if (sending || state.revoked) { return; }
    var queue = load("queue", []);
    if (!queue.length) { return; }
    sending = true;
    var item = queue[0];
    fetch(body.getAttribute("data-post"), {
      method: "POST", headers: { "Content-Type": "application/json" }, credentials: "omit",
      body: JSON.stringify(item)
    }).then(function (reply) {
      sending = false; netDown = false;
      var left = load("queue", []).filter(function (q) { return q.uuid !== item.uuid; });
      if (reply.status === 200 || reply.status === 201) {
        save("queue", left); backoff = 2000; showStatus(); flush(); return;
      }
      if (reply.status === 404 || reply.status === 410) { state.revoked = true; showStatus(); wait(); return; }
      if (reply.status === 422 || reply.status === 409 || reply.status === 400) {
        var refused = load("refused", []);
        refused.push({ item: item, status: reply.status });
        save("refused", refused); save("queue", left); showStatus(); flush(); return;
      }
      showStatus(); later();  // 429, 5xx: the server is busy; try again later
    }, function () {
      sending = false; netDown = true; showStatus(); later();
    });
  }
  function showStatus() {
    var n = load("queue", []).length, r = load("refused", []).length;
    var pending = document.getElementById("pending"), refused = document.getElementById("refused");
    pending.hidden = n === 0; pending.textContent = n ? say("waiting", { n: n }) : "";
    refused.hidden = r === 0; refused.textContent = r ? say("refused", { n: r }) : "";
    document.getElementById("offline").hidden = !(netDown || navigator.onLine === false);
  }

  // --- tickets ----------------------------------------------------------------------
  function poll() {
    if (state.revoked || document.getElementById("s-wait").hidden) { return; }
    fetch(body.getAttribute("data-ticket") + "?after=" + load("lastTicket", 0), { credentials: "omit", cache: "no-store" })
      .then(function (reply) {
        netDown = false; showStatus();
        if (reply.status === 404 || reply.status === 410) { state.revoked = true; wait(); return null; }
        return reply.ok ? reply.json() : null;
      }, function () { netDown = true; showStatus(); return null; })
      .then(function (data) {
        if (!data || !data.ticket || document.getElementById("s-wait").hidden) { return; }
        save("lastTicket", data.ticket.id);
        begin(data.ticket);
      });
  }

  // --- wiring -----------------------------------------------------------------------
  document.getElementById("start").addEventListener("click", function () { begin(null); });
  Array.prototype.forEach.call(document.querySelectorAll("[data-set-lang]"), function (b) {
    b.addEventListener("click", function () { setLang(b.getAttribute("data-set-lang")); touched(); });
  });
  steps.forEach(function (step) {
    step.querySelector(".back").addEventListener("click", function () { move(step, -1, false); });
    step.querySelector(".next").addEventListener("click", function () { move(step, 1, false); });
    step.querySelector(".send").addEventListener("click", function () { move(step, 1, false); });
    var skip = step.querySelector(".skip");
    if (skip) { skip.addEventListener("click", function () { move(step, 1, true); }); }
    var type = step.getAttribute("data-type");
    if (type === "select_one" || type === "scale") {  // one tap answers and moves on
      Array.prototype.forEach.call(step.querySelectorAll("input"), function (input) {
        input.addEventListener("click", function () {
          setTimeout(function () {  // not from the last question: "send" is the citizen's own tap
            if (state.current === step && step.querySelector(".send").hidden) { move(step, 1, false); }
          }, 250);
        });
      });
    }
  });
  form.addEventListener("submit", function (e) { e.preventDefault(); });
  form.addEventListener("change", function () { if (state.current) { showCount(state.current); } });
  ["pointerdown", "keydown", "input"].forEach(function (name) {
    document.addEventListener(name, touched, true);
  });
  window.addEventListener("online", function () { netDown = false; backoff = 2000; showStatus(); flush(); });
  window.addEventListener("offline", showStatus);
  setInterval(poll, pollMs);
  setInterval(function () { if (!sending && !retryTimer) { flush(); } }, 15000);
  wait();
  showStatus();
  flush();
}());
