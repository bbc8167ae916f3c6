"""A small, safe FEEL subset for form-js expressions (no eval/exec).

Semantics follow @bpmn-io/feelin 6.1 (what form-js 1.23 runs in the browser), including its
quirks: comparisons of mismatched types give null, `<`/`>` coerce like JavaScript, `/ 0` is null,
and a unary test whose expression yields null matches (the implicit input is null).

Supported: number/string/boolean/null literals, lists `[..]`, contexts `{a: 1}`, names and paths
(`this.duty`, `parent.x`, `_this_`), indexes and filters (`i[1]`, `xs[item > 2]`),
`+ - * / **`, `= != < <= > >=`, `in`, `and`, `or`, `not(..)`, `if .. then .. else ..`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from functools import lru_cache
from typing import Any, TypeAlias, TypeVar

from engine.forms.jsrules import js_less

T = TypeVar("T")


class FeelError(ValueError):
    """A FEEL expression that cannot be parsed, or that uses something the subset cannot evaluate."""


_TOKEN = re.compile(
    r"""(?P<ws>\s+)
    |(?P<num>\d+(?:\.\d+)?|\.\d+)
    |(?P<str>"(?:[^"\\]|\\.)*")
    |(?P<name>[^\W\d]\w*)
    |(?P<op>\*\*|!=|<=|>=|[-+*/=<>()\[\]{},.:])""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "if", "then", "else", "in", "true", "false", "null"}
_COMPARE_OPS = {"=", "!=", "<", "<=", ">", ">="}
_STRING_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "r": "\r", "t": "\t"}


def _tokenize(source: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if not match:
            raise FeelError(f"unexpected character {source[pos]!r} at {pos}")
        pos = match.end()
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append((kind, match.group()))
    tokens.append(("end", ""))
    return tokens


def _unescape(literal: str) -> str:
    def replace(match: re.Match[str]) -> str:
        escape = match.group(1)
        if escape.startswith("u"):
            return chr(int(escape[1:], 16))
        if escape in _STRING_ESCAPES:
            return _STRING_ESCAPES[escape]
        raise FeelError(f"unknown string escape \\{escape}")

    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", replace, literal[1:-1])


#: A node of the syntax tree: nested tuples tagged by their first item (`("cmp", "<", left, right)`).
Node: TypeAlias = tuple[Any, ...]


class _Parser:
    """Recursive descent over the token list; the AST is nested tuples tagged by their first item."""

    def __init__(self, source: str) -> None:
        self.tokens = _tokenize(source)
        self.pos = 0

    def peek(self, value: str | None = None, kind: str | None = None) -> bool:
        tok_kind, tok_value = self.tokens[self.pos]
        if kind is not None and tok_kind != kind:
            return False
        return value is None or (tok_value == value and tok_kind in ("op", "name"))

    def take(self, value: str | None = None, kind: str | None = None) -> str:
        if not self.peek(value, kind):
            found = self.tokens[self.pos][1] or "end of expression"
            raise FeelError(f"expected {value or kind}, found {found!r}")
        self.pos += 1
        return self.tokens[self.pos - 1][1]

    def parse(self) -> Node:
        node = self.expression()
        self.take(kind="end")
        return node

    def expression(self) -> Node:
        if self.peek("if", "name"):
            self.take()
            condition = self.expression()
            self.take("then")
            then = self.expression()
            self.take("else")
            return ("if", condition, then, self.expression())
        return self.disjunction()

    def disjunction(self) -> Node:
        node = self.conjunction()
        while self.peek("or", "name"):
            self.take()
            node = ("or", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.comparison()
        while self.peek("and", "name"):
            self.take()
            node = ("and", node, self.comparison())
        return node

    def comparison(self) -> Node:
        node = self.additive()
        if self.peek(kind="op") and self.tokens[self.pos][1] in _COMPARE_OPS:
            return ("cmp", self.take(), node, self.additive())
        if self.peek("in", "name"):
            self.take()
            return ("in", node, self.additive())
        return node

    def additive(self) -> Node:
        node = self.multiplicative()
        while self.peek("+", "op") or self.peek("-", "op"):
            node = ("arith", self.take(), node, self.multiplicative())
        return node

    def multiplicative(self) -> Node:
        node = self.power()
        while self.peek("*", "op") or self.peek("/", "op"):
            node = ("arith", self.take(), node, self.power())
        return node

    def power(self) -> Node:
        node = self.unary()
        while self.peek("**", "op"):
            node = ("arith", self.take(), node, self.unary())
        return node

    def unary(self) -> Node:
        if self.peek("-", "op"):
            self.take()
            return ("arith", "-", ("lit", 0), self.unary())
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        while True:
            if self.peek(".", "op"):
                self.take()
                node = ("path", node, self.take(kind="name"))
            elif self.peek("[", "op"):
                self.take()
                node = ("filter", node, self.expression())
                self.take("]")
            else:
                return node

    def primary(self) -> Node:
        kind, value = self.tokens[self.pos]
        if kind == "num":
            self.pos += 1
            return ("lit", float(value) if "." in value else int(value))
        if kind == "str":
            self.pos += 1
            return ("lit", _unescape(value))
        if kind == "name":
            return self.name_or_call()
        if value == "(":
            self.take()
            node = self.expression()
            self.take(")")
            return ("paren", node)
        if value == "[":
            self.take()
            return ("list", self.items("]", self.expression))
        if value == "{":
            self.take()
            return ("context", self.items("}", self.context_entry))
        raise FeelError(f"unexpected {value or 'end of expression'!r}")

    def name_or_call(self) -> Node:
        name = self.take(kind="name")
        if name in ("true", "false"):
            return ("lit", name == "true")
        if name == "null":
            return ("lit", None)
        if name == "not":
            self.take("(")
            return ("not", self.items(")", self.expression))
        if name in _KEYWORDS:
            raise FeelError(f"unexpected keyword {name!r}")
        if self.peek("(", "op"):
            raise FeelError(f"function {name}() is not supported")
        return ("name", name)

    def items(self, closing: str, parse_item: Callable[[], T]) -> list[T]:
        items: list[T] = []
        while not self.peek(closing, "op"):
            items.append(parse_item())
            if not self.peek(closing, "op"):
                self.take(",")
        self.take(closing)
        return items

    def context_entry(self) -> Node:
        kind, value = self.tokens[self.pos]
        if kind not in ("name", "str"):
            raise FeelError(f"expected a context key, found {value!r}")
        self.pos += 1
        key = _unescape(value) if kind == "str" else value
        self.take(":")
        return (key, self.expression())


@lru_cache(maxsize=1024)
def parse(source: str) -> Node:
    """Parse a FEEL expression (without the leading '='); raise FeelError when it is not in the subset."""
    try:
        return _Parser(source).parse()
    except RecursionError:
        raise FeelError("expression nests too deeply") from None


def strip_marker(expression: str) -> str:
    """'=a > 1' -> 'a > 1' (form-js marks FEEL strings with a leading '=')."""
    return expression[1:] if expression.startswith("=") else expression


def evaluate(expression: str, variables: dict[str, Any]) -> Any:
    """Evaluate a FEEL expression (leading '=' optional) against `variables`; FeelError if unsupported."""
    tree = parse(strip_marker(expression))
    try:
        return _eval(tree, variables)
    except RecursionError:
        raise FeelError("value nests too deeply") from None


def unary_test(expression: str, variables: dict[str, Any]) -> bool:
    """Evaluate like feelin's unaryTest with no input value: true, null, or a list holding null match.

    A top-level `not(a, b)` is a negated unary test, as in feelin.
    """
    tree = parse(strip_marker(expression))
    try:
        if tree[0] == "not":
            return not any(_matches_null_input(_eval(arg, variables)) for arg in tree[1])
        return _matches_null_input(_eval(tree, variables))
    except RecursionError:
        raise FeelError("value nests too deeply") from None


def _matches_null_input(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, list):
        return any(item is None for item in value)
    return value is None


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)


def _feel_type(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "context"
    return "other"


def equals(a: Any, b: Any) -> bool | None:
    """feelin's `=`: null vs non-null is false, other type mismatches are null, deep for lists/contexts."""
    if (a is None) != (b is None):
        return False
    if isinstance(a, list) and len(a) < 2:
        a = a[0] if a else None
    if isinstance(b, list) and len(b) < 2:
        b = b[0] if b else None
    a_type, b_type = _feel_type(a), _feel_type(b)
    if a_type != b_type:
        return None
    if a_type == "nil":
        return True
    if a_type == "list":
        return len(a) == len(b) and all(equals(x, y) for x, y in zip(a, b, strict=True))
    if a_type == "context":
        return a.keys() == b.keys() and all(equals(a[k], b[k]) for k in a)
    return bool(a == b)


def _compare(op: str, left: Any, right: Any) -> bool | None:
    if op == "=":
        return equals(left, right)
    if op == "!=":
        return equals(left, right) is not True
    if right is not None and _feel_type(right) not in ("number", "string"):
        raise FeelError(f"cannot compare with {op} {_feel_type(right)}")
    if left is None or right is None:
        return None
    if op == "<":
        return js_less(left, right, False)
    if op == "<=":
        return js_less(left, right, True)
    if op == ">":
        return js_less(right, left, False)
    return js_less(right, left, True)


#: An integer power beyond this many bits is computed as a float (and overflows to null).
_MAX_POWER_BITS = 4096


def _arith(op: str, left: Any, right: Any) -> Any:
    left_type, right_type = _feel_type(left), _feel_type(right)
    allowed = ("number", "string") if op == "+" else ("number",)
    if left_type != right_type or left_type not in allowed:
        return None
    if left_type == "string":
        return left + right
    if isinstance(left, Decimal) or isinstance(right, Decimal):
        left, right = float(left), float(right)
    try:
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        if op == "*":
            return left * right
        if op == "/":
            return None if right == 0 else left / right
        if isinstance(left, int) and isinstance(right, int) and right * left.bit_length() > _MAX_POWER_BITS:
            left = float(left)  # an exact power this big would take unbounded time: overflow is null
        return left**right
    except (OverflowError, ZeroDivisionError):
        return None


def _logic(op: str, left: Any, right: Any) -> bool | None:
    a = left if isinstance(left, bool) else None
    b = right if isinstance(right, bool) else None
    if op == "and":
        if a is False or b is False:
            return False
        return True if a and b else None
    if a is True or b is True:
        return True
    return False if a is False and b is False else None


def _path(target: Any, name: str) -> Any:
    if isinstance(target, list):
        return [_path(item, name) for item in target]
    if isinstance(target, dict):
        return target.get(name)
    return None


def _filter(node: Node, variables: dict[str, Any]) -> Any:
    target = _eval(node[1], variables)
    if target is None:
        return None
    items = target if isinstance(target, list) else [target]
    condition = node[2]
    if condition[0] in ("cmp", "in", "and", "or"):
        kept = []
        for item in items:
            scope = {**variables, "item": item, **(item if isinstance(item, dict) else {})}
            if _eval(condition, scope) is True:
                kept.append(item)
        return kept
    index = _eval(condition, variables)
    if isinstance(index, bool):
        return target if index else []
    if isinstance(index, str):
        return [item for item in items if item == index]
    if not is_number(index):
        return []
    position = int(index) if index == int(index) else None
    if position is None or position == 0 or abs(position) > len(items):
        return None
    return items[position - 1] if position > 0 else items[position]


def _eval(node: Node, variables: dict[str, Any]) -> Any:
    kind = node[0]
    if kind == "lit":
        return node[1]
    if kind == "name":
        return variables.get(node[1])
    if kind == "paren":
        return _eval(node[1], variables)
    if kind == "path":
        return _path(_eval(node[1], variables), node[2])
    if kind == "filter":
        return _filter(node, variables)
    if kind == "list":
        return [_eval(item, variables) for item in node[1]]
    if kind == "context":
        return {key: _eval(value, variables) for key, value in node[1]}
    if kind == "arith":
        return _arith(node[1], _eval(node[2], variables), _eval(node[3], variables))
    if kind == "cmp":
        return _compare(node[1], _eval(node[2], variables), _eval(node[3], variables))
    if kind in ("and", "or"):
        return _logic(kind, _eval(node[1], variables), _eval(node[2], variables))
    if kind == "not":
        if len(node[1]) != 1:
            return None
        value = _eval(node[1][0], variables)
        return (not value) if isinstance(value, bool) else None
    if kind == "in":
        return _in(_eval(node[1], variables), _eval(node[2], variables))
    if kind == "if":
        condition = _eval(node[1], variables)
        return _eval(node[2] if condition is not False and condition is not None else node[3], variables)
    raise FeelError(f"cannot evaluate {kind}")  # pragma: no cover - the parser builds no other nodes


def _in(value: Any, tests: Any) -> bool | None:
    if not isinstance(tests, list):
        if tests is None:
            return None
        tests = [tests]
    return any(equals(test, value) is True for test in tests)
