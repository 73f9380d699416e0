"""What answers mean inside an expression: missing values, numbers, codes, comparisons.

Kept apart from the syntax tree because the answer checks (validation.py) need the very
same notion of "missing" and "the same code" as the expressions do.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

Number = int | float

# At most 30 digits each side: longer "numbers" are no answer, and would overflow float()
# or hit Python's int-conversion digit limit (a 500 for a pasted 5,000-digit string).
_NUMERIC_TEXT = re.compile(r"-?\d{1,30}(\.\d{1,30})?", re.ASCII)  # same digits as sipas-expr.js


def is_missing(value: Any) -> bool:
    """Is this the absence of an answer (None, blank text, empty selection, NaN)?"""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    if isinstance(value, list | tuple | set | frozenset):
        return len(value) == 0
    if isinstance(value, float):
        return math.isnan(value)
    return False


def as_number(value: Any) -> Number | None:
    """The value as a number when it is one or is numeric text ("3", "2.5"), else None.

    Web forms deliver every answer as text, so "3" must compare equal to the choice code 3.
    Booleans are not numbers here: a truth value is not an answer code.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float | Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, str) and _NUMERIC_TEXT.fullmatch(value.strip()):
        text = value.strip()
        return float(text) if "." in text else int(text)
    return None


def as_scalar(value: Any) -> Any:
    """Dates become ISO text (so they order correctly); everything else is unchanged."""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def code_text(value: Any) -> str:
    """Canonical text of a choice code, so that 3, 3.0 and "3" all name the same choice."""
    number = as_number(value)
    if number is not None:
        return str(int(number)) if float(number).is_integer() else str(number)
    return str(value).strip()


def selection(value: Any) -> list[Any]:
    """The codes chosen in a select_multiple answer (a list, or space-separated text)."""
    if is_missing(value):
        return []
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list | tuple | set | frozenset):
        return [v for v in value if not is_missing(v)]
    return [value]


def truthy(value: Any) -> bool:
    """Truth of a value in a condition: a missing answer is false."""
    return not is_missing(value) and bool(value)


def compare(op: str, left: Any, right: Any) -> bool:
    """Compare two values; false whenever either is missing or they are not comparable."""
    if is_missing(left) or is_missing(right):
        return False
    left, right = as_scalar(left), as_scalar(right)
    a, b = as_number(left), as_number(right)
    if a is None or b is None:
        if not (isinstance(left, str) and isinstance(right, str)):
            return op == "!="  # different kinds of thing are never equal, never ordered
        a, b = left.strip(), right.strip()
    if op == "=":
        return a == b
    if op == "!=":
        return a != b
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    return a >= b


def arithmetic(op: str, left: Any, right: Any) -> Number | None:
    """Arithmetic on two numbers; None (missing) for anything else or a division by zero."""
    a, b = as_number(left), as_number(right)
    if a is None or b is None:
        return None
    if op == "+":
        result: Number = a + b
    elif op == "-":
        result = a - b
    elif op == "*":
        result = a * b
    elif b == 0:
        return None
    else:
        result = a / b
    if isinstance(result, float) and not math.isfinite(result):
        return None
    return result
