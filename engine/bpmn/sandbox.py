"""The sandbox for everything a BPMN model makes the engine evaluate.

Expressions (conditions, timers, correlations, multi-instance, payloads) run in simpleeval with
allow-listed functions and attributes. Scripts (script tasks, pre/post scripts) are compiled by
RestrictedPython with a stricter policy: every loop iteration and function call "ticks", which
enforces the time and memory limits, and operators and methods that can blow up check sizes first.
Expressions and scripts share one set of guards, so a limit means the same in both.
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
import textwrap
import threading
import time
import types
from collections.abc import Callable, Iterable, Iterator, MappingView, Sized
from dataclasses import dataclass
from typing import Any, TypeAlias, TypeVar

from RestrictedPython.compile import compile_restricted_exec
from RestrictedPython.Guards import full_write_guard, guarded_iter_unpack_sequence, guarded_unpack_sequence
from RestrictedPython.transformer import RestrictingNodeTransformer, copy_locations
from simpleeval import DEFAULT_OPERATORS, EvalWithCompoundTypes, InvalidExpression, NameNotDefined
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task

from engine.bpmn import timers
from engine.types import JsonObject

T = TypeVar("T")
S = TypeVar("S", bound=Sized)
#: A binary operator of scripts and expressions, on whatever values they hold.
BinOp = Callable[[Any, Any], Any]

SCRIPT_FILENAME = "<string>"  # SpiffWorkflow looks for this name in tracebacks to report the failing line


class SandboxError(Exception):
    """An expression or script did something the sandbox does not allow."""


class ScriptPolicyError(SandboxError):
    """A forbidden construct, name, attribute or call."""


class ScriptLimitError(SandboxError):
    """A time, size or memory limit was exceeded."""


class _Stop(BaseException):
    """Raised by a tick. Not an Exception, so `except Exception:` in a script does not catch it."""

    def __init__(self, message: str, run: "_Run | None" = None) -> None:
        super().__init__(message)
        if run:
            run.stopped = message  # a bare except or a finally can swallow it: the run still fails


@dataclass(frozen=True)
class SandboxLimits:
    cpu_seconds: float = 1.0  # CPU time of one script or expression
    max_power_result_bits: int = 4096  # int results of **, * and <<
    max_sequence_length: int = 1_000_000  # results of *, +, padding, join, range, str(), f-strings
    max_data_size: int = 2_000_000  # items + characters in the task data a script leaves, or a result
    max_memory_growth_mb: int | None = 512  # process RSS growth during one run (Linux); None: off


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


_STR = _names(
    "capitalize casefold center count endswith expandtabs find index isalnum isalpha isascii isdecimal "
    "isdigit isidentifier islower isnumeric isprintable isspace istitle isupper join ljust lower lstrip "
    "partition removeprefix removesuffix replace rfind rindex rjust rpartition rsplit rstrip split "
    "splitlines startswith strip swapcase title upper zfill"
)
_NUM = _names("real imag conjugate numerator denominator bit_length as_integer_ratio is_integer")
_SET = _names(
    "add clear copy difference difference_update discard intersection intersection_update isdisjoint "
    "issubset issuperset pop remove symmetric_difference symmetric_difference_update union update"
)
_TIME = _names(
    "year month day hour minute second microsecond days seconds microseconds isoformat weekday "
    "isoweekday date time timestamp total_seconds strftime"
)
_ATTRS: dict[type, frozenset[str]] = {
    str: _STR, int: _NUM, bool: _NUM, float: _NUM | {"hex"}, decimal.Decimal: _NUM,
    dict: _names("get items keys values copy clear pop popitem setdefault update"),
    list: _names("append clear copy count extend index insert pop remove reverse sort"),
    tuple: _names("count index"), set: _SET, frozenset: _SET,
    dt.datetime: _TIME, dt.date: _TIME, dt.time: _TIME, dt.timedelta: _TIME,
}  # fmt: skip
_ALL_ATTRS = frozenset().union(*_ATTRS.values(), {"args"})  # "args" of exceptions
_MUTATING = _names(
    "append clear extend insert pop popitem remove reverse sort setdefault update add discard "
    "difference_update intersection_update symmetric_difference_update"
)
_EXPR_FUNCTIONS = _names("len min max abs round int float str bool sum any all sorted list tuple dict set")
_SCRIPT_BUILTINS = _names(
    "frozenset enumerate zip reversed divmod chr ord isinstance next hex oct bin Exception ArithmeticError "
    "AssertionError AttributeError IndexError KeyError LookupError NameError NotImplementedError "
    "RuntimeError StopIteration TypeError ValueError ZeroDivisionError"
)
_FORBIDDEN_CALLS = _names(
    "getattr setattr delattr hasattr vars dir globals locals open compile eval exec input breakpoint "
    "help type object super memoryview classmethod staticmethod property"
)
_SEQ = (str, bytes, list, tuple)
_SCALARS = frozenset({int, float, bool, type(None), decimal.Decimal, dt.datetime, dt.date, dt.timedelta})
_NOT_DATA = (types.ModuleType, Iterator, range, MappingView)
_BINOPS = {ast.Add: "_add_", ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_", ast.Mod: "_mod_"}
_INPLACE: dict[str, tuple[str | None, BinOp]] = {
    "+=": ("_add_", operator.iadd), "-=": (None, operator.isub), "*=": ("_mul_", operator.imul),
    "/=": (None, operator.itruediv), "//=": (None, operator.ifloordiv), "%=": ("_mod_", operator.imod),
    "**=": ("_pow_", operator.ipow), "<<=": ("_lshift_", operator.ilshift), ">>=": (None, operator.irshift),
    "&=": (None, operator.iand), "|=": (None, operator.ior), "^=": (None, operator.ixor),
}  # fmt: skip
_PAGE_MB = (os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096) / 2**20
_SAMPLE_SECONDS = 0.01
_state = threading.local()


def _rss_mb() -> float | None:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE_MB
    except (OSError, IndexError, ValueError):
        return None


class _Run:
    """Checkpoints are spaced in wall-clock time (perf_counter is cheap); the limit is CPU time of the
    running thread, so a busy machine does not fail a script that is merely slowed down."""

    def __init__(self, limits: SandboxLimits, what: str) -> None:
        self.limits, self.what = limits, what
        self.cpu_deadline = time.thread_time() + limits.cpu_seconds
        self.checkpoint = time.perf_counter() + _SAMPLE_SECONDS
        self.base_mb: float | None = None  # read at the first checkpoint: most runs end long before
        self.stopped: str | None = None

    def check(self, now: float) -> None:
        if time.thread_time() >= self.cpu_deadline:
            seconds = f"{self.limits.cpu_seconds:g}"
            raise _Stop(f"the {self.what} ran longer than its limit of {seconds} s CPU", self)
        if self.limits.max_memory_growth_mb is not None and (rss := _rss_mb()) is not None:
            self.base_mb = rss if self.base_mb is None else self.base_mb
            if rss - self.base_mb > self.limits.max_memory_growth_mb:
                limit = self.limits.max_memory_growth_mb
                raise _Stop(f"the {self.what} used more than {limit} MB of memory", self)
        self.checkpoint = now + _SAMPLE_SECONDS


def _tick() -> None:
    """Starts every loop iteration and function call of a script, every node of an expression and
    every C-level callback. Once over the limit every tick raises, so a handler that swallows one
    stop only reaches the next tick: nothing can loop on."""
    run = getattr(_state, "run", None)
    if run is None:  # e.g. a generator's finally block run by the garbage collector later
        raise _Stop("script code can only run inside its task")
    now = time.perf_counter()
    if now >= run.checkpoint:
        run.check(now)


def _ticking_iter(iterable: Iterable[T]) -> Iterator[T]:
    for item in iterable:
        _tick()
        yield item


def _ticking_map(func: Callable[..., T], *iterables: Iterable[Any]) -> Iterator[T]:
    for args in zip(*iterables, strict=False):
        _tick()
        yield func(*args)


def _ticking_filter(func: Callable[[T], object] | None, iterable: Iterable[T]) -> Iterator[T]:
    for item in _ticking_iter(iterable):
        if (func or bool)(item):
            yield item


def _ticking_key(func: Callable[..., T]) -> Callable[..., T]:
    """sorted/min/max/list.sort call `key` from C, where nothing else would tick."""

    def call(*args: Any, key: Callable[[Any], Any] | None = None, **kwargs: Any) -> T:
        if key is not None:
            kwargs["key"] = lambda value: _ticked(key, value)
        return func(*args, **kwargs)

    return call


def _ticked(key: Callable[[Any], T], value: Any) -> T:
    _tick()
    return key(value)


class _GuardedType(type):
    """Stands in for `str`: isinstance() still works, calling it checks the argument's size first."""

    wrapped: type
    make: Callable[..., Any]

    def __instancecheck__(cls, obj: object) -> bool:
        return isinstance(obj, cls.wrapped)

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, cls.wrapped)

    def __call__(cls, *args: Any) -> Any:
        return cls.make(*args)


class _Guards:
    """Everything that depends on the limits: operators, attribute access, builtins, the runner."""

    def __init__(self, limits: SandboxLimits) -> None:
        self.limits = limits
        checks: dict[str, Callable[[object, object], None]]
        checks = {"_add_": self._check_add, "_mul_": self._check_mul, "_pow_": self._check_pow,
                  "_lshift_": self._check_lshift, "_mod_": self._check_mod}  # fmt: skip
        ops = {"_add_": operator.add, "_mul_": operator.mul, "_pow_": operator.pow,
               "_lshift_": operator.lshift, "_mod_": operator.mod}  # fmt: skip
        self.checks = checks
        self.binops = {name: self._guarded(checks[name], ops[name]) for name in checks}
        self.operators = {**DEFAULT_OPERATORS, **{op: self.binops[name] for op, name in _BINOPS.items()}}
        guarded_str = _GuardedType("str", (), {"wrapped": str, "make": staticmethod(self.to_str)})
        self.functions = {name: getattr(builtins, name) for name in _EXPR_FUNCTIONS}
        self.functions.update(str=guarded_str, round=self.round_, sum=self.sum_)
        self.functions.update({f: _ticking_key(getattr(builtins, f)) for f in ("sorted", "min", "max")})
        script_builtins = {name: getattr(builtins, name) for name in _SCRIPT_BUILTINS}
        script_builtins.update(self.functions, range=self.range_, pow=self.pow_, repr=self.to_repr,
                               map=_ticking_map, filter=_ticking_filter)  # fmt: skip
        self.builtin_names = frozenset(script_builtins)
        self.script_globals = {
            "__builtins__": script_builtins, "_getattr_": self.attr, "_getitem_": operator.getitem,
            "_getiter_": _ticking_iter, "_tick_": _tick, "_write_": full_write_guard,
            "_unpack_sequence_": guarded_unpack_sequence, "_inplacevar_": self.inplacevar,
            "_iter_unpack_sequence_": guarded_iter_unpack_sequence, "_apply_": self.apply,
            "_print_": self.printer, "_format_": self.format, "_display_": self.display, **self.binops,
        }  # fmt: skip
        self.local = threading.local()

    # -- size checks ---------------------------------------------------------------------------------

    def length(self, n: int, what: str) -> int:
        if n > self.limits.max_sequence_length:
            limit = self.limits.max_sequence_length
            raise ScriptLimitError(f"{what} would make {n:,} items; the limit is {limit:,}")
        return n

    def _bits(self, bits: float, what: str) -> None:
        if bits > self.limits.max_power_result_bits:
            limit = self.limits.max_power_result_bits
            raise ScriptLimitError(f"'{what}' would make an integer of more than {limit} bits")

    def exceeds(self, value: object, limit: int) -> bool:
        """Whether the size of `value` as repr() or JSON would write it is over `limit`. No memo on
        purpose: a container referenced a million times is written a million times."""
        total, stack = 0, [value]
        v: Any
        while stack:
            v = stack.pop()
            if isinstance(v, (str, bytes)):
                total += len(v)
            elif isinstance(v, (list, tuple, set, frozenset, dict)):
                total += len(v) + 1  # each scalar item counts one; only the others need a visit
                if total > limit:
                    return True
                stack += [x for x in (v.values() if isinstance(v, dict) else v) if type(x) not in _SCALARS]
                stack += v.keys() if isinstance(v, dict) else ()
            else:
                total += 1
            if total > limit:
                return True
        return False

    def _check_text(self, value: T, what: str) -> T:
        if not isinstance(value, (int, float)) and self.exceeds(value, self.limits.max_sequence_length):
            limit = self.limits.max_sequence_length
            raise ScriptLimitError(f"{what} would make a string longer than {limit:,} characters")
        return value

    def _check_add(self, a: object, b: object) -> None:
        if isinstance(a, _SEQ) and isinstance(b, _SEQ):
            self.length(len(a) + len(b), "'+'")

    def _check_mul(self, a: object, b: object) -> None:
        if isinstance(a, int) and isinstance(b, int):
            self._bits(a.bit_length() + b.bit_length(), "*")
        elif isinstance(a, _SEQ) and isinstance(b, int):
            self.length(len(a) * b, "'*'")
        elif isinstance(a, int) and isinstance(b, _SEQ):
            self.length(a * len(b), "'*'")

    def _check_pow(self, a: object, b: object) -> None:
        if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1:
            self._bits(math.inf if b.bit_length() > 40 else b * math.log2(abs(a)), "**")

    def _check_lshift(self, a: object, b: object) -> None:
        if isinstance(a, int) and isinstance(b, int) and a and b > 0:
            self._bits(a.bit_length() + b, "<<")

    def _check_mod(self, a: object, b: object) -> None:
        if isinstance(a, str):
            for spec in re.findall(r"%(?:\([^)]*\))?([-#0 +*.\d]*)", a):
                for n in re.findall(r"\d+", spec):
                    self.length(int(n), "a '%' width")
                for n in (b if isinstance(b, tuple) else (b,)) if "*" in spec else ():
                    self.length(abs(n) if isinstance(n, int) else 0, "a '%' width")
            self._check_text(b, "'%'")

    @staticmethod
    def _guarded(check: Callable[[Any, Any], None], op: BinOp) -> BinOp:
        def guarded(a: Any, b: Any) -> Any:
            check(a, b)
            return op(a, b)

        return guarded

    # -- what compiled scripts and expressions call --------------------------------------------------

    def inplacevar(self, op: str, x: Any, y: Any) -> Any:
        check, apply = _INPLACE[op]
        if check:
            self.checks[check](x, y)
        return apply(x, y)

    def attr(self, obj: Any, name: str, readonly: bool = False) -> Any:
        allowed = _ATTRS.get(type(obj))
        if allowed is None:
            if isinstance(obj, BaseException) and name == "args":
                return obj.args
            allowed = next((a for t, a in _ATTRS.items() if isinstance(obj, t)), frozenset())
        if name not in allowed or (readonly and name in _MUTATING):
            raise ScriptPolicyError(f'"{type(obj).__name__}.{name}" is not allowed')
        method = getattr(obj, name)
        if isinstance(obj, str) and name in ("center", "ljust", "rjust", "zfill"):
            return lambda width, *args: method(self.length(width, f"str.{name}()"), *args)
        if isinstance(obj, str) and name == "expandtabs":
            return functools.partial(self._expandtabs, obj)
        if isinstance(obj, str) and name == "replace":
            return functools.partial(self._replace, obj)
        if isinstance(obj, str) and name == "join":
            return lambda items: self._join(obj, list(items))
        if isinstance(obj, list) and name == "extend":
            return lambda items: self._extend(obj, list(items))
        if isinstance(obj, list) and name == "sort":
            return _ticking_key(method)
        return method

    def _expandtabs(self, s: str, tabsize: int = 8) -> str:
        self.length(len(s) * tabsize, "str.expandtabs()")
        return s.expandtabs(tabsize)

    def _replace(self, s: str, old: str, new: str, count: int = -1) -> str:
        hits = s.count(old) if old else len(s) + 1
        hits = hits if count < 0 else min(hits, count)
        self.length(len(s) + hits * max(len(new) - len(old), 0), "str.replace()")
        return s.replace(old, new, count)

    def _join(self, sep: str, items: list[Any]) -> str:
        self.length(sum(len(i) for i in items if isinstance(i, str)) + len(sep) * len(items), "str.join()")
        return sep.join(items)

    def _extend(self, target: list[Any], items: list[Any]) -> None:
        self.length(len(target) + len(items), "list.extend()")
        target.extend(items)

    def format(self, value: object, conversion: int = -1, spec: str = "") -> str:
        self._check_text(value, "an f-string")
        for n in re.findall(r"\d+", spec):
            self.length(int(n), "an f-string width")
        conversions: dict[int, Callable[[object], str]] = {115: str, 114: repr, 97: ascii}
        converted = conversions.get(conversion)
        return format(converted(value) if converted else value, spec)

    def to_str(self, value: Any = "", *args: Any) -> str:
        return str(self._check_text(value, "str()"), *args)

    def to_repr(self, value: object) -> str:
        return repr(self._check_text(value, "repr()"))

    def round_(self, number: Any, ndigits: int | None = None) -> Any:
        if ndigits is not None and abs(ndigits) > 1000:
            raise ScriptLimitError("round() takes at most 1000 digits")
        return round(number, ndigits)

    def sum_(self, iterable: Iterable[Any], start: Any = 0) -> Any:
        if isinstance(start, _SEQ):
            raise ScriptPolicyError("sum() adds numbers; use str.join() or a comprehension for sequences")
        return sum(iterable, start)

    def range_(self, *args: int) -> range:
        r = range(*args)
        try:
            self.length(len(r), "range()")
        except OverflowError:
            self.length(self.limits.max_sequence_length + 1, "range()")
        return r

    def pow_(self, base: Any, exp: Any, mod: int | None = None) -> Any:
        return self.binops["_pow_"](base, exp) if mod is None else pow(base, exp, mod)

    def apply(self, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        self.length(len(args) + len(kwargs), "a call with *args")
        return func(*args, **kwargs)

    def display(self, seq: S) -> S:
        self.length(len(seq), "a starred list or tuple")
        return seq

    def printer(self, _getattr_: object = None) -> "_Printer":
        return _Printer(self)

    # -- running -------------------------------------------------------------------------------------

    def limited(self, what: str, func: Callable[..., T], *args: Any) -> T:
        """Calls func(*args) with the time and memory limits in force for every tick it makes."""
        run = _Run(self.limits, what)
        previous, _state.run = getattr(_state, "run", None), run
        try:
            result = func(*args)
        except _Stop as stop:
            raise ScriptLimitError(str(stop)).with_traceback(stop.__traceback__) from None
        finally:
            _state.run = previous
        if run.stopped:
            raise ScriptLimitError(run.stopped)
        return result

    def evaluator(self) -> "_Evaluator":
        if not hasattr(self.local, "evaluator"):  # simpleeval keeps per-evaluation state: one per thread
            self.local.evaluator = _Evaluator(self)
        evaluator: _Evaluator = self.local.evaluator
        return evaluator


class _Printer:
    """`print()` in scripts: size-checked, then dropped (there is nowhere to show it). Callable, as
    `printed` calls it, and so that the clean-up removes it from the task data."""

    def __init__(self, guards: _Guards) -> None:
        self._guards = guards

    def __call__(self) -> str:
        return ""

    def _call_print(self, *objects: object, **_: object) -> None:
        self._guards._check_text(objects, "print()")


class _Evaluator(EvalWithCompoundTypes):
    def __init__(self, guards: _Guards) -> None:
        super().__init__(operators=guards.operators, functions=dict(guards.functions), names={})
        self.guards = guards

    def _eval(self, node: ast.AST) -> Any:
        _tick()
        return super()._eval(node)

    def _check_disallowed_items(self, item: object) -> None:
        pass  # names are task data, attributes are allow-listed; the default walk is exponential on aliases

    def _eval_attribute(self, node: ast.Attribute) -> Any:
        return self.guards.attr(self._eval(node.value), node.attr, readonly=True)

    def _eval_formattedvalue(self, node: ast.FormattedValue) -> str:
        spec = self._eval(node.format_spec) if node.format_spec else ""
        return self.guards.format(self._eval(node.value), node.conversion, spec)


@functools.lru_cache(maxsize=16)
def _guards_for(limits: SandboxLimits) -> _Guards:
    return _Guards(limits)


# -- compiling ---------------------------------------------------------------------------------------


#: What RestrictedPython's visitors hand back: the node, nodes in its stead, or nothing.
_Visited: TypeAlias = ast.AST | Iterable[ast.AST] | None


class _ScriptPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy plus guarded operators and f-strings, ticks in loops and functions,
    allow-listed attribute names, and no imports or classes."""

    def _call(self, name: str, args: list[ast.expr], like: ast.stmt | ast.expr) -> ast.Call:
        call = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
        copy_locations(call, like)
        return call

    def _tick(self, node: ast.stmt | ast.expr) -> ast.Expr:
        tick = ast.Expr(self._call("_tick_", [], node))
        copy_locations(tick, node)
        return tick

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        name = _BINOPS.get(type(node.op))
        return self._call(name, [node.left, node.right], node) if name else node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        node = self.node_contents_visit(node)
        spec = node.format_spec or ast.Constant("")
        node.value = self._call("_format_", [node.value, ast.Constant(node.conversion), spec], node)
        node.conversion, node.format_spec = -1, None
        return node

    def _visit_display(self, node: ast.List | ast.Tuple) -> ast.AST:
        node = self.node_contents_visit(node)
        starred = isinstance(node.ctx, ast.Load) and any(isinstance(e, ast.Starred) for e in node.elts)
        return self._call("_display_", [node], node) if starred else node

    visit_List = visit_Tuple = _visit_display

    def visit_While(self, node: ast.While) -> ast.AST:
        node = self.node_contents_visit(node)
        node.body.insert(0, self._tick(node))
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        super().visit_FunctionDef(node)  # checks the names and visits the contents, in place
        node.body.insert(0, self._tick(node))
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        super().visit_Lambda(node)  # checks the arguments and visits the contents, in place
        node.body = ast.BoolOp(ast.Or(), [self._call("_tick_", [], node), node.body])
        copy_locations(node.body, node)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> _Visited:
        if not node.attr.startswith("_") and node.attr not in _ALL_ATTRS:
            self.error(node, f'".{node.attr}" is not allowed')
        return super().visit_Attribute(node)

    def visit_Call(self, node: ast.Call) -> _Visited:
        if isinstance(node.func, ast.Name) and node.func.id in _FORBIDDEN_CALLS:
            self.error(node, f'"{node.func.id}" is not available in scripts')
        return super().visit_Call(node)

    def visit_Import(self, node: ast.Import) -> _Visited:
        self.error(node, "import statements are not allowed")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> _Visited:
        self.error(node, "import statements are not allowed")
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> _Visited:
        self.error(node, "class definitions are not allowed")
        return node


def _syntax_error(e: SyntaxError) -> ScriptPolicyError:
    return ScriptPolicyError(f"line {e.lineno}: {e.msg}" if e.lineno else e.msg)


@functools.lru_cache(maxsize=2048)
def _compile_script(source: str) -> types.CodeType:
    try:
        tree = ast.parse(textwrap.dedent(source), SCRIPT_FILENAME, "exec")  # scripts come indented from XML
    except SyntaxError as e:
        raise _syntax_error(e) from None
    try:  # errors only the compiler sees: `return` or `break` outside, duplicate argument names
        result = compile_restricted_exec(tree, SCRIPT_FILENAME, policy=_ScriptPolicy)
    except SyntaxError as e:
        raise _syntax_error(e) from None
    if result.errors:  # not a SyntaxError: Spiff's error formatter fails on one without a line number
        found = re.fullmatch(r"Line (\d+|None): (.*)", result.errors[0], re.S)
        line, message = found.groups() if found else ("None", result.errors[0])
        raise ScriptPolicyError((f"line {line}: " if line != "None" else "") + message.rstrip("."))
    if result.code is None:  # RestrictedPython gives code whenever it reports no errors
        raise ScriptPolicyError("the script could not be compiled")
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
    """`a && !b` -> `a and not b`, outside string literals. `!` and `empty` become `not`, which binds
    looser than a comparison: `!a == b` reads as `not (a == b)` here."""
    parts = _JUEL_STRINGS.split(text)
    for i in range(0, len(parts), 2):  # even parts are outside string literals
        p = re.sub(r"!(?!=)", " not ", parts[i].replace("&&", " and ").replace("||", " or "))
        parts[i] = re.sub(r"\b(?:eq|ne|lt|gt|le|ge|true|false|null|div|mod|empty)\b",
                          lambda m: f" {_JUEL_WORDS[m[0]]} ", p)  # fmt: skip
    return "".join(parts)


def _check_expression_tree(tree: ast.Expression) -> None:
    for node in ast.walk(tree):
        at = f"line {getattr(node, 'lineno', 1)}: "
        if not isinstance(node, _EXPR_NODES):
            raise ScriptPolicyError(f"{at}{type(node).__name__} is not allowed in an expression")
        name = getattr(node, "id", None) or getattr(node, "attr", None) or ""
        if name.startswith("_"):
            kind = "variable" if isinstance(node, ast.Name) else "attribute"
            raise ScriptPolicyError(f'{at}"{name}" is an invalid {kind} name because it starts with "_"')
        if isinstance(node, ast.Attribute) and (node.attr not in _ALL_ATTRS or node.attr in _MUTATING):
            raise ScriptPolicyError(f'{at}".{node.attr}" is not allowed in an expression')
        if isinstance(node, ast.keyword) and node.arg is None:
            raise ScriptPolicyError(f"{at}'**' arguments are not allowed in an expression")
        if isinstance(node, ast.Call) and not isinstance(node.func, ast.Attribute | ast.Name):
            raise ScriptPolicyError(f"{at}only functions and methods can be called in an expression")
        called = getattr(node.func, "id", None) if isinstance(node, ast.Call) else None
        if called is not None and called not in _EXPR_FUNCTIONS:
            raise ScriptPolicyError(f'{at}calling "{called}" is not allowed in an expression')


@functools.lru_cache(maxsize=4096)
def _parse_expression(source: str) -> tuple[ast.expr | None, str | None]:
    """The checked tree, and the ISO-8601 string the source also reads as (Camunda timers)."""
    text = source.strip()
    if juel := _JUEL.fullmatch(text):
        text = _translate_juel(juel[1]).strip()
    iso = text if _ISO.fullmatch(text) else None
    tree: ast.Expression | None
    try:
        tree = ast.parse(text, "<expression>", "eval")
    except SyntaxError as e:
        try:  # a condition spread over several lines, as Camunda allows
            tree = ast.parse(f"({text}\n)", "<expression>", "eval") if "\n" in text else None
        except SyntaxError:
            tree = None
        if tree is None and iso is not None:
            return None, iso
        if tree is None:
            raise _syntax_error(e) from None
    _check_expression_tree(tree)
    return tree.body, iso


def check_expression(source: str) -> str | None:
    """Deploy-time check, runs nothing: None if fine, else a one-line message."""
    try:
        _parse_expression(source)
    except ScriptPolicyError as e:
        return str(e)
    return None


def literal_value(source: str) -> str | None:
    """The text an expression is whatever the data: an ISO 8601 literal or a quoted string."""
    try:
        tree, iso = _parse_expression(source)
    except ScriptPolicyError:
        return None
    if isinstance(tree, ast.Constant) and isinstance(tree.value, str):
        return tree.value
    if iso is not None:  # `R/PT1H` parses as a division of names, which no model means
        return iso
    return None


def check_script(source: str) -> str | None:
    """Deploy-time check, runs nothing: None if fine, else a one-line message."""
    try:
        _compile_script(source)
    except ScriptPolicyError as e:
        return str(e)
    return None


# -- SpiffWorkflow integration -----------------------------------------------------------------------


#: What evaluates in the server process itself: nodes, operators, functions and methods whose every
#: C-level step is bounded by the size of the expression and of the task data (itself bounded); the
#: evaluator's own loops (comprehensions) tick, so the time limit stops them here too. No `*`, `**`,
#: `<<` or `%`, which make large values from small ones in one C call, and no sorting.
_BOUNDED_NODES = (
    ast.Expression, ast.BoolOp, ast.Compare, ast.UnaryOp, ast.IfExp, ast.Name, ast.Constant,
    ast.Attribute, ast.Subscript, ast.Slice, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.Call,
    ast.keyword, ast.expr_context, ast.boolop, ast.cmpop, ast.unaryop, ast.operator, ast.BinOp, ast.ListComp,
    ast.GeneratorExp, ast.comprehension,
)  # fmt: skip
_BOUNDED_OPERATORS = (ast.Add, ast.Sub, ast.Div, ast.FloorDiv, ast.BitAnd, ast.BitOr, ast.BitXor, ast.RShift)
_BOUNDED_FUNCTIONS = _names("len bool abs int float str min max any all sum round list tuple")
_BOUNDED_METHODS = _names(
    "get lower upper strip lstrip rstrip startswith endswith isoformat keys values items isdigit "
    "casefold total_seconds"
)


@functools.lru_cache(maxsize=4096)
def _bounded(source: str) -> bool:
    """Whether the expression can run in the server process: nothing in it can hold the process
    beyond what the size of its data allows. Anything else goes to a sandbox worker."""
    tree, _ = _parse_expression(source)
    for node in ast.walk(tree) if tree is not None else ():
        if not isinstance(node, _BOUNDED_NODES):
            return False
        # one level only: nested comprehensions build aliased structures (`[[p, p] for p in [...]]`)
        # whose comparison is exponential in a single C call
        if isinstance(node, (ast.ListComp, ast.GeneratorExp)) and any(
            isinstance(inner, (ast.ListComp, ast.GeneratorExp)) for inner in list(ast.walk(node))[1:]
        ):
            return False
        if isinstance(node, ast.BinOp) and not isinstance(node.op, _BOUNDED_OPERATORS):
            return False
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            allowed = _BOUNDED_METHODS if isinstance(func, ast.Attribute) else _BOUNDED_FUNCTIONS
            if name not in allowed or any(isinstance(a, ast.Starred) for a in node.args):
                return False
        elements = getattr(node, "elts", None) or ()
        if any(isinstance(e, ast.Starred) for e in elements):
            return False
    return True


@functools.lru_cache(maxsize=4096)
def _names_read(source: str) -> frozenset[str]:
    tree, _ = _parse_expression(source)
    nodes = ast.walk(tree) if tree is not None else ()
    return frozenset(n.id for n in nodes if isinstance(n, ast.Name))


_STORABLE = (str, int, bool, type(None), dt.datetime, dt.timedelta)


def _unstorable(value: object) -> str | None:
    """What in `value` task data cannot hold (it is stored as JSON), or None."""
    stack = [value]
    while stack:
        v: Any = stack.pop()
        kind = type(v)
        if kind in _STORABLE:
            continue
        if kind is float:
            if not math.isfinite(v):
                return "a number that is not finite (NaN or infinity)"
        elif kind in (list, tuple):
            stack += v
        elif kind is dict:
            if any(type(k) not in (str, int) for k in v):
                return "an object whose keys are not text"
            stack += v.values()
        elif kind is complex:
            return "a complex number"
        elif isinstance(v, BaseException):
            return f"an exception object ({kind.__name__})"
        else:
            return f"a value of type {kind.__name__}"
    return None


class SandboxedEnvironment(TaskDataEnvironment):
    """`isolated`: scripts and unbounded expressions run in a sandbox worker process (the default);
    False runs everything here, as the workers themselves do."""

    def __init__(
        self, limits: SandboxLimits = SandboxLimits(), *, isolated: bool = True, workers: int = 2
    ) -> None:
        self.limits = limits
        self.isolated = isolated
        self._workers = workers
        #: told "run" before the script or expression itself runs and "ran" after: a sandbox worker
        #: tells its parent, which holds only that part to the CPU limit
        self.on_phase: Callable[[str], None] | None = None
        self._guards = _guards_for(limits)
        super().__init__(self._guards.script_globals)

    def evaluate(
        self, expression: str, context: JsonObject, external_context: JsonObject | None = None
    ) -> Any:
        tree, iso = _parse_expression(expression)
        if tree is None:
            return iso
        if self.isolated and not _bounded(expression):
            names = {**external_context, **context} if external_context else context
            read = {n: names[n] for n in _names_read(expression) if n in names}
            return self._in_worker("evaluate", expression, read, None, None)
        evaluator = self._guards.evaluator()
        evaluator.names = {**external_context, **context} if external_context else context
        self._phase("run")
        try:
            result = self._guards.limited("expression", evaluator.eval, expression, tree)
        except NameNotDefined as e:
            if iso is not None:  # `PT1H` parses as a name; no such variable means it is the duration
                return iso
            raise NameError(f"name '{e.name}' is not defined") from None
        except InvalidExpression as e:
            raise ScriptPolicyError(str(e)) from None
        finally:
            self._phase("ran")
            evaluator.names = {}  # do not keep the task data alive
        limit = self.limits.max_data_size
        if isinstance(result, (str, list, tuple, dict, set)) and self._guards.exceeds(result, limit):
            raise ScriptLimitError(f"the result is larger than {limit:,} items and characters")
        if isinstance(result, (complex, bytes, bytearray, BaseException)):
            raise ScriptPolicyError(f"the expression gave {_unstorable(result)}, which data cannot hold")
        return result

    def execute(self, script: str, context: JsonObject, external_context: JsonObject | None = None) -> bool:
        if self.isolated:
            _compile_script(script)  # a policy error is the same here, and needs no worker
            ran: bool = self._in_worker("execute", script, context, external_context, context)
            return ran
        code = _compile_script(script)
        before, was_oversized = dict(context), self._guards.exceeds(context, self.limits.max_data_size)
        # Task data never hides a builtin: `len` in data leaves `len(items)` working (the value is
        # kept, and a script that assigns the name itself uses its own)
        hidden = {k: context.pop(k) for k in [k for k in context if k in self._guards.builtin_names]}
        context.update(external_context or {})
        context.update(self.globals)
        unstorable = None
        self._phase("run")
        try:
            self._guards.limited("script", exec, code, context)
        finally:  # generators first: their finally blocks run now, and may leave functions behind
            self._phase("ran")
            for key in [k for k, v in context.items() if isinstance(v, _NOT_DATA)]:
                del context[key]
            self._remove_globals_and_functions_from_context(context, external_context)
            for key, value in hidden.items():
                context.setdefault(key, value)
            oversized = self._undo_if_oversized(context, before, was_oversized)
            if not oversized:
                unstorable = self._undo_unstorable(context, before)
        if oversized:
            limit = self.limits.max_data_size
            raise ScriptLimitError(f"the script left more than {limit:,} items and characters in task data")
        if unstorable:
            raise ScriptPolicyError(unstorable)
        return True

    def _phase(self, name: str) -> None:
        if self.on_phase is not None:
            self.on_phase(name)

    def _in_worker(
        self,
        kind: str,
        source: str,
        context: JsonObject,
        external: JsonObject | None,
        target: JsonObject | None,
    ) -> Any:
        from engine.bpmn import isolation  # the worker process imports this module, not the reverse

        status, value, after, line = isolation.pool_for(self.limits, self._workers).run(
            kind, source, context, external
        )
        if target is not None and after is not None:
            target.clear()
            target.update(after)
        if status == "ok":
            return value
        if status == "stopped":
            raise ScriptLimitError(value.message)
        value.script_line = line  # read by _SandboxedScriptEngine for the incident's line
        raise value

    def _undo_unstorable(self, context: JsonObject, before: JsonObject) -> str | None:
        """Values JSON cannot hold (complex, bytes, an exception, NaN) are taken back out of the
        data, so that the instance can still be saved with its task in error."""
        found = None
        for key in [k for k, v in context.items() if k not in before or before[k] is not v]:
            if (what := _unstorable(context[key])) is not None:
                found = found or f"the script left {what} in {key!r}, which task data cannot hold"
                if key in before:
                    context[key] = before[key]
                else:
                    del context[key]
        return found

    def _undo_if_oversized(self, context: JsonObject, before: JsonObject, was_oversized: bool) -> bool:
        """Task data is serialized after every step, failed ones too: an oversized or aliased value
        (exponential once written out) would stall the serializer, so undo the script's assignments,
        and drop values it grew in place. Data that was already large on the way in is kept."""
        limit, exceeds = self.limits.max_data_size, self._guards.exceeds
        changed = {k: v for k, v in context.items() if k not in before or before[k] is not v}
        if not exceeds(changed, limit) and (was_oversized or not exceeds(context, limit)):
            return False
        context.clear()
        context.update(before)
        for key in [] if was_oversized else [k for k, v in context.items() if exceeds(v, limit)]:
            del context[key]
        return True


def _timer_kind(task: Task, expression: str) -> str | None:
    """The kind of timer value (timeDate, ...) `expression` is for on this task, if it is one."""
    definition = getattr(task.task_spec, "event_definition", None)
    for d in getattr(definition, "event_definitions", None) or [definition]:
        if getattr(d, "expression", None) == expression:
            return next((k for k, kind in timers.KINDS.items() if type(d) is kind), None)
    return None


class _SandboxedScriptEngine(PythonScriptEngine):
    def __init__(self, environment: SandboxedEnvironment, timer_bounds: timers.TimerBounds) -> None:
        super().__init__(environment=environment)
        self.timer_bounds = timer_bounds

    def evaluate(self, task: Task, expression: str, external_context: JsonObject | None = None) -> Any:
        """As SpiffWorkflow's, but the message names the cause, not only the expression; a timer's
        value is checked against the bounds before SpiffWorkflow computes with it."""
        try:
            value = self.environment.evaluate(expression, task.data, external_context)
            if (kind := _timer_kind(task, expression)) is not None:
                non_interrupting = getattr(task.task_spec, "cancel_activity", True) is False
                timers.check(kind, value, self.timer_bounds, non_interrupting=non_interrupting)
            return value
        except SpiffWorkflowException as e:
            e.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as e:
            message = f"Error evaluating expression '{expression}': {type(e).__name__}: {e}"
            raise WorkflowTaskException(message, task=task, exception=e) from e

    def get_error_line_number_and_content(self, script: str, err: BaseException) -> tuple[int, str]:
        """The line a sandbox worker reported (its traceback stays there)."""
        line = getattr(err, "script_line", None)
        if line:
            lines = script.splitlines()
            return line, lines[line - 1] if line <= len(lines) else ""
        found: tuple[int, str] = super().get_error_line_number_and_content(script, err)
        return found


def make_script_engine(
    limits: SandboxLimits = SandboxLimits(),
    *,
    workers: int = 2,
    timer_bounds: timers.TimerBounds = timers.TimerBounds(),
) -> PythonScriptEngine:
    return _SandboxedScriptEngine(SandboxedEnvironment(limits, workers=workers), timer_bounds)
