# ruff: noqa: E501  (BPMN written out one element a line)
"""Shared by the runaway-expression, job and timer tests: a real server on a loopback port, the demo
users, and small BPMN models built around one script, condition or timer."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import httpx

from api.main import create_app
from engine.config import Settings
from engine.engine import ProcessEngine, build_engine
from engine.seed import DEMO_USERS
from tests.helpers.server import live_server

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs" targetNamespace="http://example.com">
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_leader" name="组长 (leader)">{refs}</bpmn:lane></bpmn:laneSet>
"""
TAIL = "  </bpmn:process>\n</bpmn:definitions>\n"


def _process(key: str, body: str, nodes: list[str]) -> bytes:
    refs = "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in nodes)
    return (HEAD.format(key=key, refs=refs) + body + TAIL).encode()


def script_process(key: str, script: str) -> bytes:
    """start -> script task `Script_1` -> user task `Task_after` -> end."""
    body = f"""
    <bpmn:startEvent id="Start_1"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="Script_1" name="compute" scriptFormat="python">
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
      <bpmn:script>{escape(script)}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="Task_after" name="after"><bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End_1"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Start_1" targetRef="Script_1" />
    <bpmn:sequenceFlow id="F2" sourceRef="Script_1" targetRef="Task_after" />
    <bpmn:sequenceFlow id="F3" sourceRef="Task_after" targetRef="End_1" />
"""
    return _process(key, body, ["Start_1", "Script_1", "Task_after", "End_1"])


def condition_process(
    key: str, condition: str, *, timer: str | None = None, kind: str = "timeDuration"
) -> bytes:
    """start -> [timer `Timer_1`, a `kind`] -> gateway `Gateway_1`: `condition` to `Task_yes`, else
    `Task_no`."""
    first = "Gateway_1"
    timer_xml = ""
    if timer:
        first = "Timer_1"
        timer_xml = f"""
    <bpmn:intermediateCatchEvent id="Timer_1"><bpmn:incoming>F0</bpmn:incoming><bpmn:outgoing>F1</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:{kind} xsi:type="bpmn:tFormalExpression">{escape(timer)}</bpmn:{kind}>
      </bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Timer_1" targetRef="Gateway_1" />"""
    body = f"""
    <bpmn:startEvent id="Start_1"><bpmn:outgoing>F0</bpmn:outgoing></bpmn:startEvent>{timer_xml}
    <bpmn:exclusiveGateway id="Gateway_1" default="F_no">
      <bpmn:incoming>{"F1" if timer else "F0"}</bpmn:incoming><bpmn:outgoing>F_yes</bpmn:outgoing><bpmn:outgoing>F_no</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:userTask id="Task_yes" name="yes"><bpmn:incoming>F_yes</bpmn:incoming><bpmn:outgoing>F_y</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="Task_no" name="no"><bpmn:incoming>F_no</bpmn:incoming><bpmn:outgoing>F_n</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End_1"><bpmn:incoming>F_y</bpmn:incoming><bpmn:incoming>F_n</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F0" sourceRef="Start_1" targetRef="{first}" />
    <bpmn:sequenceFlow id="F_yes" sourceRef="Gateway_1" targetRef="Task_yes">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(condition)}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="F_no" sourceRef="Gateway_1" targetRef="Task_no" />
    <bpmn:sequenceFlow id="F_y" sourceRef="Task_yes" targetRef="End_1" />
    <bpmn:sequenceFlow id="F_n" sourceRef="Task_no" targetRef="End_1" />
"""
    nodes = ["Start_1", "Gateway_1", "Task_yes", "Task_no", "End_1"] + (["Timer_1"] if timer else [])
    return _process(key, body, nodes)


def reminder_process(key: str, cycle: str) -> bytes:
    """start -> user task `Task_a`, with a non-interrupting boundary timer `Remind_1` (`cycle`) that
    leads to user task `Task_reminder` each time it fires."""
    body = f"""
    <bpmn:startEvent id="Start_1"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_a" name="a"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>
    <bpmn:boundaryEvent id="Remind_1" attachedToRef="Task_a" cancelActivity="false"><bpmn:outgoing>F3</bpmn:outgoing>
      <bpmn:timerEventDefinition><bpmn:timeCycle xsi:type="bpmn:tFormalExpression">{escape(cycle)}</bpmn:timeCycle></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:userTask id="Task_reminder" name="reminder"><bpmn:incoming>F3</bpmn:incoming><bpmn:outgoing>F4</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="End_1"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="End_2"><bpmn:incoming>F4</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Start_1" targetRef="Task_a" />
    <bpmn:sequenceFlow id="F2" sourceRef="Task_a" targetRef="End_1" />
    <bpmn:sequenceFlow id="F3" sourceRef="Remind_1" targetRef="Task_reminder" />
    <bpmn:sequenceFlow id="F4" sourceRef="Task_reminder" targetRef="End_2" />
"""
    return _process(key, body, ["Start_1", "Task_a", "Remind_1", "Task_reminder", "End_1", "End_2"])


def nested_list(depth: int) -> str:
    """`[[...[0]*2...]*2]`: tiny in memory (every level aliases the one below), 2**depth leaves when
    two separately built ones are compared."""
    text = "[0]"
    for _ in range(depth):
        text = f"[{text}*2]"
    return text


def nested_comprehension(depth: int) -> str:
    """The same aliasing without `*`: `[[v, v] for v in ...]` nested `depth` deep."""
    text = "[0]"
    for level in range(depth):
        text = f"[[v{level}, v{level}] for v{level} in {text}]"
    return text


@dataclass
class Server:
    base: str
    tokens: dict[str, str]
    engine: ProcessEngine
    counter: int = 0

    def unique(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def call(self, user: str | None, method: str, path: str, expect: int | None = 200, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        response = httpx.request(method, self.base + path, headers=headers, timeout=120, **kwargs)
        if expect is not None:
            assert response.status_code == expect, f"{method} {path}: {response.status_code} {response.text}"
        return (
            response.json()
            if response.headers.get("content-type", "").startswith("application/json")
            else response
        )

    def deploy(self, key: str, content: bytes, expect: int | None = 201) -> Any:
        return self.call(
            "dora", "POST", "/api/v1/deployments", expect, files=[("files", (f"{key}.bpmn", content))]
        )

    def start(self, key: str, variables: dict | None = None, expect: int | None = 201) -> Any:
        body = {"process_key": key, "variables": variables or {}}
        return self.call("lei", "POST", "/api/v1/process-instances", expect, json=body)

    def instance(self, instance_id: str) -> dict:
        """The instance (status, variables, incident), with its history under "history"."""
        detail = self.call("ada", "GET", f"/api/v1/process-instances/{instance_id}")
        return {**detail["instance"], "history": detail["history"]}


def running_server(database_url: str, **settings: Any) -> Iterator[Server]:
    config = Settings(database_url=database_url, run_worker=False, **settings)
    engine = build_engine(config)
    for name, roles in DEMO_USERS.items():
        engine.identity.create_user(name, roles)
    tokens = {name: engine.identity.issue_token(name) for name in DEMO_USERS}
    try:
        with live_server(create_app(config, engine=engine)) as base:
            yield Server(base, tokens, engine)
    finally:
        engine.close()
