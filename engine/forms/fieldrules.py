"""Per-field checks: the value's JSON type, then form-js's own validate rules (core/Validator.js).

`check_field` returns the clean value and the messages for one visible, enabled field.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from engine.forms.feel import FeelError, evaluate, is_number
from engine.forms.jsrules import (
    EMAIL_PATTERN,
    PHONE_PATTERN,
    JsRegexTimeout,
    decimal_text,
    js_number_text,
    js_regex_search,
    js_to_number,
    js_trim,
    js_truthy,
    json_equal,
    utf16_length,
)
from engine.forms.model import MISSING, MULTI_OPTION_TYPES, describe_options, empty_value, option_values
from engine.types import JsonObject

REQUIRED = "Field is required."
_BIG_NUMBER = re.compile(r"-?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")  # what big.js accepts
_NUMERIC_STRING = re.compile(r"-?\d+(\.\d+)?")  # what the number field itself produces
_DATE = r"(\d{4})-(\d{2})-(\d{2})"
_HOUR_MINUTE = r"([01]\d|2[0-3]):[0-5]\d"
_OFFSET = r"(Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?"
#: Dates a form accepts: wide enough for any plan or record, narrow enough to compute with.
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2199, 12, 31)
_DATETIME_FORMATS = {
    "date": (re.compile(_DATE, re.ASCII), "Expected a date YYYY-MM-DD."),
    "time": (re.compile(_HOUR_MINUTE + _OFFSET, re.ASCII), "Expected a time HH:mm (optionally Z or ±hh:mm)."),
    "datetime": (
        re.compile(_DATE + "T" + _HOUR_MINUTE + r"(:[0-5]\d)?" + _OFFSET, re.ASCII),
        "Expected a date and time YYYY-MM-DDTHH:mm.",
    ),
}


def check_field(
    component: JsonObject, value: Any, variables: JsonObject, context: JsonObject
) -> tuple[Any, list[str]]:
    """(clean value, messages) for one field; `value` is the raw value or MISSING (= the empty value)."""
    field_type = component["type"]
    if value is MISSING or value is None:
        value = empty_value(field_type)
    checker = _TYPE_CHECKS[field_type]
    value, type_error = checker(component, value, variables, context)
    if type_error:
        return MISSING, [type_error]
    messages = []
    if field_type == "number":
        messages += _number_rules(component, value)
    messages += _preset_rules(component, value, variables)
    if field_type == "number" and component.get("serializeToString") and value is not None:
        value = value if isinstance(value, str) else js_number_text(value)
    return value, messages


def _text(
    component: JsonObject, value: Any, _variables: JsonObject, _context: JsonObject
) -> tuple[Any, str | None]:
    if not isinstance(value, str):
        return value, "Expected a string."
    if component["type"] == "textfield" and any(ch in value for ch in "\r\n\t"):
        return value, "Line breaks and tabs are not allowed."
    return value, None


def _number(
    component: JsonObject, value: Any, _variables: JsonObject, _context: JsonObject
) -> tuple[Any, str | None]:
    if value is None:
        return None, None
    if isinstance(value, str) and component.get("serializeToString"):
        if value == "":
            return None, None
        if value == "NaN":
            return value, "Value is not a number."
        return value, None if _NUMERIC_STRING.fullmatch(value) else "Expected a number."
    if not is_number(value) or (isinstance(value, float) and not math.isfinite(value)):
        return value, "Expected a number."
    return value, None


def _checkbox(
    _component: JsonObject, value: Any, _variables: JsonObject, _context: JsonObject
) -> tuple[Any, str | None]:
    return value, None if isinstance(value, bool) else "Expected true or false."


def _options(
    component: JsonObject, value: Any, variables: JsonObject, context: JsonObject
) -> tuple[Any, str | None]:
    multiple = component["type"] in MULTI_OPTION_TYPES
    if multiple and not isinstance(value, list):
        return value, "Expected a list."
    try:
        allowed = option_values(component, context, variables)
    except FeelError:
        return value, "The options could not be evaluated."
    chosen = value if multiple else ([] if value is None else [value])
    if chosen and not allowed:
        return value, "There are no options to choose from."
    if any(not any(json_equal(item, option) for option in allowed) for item in chosen):
        return value, f"Expected {'only values from' if multiple else 'one of'}: {describe_options(allowed)}."
    if any(json_equal(item, other) for index, item in enumerate(chosen) for other in chosen[index + 1 :]):
        return value, "Each value may be chosen only once."
    return value, None


def _datetime(
    component: JsonObject, value: Any, _variables: JsonObject, _context: JsonObject
) -> tuple[Any, str | None]:
    if value is None or value == "":
        return None, None
    pattern, message = _DATETIME_FORMATS[component.get("subtype", "date")]
    match = pattern.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return value, message
    if component.get("subtype", "date") != "time":
        try:
            day = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            return value, "Expected a real calendar date."
        if not EARLIEST_DATE <= day <= LATEST_DATE:
            # due dates and timers are computed from it: 9999-12-31 would overflow them
            return value, f"Expected a date between {EARLIEST_DATE} and {LATEST_DATE}."
        if component.get("disallowPassedDates") is True and day < _earliest_today():
            return value, PASSED_DATE
    return value, None


PASSED_DATE = "The date is in the past: choose today or a later day."


def _earliest_today() -> dt.date:
    """form-js's `disallowPassedDates` (the picker offers no day before today) checked on the server.
    "Today" is where the writer is: the earliest today on Earth (UTC-12) is a day before UTC's at most."""
    return (dt.datetime.now(dt.UTC) - dt.timedelta(hours=12)).date()


def _filepicker(
    _component: JsonObject, value: Any, _variables: JsonObject, _context: JsonObject
) -> tuple[Any, str | None]:
    return value, None if value is None else "File uploads are not supported yet."


_TYPE_CHECKS = {
    "textfield": _text,
    "textarea": _text,
    "number": _number,
    "checkbox": _checkbox,
    "radio": _options,
    "select": _options,
    "checklist": _options,
    "taglist": _options,
    "datetime": _datetime,
    "filepicker": _filepicker,
}


def _number_rules(component: JsonObject, value: Any) -> list[str]:
    """decimalDigits and increment, checked only for a truthy value, like runNumberValidation."""
    if value is None or not js_truthy(value):
        return []
    number = _to_decimal(value)
    if number is None or number == 0:
        return []
    messages = []
    digits = component.get("decimalDigits")
    if isinstance(digits, int) and digits >= 0 and _count_decimals(number) > digits:
        expected = (
            "be an integer"
            if digits == 0
            else f"have at most {digits} decimal digit{'s' if digits > 1 else ''}"
        )
        messages.append(f"Value is expected to {expected}.")
    step = _to_decimal(component.get("increment"))
    if step:
        offset = number % step
        if offset != 0:
            previous = number - offset
            messages.append(
                "Please select a valid value, the two nearest valid values are "
                f"{decimal_text(previous)} and {decimal_text(previous + step)}."
            )
    return messages


def _preset_rules(component: JsonObject, value: Any, variables: JsonObject) -> list[str]:
    """runPresetValidation: pattern, required, min, max, minLength, maxLength, phone, email, in this order."""
    validate = component.get("validate") or {}
    messages = []
    text = value if isinstance(value, str) and value else None
    pattern = validate.get("pattern")
    try:
        mismatch = bool(pattern and text is not None and not js_regex_search(pattern, text))
    except JsRegexTimeout as exc:
        messages.append(f"The value could not be checked against pattern {pattern}: {exc}.")
        mismatch = False
    if mismatch:
        custom = validate.get("patternErrorMessage")
        messages.append(str(custom) if js_truthy(custom) else f"Field must match pattern {pattern}.")
    if validate.get("required") is True and _is_unset(component["type"], value):
        messages.append(REQUIRED)
    for rule, word, too_far in (("min", "minimum", _below), ("max", "maximum", _above)):
        limit = _rule_value(validate, rule, variables)
        if limit is MISSING or value is None or not (js_truthy(value) or value == 0):
            continue
        if isinstance(limit, FeelError):
            messages.append(f"The {word} value could not be evaluated.")
            continue
        bound, number = _to_decimal(limit), _to_decimal(value)
        if bound is None or number is None:
            messages.append(f"{rule.capitalize()} validation value is not a valid number.")
        elif too_far(number, bound):
            messages.append(f"Field must have {word} value of {js_number_text(limit)}.")
    for rule, word, too_far in (("minLength", "minimum", _below), ("maxLength", "maximum", _above)):
        limit = _rule_value(validate, rule, variables)
        if limit is MISSING or text is None:
            continue
        if isinstance(limit, FeelError):
            messages.append(f"The {word} length could not be evaluated.")
        elif too_far(utf16_length(js_trim(text)), js_to_number(limit)):
            messages.append(f"Field must have {word} length of {js_number_text(limit)}.")
    validation_type = validate.get("validationType")
    if text is not None and validation_type == "phone" and not js_regex_search(PHONE_PATTERN, text):
        messages.append("Field must be a valid  international phone number. (e.g. +4930664040900)")
    if text is not None and validation_type == "email" and not js_regex_search(EMAIL_PATTERN, text):
        messages.append("Field must be a valid email.")
    return messages


def _below(a: Any, b: Any) -> bool:
    return bool(a < b)


def _above(a: Any, b: Any) -> bool:
    return bool(a > b)


def _is_unset(field_type: str, value: Any) -> bool:
    """form-js's required test: null, "", [] and an unticked checkbox; "   " counts as filled."""
    return value is None or value == "" or value == [] or (field_type == "checkbox" and value is False)


def _rule_value(validate: JsonObject, rule: str, variables: JsonObject) -> Any:
    """A validate limit, FEEL evaluated; MISSING when absent or when FEEL gives null (form-js drops it)."""
    if rule not in validate or validate[rule] is None:
        return MISSING
    limit = validate[rule]
    if isinstance(limit, str) and limit.startswith("="):
        try:
            limit = evaluate(limit, variables)
        except FeelError as exc:
            return exc  # fail closed: the caller reports the rule as unverifiable
    return MISSING if limit is None else limit


def _to_decimal(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal) or (is_number(value) and not isinstance(value, float)):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if isinstance(value, str) and _BIG_NUMBER.fullmatch(value.strip()):
        try:
            return Decimal(value.strip())
        except InvalidOperation:  # pragma: no cover - the regex admits only valid literals
            return None
    return None


def _count_decimals(number: Decimal) -> int:
    exponent = number.normalize().as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0
