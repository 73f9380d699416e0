"""Syntax tree of the skip-condition / constraint language, and how it evaluates.

The nodes are frozen dataclasses so that two parses of the same text compare equal (the
round-trip tests rely on it). Evaluation is total: a missing answer, a type mismatch or a
division by zero never raises; comparisons with a missing value are simply false. That is
what lets the same rule run on a half-filled paper form, a QR form and (through
:meth:`Expr.to_json`) a small JavaScript evaluator without any screen crashing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

Number = int | float
Scalar = int | float | str

COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
ARITHMETIC = ("+", "-", "*", "/")
LOGICAL = ("and", "or")
UNARY = ("not", "-")
FUNCTIONS: dict[str, int] = {"selected": 2, "count_selected": 1, "answered": 1}

_NUMERIC_TEXT = re.compile(r"-?\d+(\.\d+)?")


class ExpressionError(ValueError):
    """Raised for text or JSON that is not a valid expression; names the position."""


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


@dataclass(frozen=True)
class Expr:
    """Base of every node: evaluation, the item codes it reads, text and JSON forms."""

    depth: int = field(init=False, repr=False, compare=False, default=1)

    def evaluate(self, answers: Mapping[str, Any], current: Any = None) -> Any:
        """The value of the expression given the answers so far (``current`` is ``.``)."""
        raise NotImplementedError

    def holds(self, answers: Mapping[str, Any], current: Any = None) -> bool:
        """Is the condition true? (A missing result counts as false.)"""
        return truthy(self.evaluate(answers, current))

    @property
    def children(self) -> tuple[Expr, ...]:
        return ()

    @property
    def references(self) -> frozenset[str]:
        """Item codes that the expression reads through ``${code}``."""
        found: set[str] = set()
        for child in self.children:
            found |= child.references
        return frozenset(found)

    @property
    def uses_current(self) -> bool:
        """Does the expression read ``.``, the value of the item being checked?"""
        return any(child.uses_current for child in self.children)

    def walk(self) -> tuple[Expr, ...]:
        """This node and all its descendants, parents first."""
        nodes: list[Expr] = [self]
        for child in self.children:
            nodes.extend(child.walk())
        return tuple(nodes)

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def __post_init__(self) -> None:
        depth = 1 + max((child.depth for child in self.children), default=0)
        object.__setattr__(self, "depth", depth)


def literal_text(value: Scalar) -> str:
    """Source text of a literal that parses back to the same value."""
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    if isinstance(value, float):
        text = format(Decimal(repr(value)), "f")
        return text if "." in text else text + ".0"
    return str(value)


def _wrapped(node: Expr) -> str:
    atomic = isinstance(node, Ref | Current | Literal | Call)
    return str(node) if atomic else f"({node})"


@dataclass(frozen=True)
class Ref(Expr):
    code: str = ""

    def evaluate(self, answers: Mapping[str, Any], current: Any = None) -> Any:
        return answers.get(self.code)

    @property
    def references(self) -> frozenset[str]:
        return frozenset({self.code})

    def to_json(self) -> dict[str, Any]:
        return {"node": "ref", "code": self.code}

    def __str__(self) -> str:
        return "${" + self.code + "}"


@dataclass(frozen=True)
class Current(Expr):
    def evaluate(self, answers: Mapping[str, Any], current: Any = None) -> Any:
        return current

    @property
    def uses_current(self) -> bool:
        return True

    def to_json(self) -> dict[str, Any]:
        return {"node": "current"}

    def __str__(self) -> str:
        return "."


@dataclass(frozen=True)
class Literal(Expr):
    value: Scalar = 0

    def evaluate(self, answers: Mapping[str, Any], current: Any = None) -> Any:
        return self.value

    def to_json(self) -> dict[str, Any]:
        return {"node": "literal", "value": self.value}

    def __str__(self) -> str:
        return literal_text(self.value)


@dataclass(frozen=True)
class Unary(Expr):
    op: str = "not"
    operand: Expr = field(default_factory=Current)

    @property
    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)

    def evaluate(self, answers: Mapping[str, Any], current: Any = None) -> Any:
        value = self.operand.evaluate(answers, current)
        if self.op == "not":
            return not truthy(value)
        return arithmetic("-", 0, value)

    def to_json(self) -> dict[str, Any]:
        return {"node": "unary", "op": self.op, "operand": self.operand.to_json()}

    def __str__(self) -> str:
        return f"not ({self.operand})" if self.op == "not" else f"-({self.operand})"


@dataclass(frozen=True)
class Binary(Expr):
    op: str = "and"
    left: Expr = field(default_factory=Current)
    right: Expr = field(default_factory=Current)

    @property
    def children(self) -> tuple[Expr, ...]:
        return (self.left, self.right)

    def evaluate(self, answers: Mapping[str, Any], current: Any = None) -> Any:
        if self.op == "and":
            return self.left.holds(answers, current) and self.right.holds(answers, current)
        if self.op == "or":
            return self.left.holds(answers, current) or self.right.holds(answers, current)
        left = self.left.evaluate(answers, current)
        right = self.right.evaluate(answers, current)
        if self.op in COMPARISONS:
            return compare(self.op, left, right)
        return arithmetic(self.op, left, right)

    def to_json(self) -> dict[str, Any]:
        return {"node": "binary", "op": self.op,
                "left": self.left.to_json(), "right": self.right.to_json()}

    def __str__(self) -> str:
        return f"{_wrapped(self.left)} {self.op} {_wrapped(self.right)}"


@dataclass(frozen=True)
class In(Expr):
    """``x in (1, 2, 3)``; for a select_multiple answer, true when any chosen code is listed."""

    operand: Expr = field(default_factory=Current)
    values: tuple[Scalar, ...] = ()
    negated: bool = False

    @property
    def children(self) -> tuple[Expr, ...]:
        return (self.operand,)

    def evaluate(self, answers: Mapping[str, Any], current: Any = None) -> Any:
        value = self.operand.evaluate(answers, current)
        if is_missing(value):
            return False
        chosen = selection(value) if isinstance(value, list | tuple | set) else [value]
        found = any(compare("=", c, v) for c in chosen for v in self.values)
        return found != self.negated

    def to_json(self) -> dict[str, Any]:
        return {"node": "in", "operand": self.operand.to_json(),
                "values": list(self.values), "negated": self.negated}

    def __str__(self) -> str:
        listed = ", ".join(literal_text(v) for v in self.values)
        keyword = "not in" if self.negated else "in"
        return f"{_wrapped(self.operand)} {keyword} ({listed})"


@dataclass(frozen=True)
class Call(Expr):
    name: str = "answered"
    args: tuple[Expr, ...] = ()

    @property
    def children(self) -> tuple[Expr, ...]:
        return self.args

    def evaluate(self, answers: Mapping[str, Any], current: Any = None) -> Any:
        values = [arg.evaluate(answers, current) for arg in self.args]
        if self.name == "answered":
            return not is_missing(values[0])
        if self.name == "count_selected":
            return len(selection(values[0]))
        if is_missing(values[1]):
            return False
        wanted = code_text(values[1])
        return any(code_text(chosen) == wanted for chosen in selection(values[0]))

    def to_json(self) -> dict[str, Any]:
        return {"node": "call", "name": self.name, "args": [a.to_json() for a in self.args]}

    def __str__(self) -> str:
        return f"{self.name}({', '.join(str(arg) for arg in self.args)})"
