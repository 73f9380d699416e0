/* SIPAS skip conditions and constraints in the browser: evaluates Expr.to_json() trees.
 *
 * The same semantics as survey/instruments/values.py and expr_nodes.py (missing answers,
 * codes "3" = 3, comparisons with a missing value false, no exceptions); the server stays
 * the authority. tests/entry/test_expression_parity.py runs every expression of the shipped
 * forms (and one of every node kind) here and in Python on generated answers and asserts
 * identical results. Loaded by the keying screen before entry.js; also require()-able by
 * node for that test.
 */
(function (root) {
  "use strict";
  // --- values.py: missing values, numbers, codes, comparisons -----------------------
  // Python's str.isspace() characters (str.strip() and str.split() use them): not JavaScript's
  // \s, which adds U+FEFF and lacks U+001C–U+001F and U+0085.
  var PY_SPACE = "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
  var EDGES = new RegExp("^[" + PY_SPACE + "]+|[" + PY_SPACE + "]+$", "g");
  var GAPS = new RegExp("[" + PY_SPACE + "]+");
  // values.py: at most 30 digits each side; longer "numbers" are no answer
  var NUMERIC = /^-?[0-9]{1,30}(\.[0-9]{1,30})?$/;
  function strip(text) { return text.replace(EDGES, ""); }
  function isMissing(v) {
    if (v === null || v === undefined) { return true; }
    if (typeof v === "string") { return strip(v) === ""; }
    if (Array.isArray(v)) { return v.length === 0; }
    if (typeof v === "number") { return isNaN(v); }
    return false;
  }
  function asNumber(v) {
    if (typeof v === "number") { return isFinite(v) ? v : null; }
    if (typeof v === "string" && NUMERIC.test(strip(v))) { return parseFloat(strip(v)); }
    return null;
  }
  /* Python's str() of a non-number, so that an odd value (a list, a truth value) names the
   * same "code" on both sides: str(['2']) is "['2']", never "2". */
  function pyStr(v) {
    if (v === true) { return "True"; }
    if (v === false) { return "False"; }
    if (v === null || v === undefined) { return "None"; }
    if (Array.isArray(v)) {
      return "[" + v.map(function (x) { return typeof x === "string" ? "'" + x + "'" : pyStr(x); })
        .join(", ") + "]";
    }
    return String(v);
  }
  function codeText(v) {
    var n = asNumber(v);
    if (n !== null) { return String(n); }
    return strip(pyStr(v));
  }
  function selection(v) {
    if (isMissing(v)) { return []; }
    if (typeof v === "string") { return v.split(GAPS).filter(Boolean); }
    if (Array.isArray(v)) { return v.filter(function (x) { return !isMissing(x); }); }
    return [v];
  }
  function truthy(v) { return !isMissing(v) && Boolean(v); }
  function compare(op, l, r) {
    if (isMissing(l) || isMissing(r)) { return false; }
    var a = asNumber(l), b = asNumber(r);
    if (a === null || b === null) {
      if (!(typeof l === "string" && typeof r === "string")) { return op === "!="; }
      a = strip(l); b = strip(r);
    }
    switch (op) {
      case "=": return a === b;
      case "!=": return a !== b;
      case "<": return a < b;
      case "<=": return a <= b;
      case ">": return a > b;
      default: return a >= b;
    }
  }
  function arithmetic(op, l, r) {
    var a = asNumber(l), b = asNumber(r), out;
    if (a === null || b === null) { return null; }
    if (op === "+") { out = a + b; } else if (op === "-") { out = a - b; }
    else if (op === "*") { out = a * b; } else if (b === 0) { return null; } else { out = a / b; }
    return isFinite(out) ? out : null;
  }

  // --- expr_nodes.py: evaluation of Expr.to_json() trees ----------------------------
  function evaluate(node, answers, current) {
    var v, chosen, i, j;
    switch (node.node) {
      case "ref": return answers.hasOwnProperty(node.code) ? answers[node.code] : null;
      case "current": return current === undefined ? null : current;
      case "literal": return node.value;
      case "unary":
        v = evaluate(node.operand, answers, current);
        return node.op === "not" ? !truthy(v) : arithmetic("-", 0, v);
      case "binary":
        if (node.op === "and") { return holds(node.left, answers, current) && holds(node.right, answers, current); }
        if (node.op === "or") { return holds(node.left, answers, current) || holds(node.right, answers, current); }
        if (["=", "!=", "<", "<=", ">", ">="].indexOf(node.op) >= 0) {
          return compare(node.op, evaluate(node.left, answers, current), evaluate(node.right, answers, current));
        }
        return arithmetic(node.op, evaluate(node.left, answers, current), evaluate(node.right, answers, current));
      case "in":
        v = evaluate(node.operand, answers, current);
        if (isMissing(v)) { return false; }
        chosen = Array.isArray(v) ? selection(v) : [v];
        for (i = 0; i < chosen.length; i++) {
          for (j = 0; j < node.values.length; j++) {
            if (compare("=", chosen[i], node.values[j])) { return !node.negated; }
          }
        }
        return node.negated;
      case "call":
        v = node.args.map(function (a) { return evaluate(a, answers, current); });
        if (node.name === "answered") { return !isMissing(v[0]); }
        if (node.name === "count_selected") { return selection(v[0]).length; }
        if (isMissing(v[1])) { return false; }
        return selection(v[0]).some(function (c) { return codeText(c) === codeText(v[1]); });
      default: return null;
    }
  }
  function holds(node, answers, current) { return truthy(evaluate(node, answers, current)); }

  var api = { evaluate: evaluate, holds: holds, isMissing: isMissing, asNumber: asNumber,
    codeText: codeText, selection: selection };
  if (typeof module !== "undefined" && module.exports) { module.exports = api; }
  else { root.SipasExpr = api; }
}(this));
