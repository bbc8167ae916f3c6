"""A designer's form `pattern` cannot hold the server: it is matched with a time limit, and a value
it cannot check in time is refused (422) on that field's path, like one that does not match."""

import json
from collections.abc import Iterator

import pytest

from tests.conftest import empty_database
from tests.security.runaway import Server, running_server

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs" targetNamespace="http://example.com">
  <bpmn:process id="KEY" isExecutable="true">
    <bpmn:startEvent id="Start_1" />
    <bpmn:sequenceFlow id="F1" sourceRef="Start_1" targetRef="Task_1" />
    <bpmn:userTask id="Task_1" name="fill" camunda:formKey="camunda-forms:deployment:KEY.form"
        camunda:candidateGroups="leader" />
    <bpmn:sequenceFlow id="F2" sourceRef="Task_1" targetRef="End_1" />
    <bpmn:endEvent id="End_1" />
  </bpmn:process>
</bpmn:definitions>
"""


def form(pattern: str) -> bytes:
    field = {
        "type": "textfield",
        "id": "Field_code",
        "key": "code",
        "label": "Code",
        "validate": {"pattern": pattern},
    }
    return json.dumps({"type": "default", "schemaVersion": 16, "components": [field]}).encode()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, _database_urls: dict[str, str]) -> Iterator[Server]:
    yield from running_server(empty_database(request.param, _database_urls))


def open_task(server: Server, pattern: str) -> str:
    key = server.unique("pattern_")
    files = [
        ("files", (f"{key}.bpmn", PROCESS.replace("KEY", key).encode())),
        ("files", (f"{key}.form", form(pattern))),
    ]
    server.call("dora", "POST", "/api/v1/deployments", 201, files=files)
    instance_id = server.start(key)["id"]
    tasks = server.call("lei", "GET", "/api/v1/tasks", params={"instance": instance_id, "scope": "all"})[
        "items"
    ]
    return tasks[0]["id"]


def complete(server: Server, task_id: str, code: str, expect: int) -> dict:
    return server.call(
        "lei", "POST", f"/api/v1/tasks/{task_id}/complete", expect, json={"data": {"code": code}}
    )


def test_a_pattern_that_backtracks_for_ever_is_a_422_on_its_field(server: Server) -> None:
    task_id = open_task(server, "^(a|a)*$")
    body = complete(server, task_id, "a" * 40 + "!", 422)
    [problem] = body["problems"]
    assert problem["path"] == "code" and "could not be checked against pattern" in problem["message"], body
    assert server.call(None, "GET", "/health") == {"status": "ok"}
    complete(server, task_id, "aaaa", 200)  # a value it can check still goes through


def test_the_issue_s_nested_quantifier_is_answered_as_a_mismatch(server: Server) -> None:
    task_id = open_task(server, "^(a+)+$")
    body = complete(server, task_id, "a" * 24 + "!", 422)
    [problem] = body["problems"]
    assert problem["path"] == "code" and "must match pattern" in problem["message"], body
    complete(server, task_id, "a" * 24, 200)
