"""check_form: the deploy gate catches each problem form-js would hide or mis-handle."""

import pytest

from engine.forms import FormProblem, check_form


def form(*components, **top):
    return {"id": "Form_test", "type": "default", "components": list(components), **top}


def text(key, cid=None, **props):
    return {"type": "textfield", "id": cid or f"f_{key}", "key": key, **props}


def problems_at(schema):
    return [(problem.path, problem.component_id) for problem in check_form(schema)]


def test_a_clean_form_has_no_problems():
    schema = form(
        {"type": "text", "id": "intro", "text": "# Hi"},
        text("title", validate={"required": True, "pattern": "^[A-Z]", "maxLength": 80}),
        {
            "type": "number",
            "id": "f_n",
            "key": "n",
            "decimalDigits": 2,
            "increment": "0.5",
            "validate": {"min": 0, "max": "=limit"},
        },
        {"type": "select", "id": "f_s", "key": "s", "values": [{"label": "A", "value": "a"}]},
        {"type": "radio", "id": "f_r", "key": "r", "valuesKey": "choices"},
        {"type": "checklist", "id": "f_c", "key": "c", "valuesExpression": "=[1, 2]"},
        {"type": "group", "id": "g", "path": "goal", "components": [text("target")]},
        {"type": "group", "id": "g2", "components": [text("flat")]},
        {
            "type": "dynamiclist",
            "id": "d",
            "path": "crew",
            "components": [
                text("name", cid="f_crew_name", conditional={"hide": '=this.role = "x"'}, readonly="=locked")
            ],
        },
        {"type": "expression", "id": "f_e", "key": "e", "expression": "=n * 2"},
        {"type": "datetime", "id": "f_d", "key": "d", "subtype": "time"},
    )
    assert check_form(schema) == []


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        ([], ""),
        (form(type="form"), "type"),
        ({"type": "default", "components": []}, "id"),
        (form(id=""), "id"),
        ({"id": "F", "type": "default"}, "components"),
        (form("textfield"), "components[0]"),
    ],
)
def test_form_shape_problems(schema, path):
    assert path in [problem.path for problem in check_form(schema)]


def test_component_needs_an_explicit_unique_id():
    assert problems_at(form({"type": "textfield", "key": "a"})) == [("components[0].id", None)]
    assert problems_at(form(text("a", cid="x"), text("b", cid="x"))) == [("components[1].id", "x")]
    assert problems_at(form(text("a", cid="Form_test"))) == [("components[0].id", "Form_test")]


def test_unknown_component_type():
    assert problems_at(form({"type": "slider", "id": "s", "key": "s"})) == [("components[0].type", "s")]


@pytest.mark.parametrize(
    "key",
    [None, "", "größe", "a..b", "a.", "a b", "items.0", "__proto__", "a.constructor", "prototype", "a-b"],
)
def test_input_keys_must_be_explicit_and_safe(key):
    component = {"type": "textfield", "id": "f"}
    if key is not None:
        component["key"] = key
    assert problems_at(form(component)) == [("components[0].key", "f")]


def test_duplicate_keys_collide():
    problems = check_form(form(text("a"), text("a", cid="f_a2")))
    assert problems == [FormProblem("components[1].key", "f_a2", "Binding path 'a' is already claimed.")]


def test_a_key_cannot_sit_next_to_a_key_below_it():
    assert problems_at(form(text("addr"), text("addr.street"))) == [("components[1].key", "f_addr.street")]
    assert problems_at(form(text("addr.street"), text("addr"))) == [("components[1].key", "f_addr")]


def test_group_path_collides_with_a_dotted_key_only_on_the_same_leaf():
    group = {"type": "group", "id": "g", "path": "addr", "components": [text("street", cid="f_inner")]}
    assert problems_at(form(text("addr.street"), group)) == [("components[1].components[0].key", "f_inner")]
    assert problems_at(form(text("addr.city"), group)) == []
    assert problems_at(form(text("addr"), group)) == [("components[1].path", "g")]


def test_dynamic_list_path_is_required_and_owned_by_the_list():
    rows = [text("name")]
    assert problems_at(form({"type": "dynamiclist", "id": "d", "components": rows})) == [
        ("components[0].path", "d")
    ]
    clash = form(
        text("crew.name", cid="f_outer"), {"type": "dynamiclist", "id": "d", "path": "crew", "components": []}
    )
    assert problems_at(clash) == [("components[1].path", "d")]
    twice = form(
        {"type": "dynamiclist", "id": "d1", "path": "crew", "components": []},
        {"type": "dynamiclist", "id": "d2", "path": "crew", "components": []},
    )
    assert problems_at(twice) == [("components[1].path", "d2")]
    not_repeating = form(
        {"type": "dynamiclist", "id": "d", "path": "crew", "isRepeating": False, "components": []}
    )
    assert problems_at(not_repeating) == [("components[0].isRepeating", "d")]


def test_same_keys_in_different_rows_and_groups_do_not_collide():
    schema = form(
        text("name"),
        {"type": "dynamiclist", "id": "d", "path": "crew", "components": [text("name", cid="f_row_name")]},
    )
    assert check_form(schema) == []


@pytest.mark.parametrize(
    "options",
    [{}, {"values": ["a"], "valuesKey": "k"}, {"valuesKey": "k", "valuesExpression": "=k"}],
)
def test_options_need_exactly_one_source(options):
    assert problems_at(form({"type": "select", "id": "s", "key": "s", **options})) == [("components[0]", "s")]


def test_option_sources_are_checked():
    assert problems_at(form({"type": "radio", "id": "r", "key": "r", "values": "a,b"})) == [
        ("components[0].values", "r")
    ]
    assert problems_at(
        form({"type": "radio", "id": "r", "key": "r", "values": [{"label": "No value"}, "ok"]})
    ) == [("components[0].values[0]", "r")]
    assert problems_at(form({"type": "radio", "id": "r", "key": "r", "valuesKey": "lists.owners"})) == [
        ("components[0].valuesKey", "r")
    ]
    assert problems_at(form({"type": "radio", "id": "r", "key": "r", "valuesExpression": "=count(x)"})) == [
        ("components[0].valuesExpression", "r")
    ]


@pytest.mark.parametrize("pattern", ["[a-", "(?P<x>a)", "(?i)abc", "a*+", "(unclosed"])
def test_patterns_must_compile_as_javascript(pattern):
    assert problems_at(form(text("a", validate={"pattern": pattern}))) == [
        ("components[0].validate.pattern", "f_a")
    ]


@pytest.mark.parametrize("rule", ["min", "max"])
@pytest.mark.parametrize("value", ["5", True, [1], "=a >"])
def test_min_max_must_be_numbers_or_feel(rule, value):
    schema = form({"type": "number", "id": "n", "key": "n", "validate": {rule: value}})
    assert problems_at(schema) == [(f"components[0].validate.{rule}", "n")]


@pytest.mark.parametrize("rule", ["minLength", "maxLength"])
def test_lengths_must_be_numbers_or_feel(rule):
    assert problems_at(form(text("a", validate={rule: "10"}))) == [(f"components[0].validate.{rule}", "f_a")]
    assert check_form(form(text("a", validate={rule: "=limit"}))) == []


def test_rules_on_the_wrong_field_type_are_reported():
    schema = form(
        {"type": "number", "id": "n", "key": "n", "validate": {"pattern": "^1"}},
        {"type": "textarea", "id": "t", "key": "t", "validate": {"min": 1, "validationType": "email"}},
    )
    assert problems_at(schema) == [
        ("components[0].validate.pattern", "n"),
        ("components[1].validate.validationType", "t"),
        ("components[1].validate.min", "t"),
    ]


def test_other_validate_settings_are_checked():
    assert problems_at(form(text("a", validate={"required": "yes"}))) == [
        ("components[0].validate.required", "f_a")
    ]
    assert problems_at(form(text("a", validate={"validationType": "url"}))) == [
        ("components[0].validate.validationType", "f_a")
    ]
    assert problems_at(
        form({"type": "number", "id": "n", "key": "n", "decimalDigits": -1, "increment": "0"})
    ) == [("components[0].decimalDigits", "n"), ("components[0].increment", "n")]
    assert problems_at(form({"type": "datetime", "id": "d", "key": "d", "subtype": "week"})) == [
        ("components[0].subtype", "d")
    ]


@pytest.mark.parametrize(
    ("props", "where"),
    [
        ({"conditional": {"hide": "=a >"}}, "components[0].conditional.hide"),
        ({"conditional": {"hide": "a = 1"}}, "components[0].conditional.hide"),
        ({"conditional": {"hide": True}}, "components[0].conditional.hide"),
        ({"conditional": "=x"}, "components[0].conditional"),
        ({"readonly": "=is defined(x)"}, "components[0].readonly"),
        ({"readonly": "yes"}, "components[0].readonly"),
        ({"disabled": "=false"}, "components[0].disabled"),
    ],
)
def test_feel_strings_and_flags_are_checked(props, where):
    assert problems_at(form(text("a", **props))) == [(where, "f_a")]


def test_expression_field_needs_a_parsable_expression():
    assert problems_at(form({"type": "expression", "id": "e", "key": "e", "expression": "=sum(xs)"})) == [
        ("components[0].expression", "e")
    ]
    assert problems_at(form({"type": "expression", "id": "e", "key": "e"})) == [
        ("components[0].expression", "e")
    ]


def test_nested_problems_are_located_inside_their_container():
    schema = form(
        {
            "type": "group",
            "id": "g",
            "path": "goal",
            "components": [
                {
                    "type": "dynamiclist",
                    "id": "d",
                    "path": "steps",
                    "components": [text("x", validate={"pattern": "("})],
                },
            ],
        }
    )
    assert check_form(schema) == [
        FormProblem(
            "components[0].components[0].components[0].validate.pattern",
            "f_x",
            "pattern is not a valid JavaScript regex: missing ), unterminated subpattern at position 0.",
        ),
    ]
