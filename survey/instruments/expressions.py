"""The one parser of skip conditions (``relevant``) and constraints, for every screen.

Hand-written tokenizer and recursive-descent parser: user text from a form file is never
handed to ``eval``. Grammar, loosest binding first (forms/README.md documents it)::

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | comparison
    comparison := sum [ ("=" | "!=" | "<" | "<=" | ">" | ">=") sum
                      | ["not"] "in" "(" literal ("," literal)* ")" ]
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/") unary)*
    unary      := "-" NUMBER | "-" unary | primary
    primary    := NUMBER | STRING | "${" code "}" | "." | NAME "(" [expr ("," expr)*] ")"
                | "(" expr ")"

Limits (length, nesting depth, number size) keep evaluation safe in Python and exact in
JavaScript; every failure is an :class:`ExpressionError` naming the column.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from survey.instruments.expr_nodes import (
    COMPARISONS,
    FUNCTIONS,
    Binary,
    Call,
    Current,
    Expr,
    ExpressionError,
    In,
    Literal,
    Ref,
    Scalar,
    Unary,
    from_json,
)

__all__ = ["Expr", "ExpressionError", "from_json", "parse"]

MAX_LENGTH = 2000
MAX_DEPTH = 40
MAX_INTEGER = 2**53  # larger integers are not exact in JavaScript

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<ref>\$\{\s*(?P<code>[A-Za-z_][A-Za-z0-9_]*)\s*\})
      | (?P<number>\d+(?:\.\d+)?(?![A-Za-z0-9_.]))
      | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op><=|>=|!=|[=<>+\-*/(),.])
    """,
    re.VERBOSE | re.DOTALL,
)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
KEYWORDS = ("and", "or", "not", "in")


@dataclass(frozen=True)
class Token:
    kind: str  # ref, number, string, name, keyword, op, end
    text: str
    column: int  # 1-based
    value: Any = None


def tokenize(text: str) -> list[Token]:
    """Split the text into tokens; an unknown character is an error at its column."""
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            snippet = text[position:position + 10]
            raise ExpressionError(f"unexpected text {snippet!r} at column {position + 1}")
        kind = match.lastgroup or ""
        column, raw = position + 1, match.group(0)
        position = match.end()
        if kind == "space":
            continue
        if kind == "ref":
            tokens.append(Token("ref", raw, column, match.group("code")))
        elif kind == "number":
            tokens.append(Token("number", raw, column, _number(raw, column)))
        elif kind == "string":
            unquoted = _ESCAPE.sub(lambda m: m.group(1), raw[1:-1])
            tokens.append(Token("string", raw, column, unquoted))
        elif kind == "name":
            tokens.append(Token("keyword" if raw in KEYWORDS else "name", raw, column, raw))
        else:
            tokens.append(Token("op", raw, column, raw))
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


def _number(raw: str, column: int) -> int | float:
    if "." in raw:
        value = float(raw)
        if not math.isfinite(value):
            raise ExpressionError(f"number {raw[:20]}... too large at column {column}")
        return value
    if len(raw) > 16 or int(raw) > MAX_INTEGER:
        raise ExpressionError(f"integer {raw[:20]} too large at column {column}")
    return int(raw)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0
        self.nesting = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at(self, *texts: str) -> bool:
        return self.token.kind in ("op", "keyword") and self.token.text in texts

    def expect(self, text: str) -> Token:
        if not self.at(text):
            raise self.error(f"expected {text!r}")
        return self.advance()

    def error(self, problem: str) -> ExpressionError:
        token = self.token
        found = "end of text" if token.kind == "end" else repr(token.text)
        return ExpressionError(f"{problem} but found {found} at column {token.column}")

    def node(self, expr: Expr) -> Expr:
        if expr.depth > MAX_DEPTH:
            raise ExpressionError(f"expression nested deeper than {MAX_DEPTH} levels")
        return expr

    def parse(self) -> Expr:
        expr = self.expression()
        if self.token.kind != "end":
            raise self.error("expected an operator or the end of the expression")
        return expr

    def expression(self) -> Expr:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise ExpressionError(f"expression nested deeper than {MAX_DEPTH} levels")
        expr = self.and_expr()
        while self.at("or"):
            self.advance()
            expr = self.node(Binary("or", expr, self.and_expr()))
        self.nesting -= 1
        return expr

    def and_expr(self) -> Expr:
        expr = self.not_expr()
        while self.at("and"):
            self.advance()
            expr = self.node(Binary("and", expr, self.not_expr()))
        return expr

    def not_expr(self) -> Expr:
        if self.at("not"):
            self.advance()
            self.nesting += 1
            if self.nesting > MAX_DEPTH:
                raise ExpressionError(f"expression nested deeper than {MAX_DEPTH} levels")
            expr = self.node(Unary("not", self.not_expr()))
            self.nesting -= 1
            return expr
        return self.comparison()

    def comparison(self) -> Expr:
        left = self.sum()
        if self.at(*COMPARISONS):
            op = self.advance().text
            expr = self.node(Binary(op, left, self.sum()))
        elif self.at("in") or (self.at("not") and self.tokens[self.index + 1].text == "in"):
            negated = self.advance().text == "not"
            if negated:
                self.advance()
            expr = self.node(In(left, self.literal_list(), negated))
        else:
            return left
        if self.at(*COMPARISONS, "in"):
            raise self.error("comparisons cannot be chained (join them with 'and')")
        return expr

    def literal_list(self) -> tuple[Scalar, ...]:
        self.expect("(")
        values = [self.literal()]
        while self.at(","):
            self.advance()
            values.append(self.literal())
        self.expect(")")
        return tuple(values)

    def literal(self) -> Scalar:
        negative = self.at("-")
        if negative:
            self.advance()
        token = self.token
        if token.kind == "number" or (token.kind == "string" and not negative):
            self.advance()
            return -token.value if negative else token.value
        raise self.error("expected a number or a quoted text in the list")

    def sum(self) -> Expr:
        expr = self.product()
        while self.at("+", "-"):
            op = self.advance().text
            expr = self.node(Binary(op, expr, self.product()))
        return expr

    def product(self) -> Expr:
        expr = self.unary()
        while self.at("*", "/"):
            op = self.advance().text
            expr = self.node(Binary(op, expr, self.unary()))
        return expr

    def unary(self) -> Expr:
        if not self.at("-"):
            return self.primary()
        self.advance()
        if self.token.kind == "number":
            return Literal(-self.advance().value)
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise ExpressionError(f"expression nested deeper than {MAX_DEPTH} levels")
        expr = self.node(Unary("-", self.unary()))
        self.nesting -= 1
        return expr

    def primary(self) -> Expr:
        token = self.token
        if token.kind in ("number", "string"):
            self.advance()
            return Literal(token.value)
        if token.kind == "ref":
            self.advance()
            return Ref(token.value)
        if self.at("."):
            self.advance()
            return Current()
        if self.at("("):
            self.advance()
            expr = self.expression()
            self.expect(")")
            return expr
        if token.kind == "name":
            return self.call()
        raise self.error("expected a value, ${code}, '.', a function or '('")

    def call(self) -> Expr:
        name_token = self.advance()
        name = name_token.text
        if name not in FUNCTIONS:
            known = ", ".join(FUNCTIONS)
            raise ExpressionError(
                f"unknown function {name!r} at column {name_token.column} (known: {known})")
        self.expect("(")
        args: list[Expr] = []
        if not self.at(")"):
            args.append(self.expression())
            while self.at(","):
                self.advance()
                args.append(self.expression())
        self.expect(")")
        if len(args) != FUNCTIONS[name]:
            raise ExpressionError(
                f"{name}() takes {FUNCTIONS[name]} argument(s), got {len(args)} "
                f"at column {name_token.column}")
        return self.node(Call(name, tuple(args)))


def parse(text: str) -> Expr:
    """Parse an expression; raise :class:`ExpressionError` (only that) when it is invalid."""
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    if not text.strip():
        raise ExpressionError("empty expression")
    return _Parser(text).parse()
