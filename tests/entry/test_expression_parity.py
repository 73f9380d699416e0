"""Does the browser's skip logic (sipas-expr.js) decide exactly as the server's Python does?

The keying screen hides questions with the JavaScript evaluator; the server re-checks with
:mod:`survey.instruments`. If the two disagreed, a keyer would be sent past a question the
server then demands (or the reverse). Every ``relevant`` / ``constraint`` of the shipped
forms, and one expression of every node kind, is evaluated on a few hundred generated
answer sets in both, through node and through Chromium, and the results must be identical.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from survey.instruments import Expr, Instrument, Item, load_forms_dir, parse
from tests.browser import chromium
from tests.support import unavailable

EVALUATOR = Path(__file__).resolve().parents[2] / "survey" / "static" / "sipas-expr.js"
ANSWER_SETS = 300
# One of every node kind and operator, on generic items: a, b numbers; m a multiple choice;
# t text; "." the value being checked (constraints).
EVERY_NODE = (
    "${a} = 2", "${a} != 2", "${a} < ${b}", "${a} <= 3", "${a} > 1.5", "${a} >= ${b}",
    "${a} + ${b} > 5", "${a} - 1 = ${b}", "${a} * 2 = 4", "${a} / ${b} > 1", "-${a} < 0",
    "not ${a} = 1", "${a} in (1, 2, 98)", "${a} not in (1, 2)", "${m} in (3, 4)",
    "${m} not in (1)", "selected(${m}, 2)", "selected(${m}, ${a})", "count_selected(${m}) >= 2",
    "answered(${t})", "not answered(${m})", "${t} = 'có'", "${t} != 'có'", "${t} < 'b'",
    ". >= 1 and . <= 5", ". != 9 or ${a} = 1", "(${a} = 1 or ${b} = 2) and not answered(${t})",
    "${a} = '2'", "${m} = 2", "${t} = 3", ". = ${a}", "count_selected(.) = ${b}", "${a}",
    "${a} + ${t} = 3", "${a} / 0 = 1", "${t} != 3", "${m} != 2", "${a} != ${t}",
    "${m} > 1", "(${a} = 1) + 1 = 2", "${b} in ('3', 4)",
)
TEXTS = ("có", "Có", "b", "a", "", "  ", "3", " 3 ", "03", "2.0", "-1", "Cán bộ nhiệt tình",
         # where Python's and JavaScript's notions of blank and number part: Python's rules win
         "\x1c3", "3\ufeff", "\u00a03\u3000", "1" * 31, "2\x1c4", "2\u20284", "\x85", "1e3", "3.")
# Known, accepted differences (not generated): digits outside ASCII ("٣", "３") are numbers
# in Python only (the keying screen accepts ASCII digit keys alone), and integers beyond
# 2**53 are exact in Python only (paper answers are bounded by the item's range).


def _shipped() -> list[tuple[str, Expr, Item, Instrument]]:
    """Every relevant and constraint expression of the shipped forms, with its item."""
    found = []
    for form in load_forms_dir().values():
        for item in form.items:
            for kind in ("relevant", "constraint"):
                expr = getattr(item, kind)
                if expr is not None:
                    found.append((f"{form.code}.{item.code}.{kind}", expr, item, form))
    return found


def _value(item_type: str, codes: list[Any], rng: random.Random, low: int = 0,
           high: int = 120) -> Any:
    """One answer as a keyer, a web form or a stored response might hold it."""
    roll = rng.random()
    if roll < 0.08:
        return None
    if roll < 0.12:
        return rng.choice(["", " ", []])
    if item_type in ("select_one", "scale") and codes:
        code = rng.choice(codes)
        return rng.choice([code, str(code), f" {code} ", float(code), code])
    if item_type == "select_multiple" and codes:
        chosen = rng.sample(codes, k=rng.randint(1, min(3, len(codes))))
        return rng.choice([chosen, " ".join(str(c) for c in chosen), [str(c) for c in chosen]])
    if item_type in ("integer", "decimal"):
        number = rng.randint(low - 2, high + 2)
        return rng.choice([number, str(number), number + 0.5, f"{number}.25"])
    return rng.choice(TEXTS)


def _answer_set(form: Instrument, rng: random.Random) -> dict[str, Any]:
    answers = {}
    for item in form.items:
        value = _value(item.type, list(item.choice_codes), rng,
                       int(item.min) if item.min is not None else 0,
                       int(item.max) if item.max is not None else 120)
        if value is not None:
            answers[item.code] = value
    return answers


def _generic_set(rng: random.Random) -> tuple[dict[str, Any], Any]:
    """Answers to the generic items, now and then of another item's type (text in a number)."""
    kinds = {"a": ("select_one", [1, 2, 3, 98]), "b": ("integer", []),
             "m": ("select_multiple", [1, 2, 3, 4]), "t": ("text", [])}
    answers = {}
    for code, kind in kinds.items():
        item_type, codes = rng.choice(list(kinds.values())) if rng.random() < 0.2 else kind
        answers[code] = _value(item_type, codes, rng, 0, 6)
    return {k: v for k, v in answers.items() if v is not None}, _value("scale", [1, 2, 5, 9], rng)


def _cases() -> list[dict[str, Any]]:
    """(label, expression JSON, answers, current) for every expression and answer set."""
    rng = random.Random(20251122)
    cases = []
    shipped = _shipped()
    assert shipped, "the shipped forms have no skip conditions: nothing to compare"
    for n in range(ANSWER_SETS):
        for label, expr, item, form in shipped:
            answers = _answer_set(form, random.Random(f"{n}:{form.code}"))
            cases.append({"label": label, "expr": expr.to_json(), "answers": answers,
                          "current": answers.get(item.code)})
        answers, current = _generic_set(rng)
        for text in EVERY_NODE:
            cases.append({"label": text, "expr": parse(text).to_json(), "answers": answers,
                          "current": current})
    return cases


def _python(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for case in cases:
        expr = parse_json(case["expr"])
        value = expr.evaluate(case["answers"], case["current"])
        out.append({"value": value, "holds": expr.holds(case["answers"], case["current"])})
    return out


def parse_json(data: dict[str, Any]) -> Expr:
    from survey.instruments import from_json

    return from_json(data)


NODE_RUNNER = """
const X = require(process.argv[1]);
let input = "";
process.stdin.on("data", (d) => { input += d; });
process.stdin.on("end", () => {
  const cases = JSON.parse(input);
  const out = cases.map((c) => {
    const current = c.current === null ? undefined : c.current;
    const v = X.evaluate(c.expr, c.answers, current);
    return { value: v === undefined ? null : v, holds: X.holds(c.expr, c.answers, current) };
  });
  process.stdout.write(JSON.stringify(out));
});
"""

BROWSER_RUNNER = """
(text) => JSON.stringify(JSON.parse(text).map((c) => {
  const current = c.current === null ? undefined : c.current;
  const v = window.SipasExpr.evaluate(c.expr, c.answers, current);
  return { value: v === undefined ? null : v, holds: window.SipasExpr.holds(c.expr, c.answers,
                                                                             current) };
}))
"""


def _node(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    node = shutil.which("node")
    if node is None:
        unavailable("node is not installed")
    done = subprocess.run([node, "-e", NODE_RUNNER, str(EVALUATOR)], input=json.dumps(cases),
                          capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout)


def _chromium(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    with chromium() as browser:
        page = browser.new_page()  # type: ignore[attr-defined]
        page.add_script_tag(path=str(EVALUATOR))
        return json.loads(page.evaluate(BROWSER_RUNNER, json.dumps(cases)))


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON values: True is not 1, 2 == 2.0 (JavaScript has one number type)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return abs(a - b) <= 1e-12 * max(1.0, abs(a))
    return a == b


@pytest.mark.parametrize("engine_name", ["node", "chromium"])
def test_javascript_and_python_agree_on_every_expression(engine_name: str) -> None:
    cases = _cases()
    expected = _python(cases)
    got = _node(cases) if engine_name == "node" else _chromium(cases)
    assert len(got) == len(cases)
    wrong = [f"{c['label']} with {c['answers']} / current {c['current']!r}: Python {e}, "
             f"JavaScript {g}"
             for c, e, g in zip(cases, expected, got, strict=True)
             if not (_same(e["holds"], g["holds"]) and _same(e["value"], g["value"]))]
    assert not wrong, f"{len(wrong)} of {len(cases)} disagree, e.g.\n" + "\n".join(wrong[:10])
    # the comparison means something only if both outcomes occur for the shipped conditions
    shipped = [e["holds"] for c, e in zip(cases, expected, strict=True) if "." in c["label"]
               and c["label"].endswith(("relevant", "constraint"))]
    assert any(shipped) and not all(shipped)
