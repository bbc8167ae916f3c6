"""The operator's console over HTTP, acting on stuck work: an incident's retry runs again whatever
failed (a script, an external task whose retries ran out, a job that gave up); suspend and resume; a
waiting message answered by hand."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from engine.config import Settings
from engine.engine import ProcessEngine
from engine.storage.tables import JobRow, utcnow
from tests.api.test_instance_console import run
from tests.fixtures.broken_process import FAILING
from tests.fixtures.handbook_journey import STAGE_1, data
from tests.helpers.api import Api

pytestmark = pytest.mark.usefixtures("outsiders")
ENGINE_DATA = Path(__file__).parents[1] / "engine" / "data"
REST = "/engine-rest"


@pytest.fixture
def settings(db_url: str) -> Settings:
    """No worker inside the app: the tests run the due jobs themselves (a worker of the app's own
    would race them for the jobs, and knows nothing of the job kinds a test registers)."""
    return Settings(database_url=db_url, run_worker=False)


def deploy(api: Api, name: str, content: bytes) -> None:
    api.call("dora", "POST", "/api/v1/deployments", 201, files={"files": (name, content)})


def retry(api: Api, instance_id: str, expect: int = 200, **body: object) -> dict:
    return api.call("ada", "POST", f"/api/v1/process-instances/{instance_id}/retry", expect, json=body)


def fetch(api: Api) -> list[dict]:
    body = {"workerId": "bi-1", "maxTasks": 5, "topics": [{"topicName": "bi-score", "lockDuration": 60_000}]}
    return api.call("ada", "POST", f"{REST}/external-task/fetchAndLock", json=body)


def test_retrying_an_external_task_incident_gives_the_task_back_to_the_workers(api: Api) -> None:
    deploy(api, "external.bpmn", (ENGINE_DATA / "external.bpmn").read_bytes())
    instance_id = api.start("ada", {"metric": "cvr"}, process_key="external")["id"]
    [task] = fetch(api)
    failure = {"workerId": "bi-1", "errorMessage": "BI down", "retries": 0, "retryTimeout": 0}
    api.call("ada", "POST", f"{REST}/external-task/{task['id']}/failure", 204, json=failure)
    assert fetch(api) == []
    detail = api.instance("ada", instance_id)
    assert detail["instance"]["incident"]["element_id"] == "Task_score"
    assert "retry" in detail["actions"] and "retry" not in api.instance("lei", instance_id)["actions"]

    api.call("lei", "POST", f"/api/v1/process-instances/{instance_id}/retry", 403, json={})
    resolved = retry(api, instance_id, variables={"metric": "gmv"})
    assert resolved["incident"] is None
    [again] = fetch(api)  # a worker fetches it again, with the corrected data
    assert again["id"] == task["id"] and again["variables"]["metric"]["value"] == "gmv"
    complete = {"workerId": "bi-1", "variables": {"score": {"value": 0.5, "type": "Double"}}}
    api.call("ada", "POST", f"{REST}/external-task/{task['id']}/complete", 204, json=complete)
    detail = api.instance("ada", instance_id)
    assert [t["element_id"] for t in detail["open_tasks"]] == ["Task_review"]
    [entry] = [h for h in detail["history"] if h["type"] == "incident_retried"]
    assert entry["actor"] == "ada" and entry["details"]["external_tasks"] == [task["id"]]
    assert entry["details"]["variables"] == {"metric": "gmv"}
    retry(api, instance_id, 409)  # nothing left to resolve


def test_retrying_a_script_incident_runs_the_script_again_with_corrected_data(api: Api) -> None:
    deploy(api, "breaks.bpmn", FAILING.replace(b"x = 1 / 0", b"x = 1 / divisor"))
    instance_id = api.start("ada", {"divisor": 0}, process_key="breaks")["id"]
    assert api.instance("ada", instance_id)["instance"]["incident"]["element_id"] == "Script_divide"
    retry(api, instance_id, 200, variables={"divisor": 0})  # still failing: the incident stays
    assert api.instance("ada", instance_id)["instance"]["incident"] is not None
    done = retry(api, instance_id, variables={"divisor": 4})
    assert done["status"] == "completed" and done["variables"]["x"] == 0.25


def test_a_job_that_gave_up_is_the_instance_s_incident_and_a_retry_runs_it_again(
    api: Api, handbook: ProcessEngine
) -> None:
    """A job kind registered by whoever extends the engine; it fails until the outside world is fixed."""
    world = {"up": False, "ran": 0}

    def sync(uow, job) -> None:
        if not world["up"]:
            raise ConnectionError("the CMDB is unreachable")
        world["ran"] += 1

    handbook.jobs.register("cmdb_sync", sync)
    instance_id = api.start("lei", data("start_trigger"))["id"]
    with handbook.db.begin() as conn:
        conn.execute(
            JobRow.__table__.insert(),
            {
                "id": f"cmdb:{instance_id}",
                "kind": "cmdb_sync",
                "instance_id": instance_id,
                "due_at": utcnow(),
                "attempts": 0,
                "payload": {"max_attempts": 1},
                "created_at": utcnow(),
            },
        )
    handbook.jobs.run_due_jobs()
    incident = api.instance("ada", instance_id)["instance"]["incident"]
    assert incident["job_id"] == f"cmdb:{instance_id}" and "CMDB is unreachable" in incident["message"]
    assert handbook.jobs.run_due_jobs() == 0  # given up: not picked up again

    world["up"] = True
    retry(api, instance_id)
    assert handbook.jobs.run_due_jobs() == 1 and world["ran"] == 1
    detail = api.instance("ada", instance_id)
    assert detail["instance"]["incident"] is None
    [entry] = [h for h in detail["history"] if h["type"] == "incident_retried"]
    assert entry["details"]["jobs"] == [f"cmdb:{instance_id}"]


# --- suspend / resume -------------------------------------------------------------------------------


def instance_path(instance_id: str, action: str) -> str:
    return f"/api/v1/process-instances/{instance_id}/{action}"


def waiting_for_approval(api: Api) -> str:
    """An instance whose kick-off asked the approval system for resources; it waits for the answer."""
    kickoff = data("kickoff_minutes", resources_need_approval=True)
    return run(api, [*STAGE_1[:2], ("Task_kickoff_meeting", "leader", kickoff)])


def test_a_suspended_instance_moves_not_until_resumed(api: Api, handbook: ProcessEngine) -> None:
    instance_id = run(api, STAGE_1)  # Task_collect_data, dana's (the team names her alone)
    task = api.task_named("dana", "Task_collect_data", instance_id)
    api.call("dana", "POST", f"/api/v1/tasks/{task['id']}/unclaim")  # offered to her, to be claimed
    api.call("dana", "POST", instance_path(instance_id, "suspend"), 403, json={"reason": "mine?"})
    suspended = api.call("lei", "POST", instance_path(instance_id, "suspend"), json={"reason": "待预算确认"})
    assert suspended["status"] == "suspended" and suspended["ended_at"] is None
    assert api.instance("lei", instance_id)["actions"][:2] == ["cancel", "resume"]

    refused = api.claim("dana", task["id"], expect=409)
    assert "suspended" in refused["message"]
    api.complete("dana", task["id"], data("collect_data"), expect=409)
    api.call("lei", "POST", instance_path(instance_id, "suspend"), 409)  # already
    [item] = api.call("lei", "GET", "/api/v1/process-instances", params={"status": "suspended"})["items"]
    assert item["id"] == instance_id and item["current_steps"][0]["element_id"] == "Task_collect_data"
    assert api.call("lei", "GET", "/api/v1/process-instances", params={"status": "running"})["total"] == 0

    api.call("lei", "POST", instance_path(instance_id, "resume"), json={"reason": "预算已确认"})
    api.claim("dana", task["id"])
    api.complete("dana", task["id"], data("collect_data"))
    history = api.instance("lei", instance_id)["history"]
    kinds = [(h["type"], h["actor"], (h["details"] or {}).get("reason")) for h in history]
    assert ("instance_suspended", "lei", "待预算确认") in kinds
    assert ("instance_resumed", "lei", "预算已确认") in kinds


def test_a_suspended_instance_refuses_messages_and_its_timers_wait(api: Api, handbook: ProcessEngine) -> None:
    instance_id = waiting_for_approval(api)
    api.call("lei", "POST", instance_path(instance_id, "suspend"), json={})
    answer = {"name": "approval_decision", "business_key": "OPT-2026-001", "payload": {"approved": True}}
    refused = api.call("ada", "POST", "/api/v1/messages", 409, json=answer)
    assert "suspended" in refused["message"]
    later = datetime.now(UTC) + timedelta(days=3)  # the approval's two-day chase timer is due by then
    with time_machine.travel(later, tick=False):
        assert handbook.jobs.run_due_jobs() == 0
        api.call("lei", "POST", instance_path(instance_id, "resume"), json={})
        open_steps = [t["element_id"] for t in api.instance("lei", instance_id)["open_tasks"]]
        assert open_steps == ["Task_chase_resource_approval"]  # the timer fired on resume
    api.call("ada", "POST", "/api/v1/messages", json=answer)
    assert "Task_collect_data" in [t["element_id"] for t in api.instance("lei", instance_id)["open_tasks"]]


# --- a waiting message answered by hand --------------------------------------------------------------


def test_the_leader_answers_the_approval_by_hand_when_the_approval_system_is_down(api: Api) -> None:
    instance_id = waiting_for_approval(api)
    assert "answer_message" in api.instance("lei", instance_id)["actions"]
    body = {
        "message": "approval_decision",
        "payload": {"approved": True, "approval_comment": "总监电话批准"},
        "reason": "审批系统故障，总监电话确认 / the approval system is down",
    }
    path = instance_path(instance_id, "answer-message")
    api.call("dana", "POST", path, 403, json=body)  # on the team, not its leader
    api.call("lei", "POST", path, 422, json={**body, "reason": ""})
    bad = api.call("lei", "POST", path, 422, json={**body, "payload": {"approved": "yes"}})
    assert bad["problems"][0]["path"] == "payload.approved"
    api.call("lei", "POST", path, 409, json={**body, "message": "no_such_message"})

    api.call("lei", "POST", path, json=body)
    detail = api.instance("lei", instance_id)
    assert [t["element_id"] for t in detail["open_tasks"]] == ["Task_collect_data"]  # approved: on to stage 2
    assert detail["waiting"] == [] and detail["instance"]["variables"]["approval_comment"] == "总监电话批准"
    [entry] = [h for h in detail["history"] if h["type"] == "message_answered_by_hand"]
    assert entry["actor"] == "lei" and entry["element_id"] == "Task_await_resource_approval"
    assert entry["details"]["reason"] == body["reason"] and entry["details"]["approval"] == "resources"
    assert entry["details"]["payload"] == body["payload"]
    api.call("lei", "POST", path, 409, json=body)  # no longer waiting


def test_a_rejection_by_hand_goes_back_to_the_kick_off(api: Api) -> None:
    instance_id = waiting_for_approval(api)
    body = {"message": "approval_decision", "payload": {"approved": False}, "reason": "审批系统停机"}
    api.call("ada", "POST", instance_path(instance_id, "answer-message"), json=body)
    open_steps = [t["element_id"] for t in api.instance("lei", instance_id)["open_tasks"]]
    assert open_steps == ["Task_kickoff_meeting"]


# --- process data -----------------------------------------------------------------------------------


def test_an_admin_changes_data_checked_by_the_form_that_owns_it(api: Api) -> None:
    instance_id = run(api, STAGE_1)
    path = instance_path(instance_id, "variables")
    change = {"variables": {"title": "提升注册转化率（修订）"}, "reason": "主题笔误"}
    api.call("lei", "PATCH", path, 403, json=change)  # the leader may not; an admin may
    api.call("ada", "PATCH", path, 422, json={**change, "reason": ""})

    bad = api.call(
        "ada", "PATCH", path, 422, json={"variables": {"trigger": "bored", "title": ""}, "reason": "x"}
    )
    assert {p["path"] for p in bad["problems"]} == {"trigger", "title"}  # the start form's rules
    assert all(p["message"].startswith("start_trigger: ") for p in bad["problems"])
    bad = api.call(
        "ada", "PATCH", path, 422, json={"variables": {"duplicates_removed": "many"}, "reason": "x"}
    )
    assert bad["problems"][0]["path"] == "duplicates_removed"  # collect_data's, not yet filled in

    changed = api.call(
        "ada", "PATCH", path, json={**change, "variables": {**change["variables"], "ops_note": [1, 2]}}
    )
    assert changed["variables"]["title"] == "提升注册转化率（修订）" and changed["variables"]["ops_note"] == [
        1,
        2,
    ]
    detail = api.instance("lei", instance_id)
    [entry] = [h for h in detail["history"] if h["type"] == "variables_changed"]
    assert entry["actor"] == "ada" and entry["details"]["reason"] == "主题笔误"
    assert (
        entry["details"]["before"]["title"] != "提升注册转化率（修订）"
        and entry["details"]["before"]["ops_note"] is None
    )
    assert entry["details"]["forms"] == ["start_trigger"]
    task = api.task_named("dana", "Task_collect_data", instance_id)  # the process goes on with the new data
    api.complete("dana", task["id"], data("collect_data"))
    assert api.instance("lei", instance_id)["instance"]["variables"]["title"] == "提升注册转化率（修订）"

    api.call("ada", "POST", instance_path(instance_id, "cancel"), json={"reason": "done"})
    api.call("ada", "PATCH", path, 409, json=change)  # an ended instance's data is history


# --- moving the token -------------------------------------------------------------------------------


def open_steps(api: Api, instance_id: str) -> list[str]:
    return [t["element_id"] for t in api.instance("lei", instance_id)["open_tasks"]]


def test_an_admin_skips_a_step_and_goes_back_to_one(api: Api) -> None:
    instance_id = run(api, STAGE_1)
    path = instance_path(instance_id, "move-token")
    api.call("lei", "POST", path, 403, json={"skip": "Task_collect_data", "reason": "数据已有"})
    api.call(
        "ada",
        "POST",
        path,
        422,
        json={"skip": "Task_collect_data", "back_to": "Task_form_team", "reason": "x"},
    )
    api.call("ada", "POST", path, 409, json={"skip": "Task_break_down", "reason": "not open yet"})
    api.call("ada", "POST", path, 409, json={"back_to": "Task_pilot", "reason": "never ran"})

    api.call("ada", "POST", path, json={"skip": "Task_collect_data", "reason": "数据组已线下完成收集"})
    assert open_steps(api, instance_id) == ["Task_break_down"]
    old = api.task_named("dana", "Task_break_down", instance_id)

    api.call("ada", "POST", path, json={"back_to": "Task_kickoff_meeting", "reason": "启动会需重开"})
    assert open_steps(api, instance_id) == ["Task_kickoff_meeting"]
    api.complete("dana", old["id"], data("break_down"), expect=409)  # the undone step is gone
    detail = api.instance("lei", instance_id)
    moves = [(h["element_id"], h["details"]) for h in detail["history"] if h["type"] == "token_moved"]
    assert moves == [
        (
            "Task_collect_data",
            {"skip": "Task_collect_data", "back_to": None, "reason": "数据组已线下完成收集"},
        ),
        ("Task_kickoff_meeting", {"skip": None, "back_to": "Task_kickoff_meeting", "reason": "启动会需重开"}),
    ]
    assert detail["instance"]["variables"]["team"]  # the data stays as it was
    # the kick-off is done again and the process runs on from it as before
    kickoff = api.task_named("lei", "Task_kickoff_meeting", instance_id)  # the team's one leader's
    api.complete("lei", kickoff["id"], data("kickoff_minutes"))
    assert open_steps(api, instance_id) == ["Task_collect_data"]
    assert detail["path"]["tokens"] == [
        {"element_id": "Task_kickoff_meeting", "state": "ready", "waits_for": None}
    ]


def test_skipping_the_wait_for_an_approval_takes_the_data_already_given(api: Api) -> None:
    instance_id = waiting_for_approval(api)
    path = instance_path(instance_id, "move-token")
    change = {"variables": {"approved": True}, "reason": "口头批准"}
    api.call("ada", "PATCH", instance_path(instance_id, "variables"), json=change)
    api.call("ada", "POST", path, json={"skip": "Task_await_resource_approval", "reason": "审批系统下线"})
    detail = api.instance("lei", instance_id)
    assert [t["element_id"] for t in detail["open_tasks"]] == ["Task_collect_data"]
    assert detail["waiting"] == []  # the chase timer went with the wait
