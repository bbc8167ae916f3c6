"""JavaScript semantics that form-js validation relies on, ported to Python.

- `compile_js_regex`: a JS RegExp source (no flags, as `new RegExp(pattern)`) as a Python pattern
  that matches the same strings. Both the pattern and the tested strings are taken as UTF-16 code
  units (see `utf16_units`), so `.` and character classes see surrogate pairs like JS does.
- `js_trim`, `utf16_length`, `js_truthy`, `js_number_text`, `json_equal`.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal
from functools import lru_cache
from typing import Any

import regex

# ECMAScript WhiteSpace + LineTerminator: what \s matches and what String.prototype.trim() strips.
JS_WHITESPACE = (
    "\t\n\x0b\x0c\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000\ufeff"
)
_WHITESPACE_CLASS_BODY = "".join(re.escape(ch) for ch in JS_WHITESPACE)

# form-js 1.23 packages/form-js-viewer/src/core/Validator.js, verbatim.
EMAIL_PATTERN = (
    r"^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?"
    r"(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$"
)
PHONE_PATTERN = (
    r"(\+|00)(297|93|244|1264|358|355|376|971|54|374|1684|1268|61|43|994|257|32|229|226|880|359|973|1242|387"
    r"|590|375|501|1441|591|55|1246|673|975|267|236|1|61|41|56|86|225|237|243|242|682|57|269|238|506|53|5999"
    r"|61|1345|357|420|49|253|1767|45|1809|1829|1849|213|593|20|291|212|34|372|251|358|679|500|33|298|691|241"
    r"|44|995|44|233|350|224|590|220|245|240|30|1473|299|502|594|1671|592|852|504|385|509|36|62|44|91|246|353"
    r"|98|964|354|972|39|1876|44|962|81|76|77|254|996|855|686|1869|82|383|965|856|961|231|218|1758|423|94|266"
    r"|370|352|371|853|590|212|377|373|261|960|52|692|389|223|356|95|382|976|1670|258|222|1664|596|230|265|60"
    r"|262|264|687|227|672|234|505|683|31|47|977|674|64|968|92|507|64|51|63|680|675|48|1787|1939|850|351|595"
    r"|970|689|974|262|40|7|250|966|249|221|65|500|4779|677|232|503|378|252|508|381|211|239|597|421|386|46|268"
    r"|1721|248|963|1649|235|228|66|992|690|993|670|676|1868|216|90|688|886|255|256|380|598|1|998|3906698|379"
    r"|1784|58|1284|1340|84|678|681|685|967|27|260|263)(9[976]\d|8[987530]\d|6[987]\d|5[90]\d|42\d|3[875]\d"
    r"|2[98654321]\d|9[8543210]|8[6421]|6[6543210]|5[87654321]|4[987654310]|3[9643210]|2[70]|7|1)\d{4,20}$"
)


#: How long one pattern may take on one value: a designer's `^(a+)+$` must not hold the server.
PATTERN_TIMEOUT_SECONDS = 0.1


class JsRegexTimeout(ValueError):
    """Matching took longer than PATTERN_TIMEOUT_SECONDS."""


class JsRegexError(ValueError):
    """The pattern is not a valid JavaScript regular expression (or not one this port can reproduce)."""


def utf16_units(text: str) -> str:
    """Spell astral characters as surrogate pairs so Python sees the code units JavaScript sees."""
    if all(ord(ch) <= 0xFFFF for ch in text):
        return text
    out = []
    for ch in text:
        code = ord(ch)
        if code > 0xFFFF:
            code -= 0x10000
            out.append(chr(0xD800 + (code >> 10)) + chr(0xDC00 + (code & 0x3FF)))
        else:
            out.append(ch)
    return "".join(out)


def utf16_length(text: str) -> int:
    """`text.length` in JavaScript."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def js_trim(text: str) -> str:
    """`text.trim()` in JavaScript (also strips U+FEFF, unlike str.strip())."""
    return text.strip(JS_WHITESPACE)


def js_truthy(value: Any) -> bool:
    """JavaScript truthiness of a JSON value: empty lists and objects are truthy."""
    if value is None or value is False:
        return False
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return value != 0 and not (isinstance(value, float) and math.isnan(value))
    if isinstance(value, str):
        return value != ""
    return True


def js_to_number(value: Any) -> float:
    """JavaScript's Number(value) for JSON values (NaN when not numeric)."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if _is_num(value):
        return float(value)
    if isinstance(value, str):
        text = js_trim(value)
        if not text:
            return 0.0
        if re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?|[+-]?Infinity", text):
            return float(text)
    return math.nan


def _js_primitive(value: Any) -> Any:
    if isinstance(value, list):
        return ",".join("" if v is None else js_number_text(_js_primitive(v)) for v in value)
    if isinstance(value, dict):
        return "[object Object]"
    return value


def js_less(a: Any, b: Any, or_equal: bool) -> bool:
    """JavaScript's `a < b` / `a <= b`, which feelin's ranges use for their bounds."""
    a, b = _js_primitive(a), _js_primitive(b)
    if isinstance(a, str) and isinstance(b, str):
        a_units, b_units = a.encode("utf-16-be"), b.encode("utf-16-be")
        return a_units <= b_units if or_equal else a_units < b_units
    x, y = js_to_number(a), js_to_number(b)
    return x <= y if or_equal else x < y


def js_number_text(value: Any) -> str:
    """How JavaScript prints a number in a template string (1.0 -> '1'); other values via str()."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if isinstance(value, Decimal):
        return decimal_text(value)
    return str(value)


def decimal_text(value: Decimal) -> str:
    """Plain notation without trailing zeros, like big.js toString for everyday magnitudes."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "") else text


def json_equal(a: Any, b: Any) -> bool:
    """Deep equality of JSON values (lodash isEqual): True is not 1, 1 equals 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(json_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, (dict, list)) or isinstance(b, (dict, list)):
        return False
    return (type(a) is type(b) or (_is_num(a) and _is_num(b))) and a == b


def _is_num(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


# Escapes JS knows without the `u` flag that need a Python spelling; any other escaped letter is literal.
_CLASS_ESCAPES = {
    "d": "0-9",
    "w": "A-Za-z0-9_",
    "s": _WHITESPACE_CLASS_BODY,
}
_PASS_THROUGH_ESCAPES = set("bBfnrtv") | set("123456789")
_QUANTIFIER = re.compile(r"[*+?]|\{\d+(,\d*)?\}")
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_GROUP_OPENINGS = ("(?:", "(?=", "(?!", "(?<=", "(?<!")
_JS_DOT = "[^\n\r\u2028\u2029]"


def js_regex_search(pattern: str, value: str) -> bool:
    """`new RegExp(pattern).test(value)`; JsRegexTimeout when it takes too long (the `regex` package
    stops a match at its timeout, where `re` would backtrack for ever)."""
    try:
        found = compile_js_regex(pattern).search(utf16_units(value), timeout=PATTERN_TIMEOUT_SECONDS)
        return found is not None
    except TimeoutError:
        raise JsRegexTimeout(f"matching the pattern took longer than {PATTERN_TIMEOUT_SECONDS:g} s") from None


@lru_cache(maxsize=512)
def compile_js_regex(pattern: str) -> regex.Pattern[str]:
    """Translate a flag-less JS RegExp source to an equivalent Python pattern; JsRegexError if invalid."""
    try:
        translated = _translate(utf16_units(pattern))
        re.compile(translated, re.ASCII)  # the syntax `re` accepts, which the translation writes
        return regex.compile(translated, regex.ASCII | regex.VERSION0)
    except (re.error, regex.error) as exc:
        raise JsRegexError(str(exc)) from exc
    except RecursionError:
        raise JsRegexError("pattern nests too deeply") from None


def _translate(src: str) -> str:
    out: list[str] = []
    i, in_class = 0, False
    while i < len(src):
        ch = src[i]
        if ch == "\\":
            if i + 1 >= len(src):
                raise JsRegexError("\\ at end of pattern")
            extra = _escape_extra_length(src, i + 1)
            out.append(_escape(src, i + 1, extra, in_class))
            i += 2 + extra
            continue
        if in_class:
            in_class = ch != "]"
            out.append("\\" + ch if ch in "[&~|" else ch)
        elif ch == "[":
            if src.startswith("[]", i) or src.startswith("[^]", i):
                out.append("(?!)" if src[i + 1] == "]" else "(?s:.)")
                i += 2 if src[i + 1] == "]" else 3
                continue
            in_class = True
            out.append("[^" if src.startswith("[^", i) else "[")
            i += 1 if src.startswith("[^", i) else 0
        elif ch == "$":
            out.append(r"\Z")
        elif ch == ".":
            out.append(_JS_DOT)
        elif src.startswith("(?", i):
            opening = _group_opening(src, i)
            out.append(opening[1])
            i += len(opening[0])
            continue
        elif quantifier := _QUANTIFIER.match(src, i):
            token = quantifier.group()
            token += "?" if src.startswith("?", i + len(token)) else ""
            i += len(token)
            if src.startswith("+", i):  # JS has no possessive quantifiers; Python 3.11 would accept a*+
                raise JsRegexError(f"nothing to repeat at {i}")
            out.append(token)
            continue
        else:
            out.append("\\" + ch if ch in "{}" else ch)
        i += 1
    if in_class:
        raise JsRegexError("unterminated character class")
    return "".join(out)


def _group_opening(src: str, i: int) -> tuple[str, str]:
    """(JS source of a group opening, its Python spelling)."""
    for opening in _GROUP_OPENINGS:
        if src.startswith(opening, i):
            return opening, opening
    named = re.compile(rf"\(\?<({_NAME})>").match(src, i)
    if named:
        return named.group(), f"(?P<{named.group(1)}>"
    raise JsRegexError(f"invalid group at {i}")


def _escape_extra_length(src: str, j: int) -> int:
    """How many characters after the escape letter belong to it (\\xHH, \\uHHHH, \\cX, \\k<name>)."""
    letter = src[j]
    if letter == "x" and re.fullmatch(r"[0-9A-Fa-f]{2}", src[j + 1 : j + 3]):
        return 2
    if letter == "u" and re.fullmatch(r"[0-9A-Fa-f]{4}", src[j + 1 : j + 5]):
        return 4
    if letter == "c" and src[j + 1 : j + 2].isascii() and src[j + 1 : j + 2].isalpha():
        return 1
    named = re.compile(rf"<{_NAME}>").match(src, j + 1) if letter == "k" else None
    return len(named.group()) if named else 0


def _escape(src: str, j: int, extra: int, in_class: bool) -> str:
    letter = src[j]
    if letter in _CLASS_ESCAPES:
        body = _CLASS_ESCAPES[letter]
        return body if in_class else f"[{body}]"
    if letter.lower() in _CLASS_ESCAPES:
        # A negated class inside a class has no Python spelling; ASCII \D \W \S come close.
        return "\\" + letter if in_class else f"[^{_CLASS_ESCAPES[letter.lower()]}]"
    if letter == "b" and in_class:
        return r"\x08"
    if letter in _PASS_THROUGH_ESCAPES:
        return "\\" + letter
    if letter == "0" and not src[j + 1 : j + 2].isdigit():
        return r"\x00"
    if extra and letter in "xu":
        return "\\" + src[j : j + 1 + extra]
    if extra and letter == "c":
        return re.escape(chr(ord(src[j + 1].upper()) % 32))
    if extra and letter == "k":
        return f"(?P={src[j + 2 : j + extra]})"
    return re.escape(letter)
