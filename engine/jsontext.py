"""Checks on JSON that came from outside, shared by the HTTP edge and by the engine's own readers
(deployed form files): how deep it nests, and whether a string holds a lone UTF-16 surrogate.

A lone surrogate (`"\\udfff"`) is valid JSON and a valid Python str, but not Unicode text: it cannot be
encoded as UTF-8, so storing it (PostgreSQL) or answering with it (every JSON response) fails later,
for everyone who reads the instance. It is refused where it comes in."""

import re
from itertools import accumulate, count
from operator import sub

_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"', re.DOTALL)
# brackets -> 2 (open) or 0 (close), everything else dropped: the running sum minus the count of
# brackets seen is the nesting depth, computed by C-level iterators even for a megabyte of "[[[["
_BRACKETS = bytes.maketrans(b"[{]}", b"\x02\x02\x00\x00")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[{]}")
#: an escape \uD800-\uDFFF in JSON text (after an even number of backslashes: not an escaped "\\u")
SURROGATE_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*+\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_SURROGATE = re.compile("[\ud800-\udfff]")


def json_depth(body: bytes) -> int:
    """The deepest nesting of arrays and objects in a JSON document (brackets inside strings do not
    count; a document that is not JSON gives a number that does not matter, as it is refused later)."""
    brackets = _STRING.sub(b"", body).translate(_BRACKETS, _NOT_BRACKETS)
    return max(map(sub, accumulate(brackets), count(1)), default=0)


def lone_surrogate_path(value: object, path: str = "") -> str | None:
    """The path (`a.b.0.c`) of the first key or string in parsed JSON holding a lone surrogate, or None.
    (Escaped pairs were joined into one character by the parser: what is left is alone.) Recursion is
    bounded by the depth limits checked before parsing."""
    if isinstance(value, str):
        return path if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{printable(key)}" if path else printable(key)
            if isinstance(key, str) and _SURROGATE.search(key):
                return inner
            found = lone_surrogate_path(item, inner)
            if found is not None:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = lone_surrogate_path(item, f"{path}.{i}" if path else str(i))
            if found is not None:
                return found
    return None


def printable(text: object) -> str:
    """Text with each surrogate written as its escape (`\\udfff`), so that it can be shown and stored."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", str(text))
