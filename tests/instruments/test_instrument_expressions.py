"""The skip-condition / constraint language: parsing, evaluation, JSON, and its limits."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey.instruments.expr_nodes import Binary, Call, Current, In, Literal, Ref, Unary
from survey.instruments.expressions import MAX_DEPTH, ExpressionError, from_json, parse


def test_does_a_simple_skip_condition_read_earlier_answers() -> None:
    expr = parse("${s_procedure_12m} = 1")
    assert expr.holds({"s_procedure_12m": 1})
    assert not expr.holds({"s_procedure_12m": 2})
    assert expr.references == frozenset({"s_procedure_12m"})


def test_does_text_from_a_web_form_compare_equal_to_a_numeric_code() -> None:
    assert parse("${q} = 3").holds({"q": "3"})
    assert parse("${q} = '3'").holds({"q": 3})
    assert parse("${q} >= 10").holds({"q": "10"})  # numerically, not "10" < "9" as text


@pytest.mark.parametrize("text", ["${q} = 1", "${q} != 1", "${q} < 1", "${q} >= 1",
                                  "${q} in (1, 2)", "${q} not in (1, 2)", "selected(${q}, 1)",
                                  "${q} + 1 > 0", "-(${q}) < 0", ". = 1"])
def test_does_a_missing_answer_make_every_comparison_false(text: str) -> None:
    for missing in (None, "", "  ", [], float("nan")):
        assert parse(text).evaluate({"q": missing}, current=missing) is False
    assert parse(text).evaluate({}) is False


def test_is_not_of_a_missing_comparison_true_so_that_authors_can_use_answered() -> None:
    assert parse("not (${q} = 1)").holds({})
    assert parse("not answered(${q})").holds({"q": ""})
    assert parse("answered(${q})").holds({"q": 0})


def test_does_operator_precedence_follow_the_documented_grammar() -> None:
    assert parse("1 + 2 * 3 = 7").holds({})
    assert parse("(1 + 2) * 3 = 9").holds({})
    assert parse("10 - 4 - 3 = 3").holds({})  # left-associative
    assert parse("not ${a} = 1 and ${b} = 2") == Binary(
        "and", Unary("not", Binary("=", Ref("a"), Literal(1))), Binary("=", Ref("b"), Literal(2)))
    assert parse("${a} = 1 or ${b} = 1 and ${c} = 1") == Binary(
        "or", Binary("=", Ref("a"), Literal(1)),
        Binary("and", Binary("=", Ref("b"), Literal(1)), Binary("=", Ref("c"), Literal(1))))


def test_do_select_multiple_functions_work_on_lists_and_space_separated_text() -> None:
    for answer in ([1, 3], ["1", "3"], "1 3", (1, 3)):
        assert parse("selected(${f}, 3)").holds({"f": answer})
        assert not parse("selected(${f}, '2')").holds({"f": answer})
        assert parse("count_selected(${f}) = 2").holds({"f": answer})
    for answer in ([1, 3], ("1", "3")):  # 'in' reads a list; validation turns "1 3" into one
        assert parse("${f} in (3, 4)").holds({"f": answer})
        assert not parse("${f} not in (3, 4)").holds({"f": answer})
    assert parse("count_selected(${f}) = 0").holds({})


def test_does_dot_mean_the_current_value_in_a_constraint() -> None:
    expr = parse(". >= ${low} and . <= 20")
    assert expr.holds({"low": 1}, current="5")
    assert not expr.holds({"low": 6}, current=5)
    assert expr.uses_current and expr.references == frozenset({"low"})


def test_do_division_by_zero_and_type_mismatches_evaluate_quietly() -> None:
    assert parse("${a} / 0").evaluate({"a": 4}) is None
    assert parse("${a} / 2 = 2.5").holds({"a": 5})
    assert parse("${a} + 1").evaluate({"a": "abc"}) is None
    assert parse("${a} = 1").evaluate({"a": [1, 2]}) is False
    assert parse("${a} != 1").evaluate({"a": "x"}) is True
    assert parse("${d} >= '2024-01-01'").holds({"d": date(2024, 5, 1)})


def test_are_strings_with_quotes_and_escapes_read_back_exactly() -> None:
    assert parse(r"${t} = 'it\'s \\ ok'").holds({"t": "it's \\ ok"})
    assert parse('${t} = "Nữ"').holds({"t": "Nữ"})


@pytest.mark.parametrize(("text", "fragment"), [
    ("", "empty"),
    ("${a} = ", "column 8"),
    ("1 < 2 < 3", "chained"),
    ("foo(1)", "unknown function 'foo'"),
    ("selected(${a})", "takes 2 argument"),
    ("${a} = 1)", "column 9"),
    ("${a", "column 1"),
    ("1.2.3", "column 1"),
    ("${a} in ()", "expected a number"),
    ("${a} = 1 ; drop table", "column 10"),
    ("__import__('os')", "unknown function"),
    ("99999999999999999999", "too large"),
])
def test_does_bad_text_raise_an_expression_error_naming_the_place(text: str,
                                                                  fragment: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert fragment in str(caught.value)


@pytest.mark.parametrize("text", ["(" * 500 + "1" + ")" * 500, "not " * 300 + "1",
                                  "-" * 500 + "1", "1" + " + 1" * 400,
                                  "x" * 5000])
def test_is_deep_or_huge_text_refused_without_a_recursion_error(text: str) -> None:
    with pytest.raises(ExpressionError):
        parse(text)


def test_is_nesting_within_the_limit_accepted() -> None:
    depth = MAX_DEPTH - 5
    assert parse("(" * depth + "1" + ")" * depth).evaluate({}) == 1


def test_is_the_json_syntax_tree_the_documented_shape_for_the_javascript_evaluator() -> None:
    expr = parse("${a} = 1 and not selected(${f}, 'x') or . in (-1, 2.5)")
    assert expr.to_json() == {
        "node": "binary", "op": "or",
        "left": {"node": "binary", "op": "and",
                 "left": {"node": "binary", "op": "=", "left": {"node": "ref", "code": "a"},
                          "right": {"node": "literal", "value": 1}},
                 "right": {"node": "unary", "op": "not",
                           "operand": {"node": "call", "name": "selected",
                                       "args": [{"node": "ref", "code": "f"},
                                                {"node": "literal", "value": "x"}]}}},
        "right": {"node": "in", "operand": {"node": "current"}, "values": [-1, 2.5],
                  "negated": False},
    }
    assert from_json(json.loads(json.dumps(expr.to_json()))) == expr


@pytest.mark.parametrize("data", [None, {}, {"node": "eval", "code": "x"},
                                  {"node": "call", "name": "selected", "args": []},
                                  {"node": "literal", "value": [1]},
                                  {"node": "literal", "value": float("nan")},
                                  {"node": "ref", "code": "a b"},
                                  {"node": "binary", "op": "**", "left": {}, "right": {}}])
def test_is_malformed_json_refused_with_an_expression_error(data: object) -> None:
    with pytest.raises(ExpressionError):
        from_json(data)


# --- properties -------------------------------------------------------------------------

scalars = st.one_of(
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12),
    st.text(max_size=6),
)
leaves = st.one_of(
    st.from_regex(r"[a-z][a-z0-9_]{0,5}", fullmatch=True).map(Ref),
    st.just(Current()),
    scalars.map(Literal),
)


def _extend(children: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(
        st.builds(Unary, st.sampled_from(["not", "-"]), children),
        st.builds(Binary, st.sampled_from(["and", "or", "=", "!=", "<", "<=", ">", ">=",
                                           "+", "-", "*", "/"]), children, children),
        st.builds(In, children, st.lists(scalars, min_size=1, max_size=3).map(tuple),
                  st.booleans()),
        st.builds(Call, st.just("selected"), st.tuples(children, children)),
        st.builds(Call, st.sampled_from(["count_selected", "answered"]), st.tuples(children)),
    )


expressions = st.recursive(leaves, _extend, max_leaves=12)
answer_values = st.one_of(st.none(), st.integers(), st.floats(), st.text(max_size=4),
                          st.lists(st.one_of(st.integers(0, 5), st.text(max_size=2)),
                                   max_size=3),
                          st.dates(), st.booleans())
token_soup = st.lists(st.sampled_from([
    "${a}", "${b}", "(", ")", " and ", " or ", "not ", " in ", "=", "!=", "<", ">=", "1",
    "2.5", "'x'", '"y"', ".", ",", "-", "+", "*", "/", "selected(", "count_selected(",
    "answered(", " ", "$", "{", "}", "'", "\\",
]), max_size=25).map("".join)


@given(expressions)
def test_does_every_expression_survive_a_text_round_trip(expr) -> None:  # noqa: ANN001
    assert parse(str(expr)) == expr


@given(expressions)
def test_does_every_expression_survive_a_json_round_trip(expr) -> None:  # noqa: ANN001
    assert from_json(json.loads(json.dumps(expr.to_json()))) == expr


@given(st.one_of(st.text(max_size=60), token_soup))
def test_does_the_parser_raise_nothing_but_expression_error_on_random_text(text: str) -> None:
    try:
        expr = parse(text)
    except ExpressionError:
        return
    assert parse(str(expr)) == expr


@given(expressions, st.dictionaries(st.sampled_from(["a", "b", "q", "x"]), answer_values),
       answer_values)
def test_does_evaluation_never_raise_whatever_the_answers(expr, answers, current) -> None:  # noqa: ANN001
    expr.evaluate(answers, current=current)
    assert isinstance(expr.holds(answers, current=current), bool)
