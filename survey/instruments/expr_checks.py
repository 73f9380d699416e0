"""Static checks of a form's expressions against the items they name.

A typo in a skip condition would otherwise silently hide questions from every respondent;
these checks catch unknown and later items, ``.`` outside constraints, ``selected()`` on
a non-choice item and choice codes that do not exist, when the form is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping

from survey.instruments.expr_nodes import Binary, Call, Current, Expr, In, Literal, Ref
from survey.instruments.expressions import ExpressionError, parse
from survey.instruments.fields import Notes
from survey.instruments.schema import CHOICE_TYPES, Item
from survey.instruments.values import code_text


def parse_expression(text: object, what: str, notes: Notes, where: object,
                     item: str | None) -> Expr | None:
    """Parse form text into an expression, noting a problem instead of raising."""
    if text is None:
        return None
    if not isinstance(text, str):
        notes.add(f"{what} must be an expression in text, not {text!r}", where, item)
        return None
    try:
        return parse(text)
    except ExpressionError as exc:
        notes.add(f"{what} {text!r} cannot be parsed: {exc}", where, item)
        return None


def check_expression(expr: Expr, what: str, *, notes: Notes, where: object, item: str | None,
                     earlier: Mapping[str, Item], all_codes: frozenset[str],
                     allow_current: bool) -> bool:
    """Note every problem of ``expr``; True when it has none.

    ``earlier`` holds the items before this one (in form order), the only answers a skip
    condition or constraint may read: a screen filling the form top to bottom knows them.
    """
    before = len(notes.problems)
    for code in sorted(expr.references):
        if code == item and allow_current:
            continue
        if code == item:
            notes.add(f"{what} refers to the item itself (${{{code}}})", where, item)
        elif code not in all_codes:
            notes.add(f"{what} refers to unknown item ${{{code}}}", where, item)
        elif code not in earlier:
            notes.add(f"{what} refers to ${{{code}}}, which comes later in the form (only "
                      "earlier answers may be used)", where, item)
        elif not earlier[code].is_question:
            notes.add(f"{what} refers to ${{{code}}}, a note, which has no answer", where, item)
    if expr.uses_current and not allow_current:
        notes.add(f"{what} uses '.', which means the item's own value and is only allowed "
                  "in a constraint", where, item)
    for node in expr.walk():
        _check_node(node, what, notes, where, item, earlier)
    return len(notes.problems) == before


def _check_node(node: Expr, what: str, notes: Notes, where: object, item: str | None,
                earlier: Mapping[str, Item]) -> None:
    if isinstance(node, Call) and node.name in ("selected", "count_selected"):
        target = node.args[0]
        referred = earlier.get(target.code) if isinstance(target, Ref) else None
        if not isinstance(target, Ref | Current):
            notes.add(f"{what}: the first argument of {node.name}() must be ${{code}} of a "
                      "choice item", where, item)
        elif referred is not None and referred.type not in CHOICE_TYPES:
            notes.add(f"{what}: {node.name}() needs a choice item, but ${{{target.code}}} is "
                      f"{referred.type}", where, item)
        elif referred is not None and node.name == "selected" and \
                isinstance(node.args[1], Literal):
            _check_code(referred, node.args[1].value, what, notes, where, item)
    if isinstance(node, Binary) and node.op in ("=", "!="):
        for ref, other in ((node.left, node.right), (node.right, node.left)):
            if isinstance(ref, Ref) and isinstance(other, Literal) and ref.code in earlier:
                _check_code(earlier[ref.code], other.value, what, notes, where, item)
    if isinstance(node, In) and isinstance(node.operand, Ref) and node.operand.code in earlier:
        for value in node.values:
            _check_code(earlier[node.operand.code], value, what, notes, where, item)


def _check_code(referred: Item, value: object, what: str, notes: Notes, where: object,
                item: str | None) -> None:
    """A code compared with a choice item must be one of its choices (or its missing code)."""
    if referred.type not in CHOICE_TYPES or referred.choice(value) is not None:
        return
    if referred.missing_code is not None and code_text(value) == code_text(referred.missing_code):
        return
    codes = ", ".join(str(c) for c in referred.choice_codes)
    notes.add(f"{what} compares ${{{referred.code}}} with {value!r}, which is not one of its "
              f"choice codes ({codes})", where, item)
