"""validate_submission: binding paths, groups, dynamic lists, hiding, read-only, disabled and stray keys."""

import pytest

from engine.forms import FieldError, validate_submission


def form(*components):
    return {"id": "Form_test", "type": "default", "components": list(components)}


def text(key, required=False, **props):
    component = {"type": "textfield", "id": f"f_{key.replace('.', '_')}", "key": key, **props}
    if required:
        component["validate"] = {"required": True}
    return component


def errors_of(schema, data, context=None):
    _, errors = validate_submission(schema, data, context)
    return [(error.path, error.message, error.field_id) for error in errors]


DUTIES = [{"label": "Pilot", "value": "pilot"}, {"label": "Cook", "value": "cook"}]
CREW = form(
    {
        "type": "dynamiclist",
        "id": "d_crew",
        "path": "crew",
        "components": [
            text("name", required=True),
            {
                "type": "select",
                "id": "f_duty",
                "key": "duty",
                "values": DUTIES,
                "validate": {"required": True},
            },
            text("license", required=True, conditional={"hide": '=this.duty != "pilot"'}),
        ],
    }
)


# --- whole submission ---------------------------------------------------------------------------


@pytest.mark.parametrize("submitted", [None, [], "text", 3])
def test_non_object_submission_is_one_error_for_the_whole_form(submitted):
    assert validate_submission(form(text("a")), submitted) == (
        {},
        [FieldError("", "Expected an object with the form's fields.", None)],
    )


def test_missing_keys_count_as_empty_and_default_values_are_not_applied():
    schema = form(
        text("a", defaultValue="preset"),
        {"type": "number", "id": "f_n", "key": "n"},
        {"type": "checklist", "id": "f_c", "key": "c", "values": ["x"]},
    )
    assert validate_submission(schema, {}) == ({"a": "", "n": None, "c": []}, [])


def test_schema_that_fails_check_form_is_refused():
    with pytest.raises(ValueError, match="not deployable"):
        validate_submission(form({"type": "textfield", "key": "a"}), {})


# --- unknown keys -------------------------------------------------------------------------------


def test_unknown_top_level_key_is_an_error():
    assert errors_of(form(text("a")), {"a": "x", "notAField": 1}) == [("notAField", "Unknown field.", None)]


def test_display_component_ids_are_unknown_fields():
    schema = form(text("a"), {"type": "text", "id": "intro", "text": "Hi"})
    assert errors_of(schema, {"intro": "x"}) == [("intro", "Unknown field.", None)]


def test_unknown_key_inside_a_group_path_is_an_error():
    schema = form({"type": "group", "id": "g", "path": "goal", "components": [text("target")]})
    assert errors_of(schema, {"goal": {"target": "x", "extra": 1}}) == [
        ("goal.extra", "Unknown field.", None)
    ]


def test_unknown_key_inside_a_row_is_an_error():
    data = {"crew": [{"name": "Al", "duty": "cook"}, {"name": "Bo", "duty": "cook", "extra": 1}]}
    assert errors_of(CREW, data) == [("crew[1].extra", "Unknown field.", None)]


# --- groups and nested keys ---------------------------------------------------------------------


def test_group_with_path_nests_its_fields_and_dotted_keys_nest_further():
    schema = form(
        {
            "type": "group",
            "id": "g",
            "path": "address",
            "components": [text("street", required=True), text("postal.zip")],
        }
    )
    data = {"address": {"street": "Main", "postal": {"zip": "12345"}}}
    assert validate_submission(schema, data) == (data, [])
    assert errors_of(schema, {"address": {"postal": {}}}) == [
        ("address.street", "Field is required.", "f_street")
    ]


def test_group_without_path_is_flattened_into_its_parent():
    schema = form({"type": "group", "id": "g", "components": [text("flat")]})
    assert validate_submission(schema, {"flat": "3"}) == ({"flat": "3"}, [])
    assert errors_of(schema, {"g": {"flat": "3"}}) == [("g", "Unknown field.", None)]


def test_group_path_holding_a_non_object_is_one_error_for_the_group():
    schema = form(
        {"type": "group", "id": "g_goal", "path": "goal", "components": [text("target", required=True)]}
    )
    assert errors_of(schema, {"goal": "x"}) == [("goal", "Expected an object.", "g_goal")]


# --- dynamic lists ------------------------------------------------------------------------------


def test_rows_are_validated_with_row_paths_and_component_ids():
    data = {"crew": [{"name": "", "duty": "pilot"}, {"name": "Bo", "duty": "chef"}]}
    assert errors_of(CREW, data) == [
        ("crew[0].name", "Field is required.", "f_name"),
        ("crew[0].license", "Field is required.", "f_license"),
        ("crew[1].duty", "Expected one of: pilot, cook.", "f_duty"),
    ]


def test_rows_hide_fields_per_row_with_this_and_drop_their_values():
    data = {
        "crew": [
            {"name": "Al", "duty": "pilot", "license": "L1"},
            {"name": "Bo", "duty": "cook", "license": "forged"},
        ]
    }
    assert validate_submission(CREW, data) == (
        {"crew": [{"name": "Al", "duty": "pilot", "license": "L1"}, {"name": "Bo", "duty": "cook"}]},
        [],
    )


def test_missing_list_means_no_rows_and_non_list_is_an_error():
    assert validate_submission(CREW, {}) == ({"crew": []}, [])
    assert errors_of(CREW, {"crew": "not-a-list"}) == [("crew", "Expected a list of rows.", "d_crew")]
    assert errors_of(CREW, {"crew": [{"name": "Al", "duty": "cook"}, "x"]}) == [
        ("crew[1]", "Expected an object.", "d_crew")
    ]


def test_row_expressions_see_parent_and_one_based_index():
    schema = form(
        {"type": "number", "id": "f_limit", "key": "limit"},
        {
            "type": "dynamiclist",
            "id": "d_items",
            "path": "items",
            "components": [
                text("note", required=True, conditional={"hide": "=i[1] > parent.limit"}),
            ],
        },
    )
    data = {"limit": 1, "items": [{"note": ""}, {"note": ""}]}
    assert errors_of(schema, data) == [("items[0].note", "Field is required.", "f_note")]


def test_nested_lists_report_nested_row_paths():
    schema = form(
        {
            "type": "dynamiclist",
            "id": "d_teams",
            "path": "teams",
            "components": [
                {
                    "type": "dynamiclist",
                    "id": "d_members",
                    "path": "members",
                    "components": [text("user", required=True)],
                },
            ],
        }
    )
    data = {"teams": [{"members": [{"user": "a"}]}, {"members": [{"user": "b"}, {"user": ""}]}]}
    assert errors_of(schema, data) == [("teams[1].members[1].user", "Field is required.", "f_user")]


# --- conditional.hide ---------------------------------------------------------------------------

SECRET = form(
    {"type": "select", "id": "f_priority", "key": "priority", "values": ["low", "high"]},
    text("secret", required=True, conditional={"hide": '=priority != "high"'}),
)


def test_hidden_field_skips_rules_and_its_submitted_value_is_dropped():
    assert validate_submission(SECRET, {"priority": "low", "secret": "sneaky"}) == ({"priority": "low"}, [])
    assert errors_of(SECRET, {"priority": "high"}) == [("secret", "Field is required.", "f_secret")]


def test_hide_conditions_see_task_variables_overlaid_with_submitted_data():
    schema = form(text("note", required=True, conditional={"hide": '=role = "viewer"'}))
    assert errors_of(schema, {}, {"role": "viewer"}) == []
    assert errors_of(schema, {}, {"role": "editor"}) == [("note", "Field is required.", "f_note")]


def test_hidden_values_are_removed_before_other_conditions_see_them():
    schema = form(
        {"type": "checkbox", "id": "f_show", "key": "show"},
        text("a", conditional={"hide": "=show = false"}),
        text("b", required=True, conditional={"hide": '=a != "open"'}),
    )
    # `a` is hidden, so `b` sees a = null and stays hidden even though "open" was submitted for a
    assert errors_of(schema, {"show": False, "a": "open"}) == []
    assert errors_of(schema, {"show": True, "a": "open"}) == [("b", "Field is required.", "f_b")]


def test_hiding_a_group_hides_its_subtree():
    schema = form(
        {"type": "number", "id": "f_limit", "key": "limit"},
        {
            "type": "group",
            "id": "g_ship",
            "path": "ship",
            "conditional": {"hide": "=limit < 10"},
            "components": [text("port", required=True)],
        },
    )
    assert validate_submission(schema, {"limit": 5, "ship": {"port": "x"}}) == ({"limit": 5}, [])
    assert errors_of(schema, {"limit": 50}) == [("ship.port", "Field is required.", "f_port")]


def test_hidden_dynamic_list_is_left_out():
    schema = form(
        {"type": "checkbox", "id": "f_solo", "key": "solo"},
        {**CREW["components"][0], "conditional": {"hide": "=solo"}},
    )
    assert validate_submission(schema, {"solo": True, "crew": [{"name": ""}]}) == ({"solo": True}, [])


def test_hide_that_evaluates_to_null_hides_like_the_browser():
    schema = form(
        {"type": "number", "id": "f_amount", "key": "amount"},
        text("why", required=True, conditional={"hide": "=amount > 10"}),
    )
    assert errors_of(schema, {"amount": None}) == []  # feelin: null matches the unary test
    assert errors_of(schema, {"amount": 5}) == [("why", "Field is required.", "f_why")]


def test_unevaluable_hide_fails_closed_and_keeps_the_field_visible():
    schema = form(text("flag"), text("why", required=True, conditional={"hide": "=flag < true"}))
    assert errors_of(schema, {"flag": "x"}) == [("why", "Field is required.", "f_why")]


def test_boolean_hide_is_not_an_expression_and_is_refused_at_deploy():
    with pytest.raises(ValueError, match="boolean hide"):
        validate_submission(form(text("a", conditional={"hide": True})), {})


# --- readonly and disabled ----------------------------------------------------------------------


def test_read_only_field_takes_its_value_from_the_task_not_the_submission():
    schema = form(text("ref", required=True, readonly=True))
    assert validate_submission(schema, {"ref": "forged"}, {"ref": "R-1"}) == ({"ref": "R-1"}, [])
    assert errors_of(schema, {"ref": "forged"}, {}) == [("ref", "Field is required.", "f_ref")]


def test_read_only_by_feel_and_inside_rows_uses_the_task_row_value():
    schema = form(
        {
            "type": "dynamiclist",
            "id": "d_rows",
            "path": "rows",
            "components": [
                text("id", readonly="=locked"),
                text("note"),
            ],
        }
    )
    context = {"locked": True, "rows": [{"id": "A", "note": "old"}]}
    data = {"rows": [{"id": "forged", "note": "new"}, {"id": "X", "note": "extra row"}]}
    assert validate_submission(schema, data, context) == (
        {"rows": [{"id": "A", "note": "new"}, {"id": "", "note": "extra row"}]},
        [],
    )
    assert validate_submission(schema, data, {**context, "locked": False})[0]["rows"][0]["id"] == "forged"


def test_disabled_field_is_ignored_and_left_out():
    schema = form(text("a"), text("locked", required=True, disabled=True))
    assert validate_submission(schema, {"a": "x", "locked": "hack"}, {"locked": "keep"}) == ({"a": "x"}, [])


def test_disabled_field_keeps_the_task_value_for_conditions():
    schema = form(
        text("mode", disabled=True), text("detail", required=True, conditional={"hide": '=mode = "simple"'})
    )
    assert errors_of(schema, {"mode": "full"}, {"mode": "simple"}) == []


def test_unevaluable_readonly_keeps_the_task_value():
    schema = form(text("ref", readonly="=level < true"))
    assert validate_submission(schema, {"ref": "forged"}, {"ref": "R-1", "level": 1}) == ({"ref": "R-1"}, [])
