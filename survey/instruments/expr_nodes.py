"""Syntax tree of the skip-condition / constraint language, and how it evaluates.

The nodes are frozen dataclasses so that two parses of the same text compare equal (the
round-trip tests rely on it). Evaluation is total: a missing answer, a type mismatch or a
division by zero never raises; comparisons with a missing value are simply false. That is
what lets the same rule run on a half-filled paper form, a QR form and (through
:meth:`Expr.to_json`) a small JavaScript evaluator without any screen crashing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from survey.instruments.values import (
    arithmetic,
    code_text,
    compare,
    is_missing,
    selection,
    truthy,
)

Scalar = int | float | str

COMPARISONS = ("=", "!=", "<", "<=", ">", ">=")
ARITHMETIC = ("+", "-", "*", "/")
LOGICAL = ("and", "or")
UNARY = ("not", "-")
FUNCTIONS: dict[str, int] = {"selected": 2, "count_selected": 1, "answered": 1}

class ExpressionError(ValueError):
    """Raised for text or JSON that is not a valid expression; names the position."""


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


MAX_JSON_DEPTH = 64  # deeper than the parser allows, never enough to exhaust the stack


def from_json(data: Any) -> Expr:
    """Rebuild an expression from :meth:`Expr.to_json` output (checked, never trusted)."""
    try:
        return _from_json(data, 0)
    except (KeyError, TypeError, AttributeError) as exc:
        raise ExpressionError(f"malformed expression JSON: {exc!r}") from None


def _from_json(data: dict[str, Any], depth: int) -> Expr:
    if depth > MAX_JSON_DEPTH:
        raise ExpressionError(f"expression nested deeper than {MAX_JSON_DEPTH} levels")
    kind = data["node"]
    if kind == "ref" and isinstance(data["code"], str) and data["code"].isidentifier():
        return Ref(data["code"])
    if kind == "current":
        return Current()
    if kind == "literal":
        return Literal(_scalar(data["value"]))
    if kind == "unary" and data["op"] in ("not", "-"):
        return Unary(data["op"], _from_json(data["operand"], depth + 1))
    if kind == "binary" and data["op"] in (*COMPARISONS, *ARITHMETIC, "and", "or"):
        return Binary(data["op"], _from_json(data["left"], depth + 1),
                      _from_json(data["right"], depth + 1))
    if kind == "in":
        values = tuple(_scalar(v) for v in data["values"])
        return In(_from_json(data["operand"], depth + 1), values, bool(data["negated"]))
    if kind == "call" and FUNCTIONS.get(data["name"]) == len(data["args"]):
        return Call(data["name"], tuple(_from_json(a, depth + 1) for a in data["args"]))
    raise ExpressionError(f"malformed expression JSON node: {data!r:.80}")


def _scalar(value: Any) -> Scalar:
    if isinstance(value, bool) or not isinstance(value, int | float | str) or (
            isinstance(value, float) and not math.isfinite(value)):
        raise ExpressionError(f"a literal must be a number or text, not {value!r:.40}")
    return value
