"""Typed variables: Camunda's {value, type, valueInfo} in, plain Python inside with the declared type
beside it, the declared type out (inferred for untyped values)."""

from datetime import UTC, datetime

import pytest

from api.camunda.errors import CamundaError
from api.camunda.variables import format_date, from_camunda, to_camunda, to_camunda_map, typed_value
from engine import variable_types


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ({"value": "text", "type": "String"}, "text"),
        ({"value": 42, "type": "String"}, "42"),
        ({"value": True, "type": "string"}, "true"),
        ({"value": True, "type": "Boolean"}, True),
        ({"value": "false", "type": "Boolean"}, False),
        ({"value": 7, "type": "Integer"}, 7),
        ({"value": "7", "type": "Integer"}, 7),
        ({"value": 7.0, "type": "Long"}, 7),
        ({"value": 2**40, "type": "Long"}, 2**40),
        ({"value": -3, "type": "Short"}, -3),
        ({"value": 1.5, "type": "Double"}, 1.5),
        ({"value": 2, "type": "Double"}, 2.0),
        ({"value": "2.5", "type": "Double"}, 2.5),
        ({"value": '{"a": [1, 2]}', "type": "Json"}, {"a": [1, 2]}),
        ({"value": "[1]", "type": "json"}, [1]),
        (
            {
                "value": '{"k": "v"}',
                "type": "Object",
                "valueInfo": {
                    "serializationDataFormat": "application/json",
                    "objectTypeName": "java.util.HashMap",
                },
            },
            {"k": "v"},
        ),
        ({"value": None, "type": "Null"}, None),
        ({"value": "ignored", "type": "Null"}, None),
        ({"value": None, "type": "Integer"}, None),
        ({"value": "2024-01-31T09:30:00.000+0100", "type": "Date"}, "2024-01-31T09:30:00.000+0100"),
        ({"value": "2024-01-31T09:30:00", "type": "Date"}, "2024-01-31T09:30:00"),
        ({"value": "AAEC", "type": "Bytes"}, "AAEC"),
        ({"value": "aGk=", "type": "File", "valueInfo": {"filename": "a.txt"}}, "aGk="),
        ({"value": "<a/>", "type": "Xml"}, "<a/>"),
        ({"value": {"untyped": True}}, {"untyped": True}),
        ({"value": 3}, 3),
        ({"value": "x", "type": None}, "x"),
    ],
)
def test_typed_values_become_plain_python(typed: dict, expected: object) -> None:
    assert from_camunda({"v": typed}, typed=False) == {"v": expected}
    if expected is not None:
        assert type(from_camunda({"v": typed}, typed=False)["v"]) is type(expected)


@pytest.mark.parametrize(
    "typed",
    [
        {"value": 7, "type": "Short", "valueInfo": {}},
        {"value": 7, "type": "Long", "valueInfo": {}},
        {"value": 2.0, "type": "Double", "valueInfo": {}},
        {"value": "2024-01-31T09:30:00.000+0100", "type": "Date", "valueInfo": {}},
        {
            "value": '{"k": "v"}',
            "type": "Object",
            "valueInfo": {
                "serializationDataFormat": "application/json",
                "objectTypeName": "java.util.HashMap",
            },
        },
        {"value": '{"k": "v"}', "type": "Json", "valueInfo": {}},
        {"value": "AAEC", "type": "Bytes", "valueInfo": {}},
        {"value": "aGk=", "type": "File", "valueInfo": {"filename": "a.txt", "mimeType": "text/plain"}},
        {"value": "<a/>", "type": "Xml", "valueInfo": {}},
        {"value": "x", "type": "String", "valueInfo": {}},
    ],
    ids=lambda t: t["type"],
)
def test_a_typed_value_comes_back_as_it_was_sent(typed: dict) -> None:
    values, types = variable_types.split(from_camunda({"v": typed}))
    assert typed_value(values["v"], types["v"]) == typed


def test_a_value_that_no_longer_fits_its_declared_type_goes_out_as_what_it_is() -> None:
    assert typed_value("changed by a script", {"type": "Long", "valueInfo": {}})["type"] == "String"


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ({"value": "not base64!", "type": "Bytes"}, "not valid base64"),
        ({"value": 5, "type": "Xml"}, "Cannot convert"),
        ({"value": 1, "type": "Decimal"}, "Unsupported value type 'Decimal'"),
        (
            {
                "value": "rO0AB",
                "type": "Object",
                "valueInfo": {"serializationDataFormat": "application/x-java-serialized-object"},
            },
            "only application/json",
        ),
        ({"value": "{}", "type": "Object"}, "only application/json"),
        ({"value": {"a": 1}, "type": "Json"}, "Must provide 'null' or String value"),
        ({"value": "{not json", "type": "Json"}, "Cannot deserialize"),
        ({"value": "yes", "type": "Boolean"}, "Cannot convert value 'yes' of type 'Boolean'"),
        ({"value": 1.5, "type": "Integer"}, "Cannot convert"),
        ({"value": True, "type": "Integer"}, "Cannot convert"),
        ({"value": 2**31, "type": "Integer"}, "out of range"),
        ({"value": 2**15, "type": "Short"}, "out of range"),
        ({"value": "abc", "type": "Double"}, "Cannot convert"),
        ({"value": [1], "type": "String"}, "Cannot convert"),
        ({"value": "31.01.2024", "type": "Date"}, "a date is a string like"),
        ({"value": 5, "type": 5}, "the type must be a string"),
    ],
)
def test_unsupported_or_wrong_values_are_400_invalid_request(typed: dict, message: str) -> None:
    with pytest.raises(CamundaError) as raised:
        from_camunda({"v": typed})
    assert raised.value.status == 400 and raised.value.type == "InvalidRequestException"
    assert message in raised.value.message


def test_a_variable_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(CamundaError):
        from_camunda({"v": 3})
    with pytest.raises(CamundaError):
        from_camunda(["not", "a", "map"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, {"type": "Null", "value": None, "valueInfo": {}}),
        (True, {"type": "Boolean", "value": True, "valueInfo": {}}),
        (12, {"type": "Integer", "value": 12, "valueInfo": {}}),
        (2**31, {"type": "Long", "value": 2**31, "valueInfo": {}}),
        (0.25, {"type": "Double", "value": 0.25, "valueInfo": {}}),
        ("txt", {"type": "String", "value": "txt", "valueInfo": {}}),
        ({"a": 1}, {"type": "Json", "value": '{"a": 1}', "valueInfo": {}}),
        (["中"], {"type": "Json", "value": '["中"]', "valueInfo": {}}),
    ],
)
def test_plain_values_go_out_with_an_inferred_type(value: object, expected: dict) -> None:
    assert to_camunda(value) == expected


def test_json_and_object_round_trip_through_json_text() -> None:
    original = {"nested": {"list": [1, "two", None]}}
    sent = to_camunda(original)
    assert from_camunda({"v": sent}, typed=False) == {"v": original}


def test_a_variable_map_can_be_narrowed_to_names() -> None:
    variables = {"a": 1, "b": "x", "c": None}
    assert list(to_camunda_map(variables, ["c", "a", "missing"])) == ["c", "a"]
    assert to_camunda_map(variables)["b"]["type"] == "String"


def test_dates_use_camundas_rest_format_in_utc() -> None:
    assert format_date(datetime(2024, 1, 31, 9, 30, 5, 123456, tzinfo=UTC)) == "2024-01-31T09:30:05.123+0000"
    assert format_date(None) is None
