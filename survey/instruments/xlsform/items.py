"""One question row of an XLSForm survey sheet as a SIPAS item, with its choice list.

Everything a row says that SIPAS can say is carried (wording in every language, hint,
required, skip rule, constraint and its message, range, choices, the "no answer" code);
what it cannot say is a problem naming the cell (``calculation``, ``choice_filter``, a
conditional ``required``, ``or_other``, an expression SIPAS has no notation for). The
``sipas::`` columns of SIPAS's own export (see export.py) are read back exactly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from survey.instruments.expr_nodes import Binary, Current, Expr, Literal
from survey.instruments.expressions import parse
from survey.instruments.fields import CHOICE_CODE
from survey.instruments.schema import CODE_PATTERN, NUMBER_TYPES, RESERVED_CODES, Code
from survey.instruments.xlsform.export import number_constraint
from survey.instruments.xlsform.sheets import Reading, Row, Sheet
from survey.instruments.xlsform.xpath import XPathError, carried_expression

SIMPLE_TYPES = {"integer": "integer", "int": "integer", "decimal": "decimal", "text": "text",
                "string": "text", "note": "note", "date": "date"}
SELECT_TYPES = ("select_one", "select_multiple")
REFUSED_COLUMNS = {"calculation": "calculated answers", "choice_filter": "filtered choices",
                   "trigger": "triggered recalculation", "repeat_count": "repeats"}
TRUE = ("yes", "true", "true()", "1", "y")
FALSE = ("no", "false", "false()", "0", "n")
_NA_SUFFIX = re.compile(r"_na(?:_\d+)?$")
_INTEGER = re.compile(r"-?(?:0|[1-9]\d{0,15})")


def choice_code(text: str) -> Code:
    """A choice's name as SIPAS's code: ``"3"`` is the number 3, ``"03"`` stays text."""
    return int(text) if _INTEGER.fullmatch(text) else text


def combined(outer: str | None, own: str | None) -> str | None:
    """Two skip conditions joined as the loader joins a section's and an item's."""
    if outer is None or own is None:
        return outer or own
    return f"({outer}) and ({own})"


@dataclass(frozen=True)
class Entry:
    """One row of the choices sheet."""

    row: Row
    name: str
    label: dict[str, str]


class ChoiceLists:
    """The choices sheet, list by list; a list is checked when a question first uses it."""

    def __init__(self, sheet: Sheet | None, reading: Reading) -> None:
        self.reading = reading
        self.entries: dict[str, list[Entry]] = {}
        self.missing_labels: list[dict[str, str]] = []  # of '<list>_na' choices, as found
        self._checked: set[str] = set()
        if sheet is None:
            return
        for base in ("list_name", "name"):
            if not sheet.has(base):
                reading.problem("choices sheet, row 1", f"no {base!r} column")
                return
        for row in sheet.rows:
            self._read(row)

    def _read(self, row: Row) -> None:
        list_name, name = row.get("list_name"), row.get("name")
        if list_name is None or name is None:
            missing = "list_name" if list_name is None else "name"
            self.reading.problem(row.where(row.header(missing)), f"the choice has no {missing}")
            return
        entries = self.entries.setdefault(list_name, [])
        first = next((e for e in entries if e.name == name), None)
        if first is not None:
            self.reading.problem(row.where(row.header("name")),
                                 f"choice {name!r} appears twice in list {list_name!r} "
                                 f"(first on row {first.row.number})")
            return
        entries.append(Entry(row, name, self.reading.text(row, "label")))

    def has(self, name: str) -> bool:
        return name in self.entries

    def used(self, name: str) -> list[Entry]:
        """The entries of a list that the form uses, checked (an unused list may be bad)."""
        self._check(name)
        return self.entries[name]

    def choices(self, name: str, drop: str | None = None) -> list[dict[str, Any]]:
        """The list as SIPAS choices ``[{code, label}]`` (without the code ``drop``)."""
        kept = [e for e in self.used(name) if e.name != drop]
        numeric = all(_INTEGER.fullmatch(e.name) for e in kept)
        return [{"code": int(e.name) if numeric else e.name, "label": e.label} for e in kept]

    def _check(self, name: str) -> None:
        if name in self._checked:
            return
        self._checked.add(name)
        for entry in self.entries[name]:
            self.reading.label(entry.row, what="choice label")
            if not _INTEGER.fullmatch(entry.name) and not CHOICE_CODE.fullmatch(entry.name):
                self.reading.problem(entry.row.where(entry.row.header("name")),
                                     f"choice name {entry.name!r} must be a number or at most "
                                     "32 letters, digits, '_' or '-' (it becomes a data code)")

    def na_base(self, name: str) -> tuple[str, Entry] | None:
        """For a '<list>_na' list that adds one choice to '<list>': the base and that choice.

        It is how SIPAS's export offers "no answer" on the items that allow it.
        """
        base = _NA_SUFFIX.sub("", name)
        if base == name or base not in self.entries:
            return None
        full, short = self.entries[name], self.entries[base]
        same = [(e.name, e.label) for e in full[:-1]] == [(e.name, e.label) for e in short]
        return (base, full[-1]) if same and len(full) == len(short) + 1 else None


@dataclass(frozen=True)
class Context:
    """What every question row is read against."""

    reading: Reading
    lists: ChoiceLists
    survey: Sheet
    named_lists: tuple[str, ...]
    scale_list: str | None
    in_repeat: frozenset[str]


def read_item(row: Row, kind: list[str], context: Context, section_relevant: str | None,
              group_relevant: str | None) -> dict[str, Any]:
    """The item mapping of a question row (problems go to ``context.reading``).

    ``kind`` is the type cell split in words (``["select_one", "yes_no"]``);
    ``section_relevant`` the SIPAS text of the section's condition (for a ``sipas::``
    row, whose ``relevant`` cell holds both); ``group_relevant`` a condition to join to
    the item's own.
    """
    reading = context.reading
    code = row.get("name") or ""
    for base, what in REFUSED_COLUMNS.items():
        if row.get(base):
            reading.problem(row.where(row.header(base)),
                            f"{base} cannot be carried into SIPAS (it has no {what})")
    if (row.get("read_only") or "").lower() in TRUE:
        reading.problem(row.where(row.header("read_only")),
                        "read_only cannot be carried into SIPAS (use a note to show text)")
    item: dict[str, Any] = {"code": code}
    item.update(_type_and_choices(row, kind, context))
    item["label"] = reading.label(row)
    hint = reading.text(row, "hint")
    if hint:
        item["hint"] = hint
    if _required(row, reading) and item["type"] != "note":
        item["required"] = True
    relevant = _relevant(row, context, section_relevant)
    relevant = combined(group_relevant, relevant)
    if relevant:
        item["relevant"] = relevant
    item.update(_constraint(row, item, context))
    if row.get("sipas::element"):
        item["element"] = row.get("sipas::element")
    return item


def _type_and_choices(row: Row, kind: list[str], context: Context) -> dict[str, Any]:
    reading, lists = context.reading, context.lists
    if kind[0] in SIMPLE_TYPES:
        found: dict[str, Any] = {"type": SIMPLE_TYPES[kind[0]]}
        missing = row.get("sipas::missing_code")
        if missing and found["type"] in NUMBER_TYPES:
            found.update(na_allowed=True, missing_code=choice_code(missing))
        return found
    where = row.where(row.header("type"))
    if len(kind) < 2:
        reading.problem(where, f"{kind[0]} needs the name of a choice list after it")
        return {"type": kind[0]}
    if len(kind) > 2:
        reading.problem(where, f"{' '.join(kind[2:])!r} cannot be carried into SIPAS (add an "
                        "'other' choice and a text question shown when it is chosen)")
    list_name = kind[1]
    if not lists.has(list_name):
        reading.problem(where, f"choice list {list_name!r} is not on the choices sheet")
        return {"type": kind[0]}
    base, missing = _no_answer(row, kind[0], list_name, context)
    found = {"type": kind[0]}
    if missing is not None:
        found.update(na_allowed=True, missing_code=choice_code(missing))
    if kind[0] == "select_one" and context.scale_list in (list_name, base):
        found["type"] = "scale"
    elif base in context.named_lists:
        found["choices"] = base
    else:
        found["choices"] = lists.choices(list_name, drop=missing)
    return found


def _no_answer(row: Row, kind: str, list_name: str, context: Context
               ) -> tuple[str, str | None]:
    """The list a select item draws on and its "no answer" code (None when not allowed)."""
    lists = context.lists
    if context.survey.has("sipas::missing_code"):
        missing = row.get("sipas::missing_code")
        if missing is None:
            return list_name, None
        if all(e.name != missing for e in lists.entries[list_name]):
            context.reading.problem(row.where(row.header("sipas::missing_code")),
                                    f"missing code {missing!r} is not in choice list "
                                    f"{list_name!r}")
            return list_name, None
        found = lists.na_base(list_name)
        return (found[0] if found else list_name), missing
    found = lists.na_base(list_name) if kind == "select_one" else None
    if found is None:
        return list_name, None
    lists.missing_labels.append(found[1].label)
    return found[0], found[1].name


def _required(row: Row, reading: Reading) -> bool:
    value = row.get("required")
    if value is None or value.lower() in FALSE:
        return False
    if value.lower() in TRUE:
        return True
    reading.problem(row.where(row.header("required")),
                    f"required {value!r} cannot be carried into SIPAS: a question is required "
                    "(yes) or not (no), never on a condition")
    return False


def expression(row: Row, column: str, context: Context, sipas_text: str | None) -> str | None:
    """The SIPAS text of an expression cell (None, and a problem, when it cannot be)."""
    cell = row.get(column)
    if cell is None:
        return None
    try:
        return carried_expression(cell, sipas_text, context.in_repeat)
    except XPathError as exc:
        context.reading.problem(row.where(row.header(column)), str(exc))
        return None


def _relevant(row: Row, context: Context, section_relevant: str | None) -> str | None:
    """The item's own skip condition; a ``sipas::`` row's cell also holds its section's."""
    own = row.get("sipas::relevant")
    if not row.get("sipas::section"):
        return expression(row, "relevant", context, None)
    expected = combined(section_relevant, own)
    if row.get("relevant") is None:
        return None
    text = expression(row, "relevant", context, expected)
    return own if text == expected else text


def _number(row: Row, column: str, context: Context) -> int | float | None:
    text = row.get(column)
    if text is None:
        return None
    try:
        return int(text) if _INTEGER.fullmatch(text) else float(text)
    except ValueError:
        context.reading.problem(row.where(row.header(column)), f"{text!r} is not a number")
        return None


def _constraint(row: Row, item: dict[str, Any], context: Context) -> dict[str, Any]:
    """Constraint, range and message; the export's ``sipas::`` columns while they agree."""
    found: dict[str, Any] = {}
    number = item["type"] in NUMBER_TYPES
    low, high = _number(row, "sipas::min", context), _number(row, "sipas::max", context)
    own = row.get("sipas::constraint")
    missing = item.get("missing_code") if number else None
    expected = number_constraint(low, high, own, missing)
    text = expression(row, "constraint", context, expected)
    message = context.reading.text(row, "constraint_message")
    if text is not None and text == expected:
        found.update(constraint=own, min=low, max=high)
    elif text is not None and message:  # a range would lose the author's message
        found["constraint"] = text
    elif text is not None:
        found.update(zip(("constraint", "min", "max"), _range(text, item["type"]),
                         strict=True))
    found = {key: value for key, value in found.items() if value is not None}
    if message and "constraint" in found:
        found["constraint_message"] = message
    elif message:
        context.reading.note(f"{row.where()}: the constraint message is left out (it has no "
                             "constraint)")
    return found


def _conjuncts(expr: Expr) -> list[Expr]:
    if isinstance(expr, Binary) and expr.op == "and":
        return [*_conjuncts(expr.left), *_conjuncts(expr.right)]
    return [expr]


def _bound(expr: Expr, op: str, item_type: str) -> int | float | None:
    """The number in ``. >= 5`` (op ">="), when the item's range can hold it."""
    if not (isinstance(expr, Binary) and expr.op == op and isinstance(expr.left, Current)
            and isinstance(expr.right, Literal)):
        return None
    value = expr.right.value
    if isinstance(value, str) or (item_type == "integer" and not isinstance(value, int)):
        return None
    return value


def _range(text: str, item_type: str) -> tuple[str | None, Any, Any]:
    """``. >= 1 and . <= 20 and X`` of a number item as min 1, max 20 and constraint X."""
    if item_type not in NUMBER_TYPES:
        return text, None, None
    rest, low, high = [], None, None
    for part in _conjuncts(parse(text)):
        if low is None and (value := _bound(part, ">=", item_type)) is not None:
            low = value
        elif high is None and (value := _bound(part, "<=", item_type)) is not None:
            high = value
        else:
            rest.append(part)
    if low is None and high is None:
        return text, None, None
    if low is not None and high is not None and low > high:
        return text, None, None
    joined = rest[0] if rest else None
    for part in rest[1:]:
        joined = Binary("and", joined, part)
    return (str(joined) if joined is not None else None), low, high


def check_name(row: Row, seen: dict[str, int], reading: Reading) -> bool:
    """Is the row's name usable as a SIPAS item code (and not used before)?"""
    code = row.get("name")
    where = row.where(row.header("name"))
    if code is None:
        reading.problem(where, "the question has no name")
        return False
    if not CODE_PATTERN.fullmatch(code):
        reading.problem(where, f"name {code!r} must be 1-32 lower-case letters, digits or '_', "
                        "starting with a letter (it becomes an export column)")
        return False
    if code in RESERVED_CODES:
        reading.problem(where, f"name {code!r} is already an export column; choose another")
        return False
    if code in seen:
        reading.problem(where, f"name {code!r} is also used on row {seen[code]}")
        return False
    seen[code] = row.number
    return True
