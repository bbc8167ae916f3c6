"""FEEL of decision tables, compiled to expressions that the BPMN sandbox evaluates.

Expressions are read by the FEEL parser the forms already use (`engine.forms.feel.parse`: no eval,
a closed grammar) and written out as Python expression source for `engine.bpmn.sandbox`: so a
decision obeys exactly the time, size and memory limits of conditions and scripts. On top of that
parser this module adds what tables need: unary tests (`-`, `< 10`, `[1..5]`, `"a","b"`,
`not(..)`, `?`), and date, date-time and duration literals, which are turned into constants at
compile time so that the sandbox never has to call a function to build them.
"""

import datetime as dt
import keyword
import re
from dataclasses import dataclass, field

from engine.bpmn.sandbox import check_expression
from engine.forms.feel import FeelError, Node, parse

INPUT = "dmn_input"  # the name `?` and the implicit input of a unary test become
_FUNCTION_LITERAL = re.compile(r'\b(date and time|date|time|duration)\(\s*"([^"]*)"\s*\)')
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_RANGE = re.compile(r"^([\[\(\]])\s*(.+?)\s*\.\.\s*(.+?)\s*([\]\)\[])$", re.S)
_COMPARISON = re.compile(r"^(<=|>=|!=|<|>|=)\s*(.+)$", re.S)
_DURATION = re.compile(r"^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")
_PY_OPS = {"=": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


@dataclass(frozen=True)
class Compiled:
    """Python source for the sandbox, the variables it reads, and the constants it names."""

    source: str
    names: frozenset[str] = frozenset()
    constants: dict[str, object] = field(default_factory=dict)
    literal: bool = False  # no variables: the value is known without evaluating anything
    value: object = None  # the value, when literal
    variable: str | None = None  # the expression is just this variable: read, not evaluated

    @property
    def free_names(self) -> frozenset[str]:
        return self.names - self.constants.keys()


def compile_expression(text: str, *, prefix: str = "dmn_c") -> Compiled:
    """A FEEL expression (input expression, output entry). FeelError when it is outside the subset."""
    text, constants = _lift_literals(text.strip(), prefix)
    if not text:
        return Compiled("None", literal=True)
    if text in constants:
        return Compiled(text, frozenset({text}), constants, literal=True, value=constants[text])
    tree = parse(_question_mark(text))
    source = _python(tree)
    names = _names(tree)
    literal = not names and tree[0] in ("lit", "list", "context")
    variable = tree[1] if tree[0] == "name" else None
    compiled = Compiled(
        source, frozenset(names), constants, literal, _literal_value(tree) if literal else None, variable
    )
    _check(compiled)
    return compiled


def compile_unary_tests(text: str, subject: str, *, prefix: str = "dmn_c") -> Compiled | None:
    """An input entry as a boolean expression over `subject` (the input's value); None for `-`."""
    text = text.strip()
    if text in ("", "-"):
        return None
    text, constants = _lift_literals(text, prefix)
    negated = re.fullmatch(r"not\s*\((.*)\)", text, re.S)
    body = negated[1] if negated else text
    tests = [_unary_test(part.strip(), subject) for part in _split_top_level(body)]
    if not tests or any(t[0] == "" for t in tests):
        raise FeelError(f"empty test in {text!r}")
    source = " or ".join(f"({t[0]})" for t in tests)
    source = f"not ({source})" if negated else source
    names = frozenset().union(*(t[1] for t in tests)) | {subject}
    compiled = Compiled(source, names, constants)
    _check(compiled)
    return compiled


def _unary_test(test: str, subject: str) -> tuple[str, set[str]]:
    if INPUT in test or "?" in _STRING.sub('""', test):  # an expression over the input: `? > 5`
        tree = parse(_question_mark(test).replace(INPUT, subject))
        return _python(tree), _names(tree)
    if test == "null":
        return f"{subject} is None", set()
    if found := _RANGE.match(test):
        start, low, high, end = found.groups()
        low_tree, high_tree = parse(low), parse(high)
        low_op = "<=" if start == "[" else "<"
        high_op = "<=" if end == "]" else "<"
        low_source, high_source = _python(low_tree), _python(high_tree)
        source = f"{subject} is not None and ({low_source}) {low_op} {subject} {high_op} ({high_source})"
        return source, _names(low_tree) | _names(high_tree)
    if found := _COMPARISON.match(test):
        op, operand = found.groups()
        tree = parse(operand)
        guard = "" if op in ("=", "!=") else f"{subject} is not None and "
        return f"{guard}{subject} {_PY_OPS[op]} ({_python(tree)})", _names(tree)
    tree = parse(test)
    if tree[0] == "list":
        return f"{subject} in {_python(tree)}", _names(tree)
    return f"{subject} == ({_python(tree)})", _names(tree)


def _check(compiled: Compiled) -> None:
    """The sandbox must accept what we hand it; checked at deploy, so a table never fails on it later."""
    error = check_expression(compiled.source)
    if error:
        raise FeelError(error)


def _split_top_level(text: str) -> list[str]:
    """`"a", [1..2], f(x, y)` -> three tests: commas inside strings, brackets and parentheses stay."""
    parts: list[str] = []
    current: list[str] = []
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            escaped = not escaped and char == "\\"
            in_string = escaped or char != '"'
        elif char == '"':
            in_string = True
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth <= 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _question_mark(text: str) -> str:
    """`?` (the input of a unary test) outside string literals, as a name the parser reads."""
    pieces = _STRING.split(text)
    strings = _STRING.findall(text)
    out = [pieces[0].replace("?", f" {INPUT} ")]
    for string, piece in zip(strings, pieces[1:], strict=True):
        out += [string, piece.replace("?", f" {INPUT} ")]
    return "".join(out)


def _lift_literals(text: str, prefix: str) -> tuple[str, dict[str, object]]:
    """`date("2026-01-31")` -> a named constant (a datetime.date), so the sandbox calls nothing."""
    constants: dict[str, object] = {}

    def lift(match: re.Match[str]) -> str:
        name = f"{prefix}_{len(constants)}"
        constants[name] = _temporal(match[1], match[2])
        return name

    return _FUNCTION_LITERAL.sub(lift, text), constants


def _temporal(kind: str, value: str) -> object:
    try:
        if kind == "date":
            return dt.date.fromisoformat(value)
        if kind == "date and time":
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if kind == "time":
            return dt.time.fromisoformat(value)
    except ValueError:
        raise FeelError(f'{kind}("{value}") is not a valid {kind}') from None
    found = _DURATION.match(value)
    if not found or value in ("P", "PT", "-P"):
        raise FeelError(f'duration("{value}") is not a days-and-time duration such as P2D or PT12H')
    sign, days, hours, minutes, seconds = found.groups()
    delta = dt.timedelta(
        days=int(days or 0), hours=int(hours or 0), minutes=int(minutes or 0), seconds=float(seconds or 0)
    )
    return -delta if sign else delta


def _python(node: Node) -> str:
    kind = node[0]
    if kind == "lit":
        return repr(node[1])
    if kind == "name":
        name: str = node[1]
        if keyword.iskeyword(name) or name.startswith("_"):
            raise FeelError(f"the name {name!r} cannot be used in a decision")
        return name
    if kind == "paren":
        return f"({_python(node[1])})"
    if kind == "path":  # FEEL: a missing key, or a path on null, is null
        target = _python(node[1])
        return f"({{}} if ({target}) is None else ({target})).get({node[2]!r})"
    if kind == "filter":
        index = node[2]
        if index[0] == "lit" and isinstance(index[1], int) and index[1] != 0:
            position = index[1] - 1 if index[1] > 0 else index[1]
            return f"({_python(node[1])})[{position}]"
        return f"[item for item in ({_python(node[1])}) if ({_python(index)})]"
    if kind == "list":
        return "[" + ", ".join(_python(item) for item in node[1]) + "]"
    if kind == "context":
        return "{" + ", ".join(f"{key!r}: {_python(value)}" for key, value in node[1]) + "}"
    if kind == "arith":
        return f"({_python(node[2])} {node[1]} {_python(node[3])})"
    if kind == "cmp":
        return f"({_python(node[2])} {_PY_OPS[node[1]]} {_python(node[3])})"
    if kind in ("and", "or"):
        return f"({_python(node[1])} {kind} {_python(node[2])})"
    if kind == "not":
        if len(node[1]) != 1:
            raise FeelError("not() takes one argument in an expression")
        return f"(not {_python(node[1][0])})"
    if kind == "in":
        return f"({_python(node[1])} in {_python(node[2])})"
    if kind == "if":
        return f"({_python(node[2])} if {_python(node[1])} else {_python(node[3])})"
    raise FeelError(f"{kind} is not supported in a decision")


def _names(node: Node) -> set[str]:
    kind = node[0]
    if kind == "name":
        return {node[1]}
    if kind == "lit":
        return set()
    if kind == "filter":
        inner = _names(node[2]) - ({"item"} if node[2][0] != "lit" else set())
        return _names(node[1]) | inner
    found: set[str] = set()
    for child in node[1:]:
        if isinstance(child, tuple):
            found |= _names(child)
        elif isinstance(child, list):
            for item in child:
                found |= _names(item[1] if isinstance(item, tuple) and isinstance(item[0], str)
                                and kind == "context" else item)  # fmt: skip
    return found


def _literal_value(node: Node) -> object:
    if node[0] == "lit":
        return node[1]
    if node[0] == "list":
        return [_literal_value(item) for item in node[1]]
    return {key: _literal_value(value) for key, value in node[1]}
