"""The sandbox worker pool: what a tick cannot stop (one C-level call) is stopped by force in its
worker, which is replaced; what may stay in the server process is decided from the expression
alone; a worker's answer cannot carry anything but data."""

import io
import os
import pickle

import pytest

from engine.bpmn import isolation
from engine.bpmn.sandbox import (
    SandboxedEnvironment,
    SandboxLimits,
    ScriptLimitError,
    ScriptPolicyError,
    _bounded,
)

LIMITS = SandboxLimits(cpu_seconds=0.3, max_memory_growth_mb=200)


@pytest.fixture
def env() -> SandboxedEnvironment:
    return SandboxedEnvironment(LIMITS)


def nested(depth: int) -> str:
    text = "[0]"
    for _ in range(depth):
        text = f"[{text}*2]"
    return text


def test_a_c_level_comparison_is_stopped_by_cpu_time_and_the_worker_replaced(env) -> None:
    with pytest.raises(ScriptLimitError, match=r"exceeded 0\.3 s CPU"):
        env.evaluate(f"{nested(60)} == {nested(60)}", {})
    data = {"a": 2}
    env.execute("b = a * 21", data)  # a fresh worker answers
    assert data == {"a": 2, "b": 42}


def test_a_c_level_allocation_is_stopped_by_the_memory_or_cpu_limit(env) -> None:
    data = {"keep": 1}
    with pytest.raises(ScriptLimitError, match="limit"):
        env.execute("n = len(list(zip(*[range(999999)] * 25)))", data)
    assert data == {"keep": 1}


def test_the_worker_keeps_the_data_a_failing_script_left_and_reports_its_line(env) -> None:
    data = {}
    with pytest.raises(NameError) as raised:
        env.execute("x = 1\ny = missing", data)
    assert data == {"x": 1} and raised.value.script_line == 2


@pytest.mark.parametrize(
    ("source", "bounded"),
    [
        ("amount > 10 and approved", True),
        ("status in ['new', 'open']", True),
        ("len(items) + 1", True),
        ('min([m["due"] for m in milestones if m["stage"] == "x"])', True),
        ("a == b", True),
        ("[0] * 2", False),
        ("x ** 2", False),
        ("1 << n", False),
        ("'%s' % x", False),
        ("sorted(items)", False),
        ("[[p, p] for p in [[q, q] for q in [0]]]", False),
        ("[*items]", False),
    ],
)
def test_only_expressions_bounded_by_their_data_stay_in_process(source: str, bounded: bool) -> None:
    assert _bounded(source) is bounded


def test_a_data_key_does_not_hide_a_builtin_in_scripts(env) -> None:
    data = {"len": "x", "max": 0, "items": [3, 1, 2]}
    env.execute("n = len(items)\nbiggest = max(items)", data)
    assert data == {"len": "x", "max": 0, "items": [3, 1, 2], "n": 3, "biggest": 3}


@pytest.mark.parametrize(
    "script", ["c = 1j", "b = b'x'", "e = KeyError('k')", "f = float('inf')", "s = {1, 2}"]
)
def test_values_task_data_cannot_hold_are_refused_and_taken_back(env, script: str) -> None:
    data = {"keep": 1}
    with pytest.raises(ScriptPolicyError, match="task data cannot hold"):
        env.execute(script, data)
    assert data == {"keep": 1}


def test_a_workers_answer_cannot_carry_code() -> None:
    hostile = pickle.dumps(("ok", os.system, None, None))
    with pytest.raises(pickle.UnpicklingError, match="system"):
        isolation._Unpickler(io.BytesIO(hostile)).load()
    fine = pickle.dumps(("error", ScriptLimitError("x"), {"d": [1.5, "t"]}, 3))
    assert isolation._Unpickler(io.BytesIO(fine)).load()[2] == {"d": [1.5, "t"]}
