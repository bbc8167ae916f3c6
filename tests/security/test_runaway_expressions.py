"""A designer's script or condition cannot hold the server: what runs past its CPU or memory limit,
even inside one C-level call, is stopped by force and becomes an incident on its instance, the
request that ran it is answered (never a 500), and the server answers other requests meanwhile.
Values task data cannot hold, builtins hidden by data keys and scripts that do not compile are
handled where a person meets them."""

import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import empty_database
from tests.security.runaway import (
    Server,
    condition_process,
    nested_comprehension,
    nested_list,
    running_server,
    script_process,
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, _database_urls: dict[str, str]) -> Iterator[Server]:
    yield from running_server(empty_database(request.param, _database_urls))


def start_while_polling_health(server: Server, key: str, variables: dict | None = None) -> tuple[dict, list]:
    """Start an instance, and meanwhile ask /health again and again: every answer is collected."""
    answers: list = []
    done = threading.Event()

    def poll() -> None:
        while not done.is_set():
            try:
                answers.append(httpx.get(f"{server.base}/health", timeout=5).status_code)
            except httpx.HTTPError as exc:
                answers.append(repr(exc))
            done.wait(0.05)

    poller = threading.Thread(target=poll)
    poller.start()
    try:
        started = server.start(key, variables)
    finally:
        done.set()
        poller.join()
    return started, answers


def incident_of(server: Server, instance_id: str) -> dict:
    instance = server.instance(instance_id)
    assert instance["status"] == "running"
    assert instance["incident"] is not None, instance
    return instance["incident"]


@pytest.mark.parametrize("depth", [28, 60])
def test_a_condition_comparing_nested_lists_is_stopped_and_becomes_an_incident(
    server: Server, depth: int
) -> None:
    key = server.unique(f"nested_{depth}_")
    server.deploy(key, condition_process(key, f"{nested_list(depth)} == {nested_list(depth)}"))
    started, health = start_while_polling_health(server, key)
    incident = incident_of(server, started["id"])
    assert incident["element_id"] == "Gateway_1"
    assert "CPU" in incident["message"], incident
    assert health and set(health) == {200}, health  # answered throughout
    assert server.call("ada", "GET", "/api/v1/process-instances", params={"limit": 5})["total"] >= 1


def test_a_condition_comparing_nested_comprehensions_is_stopped_too(server: Server) -> None:
    key = server.unique("comprehension_")
    condition = f"{nested_comprehension(60)} == {nested_comprehension(60)}"
    server.deploy(key, condition_process(key, condition))
    started, health = start_while_polling_health(server, key)
    incident = incident_of(server, started["id"])
    assert incident["element_id"] == "Gateway_1" and "CPU" in incident["message"], incident
    assert health and set(health) == {200}, health


@pytest.mark.parametrize(
    ("script", "words"),
    [
        ("n = len(list(zip(*[range(999999)] * 25)))", ("limit",)),
        ("while True:\n    pass", ("CPU",)),
    ],
)
def test_a_script_past_its_cpu_or_memory_limit_is_stopped_and_becomes_an_incident(
    server: Server, script: str, words: tuple[str, ...]
) -> None:
    key = server.unique("runaway_script_")
    server.deploy(key, script_process(key, script))
    started, health = start_while_polling_health(server, key)
    incident = incident_of(server, started["id"])
    assert incident["element_id"] == "Script_1"
    for word in words:
        assert word in incident["message"], incident
    assert set(health) == {200}, health
    # the next script runs normally on a fresh worker
    key = server.unique("after_runaway_")
    server.deploy(key, script_process(key, "n = len(items)"))
    assert server.instance(server.start(key, {"items": [1, 2, 3]})["id"])["variables"]["n"] == 3


@pytest.mark.parametrize(
    ("script", "variables", "words"),
    [
        ("r = v ** 0.5", {"v": -4}, ("complex number", "'r'")),
        ("b = b'abc'", {}, ("bytes", "'b'")),
        ("c = 2 * 1j", {}, ("complex number", "'c'")),
        ("e = ValueError('kept')", {}, ("exception object", "'e'")),
        ("x = float('nan')", {}, ("not finite", "'x'")),
    ],
)
def test_a_script_leaving_a_value_data_cannot_hold_becomes_an_incident(
    server: Server, script: str, variables: dict, words: tuple[str, ...]
) -> None:
    key = server.unique("unstorable_")
    server.deploy(key, script_process(key, script))
    started = server.start(key, variables)
    incident = incident_of(server, started["id"])
    assert incident["element_id"] == "Script_1"
    for word in words:
        assert word in incident["message"], incident
    # the instance, the list and the audit log still answer
    assert server.call("ada", "GET", "/api/v1/process-instances", params={"limit": 50})["total"] >= 1
    assert server.call("ada", "GET", "/api/v1/audit", params={"instance_id": started["id"]})["items"]


def test_a_square_root_of_a_negative_number_in_a_condition_becomes_an_incident(server: Server) -> None:
    key = server.unique("complex_condition_")
    server.deploy(key, condition_process(key, "v ** 0.5 > 1"))
    incident = incident_of(server, server.start(key, {"v": -4})["id"])
    assert incident["element_id"] == "Gateway_1" and "complex" in incident["message"], incident


def test_a_data_key_named_like_a_builtin_does_not_break_later_scripts(server: Server) -> None:
    key = server.unique("shadowed_")
    server.deploy(key, script_process(key, "n = len(items)\nbiggest = max(items)\nlabel = str(n)"))
    instance = server.instance(
        server.start(key, {"len": "x", "max": 0, "str": "s", "items": [1, 5, 2]})["id"]
    )
    assert instance["incident"] is None, instance
    assert instance["variables"]["n"] == 3 and instance["variables"]["biggest"] == 5
    assert instance["variables"]["label"] == "3"
    assert instance["variables"]["len"] == "x"  # the data itself is kept


@pytest.mark.parametrize(
    ("script", "line", "words"),
    [
        ("x = 1\nreturn x", 2, "'return' outside function"),
        ("yield 1", 1, "'yield' outside function"),
        ("x = 1\nbreak", 2, "'break' outside loop"),
        ("def f(a, a):\n    return a", 1, "duplicate argument 'a'"),
    ],
)
def test_a_script_that_does_not_compile_is_refused_at_deploy_with_its_place(
    server: Server, script: str, line: int, words: str
) -> None:
    key = server.unique("uncompilable_")
    body = server.deploy(key, script_process(key, script), expect=422)
    problem = body["problems"][0]
    assert problem["file"] == f"{key}.bpmn" and problem["element_id"] == "Script_1", body
    assert (
        problem["line"] is not None and words in problem["message"] and f"line {line}" in problem["message"]
    ), body
