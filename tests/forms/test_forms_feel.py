"""The FEEL subset agrees with @bpmn-io/feelin (the browser's FEEL) and refuses what it cannot do."""

import json
from pathlib import Path

import pytest

from engine.forms.feel import FeelError, evaluate, parse, unary_test

GOLDEN = json.loads((Path(__file__).parent / "data" / "feelin.json").read_text())["cases"]


def _outcome(fn, expression, context):
    try:
        return {"value": fn(expression, context)}
    except FeelError:
        return {"error": True}


@pytest.mark.parametrize(
    "case", GOLDEN, ids=lambda case: f"{case['expression']} {json.dumps(case['context'])}"
)
def test_evaluate_matches_feelin_recording(case):
    assert _outcome(evaluate, case["expression"], case["context"]) == case["evaluate"]


@pytest.mark.parametrize(
    "case", GOLDEN, ids=lambda case: f"{case['expression']} {json.dumps(case['context'])}"
)
def test_unary_test_matches_feelin_recording(case):
    assert _outcome(unary_test, case["expression"], case["context"]) == case["unaryTest"]


@pytest.mark.parametrize(
    "source",
    [
        "a >",
        "(a",
        "a b",
        "count(xs)",
        'date("2020-01-01")',
        "a ? b",
        "'single'",
        "if a then b",
        "x[",
        "{a 1}",
        "",
    ],
)
def test_parse_rejects_syntax_outside_the_subset(source):
    with pytest.raises(FeelError):
        parse(source)


def test_leading_equals_sign_is_optional():
    assert evaluate("=1 + 2", {}) == evaluate("1 + 2", {}) == 3


def test_dotted_paths_and_row_variables_resolve():
    scope = {"this": {"duty": "pilot"}, "parent": {"limit": 3}, "i": [2], "_this_": {"duty": "pilot"}}
    assert evaluate('this.duty = "pilot" and parent.limit > i[1]', scope) is True
    assert evaluate("_this_.duty", scope) == "pilot"


def test_unary_test_counts_a_null_result_as_a_match_like_feelin():
    # feelin compares the expression's value with the (absent, so null) input value
    assert unary_test("=amount > 10", {}) is True
    assert unary_test("=amount > 10", {"amount": 5}) is False


def test_top_level_not_is_a_negated_unary_test():
    assert unary_test("=not(approved)", {}) is False
    assert unary_test("=not(approved)", {"approved": False}) is True
    assert evaluate("=not(approved)", {}) is None


def test_comparing_with_a_boolean_bound_is_an_error():
    with pytest.raises(FeelError):
        evaluate("x < true", {"x": 1})


def test_string_concatenation_and_if_then_else():
    assert (
        evaluate('if n > 1 then "many " + unit + "s" else "one " + unit', {"n": 2, "unit": "crate"})
        == "many crates"
    )


def test_list_and_context_literals_build_options():
    assert evaluate('[{label: "A", value: "a"}, "b"]', {}) == [{"label": "A", "value": "a"}, "b"]


def test_decimal_variables_behave_as_numbers():
    from decimal import Decimal

    assert evaluate("x + 0.5 > 1", {"x": Decimal("0.75")}) is True


def test_a_power_too_big_to_compute_exactly_is_null_not_a_frozen_server():
    """A designer's `10 ** 100000000` (in a form or a decision table) would take a process's CPU for
    minutes as an exact integer: beyond 4096 bits it is a float, and a float overflow is null."""
    assert evaluate("10 ** 100000000", {}) is None
    assert evaluate("base ** exponent", {"base": 7, "exponent": 10**9}) is None
    assert evaluate("2 ** 10", {}) == 1024 and evaluate("x ** 2", {"x": -3}) == 9
