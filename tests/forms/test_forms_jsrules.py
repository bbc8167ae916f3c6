"""JavaScript string and RegExp semantics, checked against recordings from V8."""

import json
from pathlib import Path

import pytest

from engine.forms.jsrules import (
    JsRegexError,
    compile_js_regex,
    js_regex_search,
    js_trim,
    js_truthy,
    json_equal,
    utf16_length,
)

RECORDING = json.loads((Path(__file__).parent / "data" / "js-regexp.json").read_text())


@pytest.mark.parametrize("case", RECORDING["cases"], ids=lambda case: case["pattern"][:40])
def test_regex_matches_what_v8_matches(case):
    if not case["valid"]:
        with pytest.raises(JsRegexError):
            compile_js_regex(case["pattern"])
        return
    matched = [value for value in RECORDING["values"] if js_regex_search(case["pattern"], value)]
    assert matched == case["matches"]


def test_dollar_does_not_match_before_a_trailing_newline():
    assert js_regex_search("^[0-9]+$", "123")
    assert not js_regex_search("^[0-9]+$", "123\n")


def test_digit_and_word_classes_are_ascii_only():
    assert not js_regex_search(r"^\d+$", "١٢٣")
    assert not js_regex_search(r"^\w+$", "größe")


def test_pattern_is_searched_not_anchored():
    assert js_regex_search("[0-9]+", "abc123def")


def test_trim_strips_byte_order_mark_and_js_whitespace():
    assert js_trim("\ufeff\u00a0 ab \u3000\n") == "ab"


def test_length_counts_utf16_code_units():
    assert utf16_length("😀") == 2
    assert utf16_length("中文") == 2


def test_truthiness_follows_javascript():
    assert js_truthy([]) and js_truthy({}) and js_truthy("=false")
    assert not js_truthy(0) and not js_truthy("") and not js_truthy(None)


def test_json_equality_keeps_booleans_apart_from_numbers():
    assert not json_equal(True, 1)
    assert json_equal(1, 1.0)
    assert json_equal({"a": [1, "x"]}, {"a": [1, "x"]})
