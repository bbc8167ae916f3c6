"""Version migration over HTTP, with the handbook: version 2 renames Task_break_down and adds a check
of the data sources after it. A check says which live instances can move and why others cannot; one
instance moves at once, the rest in a batch the job executor works through; history, task ids and
claims survive, and the moved instances run to their end on the new version."""

from pathlib import Path

import pytest

from engine.config import Settings
from engine.engine import ProcessEngine
from tests.api.test_instance_console import STRAIGHT, run
from tests.fixtures.handbook_journey import TEAM, data
from tests.helpers.api import Api

pytestmark = pytest.mark.usefixtures("outsiders")


@pytest.fixture
def settings(db_url: str) -> Settings:
    """No worker inside the app: the batch test runs the due jobs itself (the app's worker, woken by
    the commit that queues the batch, would race it for them)."""
    return Settings(database_url=db_url, run_worker=False)


HANDBOOK = Path(__file__).parents[2] / "processes" / "ops_optimization.bpmn"
RENAMED = {"Task_break_down": "Task_breakdown_metrics"}
CHECK_SOURCES = """<bpmn:userTask id="Task_check_sources" name="核对数据来源 Check the data sources">
      <bpmn:incoming>Flow_breakdown_qualitative</bpmn:incoming>
      <bpmn:outgoing>Flow_check_qualitative</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="Flow_check_qualitative" sourceRef="Task_check_sources"
      targetRef="Task_qualitative_check" />
    """


def version_2() -> bytes:
    xml = HANDBOOK.read_text().replace("Task_break_down", "Task_breakdown_metrics")
    flow = (
        '<bpmn:sequenceFlow id="Flow_breakdown_qualitative" sourceRef="Task_breakdown_metrics" '
        'targetRef="Task_qualitative_check" />'
    )
    assert flow in xml
    xml = xml.replace(
        flow, flow.replace("Task_qualitative_check", "Task_check_sources") + "\n    " + CHECK_SOURCES
    )
    incoming = (
        "      <bpmn:incoming>Flow_breakdown_qualitative</bpmn:incoming>\n"
        "      <bpmn:outgoing>Flow_qualitative_report"
    )
    assert incoming in xml
    xml = xml.replace(incoming, incoming.replace("Flow_breakdown_qualitative", "Flow_check_qualitative"))
    lane = "<bpmn:flowNodeRef>Task_breakdown_metrics</bpmn:flowNodeRef>"
    return xml.replace(
        lane, lane + "\n        <bpmn:flowNodeRef>Task_check_sources</bpmn:flowNodeRef>"
    ).encode()


def deploy_version_2(api: Api) -> None:
    api.call(
        "dora", "POST", "/api/v1/deployments", 201, files={"files": ("ops_optimization.bpmn", version_2())}
    )


def at(steps_done: int, api: Api) -> str:
    return run(api, STRAIGHT[:steps_done])


def finish(api: Api, instance_id: str) -> None:
    """Work every open step as version 2 has it until the instance ends."""
    steps = {element_id: (role, form) for element_id, role, form in STRAIGHT}
    steps["Task_breakdown_metrics"] = steps["Task_break_down"]
    steps["Task_check_sources"] = ("data", {})
    for _ in range(40):
        detail = api.instance("lei", instance_id)
        if detail["instance"]["status"] != "running":
            break
        for task in detail["open_tasks"]:
            role, form = steps[task["element_id"]]
            holder = task["assignee"] or TEAM[role]  # each member's own proposal task is theirs
            if task["assignee"] is None:
                api.claim(holder, task["id"])
            api.complete(holder, task["id"], form)
    detail = api.instance("lei", instance_id)
    assert detail["instance"]["status"] == "completed" and detail["instance"]["outcome"] == "optimized"


def checked(api: Api, **body: object) -> dict[str, dict]:
    request = {"process_key": "ops_optimization", "target_version": 2, **body}
    return {c["instance_id"]: c for c in api.call("ada", "POST", "/api/v1/migrations/check", json=request)}


COLLECT, BREAK_DOWN, QUALITATIVE = 3, 4, 5  # steps done before each is open (STAGE_1 has three)


def test_the_check_says_which_instances_can_move_and_why_others_cannot(api: Api) -> None:
    collecting, breaking_down, checking = at(COLLECT, api), at(BREAK_DOWN, api), at(QUALITATIVE, api)
    deploy_version_2(api)
    found = checked(api)
    assert found[collecting]["can_move"] is True and found[collecting]["version"] == 1
    assert found[breaking_down]["reasons"] == [
        "the active element Task_break_down no longer exists (map it to its new id)"
    ]
    assert found[checking]["reasons"] == ["Task_break_down ran and no longer exists (map it to its new id)"]
    assert all(c["can_move"] for c in checked(api, mapping=RENAMED).values())
    assert list(checked(api, where={"stage": "diagnosis", "holder": "eric"})) == [checking]
    bad = api.call(
        "ada",
        "POST",
        "/api/v1/migrations/check",
        422,
        json={"process_key": "ops_optimization", "target_version": 2, "mapping": {"Task_x": "Task_y"}},
    )
    assert {p["path"] for p in bad["problems"]} == {"mapping.Task_x"}
    api.call(
        "ada",
        "POST",
        "/api/v1/migrations/check",
        404,
        json={"process_key": "ops_optimization", "target_version": 9},
    )
    api.call(
        "lei",
        "POST",
        "/api/v1/migrations/check",
        403,
        json={"process_key": "ops_optimization", "target_version": 2},
    )


def test_one_instance_moves_with_its_claimed_task_renamed_and_runs_to_its_end(api: Api) -> None:
    instance_id = at(BREAK_DOWN, api)
    task = api.task_named("dana", "Task_break_down", instance_id)
    assert task["assignee"] == "dana"  # the team's one data member holds it from the start
    history = api.instance("lei", instance_id)["history"]
    deploy_version_2(api)
    path = f"/api/v1/process-instances/{instance_id}/migrate"
    refused = api.call("ada", "POST", path, 409, json={"target_version": 2})
    assert "Task_break_down no longer exists" in refused["message"]
    api.call("lei", "POST", path, 403, json={"target_version": 2, "mapping": RENAMED})

    moved = api.call("ada", "POST", path, json={"target_version": 2, "mapping": RENAMED, "reason": "新版本"})
    assert moved["version"] == 2
    detail = api.instance("lei", instance_id)
    [open_task] = detail["open_tasks"]
    assert open_task["id"] == task["id"] and open_task["element_id"] == "Task_breakdown_metrics"
    assert open_task["assignee"] == "dana"  # the claim survived
    assert detail["history"][: len(history)] == history  # so did the history
    [entry] = [h for h in detail["history"] if h["type"] == "instance_migrated"]
    assert (
        entry["actor"] == "ada"
        and entry["details"]["from_version"] == 1
        and entry["details"]["to_version"] == 2
    )
    assert entry["details"]["mapping"] == RENAMED
    api.complete("dana", task["id"], STRAIGHT[BREAK_DOWN][2])
    assert [t["element_id"] for t in api.instance("lei", instance_id)["open_tasks"]] == ["Task_check_sources"]
    finish(api, instance_id)
    api.call("ada", "POST", path, 409, json={"target_version": 1})  # ended: nothing moves


def test_a_batch_moves_the_filtered_instances_in_the_job_executor_and_reports_progress(
    api: Api, handbook: ProcessEngine
) -> None:
    collecting, checking, kicking_off = at(COLLECT, api), at(QUALITATIVE, api), at(1, api)
    deploy_version_2(api)
    request = {
        "process_key": "ops_optimization",
        "target_version": 2,
        "mapping": RENAMED,
        "where": {"stage": "diagnosis"},
        "reason": "全部迁到新版本",
    }
    api.call("lei", "POST", "/api/v1/migrations", 403, json=request)
    batch = api.call("ada", "POST", "/api/v1/migrations", 202, json=request)
    assert batch["total"] == 2 and batch["pending"] == 2 and batch["finished_at"] is None
    while handbook.jobs.run_due_jobs():
        pass
    done = api.call("ada", "GET", f"/api/v1/migrations/{batch['id']}")
    assert done["pending"] == 0 and done["finished_at"] is not None and done["skipped"] == {}
    assert sorted(done["migrated"]) == sorted([collecting, checking])
    versions = {i["id"]: i["version"] for i in api.call("lei", "GET", "/api/v1/process-instances")["items"]}
    assert versions == {collecting: 2, checking: 2, kicking_off: 1}
    assert [t["element_id"] for t in api.instance("lei", collecting)["open_tasks"]] == ["Task_collect_data"]
    for instance_id in (collecting, checking):
        finish(api, instance_id)
    api.call("ada", "GET", "/api/v1/migrations/no-such-batch", 404)


def test_a_waiting_approval_keeps_its_chase_timer_and_a_suspended_instance_moves_too(api: Api) -> None:
    kickoff = ("Task_kickoff_meeting", "leader", data("kickoff_minutes", resources_need_approval=True))
    instance_id = run(api, [*STRAIGHT[:2], kickoff])
    before = api.instance("lei", instance_id)["waiting"]
    api.call("lei", "POST", f"/api/v1/process-instances/{instance_id}/suspend", json={})
    deploy_version_2(api)
    moved = api.call(
        "ada", "POST", f"/api/v1/process-instances/{instance_id}/migrate", json={"target_version": 2}
    )
    assert moved["version"] == 2 and moved["status"] == "suspended"
    assert api.instance("lei", instance_id)["waiting"] == before  # the timer was not restarted
    api.call("lei", "POST", f"/api/v1/process-instances/{instance_id}/resume", json={})
    answer = {"message": "approval_decision", "payload": {"approved": True}, "reason": "审批系统停机"}
    api.call("lei", "POST", f"/api/v1/process-instances/{instance_id}/answer-message", json=answer)
    assert [t["element_id"] for t in api.instance("lei", instance_id)["open_tasks"]] == ["Task_collect_data"]
    finish(api, instance_id)
