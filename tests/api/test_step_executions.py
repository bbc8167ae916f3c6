"""A step of an instance's diagram, asked over HTTP: each time it ran, who held and completed it, when,
and the data it submitted; the data only for whoever may read that task, on SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from engine.engine import ProcessEngine
from tests.helpers.api import Api

#: data collects, execution checks; a check may send the collection back
CHECKED_COLLECTION = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs_cc"
    targetNamespace="http://opsflow.test">
  <bpmn:process id="checked_collection" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_data" name="数据 (data)">
        <bpmn:flowNodeRef>Start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Merge</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_collect</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="Lane_execution" name="执行 (execution)">
        <bpmn:flowNodeRef>Task_check</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Verdict</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>End</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="Start"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:exclusiveGateway id="Merge"><bpmn:incoming>F1</bpmn:incoming><bpmn:incoming>F_again</bpmn:incoming>
      <bpmn:outgoing>F2</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:userTask id="Task_collect" name="Collect"><bpmn:incoming>F2</bpmn:incoming>
      <bpmn:outgoing>F3</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="Task_check" name="Check"><bpmn:incoming>F3</bpmn:incoming>
      <bpmn:outgoing>F4</bpmn:outgoing></bpmn:userTask>
    <bpmn:exclusiveGateway id="Verdict" default="F_done"><bpmn:incoming>F4</bpmn:incoming>
      <bpmn:outgoing>F_again</bpmn:outgoing><bpmn:outgoing>F_done</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:endEvent id="End"><bpmn:incoming>F_done</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Start" targetRef="Merge" />
    <bpmn:sequenceFlow id="F2" sourceRef="Merge" targetRef="Task_collect" />
    <bpmn:sequenceFlow id="F3" sourceRef="Task_collect" targetRef="Task_check" />
    <bpmn:sequenceFlow id="F4" sourceRef="Task_check" targetRef="Verdict" />
    <bpmn:sequenceFlow id="F_again" sourceRef="Verdict" targetRef="Merge">
      <bpmn:conditionExpression>verdict == "again"</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="F_done" sourceRef="Verdict" targetRef="End" />
  </bpmn:process>
</bpmn:definitions>
""".encode()
T0 = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)


def executions(api: Api, user: str, instance_id: str, element_id: str, expect: int = 200) -> list[dict]:
    path = f"/api/v1/process-instances/{instance_id}/elements/{element_id}/executions"
    return api.call(user, "GET", path, expect)


def minutes(n: int) -> str:
    return (T0 + timedelta(minutes=n)).isoformat().replace("+00:00", "Z")


def moments(run: dict) -> tuple:
    return tuple(
        run[k] and run[k].replace("+00:00", "Z") for k in ("created_at", "claimed_at", "completed_at")
    )


@pytest.fixture
def checked_twice(api: Api, handbook: ProcessEngine) -> str:
    """lei starts; dana collects (claimed after 10 minutes, done after 40); eric sends it back unclaimed;
    dana collects again without claiming; eric's second check is open."""
    handbook.repository.deploy([("checked_collection.bpmn", CHECKED_COLLECTION)], actor="test")
    with time_machine.travel(T0, tick=False) as clock:
        instance_id = api.start("lei", {}, process_key="checked_collection")["id"]
        collect = api.task_named("dana", "Task_collect", instance_id)
        clock.move_to(T0 + timedelta(minutes=10))
        api.claim("dana", collect["id"])
        clock.move_to(T0 + timedelta(minutes=40))
        api.complete("dana", collect["id"], {"rows": 12, "source": "crm"})
        check = api.task_named("eric", "Task_check", instance_id)
        clock.move_to(T0 + timedelta(minutes=70))
        api.complete("eric", check["id"], {"verdict": "again"})
        again = api.task_named("dana", "Task_collect", instance_id)
        clock.move_to(T0 + timedelta(minutes=95))
        api.complete("dana", again["id"], {"rows": 14, "source": "crm"})
    return instance_id


def test_each_run_of_a_step_says_who_did_it_when_and_what_it_submitted(api: Api, checked_twice: str) -> None:
    first, second = executions(api, "lei", checked_twice, "Task_collect")
    assert (first["run"], first["name"], first["claimed_by"], first["completed_by"]) == (
        1,
        "Collect",
        "dana",
        "dana",
    )
    assert moments(first) == (minutes(0), minutes(10), minutes(40))
    assert (first["waiting_seconds"], first["work_seconds"], first["duration_seconds"]) == (600, 1800, 2400)
    assert (first["data_readable"], first["data"]) == (True, {"rows": 12, "source": "crm"})
    # sent back after the check: created again when eric completed it, completed without a claim
    assert (second["run"], second["claimed_by"], second["completed_by"]) == (2, None, "dana")
    assert moments(second) == (minutes(70), None, minutes(95))
    assert (second["waiting_seconds"], second["work_seconds"]) == (1500, None)
    assert second["data"] == {"rows": 14, "source": "crm"}

    done, open_check = executions(api, "lei", checked_twice, "Task_check")
    assert (done["completed_by"], done["data"]) == ("eric", {"verdict": "again"})
    assert (open_check["run"], open_check["completed_at"], open_check["assignee"]) == (2, None, None)
    assert open_check["data"] is None


def test_who_sees_the_instance_sees_who_and_when_but_the_data_only_if_they_may_read_the_task(
    api: Api, checked_twice: str
) -> None:
    # eric sees the instance through the check offered to him; the collections are the data role's
    collected = executions(api, "eric", checked_twice, "Task_collect")
    assert [(r["completed_by"], r["data_readable"], r["data"]) for r in collected] == [
        ("dana", False, None),
        ("dana", False, None),
    ]
    assert executions(api, "eric", checked_twice, "Task_check")[0]["data"] == {"verdict": "again"}
    assert executions(api, "ada", checked_twice, "Task_collect")[0]["data"] == {"rows": 12, "source": "crm"}
    executions(api, "dora", checked_twice, "Task_collect", 404)  # a designer does not see the instance
    executions(api, "lei", "no-such-instance", "Task_collect", 404)
    executions(api, None, checked_twice, "Task_collect", 401)


def test_an_element_that_is_not_a_task_has_no_runs(api: Api, checked_twice: str) -> None:
    assert executions(api, "lei", checked_twice, "Verdict") == []
    assert executions(api, "lei", checked_twice, "Task_unknown") == []
