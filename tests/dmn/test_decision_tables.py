"""Decision tables on their own: every hit policy and aggregation, every result mapping, the FEEL of
cells, and the problems a broken table is refused with (file, line, element id). Evaluation goes
through the BPMN sandbox, as in a running process."""

import pytest

from engine.bpmn.sandbox import SandboxedEnvironment, SandboxLimits, ScriptLimitError
from engine.dmn import DecisionError, ResultMappingError, evaluate_decision, map_result, parse_dmn
from tests.dmn.tables import table_xml

SANDBOX = SandboxedEnvironment()


def decide(xml: bytes, variables: dict, sandbox: SandboxedEnvironment = SANDBOX):
    decisions, problems = parse_dmn("table.dmn", xml)
    assert problems == []
    return evaluate_decision(decisions[0].decision, variables, sandbox.evaluate)


def problems_of(xml: bytes) -> list[tuple[str, int | None, str | None]]:
    decisions, problems = parse_dmn("table.dmn", xml)
    assert decisions == []
    return [(p.message, p.line, p.element_id) for p in problems]


SIZES = [(["< 10"], ['"small"']), (["[10..100]"], ['"medium"']), (["> 100"], ['"large"'])]
OVERLAPPING = [(["> 0"], ['"positive"']), (["> 10"], ['"big"']), (["-"], ['"anything"'])]


# --- hit policies -----------------------------------------------------------------------------


def test_unique_gives_the_one_matching_rule() -> None:
    result = decide(table_xml(SIZES), {"amount": 50})
    assert result.results == [{"result": "medium"}]
    assert [(m.rule_id, m.index) for m in result.matched] == [("Rule_2", 2)]
    assert result.inputs == {"amount": 50}


@pytest.mark.parametrize(
    ("amount", "message"),
    [(-5, "no rule matches"), (None, "no rule matches"), (5, "rules 1, 3 all match")],
)
def test_unique_with_no_match_or_several_is_an_error_showing_the_inputs(amount, message) -> None:
    rules = [(["[0..10)"], ['"small"']), (["[10..100]"], ['"medium"']), (["[3..6)"], ['"tiny"'])]
    with pytest.raises(DecisionError) as caught:
        decide(table_xml(rules), {"amount": amount})
    assert message in str(caught.value)
    assert f"amount = {amount!r}" in str(caught.value)
    assert caught.value.inputs == {"amount": amount}


def test_first_takes_the_first_matching_rule_in_table_order() -> None:
    result = decide(table_xml(OVERLAPPING, hit_policy="FIRST"), {"amount": 50})
    assert result.results == [{"result": "positive"}]
    assert decide(table_xml(OVERLAPPING, hit_policy="FIRST"), {"amount": -1}).results == [
        {"result": "anything"}
    ]


def test_rule_order_and_collect_give_every_match_in_table_order() -> None:
    for policy in ("RULE ORDER", "COLLECT"):
        result = decide(table_xml(OVERLAPPING, hit_policy=policy), {"amount": 50})
        assert result.results == [{"result": "positive"}, {"result": "big"}, {"result": "anything"}]
        assert [m.index for m in result.matched] == [1, 2, 3]


def test_priority_takes_the_match_whose_output_ranks_first_in_the_output_values() -> None:
    rules = [(["> 0"], ['"low"']), (["> 10"], ['"high"']), (["> 5"], ['"medium"'])]
    xml = table_xml(rules, hit_policy="PRIORITY", output_values={"result": '"high","medium","low"'})
    assert decide(xml, {"amount": 50}).results == [{"result": "high"}]
    assert decide(xml, {"amount": 7}).results == [{"result": "medium"}]
    assert decide(xml, {"amount": 1}).results == [{"result": "low"}]


def test_output_order_gives_every_match_sorted_by_output_value_priority() -> None:
    rules = [(["> 0"], ['"low"']), (["> 10"], ['"high"']), (["> 5"], ['"medium"'])]
    xml = table_xml(rules, hit_policy="OUTPUT ORDER", output_values={"result": '"high","medium","low"'})
    result = decide(xml, {"amount": 50})
    assert result.results == [{"result": "high"}, {"result": "medium"}, {"result": "low"}]
    assert [m.index for m in result.matched] == [2, 3, 1]


def test_any_accepts_several_matches_that_agree_and_refuses_ones_that_do_not() -> None:
    agreeing = [(["> 0"], ['"ok"']), (["> 10"], ['"ok"'])]
    assert decide(table_xml(agreeing, hit_policy="ANY"), {"amount": 50}).results == [{"result": "ok"}]
    with pytest.raises(DecisionError, match="different outputs"):
        decide(table_xml(OVERLAPPING, hit_policy="ANY"), {"amount": 50})


@pytest.mark.parametrize(("aggregation", "expected"), [("SUM", 60), ("MIN", 10), ("MAX", 30), ("COUNT", 3)])
def test_collect_aggregates_the_outputs_of_every_match(aggregation: str, expected: int) -> None:
    rules = [(["> 0"], ["10"]), (["> 10"], ["20"]), (["> 20"], ["30"]), (["> 100"], ["1000"])]
    xml = table_xml(rules, hit_policy="COLLECT", aggregation=aggregation, outputs=["points"])
    result = decide(xml, {"amount": 50})
    assert result.results == [{"points": expected}]
    assert [m.index for m in result.matched] == [1, 2, 3]


def test_collect_count_of_nothing_is_zero_and_sum_of_nothing_is_null() -> None:
    rules = [(["> 100"], ["1"])]
    assert decide(table_xml(rules, hit_policy="COLLECT", aggregation="COUNT"), {"amount": 1}).results == [
        {"result": 0}
    ]
    assert decide(table_xml(rules, hit_policy="COLLECT", aggregation="SUM"), {"amount": 1}).results == [
        {"result": None}
    ]


# --- result mappings --------------------------------------------------------------------------

TWO_OUTPUTS = table_xml(
    [(["> 0"], ['"positive"', "1"]), (["> 10"], ['"big"', "2"])],
    outputs=["label", "rank"],
    hit_policy="RULE ORDER",
)


def test_result_list_keeps_every_result_with_every_output() -> None:
    result = decide(TWO_OUTPUTS, {"amount": 50})
    assert map_result(result, "resultList") == [{"label": "positive", "rank": 1}, {"label": "big", "rank": 2}]


def test_single_result_is_the_one_result_with_all_its_outputs_or_null() -> None:
    assert map_result(decide(TWO_OUTPUTS, {"amount": 5}), "singleResult") == {"label": "positive", "rank": 1}
    assert map_result(decide(TWO_OUTPUTS, {"amount": -5}), "singleResult") is None
    with pytest.raises(ResultMappingError, match="at most one result"):
        map_result(decide(TWO_OUTPUTS, {"amount": 50}), "singleResult")


def test_single_entry_is_the_value_of_a_one_output_result() -> None:
    assert map_result(decide(table_xml(SIZES), {"amount": 500}), "singleEntry") == "large"
    with pytest.raises(ResultMappingError, match="exactly one output"):
        map_result(decide(TWO_OUTPUTS, {"amount": 5}), "singleEntry")


def test_collect_entries_lists_the_one_output_of_every_result() -> None:
    result = decide(table_xml(OVERLAPPING, hit_policy="COLLECT"), {"amount": 50})
    assert map_result(result, "collectEntries") == ["positive", "big", "anything"]
    with pytest.raises(ResultMappingError):
        map_result(decide(TWO_OUTPUTS, {"amount": 50}), "collectEntries")


# --- FEEL in cells ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "matching", "not_matching"),
    [
        ("-", [1, None, "x"], []),
        ('"gold","silver"', ["gold", "silver"], ["bronze", None]),
        ('not("gold")', ["silver", None], ["gold"]),
        ("[1..5]", [1, 3, 5], [0, 6, None]),
        ("(1..5)", [2, 4], [1, 5]),
        ("]1..5[", [2], [1, 5]),
        ("<= 3", [3, -1], [4, None]),
        ("!= 3", [4, None], [3]),
        ("null", [None], [0]),
        ("? > 2 and ? < 5", [3, 4], [2, 5]),
        ("< limit * 2", [5], [6]),
        ("[1, 2]", [1, 2], [3]),
        ('>= date("2026-01-01")', ["2026-01-01", "2026-07-15"], ["2025-12-31"]),
    ],
)
def test_unary_tests_of_input_entries(entry: str, matching: list, not_matching: list) -> None:
    type_ref = "date" if "date(" in entry else None
    xml = table_xml([([entry], ["true"])], inputs=[("value", type_ref)], hit_policy="COLLECT")
    for value in matching:
        assert decide(xml, {"value": value, "limit": 3}).results == [{"result": True}], value
    for value in not_matching:
        assert decide(xml, {"value": value, "limit": 3}).results == [], value


def test_input_and_output_expressions_are_feel_over_process_data() -> None:
    xml = table_xml(
        [(["> 1000"], ['"review: " + customer.name', "order.total * 0.1"]), (["-"], ['"auto"', "0"])],
        inputs=[("order.total", "double")],
        outputs=["route", "discount"],
        hit_policy="FIRST",
    )
    data = {"order": {"total": 2000}, "customer": {"name": "ACME"}}
    assert decide(xml, data).results == [{"route": "review: ACME", "discount": 200.0}]
    assert decide(xml, {"order": None}).results == [{"route": "auto", "discount": 0}]


def test_a_date_input_compares_with_date_literals_and_a_duration_literal_is_a_value() -> None:
    xml = table_xml(
        [(['< date("2026-06-01")'], ['duration("P2D")']), (["-"], ['duration("PT12H")'])],
        inputs=[("due", "date")],
        outputs=["grace"],
        hit_policy="FIRST",
    )
    assert str(decide(xml, {"due": "2026-05-31"}).results[0]["grace"]) == "2 days, 0:00:00"
    assert str(decide(xml, {"due": "2026-06-01T08:00:00Z"}).results[0]["grace"]) == "12:00:00"


def test_evaluation_obeys_the_sandbox_limits() -> None:
    xml = table_xml([(["-"], ["base ** 999999"])], inputs=[("base", None)], hit_policy="FIRST")
    with pytest.raises(ScriptLimitError):
        decide(xml, {"base": 7}, SandboxedEnvironment(SandboxLimits(max_power_result_bits=4096)))


# --- problems at deploy -----------------------------------------------------------------------


def test_an_unknown_hit_policy_is_located() -> None:
    found = problems_of(table_xml(SIZES, hit_policy="MOSTLY"))
    assert len(found) == 1
    message, line, element_id = found[0]
    assert "unknown hit policy 'MOSTLY'" in message and line == 4 and element_id == "DecisionTable_decision"


def test_cells_that_do_not_parse_are_located_at_their_entry() -> None:
    xml = table_xml([(["< < 3"], ['"ok"']), (["> 1"], ['"unclosed'])], inputs=[("amount +", None)])
    found = problems_of(xml)
    assert [(m.split(" ")[0:2], e) for m, _, e in found] == [
        (["input", "expression"], "Input_1"),
        (["input", "entry"], "UnaryTests_1_1"),
        (["output", "entry"], "LiteralExpression_2_1"),
    ]
    lines = xml.decode().splitlines()
    assert all(element_id in lines[line - 1] for _, line, element_id in found)


def test_a_table_that_is_not_a_table_is_refused() -> None:
    assert problems_of(b"<definitions/>")[0][0].startswith("not a DMN file")
    assert "XML syntax error" in problems_of(b"<definitions")[0][0]
    assert "aggregation needs the COLLECT" in problems_of(table_xml(SIZES, aggregation="SUM"))[0][0]
    mismatched = table_xml([(["1", "2"], ['"x"'])])
    assert "rule 1 has 2 input and 1 output entries" in problems_of(mismatched)[0][0]
    assert "ranks rules by output values" in problems_of(table_xml(SIZES, hit_policy="PRIORITY"))[0][0]
    dunder = table_xml([(["-"], ["__class__"])])
    assert "__class__" in problems_of(dunder)[0][0]
