"""validate_submission: each field type's value check and form-js's own validate rules."""

import pytest

from engine.forms import FieldError, validate_submission


def form(*components):
    return {"id": "Form_test", "type": "default", "components": list(components)}


def field(field_type, key="v", **props):
    return {"type": field_type, "id": f"f_{key}", "key": key, **props}


def messages(schema, data, context=None):
    _, errors = validate_submission(schema, data, context)
    return [error.message for error in errors]


def clean(schema, data, context=None):
    result, errors = validate_submission(schema, data, context)
    assert errors == []
    return result


# --- text ---------------------------------------------------------------------------------------


def test_textfield_accepts_a_string_and_reports_errors_by_path_and_id():
    assert clean(form(field("textfield")), {"v": "hello"}) == {"v": "hello"}
    _, errors = validate_submission(form(field("textfield", validate={"required": True})), {"v": ""})
    assert errors == [FieldError("v", "Field is required.", "f_v")]


@pytest.mark.parametrize("value", [5, True, ["a"], {"a": 1}])
def test_text_fields_reject_non_strings(value):
    assert messages(form(field("textfield")), {"v": value}) == ["Expected a string."]
    assert messages(form(field("textarea")), {"v": value}) == ["Expected a string."]


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\tb"])
def test_textfield_rejects_line_breaks_and_tabs_but_textarea_keeps_them(value):
    assert messages(form(field("textfield")), {"v": value}) == ["Line breaks and tabs are not allowed."]
    assert clean(form(field("textarea")), {"v": value}) == {"v": value}


def test_required_does_not_trim_like_the_browser():
    schema = form(field("textfield", validate={"required": True}))
    assert messages(schema, {"v": "   "}) == []
    assert messages(schema, {"v": ""}) == ["Field is required."]
    assert messages(schema, {"v": None}) == ["Field is required."]
    assert messages(schema, {}) == ["Field is required."]


def test_pattern_uses_js_semantics_and_custom_message():
    schema = form(field("textfield", validate={"pattern": "^[0-9]+$"}))
    assert messages(schema, {"v": "123"}) == []
    assert messages(schema, {"v": "123\n"}) == ["Line breaks and tabs are not allowed."]
    assert messages(schema, {"v": "12a"}) == ["Field must match pattern ^[0-9]+$."]
    assert messages(schema, {"v": ""}) == []  # only checked on a non-empty value
    unanchored = form(field("textfield", validate={"pattern": "[0-9]+", "patternErrorMessage": "Digits!"}))
    assert messages(unanchored, {"v": "abc123def"}) == []
    assert messages(unanchored, {"v": "abc"}) == ["Digits!"]


def test_lengths_are_taken_after_js_trim_in_utf16_units():
    schema = form(field("textfield", validate={"minLength": 5, "maxLength": 6}))
    assert messages(schema, {"v": "   ab     "}) == ["Field must have minimum length of 5."]
    assert messages(schema, {"v": "abcde\ufeff\u3000"}) == []
    assert messages(schema, {"v": "😀😀😀"}) == []  # 6 code units, though Python counts 3
    assert messages(schema, {"v": "😀😀😀😀"}) == ["Field must have maximum length of 6."]
    assert messages(schema, {"v": "中文中文中文"}) == []


def test_feel_length_limits_use_the_task_variables_and_null_drops_the_rule():
    schema = form(field("textfield", validate={"maxLength": "=maxNick"}))
    assert messages(schema, {"v": "abcdef"}, {"maxNick": 3}) == ["Field must have maximum length of 3."]
    assert messages(schema, {"v": "abcdef"}, {}) == []


def test_email_validation_uses_the_browser_regex():
    schema = form(field("textfield", validate={"validationType": "email"}))
    assert messages(schema, {"v": "a@b.co"}) == []
    assert messages(schema, {"v": " a@b.co"}) == ["Field must be a valid email."]
    assert messages(schema, {"v": "a@b.co\n"}) == ["Line breaks and tabs are not allowed."]
    assert messages(schema, {"v": "nobody"}) == ["Field must be a valid email."]


def test_phone_validation_is_anchored_only_at_the_end_like_the_browser():
    schema = form(field("textfield", validate={"validationType": "phone"}))
    assert messages(schema, {"v": "+4930664040900"}) == []
    assert messages(schema, {"v": "abc+4930664040900"}) == []
    assert messages(schema, {"v": "+49306640409xx"}) == [
        "Field must be a valid  international phone number. (e.g. +4930664040900)"
    ]


def test_pattern_and_email_messages_both_appear():
    schema = form(field("textfield", validate={"validationType": "email", "pattern": "^x"}))
    assert messages(schema, {"v": "nope"}) == ["Field must match pattern ^x.", "Field must be a valid email."]


# --- number -------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["12", True, [1], {"n": 1}, float("nan"), float("inf")])
def test_number_rejects_non_numbers_booleans_and_non_finite(value):
    assert messages(form(field("number")), {"v": value}) == ["Expected a number."]


def test_number_accepts_ints_and_floats_and_empty():
    assert clean(form(field("number")), {"v": 12}) == {"v": 12}
    assert clean(form(field("number")), {"v": 1.5}) == {"v": 1.5}
    assert clean(form(field("number")), {}) == {"v": None}


def test_numeric_strings_only_with_serialize_to_string():
    schema = form(field("number", serializeToString=True))
    assert clean(schema, {"v": "12.5"}) == {"v": "12.5"}
    assert clean(schema, {"v": 12.5}) == {"v": "12.5"}
    assert messages(schema, {"v": "12,5"}) == ["Expected a number."]
    assert messages(schema, {"v": "NaN"}) == ["Value is not a number."]


def test_decimal_digits_counted_in_decimal_not_float():
    schema = form(field("number", decimalDigits=2))
    assert messages(schema, {"v": 150.12}) == []
    assert messages(schema, {"v": 150.123}) == ["Value is expected to have at most 2 decimal digits."]
    assert messages(form(field("number", decimalDigits=1)), {"v": 0.25}) == [
        "Value is expected to have at most 1 decimal digit."
    ]
    assert messages(form(field("number", decimalDigits=0)), {"v": 2.5}) == [
        "Value is expected to be an integer."
    ]
    assert messages(form(field("number", decimalDigits=0)), {"v": 2.0}) == []


def test_increment_uses_exact_decimal_modulo():
    assert messages(form(field("number", increment="5")), {"v": 7}) == [
        "Please select a valid value, the two nearest valid values are 5 and 10."
    ]
    assert messages(form(field("number", increment=0.1)), {"v": 0.3}) == []  # 0.3 % 0.1 != 0 in floats
    assert messages(form(field("number", increment="0.5")), {"v": 0.7}) == [
        "Please select a valid value, the two nearest valid values are 0.5 and 1."
    ]


def test_min_max_compare_in_decimal_and_zero_is_checked():
    schema = form(field("number", validate={"min": 1, "max": 100, "required": True}))
    assert messages(schema, {"v": 150}) == ["Field must have maximum value of 100."]
    assert messages(schema, {"v": 0}) == ["Field must have minimum value of 1."]
    assert messages(schema, {"v": None}) == ["Field is required."]
    tight = form(field("number", validate={"max": 0.3}))
    assert messages(tight, {"v": 0.1 + 0.2}) == ["Field must have maximum value of 0.3."]
    assert messages(tight, {"v": 0.3}) == []


def test_feel_min_from_task_variables():
    schema = form(field("number", validate={"max": "=limit"}))
    assert messages(schema, {"v": 11}, {"limit": 10}) == ["Field must have maximum value of 10."]
    assert messages(schema, {"v": 11}, {}) == []
    assert messages(schema, {"v": 11}, {"limit": "lots"}) == ["Max validation value is not a valid number."]


# --- checkbox -----------------------------------------------------------------------------------


def test_checkbox_requires_a_boolean_and_required_means_ticked():
    schema = form(field("checkbox", validate={"required": True}))
    assert clean(schema, {"v": True}) == {"v": True}
    assert messages(schema, {"v": False}) == ["Field is required."]
    assert messages(schema, {}) == ["Field is required."]
    assert messages(schema, {"v": "yes"}) == ["Expected true or false."]
    assert clean(form(field("checkbox")), {}) == {"v": False}


# --- options ------------------------------------------------------------------------------------

OPTIONS = [{"label": "Low", "value": "low"}, {"label": "High", "value": "high"}]


@pytest.mark.parametrize("field_type", ["radio", "select"])
def test_single_choice_must_be_one_of_the_static_options(field_type):
    schema = form(field(field_type, values=OPTIONS, validate={"required": True}))
    assert clean(schema, {"v": "high"}) == {"v": "high"}
    assert messages(schema, {"v": "urgent"}) == ["Expected one of: low, high."]
    assert messages(schema, {"v": ["low"]}) == ["Expected one of: low, high."]
    assert messages(schema, {}) == ["Field is required."]


def test_option_membership_keeps_types_apart():
    schema = form(field("radio", values=[1, 2]))
    assert clean(schema, {"v": 2}) == {"v": 2}
    assert messages(schema, {"v": 3}) == ["Expected one of: 1, 2."]
    assert messages(schema, {"v": "1"}) == ["Expected one of: 1, 2."]
    assert messages(form(field("radio", values=[1, True])), {"v": True}) == []
    assert messages(form(field("radio", values=[1])), {"v": True}) == ["Expected one of: 1."]


def test_values_key_options_come_from_the_task_variables_not_the_submission():
    schema = form(field("select", valuesKey="owners"))
    context = {"owners": [{"label": "Ann", "value": "ann"}, "bob"]}
    assert clean(schema, {"v": "bob"}, context) == {"v": "bob"}
    assert messages(schema, {"v": "eve"}, context) == ["Expected one of: ann, bob."]
    assert messages(schema, {"v": "eve", "owners": ["eve"]}, {}) == [
        "Unknown field.",
        "There are no options to choose from.",
    ]


def test_values_expression_options_are_evaluated_with_feel():
    schema = form(field("select", valuesExpression='=if vip then ["gold", "silver"] else ["silver"]'))
    assert clean(schema, {"v": "gold"}, {"vip": True}) == {"v": "gold"}
    assert messages(schema, {"v": "gold"}, {"vip": False}) == ["Expected one of: silver."]


@pytest.mark.parametrize("field_type", ["checklist", "taglist"])
def test_multi_choice_is_a_list_of_distinct_options(field_type):
    schema = form(field(field_type, values=OPTIONS, validate={"required": True}))
    assert clean(schema, {"v": ["low", "high"]}) == {"v": ["low", "high"]}
    assert messages(schema, {"v": []}) == ["Field is required."]
    assert messages(schema, {}) == ["Field is required."]
    assert messages(schema, {"v": "low"}) == ["Expected a list."]
    assert messages(schema, {"v": ["low", "mid"]}) == ["Expected only values from: low, high."]
    assert messages(schema, {"v": ["low", "low"]}) == ["Each value may be chosen only once."]


# --- datetime -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subtype", "good", "bad"),
    [
        ("date", ["2026-02-28", "2024-02-29"], ["2026-02-30", "2026-2-3", "2026-02-28T10:00", 20260228]),
        ("time", ["10:30", "23:59Z", "08:00+01:00", "08:00-05:30"], ["24:00", "10:60", "10:30:00", "1030"]),
        (
            "datetime",
            ["2026-01-02T10:30", "2026-01-02T10:30:15", "2026-01-02T10:30+01:00", "2026-01-02T10:30Z"],
            ["2026-01-02", "2026-01-02 10:30", "2026-13-02T10:30", "2025-02-29T10:30"],
        ),
    ],
)
def test_datetime_values_follow_their_subtype(subtype, good, bad):
    schema = form(field("datetime", subtype=subtype))
    for value in good:
        assert clean(schema, {"v": value}) == {"v": value}
    for value in bad:
        assert len(messages(schema, {"v": value})) == 1, value


def test_datetime_messages_name_the_expected_format():
    assert messages(form(field("datetime", subtype="date")), {"v": "28.02.2026"}) == [
        "Expected a date YYYY-MM-DD."
    ]
    assert messages(form(field("datetime", subtype="date")), {"v": "2026-02-30"}) == [
        "Expected a real calendar date."
    ]
    assert clean(form(field("datetime")), {}) == {"v": None}
    assert messages(form(field("datetime", validate={"required": True})), {}) == ["Field is required."]


# --- expression, filepicker ---------------------------------------------------------------------


def test_expression_field_values_are_dropped():
    schema = form(field("number", key="amount"), field("expression", key="total", expression="=amount * 2"))
    assert clean(schema, {"amount": 2, "total": 999}) == {"amount": 2}


def test_filepicker_rejects_uploads_but_accepts_null():
    schema = form(field("filepicker"))
    assert clean(schema, {"v": None}) == {"v": None}
    assert messages(schema, {"v": "files::abc"}) == ["File uploads are not supported yet."]


# --- FEEL that cannot be evaluated at submit time fails closed --------------------------------------


def test_unevaluable_feel_limit_is_reported_instead_of_dropped():
    schema = form(field("number", validate={"max": "=limit < true"}))
    assert messages(schema, {"v": 5}, {"limit": 1}) == ["The maximum value could not be evaluated."]


def test_unevaluable_options_accept_nothing():
    schema = form(field("select", valuesExpression="=kinds < true"))
    assert messages(schema, {"v": "a"}) == ["The options could not be evaluated."]


def test_empty_serialized_number_is_empty():
    schema = form(field("number", serializeToString=True, validate={"required": True}))
    assert messages(schema, {"v": ""}) == ["Field is required."]
