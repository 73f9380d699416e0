"""Skip rules and constraints between SIPAS's notation and XLSForm's (XPath), both ways.

The two notations share most of their surface: ``${item} = 1``, ``. >= 18``,
``selected(${q}, 98)``, ``and``/``or``, arithmetic. Such text is carried as it is, so that
an author finds her own rule in the other tool. The rest differs in spelling or meaning:

* SIPAS ``/``, ``count_selected()``, ``answered()``, ``x in (…)`` and ``not x`` are XPath
  ``div``, ``count-selected()``, ``string-length(x) > 0``, a chain of ``selected()`` and
  ``not(x)``;
* a missing answer makes every SIPAS comparison false, ``!=`` included, while in XPath a
  blank answer is ``''`` and ``'' != 1`` is true. So SIPAS ``${a} != 1`` is written
  ``${a} != 1 and string-length(${a}) > 0``, and XPath ``${a} != 1`` is read
  ``not (${a} = 1)``; ``${a} != ''`` is ``answered(${a})``.

What SIPAS cannot say (``pulldata()``, ``if()``, ``today()``, paths such as ``/data/x``,
``mod``, answers inside a repeat, …) raises :class:`XPathError` naming the construct.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from survey.instruments.expr_nodes import (
    COMPARISONS,
    Binary,
    Call,
    Current,
    Expr,
    In,
    Literal,
    Ref,
    Unary,
)
from survey.instruments.expressions import (
    MAX_DEPTH,
    MAX_LENGTH,
    ExpressionError,
    Token,
    parse,
    tokenize,
)


class XPathError(ValueError):
    """An XLSForm expression that SIPAS's language cannot carry; names the construct."""


# --- SIPAS -> XPath ------------------------------------------------------------------------

def to_xpath(text: str) -> str:
    """The XPath that ODK evaluates as SIPAS evaluates ``text``.

    :class:`ExpressionError` when ``text`` is not a SIPAS expression.
    """
    expr = parse(text)
    return text if _reads_alike(tokenize(text)) else _render(expr)


def _reads_alike(tokens: list[Token]) -> bool:
    """Do XPath and SIPAS read these tokens the same way (so the text can be kept)?"""
    for index, token in enumerate(tokens):
        if token.kind == "string" and ("\\" in token.text or not token.value):
            return False  # XPath strings have no escapes, and '' is an answer there
        if token.kind == "name" and token.text != "selected":
            return False
        if token.kind == "keyword" and token.text == "in":
            return False
        if token.kind == "op" and token.text in ("/", "!="):
            return False
        if token.kind == "keyword" and token.text == "not" and not _not_is_call(tokens, index):
            return False
    return True


def _not_is_call(tokens: list[Token], index: int) -> bool:
    """Is ``not`` followed by one parenthesised operand that ends its condition?

    SIPAS ``not (a) = 1`` negates the comparison; XPath compares ``not(a)`` with 1.
    """
    if tokens[index + 1].text != "(":
        return False
    depth = 0
    for position in range(index + 1, len(tokens)):
        depth += {"(": 1, ")": -1}.get(tokens[position].text, 0) \
            if tokens[position].kind == "op" else 0
        if depth == 0:
            after = tokens[position + 1]
            return after.kind == "end" or after.text in (")", ",", "and", "or")
    return False


def _render(node: Expr) -> str:
    if isinstance(node, Ref):
        return "${" + node.code + "}"
    if isinstance(node, Current):
        return "."
    if isinstance(node, Literal):
        return xpath_literal(node.value)
    if isinstance(node, Unary):
        if node.op == "not":
            return f"not({_render(node.operand)})"
        return f"-{_part(node.operand)}"
    if isinstance(node, Binary):
        if node.op in COMPARISONS and "" in (_value(node.left), _value(node.right)):
            return "false()"  # SIPAS: a comparison with nothing is false, '' = '' included
        if node.op == "!=":
            return _not_equal(node)
        op = "div" if node.op == "/" else node.op
        return f"{_part(node.left)} {op} {_part(node.right)}"
    if isinstance(node, In):
        return _in(node)
    assert isinstance(node, Call)
    args = [_render(arg) for arg in node.args]
    if node.name == "answered":
        return f"string-length({args[0]}) > 0"
    name = "count-selected" if node.name == "count_selected" else node.name
    return f"{name}({', '.join(args)})"


def _value(node: Expr) -> object:
    return node.value if isinstance(node, Literal) else None


def _part(node: Expr) -> str:
    """An operand, in parentheses unless it is a single value or a function call."""
    atomic = isinstance(node, Ref | Current | Literal) or (
        isinstance(node, Call) and node.name != "answered")
    return _render(node) if atomic else f"({_render(node)})"


def _answered_guards(node: Expr) -> list[str]:
    return [f"string-length(${{{code}}}) > 0" for code in sorted(node.references)]


def _not_equal(node: Binary) -> str:
    test = f"{_part(node.left)} != {_part(node.right)}"
    return " and ".join([test, *_answered_guards(node)])


def _in(node: In) -> str:
    operand = _part(node.operand)
    if isinstance(node.operand, Ref):  # selected() reads a select_one and a select_multiple
        tests = [f"selected({operand}, {xpath_literal(v)})" for v in node.values]
    else:
        tests = [f"{operand} = {xpath_literal(v)}" for v in node.values]
    chain = " or ".join(tests)
    if not node.negated:
        return chain
    return " and ".join([*_answered_guards(node), f"not({chain})"])


def xpath_literal(value: int | float | str) -> str:
    """An XPath literal; text with both quote marks becomes ``concat()``."""
    if not isinstance(value, str):
        return str(Literal(value))
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    return "concat(" + ", \"'\", ".join(f"'{part}'" for part in value.split("'")) + ")"


# --- XPath -> SIPAS ------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<ref>\$\{(?P<code>[^}]*)\})
      | (?P<number>\d+(?:\.\d*)?|\.\d+)
      | (?P<string>'[^']*'|"[^"]*")
      | (?P<name>[A-Za-z_][A-Za-z0-9_.\-]*(?::[A-Za-z_][A-Za-z0-9_.\-]*)?)
      | (?P<op>\.\.|//|<=|>=|!=|[=<>+\-*/(),.|\[\]@])
    """, re.VERBOSE)
PATHS = ("/", "//", "..", "|", "[", "]", "@")
FUNCTIONS = {"selected": 2, "count-selected": 1, "not": 1, "string-length": 1,
             "true": 0, "false": 0}


@dataclass(frozen=True)
class XToken:
    kind: str  # ref, number, string, name, op, end
    text: str


def xpath_tokens(text: str) -> list[XToken]:
    """XPath tokens of an XLSForm cell; text that is no XPath at all is an error."""
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise XPathError(f"unexpected text {text[position:position + 10]!r}")
        position = match.end()
        if match.lastgroup != "space":
            tokens.append(XToken(match.lastgroup or "", match.group(0)))
    tokens.append(XToken("end", ""))
    return tokens


def referenced(text: str) -> set[str]:
    """The question names that an XLSForm expression reads through ``${name}``."""
    return {t.text[2:-1].strip() for t in xpath_tokens(text) if t.kind == "ref"}


@dataclass(frozen=True)
class _Length(Expr):
    """``string-length(x)``: carried only inside ``> 0`` / ``= 0``, as ``answered(x)``."""

    operand: Expr = Current()


class _XPathParser:
    """Recursive descent over XPath's precedence: or, and, = !=, < <= > >=, + -, * div."""

    def __init__(self, text: str, in_repeat: Collection[str]) -> None:
        self.tokens = xpath_tokens(text)
        self.index = 0
        self.in_repeat = in_repeat
        self.depth = 0

    @property
    def token(self) -> XToken:
        return self.tokens[self.index]

    def take(self, *texts: str) -> str | None:
        if self.token.kind in ("op", "name") and self.token.text in texts:
            self.index += 1
            return self.tokens[self.index - 1].text
        return None

    def expect(self, text: str) -> None:
        if self.take(text) is None:
            found = self.token.text or "the end"
            raise XPathError(f"expected {text!r} but found {found!r}")

    def parse(self) -> Expr:
        expr = self.chain(("or",), self.and_expr)
        if self.token.kind != "end":
            raise XPathError(f"unexpected {self.token.text!r}")
        return expr

    def chain(self, ops: tuple[str, ...], operand: Callable[[], Expr]) -> Expr:
        expr = operand()
        while (op := self.take(*ops)) is not None:
            expr = Binary({"div": "/"}.get(op, op), expr, operand())
        return expr

    def and_expr(self) -> Expr:
        return self.chain(("and",), self.equality)

    def equality(self) -> Expr:
        expr = self.relational()
        while (op := self.take("=", "!=")) is not None:
            expr = _equality(op, expr, self.relational())
        return expr

    def relational(self) -> Expr:
        expr = self.chain(("+", "-"), self.product)
        while (op := self.take("<", "<=", ">", ">=")) is not None:
            expr = _compared(op, expr, self.chain(("+", "-"), self.product))
        return expr

    def product(self) -> Expr:
        expr = self.chain(("*", "div"), self.unary)
        if self.token.kind == "name" and self.token.text == "mod":
            raise XPathError("'mod' cannot be carried into SIPAS (it has + - * / only)")
        return expr

    def unary(self) -> Expr:
        """Every nesting passes here, so the depth is counted here (no stack overflow)."""
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise XPathError(f"nested deeper than {MAX_DEPTH} levels")
        try:
            if self.take("-") is None:
                return self.primary()
            operand = self.unary()
            if isinstance(operand, Literal) and not isinstance(operand.value, str):
                return Literal(-operand.value)
            return Unary("-", operand)
        finally:
            self.depth -= 1

    def primary(self) -> Expr:
        token = self.token
        self.index += 1
        if token.kind == "ref":
            return self.ref(token.text[2:-1].strip())
        if token.kind == "number":
            text = token.text if not token.text.startswith(".") else "0" + token.text
            return Literal(float(text) if "." in text else int(text))
        if token.kind == "string":
            return Literal(token.text[1:-1])
        if token.kind == "op" and token.text == "(":
            expr = self.chain(("or",), self.and_expr)
            self.expect(")")
            return expr
        if token.kind == "op" and token.text == ".":
            return Current()
        if token.kind == "op" and token.text in PATHS:
            raise XPathError(f"the XPath path or operator {token.text!r} cannot be carried "
                             "into SIPAS; refer to a question as ${name}")
        if token.kind == "name":
            return self.call(token.text)
        raise XPathError(f"unexpected {token.text or 'end of text'!r}")

    def ref(self, code: str) -> Expr:
        if code in self.in_repeat:
            raise XPathError(f"${{{code}}} is inside a repeat, which SIPAS cannot carry")
        return Ref(code)

    def call(self, name: str) -> Expr:
        if self.token.text != "(":
            raise XPathError(f"the path {name!r} cannot be carried into SIPAS; refer to a "
                             f"question as ${{{name}}}")
        if name not in FUNCTIONS:
            raise XPathError(f"{name}() cannot be carried into SIPAS (it has only "
                             "selected(), count-selected(), not() and string-length(x) > 0)")
        self.expect("(")
        args: list[Expr] = []
        if self.take(")") is None:
            args.append(self.chain(("or",), self.and_expr))
            while self.take(",") is not None:
                args.append(self.chain(("or",), self.and_expr))
            self.expect(")")
        if len(args) != FUNCTIONS[name]:
            raise XPathError(f"{name}() takes {FUNCTIONS[name]} argument(s), not {len(args)}")
        if name in ("true", "false"):
            return Literal(1 if name == "true" else 0)
        if name == "not":
            return Unary("not", args[0])
        if name == "string-length":
            return _Length(args[0])
        return Call(name.replace("-", "_"), tuple(args))


def _is_blank(node: Expr) -> bool:
    return isinstance(node, Literal) and node.value == ""


def _equality(op: str, left: Expr, right: Expr) -> Expr:
    """``x != ''`` is answered(x); ``a != b`` is ``not (a = b)``: a blank answer is unequal."""
    if _is_blank(left) or _is_blank(right):
        other = right if _is_blank(left) else left
        answered = Call("answered", (other,))
        return answered if op == "!=" else Unary("not", answered)
    if isinstance(left, _Length) or isinstance(right, _Length):
        return _compared(op, left, right)
    return Binary("=", left, right) if op == "=" else Unary("not", Binary("=", left, right))


_ANSWERED = {(">", 0), ("!=", 0), (">=", 1)}
_UNANSWERED = {("=", 0), ("<", 1), ("<=", 0)}
_MIRRORED = {"<": ">", ">": "<", "<=": ">=", ">=": "<=", "=": "=", "!=": "!="}


def _compared(op: str, left: Expr, right: Expr) -> Expr:
    if isinstance(right, _Length) and not isinstance(left, _Length):
        op, left, right = _MIRRORED[op], right, left
    if not isinstance(left, _Length):
        return Binary(op, left, right)
    value = right.value if isinstance(right, Literal) else None
    if (op, value) in _ANSWERED:
        return Call("answered", (left.operand,))
    if (op, value) in _UNANSWERED:
        return Unary("not", Call("answered", (left.operand,)))
    raise XPathError("string-length() can be carried only as string-length(x) > 0 or = 0 "
                     "(answered or not)")


def from_xpath(text: str, in_repeat: Collection[str] = ()) -> str:
    """SIPAS text for an XLSForm expression, or :class:`XPathError` naming what it lacks."""
    expr = _XPathParser(text, in_repeat).parse()
    if any(isinstance(node, _Length) for node in _walk(expr)):
        raise XPathError("string-length() can be carried only as string-length(x) > 0 or "
                         "= 0 (answered or not)")
    result = str(expr)
    try:
        parse(result)
    except ExpressionError as exc:
        raise XPathError(f"cannot be read as a SIPAS expression: {exc}") from None
    return result


def _walk(expr: Expr) -> list[Expr]:
    nodes = [expr]
    for child in (expr.operand,) if isinstance(expr, _Length) else expr.children:
        nodes.extend(_walk(child))
    return nodes


def carried_expression(cell: str, sipas_text: str | None,
                       in_repeat: Collection[str] = ()) -> str:
    """The SIPAS expression of an XLSForm cell.

    A ``sipas::`` column (the export's own text) wins while the cell still says what the
    export wrote from it; an edited cell is translated, so an edit in Excel is never lost.
    A cell that reads the same in both notations is kept as it is.
    """
    if len(cell) > MAX_LENGTH:
        raise XPathError(f"longer than {MAX_LENGTH} characters")
    inside = referenced(cell) & set(in_repeat)
    if inside:
        raise XPathError(f"${{{sorted(inside)[0]}}} is inside a repeat, which SIPAS cannot "
                         "carry")
    for candidate in (sipas_text, cell):
        if candidate and _writes_as(candidate, cell):
            return candidate
    return from_xpath(cell, in_repeat)


def _writes_as(sipas_text: str, cell: str) -> bool:
    try:
        return to_xpath(sipas_text).strip() == cell.strip()
    except ExpressionError:
        return False
