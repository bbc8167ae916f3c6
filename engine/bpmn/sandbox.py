"""The sandbox for everything a BPMN model makes the engine evaluate.

Expressions (conditions, timers, correlations, multi-instance, payloads) run in simpleeval with an
allow-list of functions and attributes. Scripts (script tasks, pre/post scripts) are compiled by
RestrictedPython with a stricter policy and run under a deadline, a memory-growth check and size
guards. Both share one set of guards, so a limit means the same thing in either place.
"""

import ast
import builtins
import datetime as dt
import decimal
import functools
import math
import operator
import os
import re
import sys
import textwrap
import threading
import time
import types
from collections.abc import Iterator, MappingView
from dataclasses import dataclass

from RestrictedPython import RestrictingNodeTransformer, compile_restricted_exec
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence
from RestrictedPython.transformer import copy_locations
from simpleeval import DEFAULT_OPERATORS, EvalWithCompoundTypes, InvalidExpression, NameNotDefined
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

SCRIPT_FILENAME = "<string>"  # SpiffWorkflow looks for this name in tracebacks to report the failing line


class SandboxError(Exception):
    """An expression or script did something the sandbox does not allow."""


class ScriptPolicyError(SandboxError):
    """A forbidden construct, name, attribute or call."""


class ScriptLimitError(SandboxError):
    """A time, size or memory limit was exceeded."""


class _Stop(BaseException):
    """Raised by the trace function. Not an Exception, so `except Exception:` in a script cannot swallow
    it: CPython uninstalls a trace function that raised, so a swallowed stop would never come again."""


@dataclass(frozen=True)
class SandboxLimits:
    cpu_seconds: float = 1.0  # elapsed time of one script run, checked at every line and call
    max_power_result_bits: int = 4096  # int results of **, * and <<
    max_sequence_length: int = 1_000_000  # str/list/tuple results of *, +, padding, join, range, str()
    max_data_size: int = 2_000_000  # elements + characters of task data after a script, of a result
    max_memory_growth_mb: int | None = 512  # process RSS growth during a script (Linux); None: no check


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STR = _names(
    "capitalize casefold center count endswith expandtabs find index isalnum isalpha isascii isdecimal "
    "isdigit isidentifier islower isnumeric isprintable isspace istitle isupper join ljust lower lstrip "
    "partition removeprefix removesuffix replace rfind rindex rjust rpartition rsplit rstrip split "
    "splitlines startswith strip swapcase title upper zfill"
)
_NUM = _names("real imag conjugate numerator denominator bit_length as_integer_ratio is_integer")
_DICT = _names("get items keys values copy clear pop popitem setdefault update")
_LIST = _names("append clear copy count extend index insert pop remove reverse sort")
_SET = _names(
    "add clear copy difference difference_update discard intersection intersection_update isdisjoint "
    "issubset issuperset pop remove symmetric_difference symmetric_difference_update union update"
)
_TIME = _names(
    "year month day hour minute second microsecond days seconds microseconds isoformat weekday "
    "isoweekday date time timestamp total_seconds strftime"
)
_ATTRS: dict[type, frozenset] = {
    str: _STR, int: _NUM, bool: _NUM, float: _NUM | {"hex"}, decimal.Decimal: _NUM, dict: _DICT,
    list: _LIST, tuple: frozenset({"count", "index"}), set: _SET, frozenset: _SET,
    dt.datetime: _TIME, dt.date: _TIME, dt.time: _TIME, dt.timedelta: _TIME,
}  # fmt: skip
_ALL_ATTRS = frozenset().union(*_ATTRS.values(), {"args"})
_MUTATING = _names(
    "append clear extend insert pop popitem remove reverse sort setdefault update add discard "
    "difference_update intersection_update symmetric_difference_update"
)
_SEQ = (str, bytes, list, tuple)
_EXPR_FUNCTIONS = _names("len min max abs round int float str bool sum any all sorted list tuple dict set")
_NOT_DATA = (types.ModuleType, Iterator, range, MappingView)
_FORBIDDEN_CALLS = _names(
    "getattr setattr delattr hasattr vars dir globals locals open compile eval exec input breakpoint "
    "help type object super memoryview classmethod staticmethod property"
)
_EXCEPTIONS = _names(
    "Exception ArithmeticError AssertionError AttributeError IndexError KeyError LookupError NameError "
    "NotImplementedError RuntimeError StopIteration TypeError ValueError ZeroDivisionError"
)
_PLAIN_BUILTINS = _names(
    "len min max abs int float bool any all sorted list dict tuple set frozenset enumerate zip map "
    "filter reversed divmod chr ord isinstance next hex oct bin"
)
_INPLACE = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow, "<<=": operator.ilshift,
    ">>=": operator.irshift, "&=": operator.iand, "|=": operator.ior, "^=": operator.ixor,
}  # fmt: skip
_BINOPS = {ast.Add: "_add_", ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_", ast.Mod: "_mod_"}
_PAGE_MB = (os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096) / 2**20
_SAMPLE_SECONDS = 0.01


def _rss_mb() -> float | None:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE_MB
    except (OSError, IndexError, ValueError):
        return None


def _tick() -> None:
    """Called at the top of every while-loop body: the call is the trace event that checks the deadline
    (CPython emits no line event for a loop that stays on one line, like `while True: pass`)."""


def _ticking_iter(iterable):
    yield from iterable  # each resume is a trace 'call' event: for-loops and comprehensions get checked


class _GuardedType(type):
    """Stands in for a builtin type: isinstance() still works, calling it goes through a size check."""

    def __instancecheck__(cls, obj):
        return isinstance(obj, cls.wrapped)

    def __subclasscheck__(cls, sub):
        return issubclass(sub, cls.wrapped)

    def __call__(cls, *args, **kwargs):
        return cls.make(*args, **kwargs)


class _Guards:
    """Everything that depends on the limits: guarded operators, attribute access, builtins, runner."""

    def __init__(self, limits: SandboxLimits) -> None:
        self.limits = limits
        checks = {"_add_": self._check_add, "_mul_": self._check_mul, "_pow_": self._check_pow,
                  "_lshift_": self._check_lshift, "_mod_": self._check_mod}  # fmt: skip
        ops = {"_add_": operator.add, "_mul_": operator.mul, "_pow_": operator.pow,
               "_lshift_": operator.lshift, "_mod_": operator.mod}  # fmt: skip
        self.binops = {name: self._guarded(checks[name], ops[name]) for name in checks}
        self.inplace_checks = {"+=": checks["_add_"], "*=": checks["_mul_"], "**=": checks["_pow_"],
                               "<<=": checks["_lshift_"], "%=": checks["_mod_"]}  # fmt: skip
        self.operators = {**DEFAULT_OPERATORS, **{op: self.binops[name] for op, name in _BINOPS.items()}}
        str_type = _GuardedType("str", (), {"wrapped": str, "make": staticmethod(self.to_str)})
        self.functions = {name: getattr(builtins, name) for name in _EXPR_FUNCTIONS - {"str", "round", "sum"}}
        self.functions.update(str=str_type, round=self.round_, sum=self.sum_)
        script_builtins = {name: getattr(builtins, name) for name in (*_PLAIN_BUILTINS, *_EXCEPTIONS)}
        script_builtins.update(self.functions, range=self.range_, pow=self.pow_, repr=self.to_repr)
        self.script_globals = {
            "__builtins__": script_builtins, "_getattr_": self.attr, "_getitem_": operator.getitem,
            "_getiter_": _ticking_iter, "_write_": full_write_guard, "_tick_": _tick,
            "_unpack_sequence_": guarded_unpack_sequence, "_iter_unpack_sequence_": guarded_iter_unpack_sequence, "_inplacevar_": self.inplacevar,
            "_apply_": self.apply, "_print_": self.printer, "_format_": self.format,
            "_display_": self.display, **self.binops,
        }  # fmt: skip
        self.local = threading.local()

    # -- checks --------------------------------------------------------------------------------------

    def length(self, n: int, what: str) -> int:
        if n > self.limits.max_sequence_length:
            raise ScriptLimitError(f"{what} would create {n:,} items; the limit is "
                                   f"{self.limits.max_sequence_length:,}")  # fmt: skip
        return n

    def _bits(self, bits: float, what: str) -> None:
        if bits > self.limits.max_power_result_bits:
            raise ScriptLimitError(f"'{what}' would create an integer of more than "
                                   f"{self.limits.max_power_result_bits} bits")  # fmt: skip

    def exceeds(self, value, limit: int) -> bool:
        """Whether the value's expanded size (what repr() or JSON would produce) is over the limit.
        Walks without a memo on purpose: aliased containers cost their expanded size everywhere."""
        total, stack = 0, [value]
        while stack:
            v = stack.pop()
            if isinstance(v, (str, bytes)):
                total += len(v)
            elif isinstance(v, (list, tuple, set, frozenset, dict)):
                total += len(v) + 1
                if total > limit:
                    return True
                stack.extend(v)
                if isinstance(v, dict):
                    stack.extend(v.values())
            else:
                total += 1
            if total > limit:
                return True
        return False

    def _check_text(self, value, what: str):
        if not isinstance(value, (int, float, bool)) and self.exceeds(value, self.limits.max_sequence_length):
            raise ScriptLimitError(f"{what} would create a string longer than "
                                   f"{self.limits.max_sequence_length:,} characters")  # fmt: skip
        return value

    def _check_add(self, a, b) -> None:
        if isinstance(a, _SEQ) and isinstance(b, _SEQ):
            self.length(len(a) + len(b), "'+'")

    def _check_mul(self, a, b) -> None:
        if isinstance(a, int) and isinstance(b, int):
            self._bits(a.bit_length() + b.bit_length(), "*")
        elif isinstance(a, _SEQ) and isinstance(b, int):
            self.length(len(a) * b, "'*'")
        elif isinstance(a, int) and isinstance(b, _SEQ):
            self.length(a * len(b), "'*'")

    def _check_pow(self, a, b) -> None:
        if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
            self._bits(math.inf if b.bit_length() > 40 else b * math.log2(abs(a)), "**")

    def _check_lshift(self, a, b) -> None:
        if isinstance(a, int) and isinstance(b, int) and a and b > 0:
            self._bits(a.bit_length() + b, "<<")

    def _check_mod(self, a, b) -> None:
        if isinstance(a, str):
            args = b if isinstance(b, tuple) else (b,)
            for spec in re.findall(r"%(?:\([^)]*\))?([-#0 +*.\d]*)", a):
                for n in re.findall(r"\d+", spec):
                    self.length(int(n), "a '%' format width")
                if "*" in spec:
                    for n in args:
                        if isinstance(n, int):
                            self.length(abs(n), "a '%' format width")
            self._check_text(b, "'%'")

    @staticmethod
    def _guarded(check, op):
        def guarded(a, b):
            check(a, b)
            return op(a, b)

        return guarded

    # -- what compiled scripts and expressions call --------------------------------------------------

    def inplacevar(self, op: str, x, y):
        check = self.inplace_checks.get(op)
        if check:
            check(x, y)
        return _INPLACE[op](x, y)

    def attr(self, obj, name: str, readonly: bool = False):
        allowed = _ATTRS.get(type(obj))
        if allowed is None:
            if isinstance(obj, BaseException) and name == "args":
                return obj.args
            allowed = next((a for t, a in _ATTRS.items() if isinstance(obj, t)), frozenset())
        if name not in allowed or (readonly and name in _MUTATING):
            raise ScriptPolicyError(f'"{type(obj).__name__}.{name}" is not allowed')
        return self._sized(obj, name, getattr(obj, name))

    def _sized(self, obj, name: str, method):
        """Methods whose result can be far larger than their inputs check the size first."""
        if isinstance(obj, str) and name in ("center", "ljust", "rjust", "zfill"):
            return lambda width, *args: method(self.length(width, f"str.{name}()"), *args)
        if isinstance(obj, str) and name == "expandtabs":

            def expandtabs(tabsize=8):
                self.length(len(obj) * max(tabsize, 1), "str.expandtabs()")
                return method(tabsize)

            return expandtabs
        if isinstance(obj, str) and name == "replace":

            def replace(old, new, count=-1):
                hits = obj.count(old) if old else len(obj) + 1
                hits = hits if count < 0 else min(hits, count)
                self.length(len(obj) + hits * max(len(new) - len(old), 0), "str.replace()")
                return method(old, new, count)

            return replace
        if isinstance(obj, str) and name == "join":

            def join(items):
                items = list(items)
                self.length(sum(len(i) for i in items if isinstance(i, str)) + len(obj) * len(items), name)
                return method(items)

            return join
        if isinstance(obj, list) and name == "extend":

            def extend(items):
                items = list(items)
                self.length(len(obj) + len(items), "list.extend()")
                return method(items)

            return extend
        return method

    def format(self, value, conversion: int = -1, spec: str = "") -> str:
        self._check_text(value, "an f-string")
        for n in re.findall(r"\d+", spec):
            self.length(int(n), "an f-string width")
        value = {115: str, 114: repr, 97: ascii}.get(conversion, lambda v: v)(value)
        return format(value, spec)

    def to_str(self, value="", *args):
        return str(self._check_text(value, "str()"), *args)

    def to_repr(self, value):
        return repr(self._check_text(value, "repr()"))

    def round_(self, number, ndigits=None):
        if ndigits is not None and abs(ndigits) > 1000:
            raise ScriptLimitError("round() takes at most 1000 digits")
        return round(number, ndigits)

    def sum_(self, iterable, start=0):
        if isinstance(start, _SEQ):
            raise ScriptPolicyError("sum() adds numbers; use str.join() or a comprehension for sequences")
        return sum(iterable, start)

    def range_(self, *args):
        r = range(*args)
        try:
            self.length(len(r), "range()")
        except OverflowError:
            self.length(sys.maxsize, "range()")
        return r

    def pow_(self, base, exp, mod=None):
        return self.binops["_pow_"](base, exp) if mod is None else pow(base, exp, mod)

    def apply(self, func, *args, **kwargs):
        self.length(len(args) + len(kwargs), "a call with *args")
        return func(*args, **kwargs)

    def display(self, seq):
        self.length(len(seq), "a list or tuple display")
        return seq

    def printer(self, _getattr_=None):
        """print() in scripts: checked for size, then discarded (there is nowhere to show it)."""
        guards = self

        class Printer:
            def _call_print(self, *objects, **kwargs):
                guards._check_text(objects, "print()")

            def __call__(self):
                return ""

        return Printer()

    # -- running -------------------------------------------------------------------------------------

    def run(self, code: types.CodeType, context: dict) -> None:
        limits, clock = self.limits, time.perf_counter
        deadline = clock() + limits.cpu_seconds
        base = _rss_mb() if limits.max_memory_growth_mb is not None else None
        checkpoint = min(clock() + _SAMPLE_SECONDS, deadline)

        def on_line(frame, event, arg):
            nonlocal checkpoint
            now = clock()
            if now >= checkpoint:
                if now >= deadline:
                    raise _Stop(f"the script ran longer than its limit of {limits.cpu_seconds} s")
                if base is not None and (_rss_mb() or base) - base > limits.max_memory_growth_mb:
                    raise _Stop(f"the script used more than {limits.max_memory_growth_mb} MB of memory")
                checkpoint = min(now + _SAMPLE_SECONDS, deadline)
            return on_line

        def on_call(frame, event, arg):
            on_line(frame, event, arg)
            return on_line if frame.f_code.co_filename == SCRIPT_FILENAME else None

        previous = sys.gettrace()
        sys.settrace(on_call)
        try:
            exec(code, context)
        except _Stop as stop:
            raise ScriptLimitError(str(stop)).with_traceback(stop.__traceback__) from None
        finally:
            sys.settrace(previous)

    def evaluator(self, names) -> "_Evaluator":
        evaluator = getattr(self.local, "evaluator", None)
        if evaluator is None:
            evaluator = self.local.evaluator = _Evaluator(self)
        evaluator.names = names
        return evaluator


class _Evaluator(EvalWithCompoundTypes):
    def __init__(self, guards: _Guards) -> None:
        super().__init__(operators=guards.operators, functions=dict(guards.functions), names={})
        self.guards = guards

    def _check_disallowed_items(self, item):
        pass  # names are task data, attributes are allow-listed; the default walk is exponential on aliases

    def _eval_attribute(self, node):
        return self.guards.attr(self._eval(node.value), node.attr, readonly=True)

    def _eval_formattedvalue(self, node):
        spec = self._eval(node.format_spec) if node.format_spec else ""
        return self.guards.format(self._eval(node.value), node.conversion, spec)


@functools.lru_cache(maxsize=16)
def _guards_for(limits: SandboxLimits) -> _Guards:
    return _Guards(limits)


# -- compiling ---------------------------------------------------------------------------------------


class _ScriptPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus size guards on operators and f-strings, and no constructs that
    could swallow the stop signal (bare except, control flow in finally) or that we have no use for."""

    def _call(self, name: str, args: list, like: ast.AST) -> ast.Call:
        call = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
        copy_locations(call, like)
        return call

    def visit_BinOp(self, node):
        node = self.node_contents_visit(node)
        name = _BINOPS.get(type(node.op))
        return self._call(name, [node.left, node.right], node) if name else node

    def visit_FormattedValue(self, node):
        node = self.node_contents_visit(node)
        spec = node.format_spec or ast.Constant("")
        node.value = self._call("_format_", [node.value, ast.Constant(node.conversion), spec], node)
        node.conversion, node.format_spec = -1, None
        return node

    def _visit_display(self, node):
        node = self.node_contents_visit(node)
        starred = isinstance(node.ctx, ast.Load) and any(isinstance(e, ast.Starred) for e in node.elts)
        return self._call("_display_", [node], node) if starred else node

    visit_List = visit_Tuple = _visit_display

    def visit_While(self, node):
        node = self.node_contents_visit(node)
        tick = ast.Expr(self._call("_tick_", [], node))
        copy_locations(tick, node)
        node.body.insert(0, tick)
        return node

    def visit_Call(self, node):
        if isinstance(node.func, ast.Name) and node.func.id in _FORBIDDEN_CALLS:
            self.error(node, f'"{node.func.id}" is not available in scripts')
        return super().visit_Call(node)

    def visit_Attribute(self, node):
        if not node.attr.startswith("_") and node.attr not in _ALL_ATTRS:
            self.error(node, f'".{node.attr}" is not allowed')
        return super().visit_Attribute(node)

    def visit_Import(self, node):
        self.error(node, "import statements are not allowed")
        return node

    visit_ImportFrom = visit_Import

    def visit_ClassDef(self, node):
        self.error(node, "class definitions are not allowed")
        return node

    def visit_ExceptHandler(self, node):
        if node.type is None:
            self.error(node, "a bare 'except:' is not allowed; name the exception, e.g. 'except Exception:'")
        return super().visit_ExceptHandler(node)

    def visit_Try(self, node):
        for stmt in node.finalbody:
            for inner in ast.walk(stmt):
                if isinstance(inner, (ast.Return, ast.Break, ast.Continue)):
                    self.error(inner, "return, break and continue are not allowed in a 'finally' block")
        return super().visit_Try(node)


def _one_line(error: str) -> str:
    return re.sub(r"^Line (\d+): ", r"line \1: ", error.removeprefix("Line None: ")).rstrip(".")


def _syntax_error(e: SyntaxError) -> ScriptPolicyError:
    return ScriptPolicyError(f"line {e.lineno}: {e.msg}" if e.lineno else e.msg)


@functools.lru_cache(maxsize=2048)
def _compile_script(source: str) -> types.CodeType:
    try:
        tree = ast.parse(textwrap.dedent(source), SCRIPT_FILENAME, "exec")
    except SyntaxError as e:
        raise _syntax_error(e) from None
    result = compile_restricted_exec(tree, SCRIPT_FILENAME, policy=_ScriptPolicy)
    if result.errors:
        raise ScriptPolicyError(_one_line(result.errors[0]))
    return result.code


_DT = r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?)?"
_N = r"\d+(?:[.,]\d+)?"
_DUR = rf"P(?=\d|T\d)(?:{_N}Y)?(?:{_N}M)?(?:{_N}W)?(?:{_N}D)?(?:T(?=\d)(?:{_N}H)?(?:{_N}M)?(?:{_N}S)?)?"
_ISO = re.compile(rf"(?:R\d*/)?(?:(?:{_DT}|{_DUR})/)?(?:{_DT}|{_DUR})")
_JUEL = re.compile(r"[$#]\{(.*)\}", re.S)
_JUEL_STRINGS = re.compile(r"""('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")""")
_JUEL_WORDS = {"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">=", "true": "True",
               "false": "False", "null": "None", "div": "/", "mod": "%", "empty": "not"}  # fmt: skip
_EXPR_NODES = (
    ast.Expression, ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.IfExp, ast.Call, ast.keyword,
    ast.Name, ast.Constant, ast.Attribute, ast.Subscript, ast.Slice, ast.List, ast.Tuple, ast.Dict,
    ast.Set, ast.ListComp, ast.GeneratorExp, ast.DictComp, ast.comprehension, ast.JoinedStr,
    ast.FormattedValue, ast.Starred, ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop,
)  # fmt: skip


def _translate_juel(text: str) -> str:
    """`${a && !b}` -> `a and not b`, outside string literals. `!` and `empty` become Python's `not`,
    which binds looser than comparisons: `!a == b` means `not (a == b)` here."""
    parts = _JUEL_STRINGS.split(text)
    for i in range(0, len(parts), 2):
        p = parts[i].replace("&&", " and ").replace("||", " or ")
        p = re.sub(r"!(?!=)", " not ", p)
        parts[i] = re.sub(r"\b(?:eq|ne|lt|gt|le|ge|true|false|null|div|mod|empty)\b",
                          lambda m: f" {_JUEL_WORDS[m[0]]} ", p)  # fmt: skip
    return "".join(parts)


def _check_expression_tree(tree: ast.Expression) -> None:
    for node in ast.walk(tree):
        line = f"line {getattr(node, 'lineno', 1)}: "
        if not isinstance(node, _EXPR_NODES):
            raise ScriptPolicyError(f"{line}{type(node).__name__} is not allowed in an expression")
        if isinstance(node, ast.Name) and node.id.startswith("_"):
            raise ScriptPolicyError(
                f'{line}"{node.id}" is an invalid variable name because it starts with "_"'
            )
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise ScriptPolicyError(
                f'{line}"{node.attr}" is an invalid attribute name because it starts with "_"'
            )
        if isinstance(node, ast.Attribute) and (node.attr not in _ALL_ATTRS or node.attr in _MUTATING):
            raise ScriptPolicyError(f'{line}".{node.attr}" is not allowed in an expression')
        if isinstance(node, ast.keyword) and node.arg is None:
            raise ScriptPolicyError(f"{line}'**' arguments are not allowed in an expression")
        if isinstance(node, ast.Call) and not isinstance(node.func, ast.Attribute | ast.Name):
            raise ScriptPolicyError(f"{line}only functions and methods can be called in an expression")
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) not in _EXPR_FUNCTIONS | {None}:
            raise ScriptPolicyError(f'{line}calling "{node.func.id}" is not allowed in an expression')


@functools.lru_cache(maxsize=4096)
def _parse_expression(source: str) -> tuple[ast.expr | None, str | None]:
    """The checked tree, and the ISO-8601 string the source also reads as (for Camunda timers)."""
    text = source.strip()
    if juel := _JUEL.fullmatch(text):
        text = _translate_juel(juel[1]).strip()
    iso = text if _ISO.fullmatch(text) else None
    try:
        tree = ast.parse(text, "<expression>", "eval")
    except SyntaxError as e:
        try:  # a condition spread over several lines, as Camunda allows
            tree = ast.parse(f"({text}\n)", "<expression>", "eval") if "\n" in text else None
        except SyntaxError:
            tree = None
        if tree is None:
            if iso is not None:
                return None, iso
            raise _syntax_error(e) from None
    _check_expression_tree(tree)
    return tree.body, iso


def check_expression(source: str) -> str | None:
    """Deploy-time check without running anything: None if fine, else a one-line message."""
    try:
        _parse_expression(source)
    except ScriptPolicyError as e:
        return str(e)
    return None


def check_script(source: str) -> str | None:
    """Deploy-time check without running anything: None if fine, else a one-line message."""
    try:
        _compile_script(source)
    except ScriptPolicyError as e:
        return str(e)
    return None


# -- SpiffWorkflow integration -----------------------------------------------------------------------


class SandboxedEnvironment(TaskDataEnvironment):
    def __init__(self, limits: SandboxLimits = SandboxLimits()) -> None:
        self.limits = limits
        self._guards = _guards_for(limits)
        super().__init__(self._guards.script_globals)

    def evaluate(self, expression, context, external_context=None):
        tree, iso = _parse_expression(expression)
        if tree is None:
            return iso
        names = {**external_context, **context} if external_context else context
        evaluator = self._guards.evaluator(names)
        try:
            result = evaluator.eval(expression, previously_parsed=tree)
        except NameNotDefined as e:
            if iso is not None:
                return iso
            raise NameError(f"name '{e.name}' is not defined") from None
        except InvalidExpression as e:
            raise ScriptPolicyError(str(e)) from None
        finally:
            evaluator.names = {}  # do not keep the task data alive in the thread-local evaluator
        if isinstance(result, (list, tuple, dict, set, str)) and self._guards.exceeds(
            result, self.limits.max_data_size
        ):
            raise ScriptLimitError(f"the expression's result is larger than {self.limits.max_data_size:,}")
        return result

    def execute(self, script, context, external_context=None):
        code = _compile_script(script)
        before = dict(context)
        context.update(external_context or {})
        context.update(self.globals)
        try:
            self._guards.run(code, context)
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
            for key in [k for k, v in context.items() if isinstance(v, _NOT_DATA)]:
                del context[key]
            oversized = self._undo_if_oversized(context, before)
        if oversized:
            limit = self.limits.max_data_size
            raise ScriptLimitError(f"the script left more than {limit:,} items and characters in the task data")
        return True

    def _undo_if_oversized(self, context: dict, before: dict) -> bool:
        """Task data is serialized after every step, even a failed one: an oversized or aliased
        (exponential when expanded) value would stall the serializer, so undo the assignments and drop it."""
        limit = self.limits.max_data_size
        if not self._guards.exceeds(context, limit):
            return False
        context.clear()
        context.update(before)
        for key in [k for k, v in context.items() if self._guards.exceeds(v, limit)]:
            del context[key]
        return True


class _SandboxedScriptEngine(PythonScriptEngine):
    def evaluate(self, task, expression, external_context=None):
        """As SpiffWorkflow's, but the message names the cause (Spiff's says only which expression)."""
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException as se:
            se.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as e:
            raise WorkflowTaskException(
                f"Error evaluating expression '{expression}': {type(e).__name__}: {e}", task=task, exception=e
            ) from e


def make_script_engine(limits: SandboxLimits = SandboxLimits()) -> PythonScriptEngine:
    return _SandboxedScriptEngine(environment=SandboxedEnvironment(limits))
