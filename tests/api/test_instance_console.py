"""The operator's console over HTTP: the path the engine really took (elements that ran, flows taken,
where the tokens are), the instance list with current steps, holders and incidents, and cancelling."""

from datetime import timedelta

import pytest
import time_machine

from engine.engine import ProcessEngine
from tests.api.test_handbook_journey import do_step, start_handbook
from tests.fixtures.broken_process import FAILING
from tests.fixtures.handbook_data import due_at
from tests.fixtures.handbook_journey import DESIGN, DIAGNOSIS, EXECUTION, STAGE_1, data
from tests.helpers.api import Api

pytestmark = pytest.mark.usefixtures("outsiders")

STRAIGHT = [
    *STAGE_1,
    *DIAGNOSIS,
    ("Task_review_diagnosis", "leader", data("review_diagnosis", diagnosis_decision="accept")),
    *DESIGN,
    *EXECUTION,
    ("Task_evaluation_decision", "leader", data("evaluation_decision", evaluation_decision="roll_out")),
    ("Task_roll_out", "execution", data("roll_out")),
    ("Task_review_standardize", "leader", data("review_standardize")),
]


def run(api: Api, steps: list) -> str:
    instance_id = start_handbook(api)
    team_formed = False
    for element_id, role, form_data in steps:
        do_step(api, instance_id, element_id, role, form_data, team_formed)
        team_formed = team_formed or element_id == "Task_form_team"
    return instance_id


def test_after_a_straight_run_the_path_holds_what_ran_and_not_the_loops_never_taken(api: Api) -> None:
    instance_id = run(api, STRAIGHT)
    path = api.instance("lei", instance_id)["path"]

    loops = {"Flow_back_to_collect", "Flow_back_to_breakdown", "Flow_plan_rework"}
    iterations = {"Flow_iterate_design", "Flow_iterate_diagnosis"}
    assert not (loops | iterations) & path["flows"].keys()
    for ran in (
        "StartEvent_trigger",
        "Task_locate_problem",
        "Gateway_feasibility_split",
        "Gateway_feasibility_join",
        "Gateway_resources_approval",
        "Gateway_investment_approval",
        "EndEvent_optimized",
    ):
        assert path["elements"][ran] == 1, ran
    # the approval waits were never needed; the stopped and short-term ends never reached
    for skipped in ("Task_await_resource_approval", "EndEvent_stopped", "EndEvent_keep_observing"):
        assert skipped not in path["elements"]
    # every branch of a parallel split arrives at its join: three flows in, one join run
    joined = {"Flow_split_risk", "Flow_risk_join", "Flow_resource_join", "Flow_tech_join"}
    assert joined <= path["flows"].keys()
    assert path["flows"]["Flow_start_locate"] == 1 and path["flows"]["Flow_review_end"] == 1
    assert path["tokens"] == []


def test_a_rework_loop_taken_once_is_counted_and_its_steps_ran_twice(api: Api) -> None:
    steps = [
        *STAGE_1,
        *DIAGNOSIS,
        ("Task_review_diagnosis", "leader", data("review_diagnosis", diagnosis_decision="back_to_collect")),
        *DIAGNOSIS,
    ]
    instance_id = run(api, steps)
    detail = api.instance("lei", instance_id)
    path = detail["path"]
    assert path["flows"]["Flow_back_to_collect"] == 1
    assert path["flows"]["Flow_to_collect"] == 2
    assert path["elements"]["Task_collect_data"] == 2
    assert path["elements"]["Task_review_diagnosis"] == 1
    assert "Flow_back_to_breakdown" not in path["flows"]
    # the token stands on the second review, which the flow into it already reached
    assert path["tokens"] == [{"element_id": "Task_review_diagnosis", "state": "ready", "waits_for": None}]
    assert path["flows"]["Flow_report_review"] == 2
    assert [t["element_id"] for t in detail["open_tasks"]] == ["Task_review_diagnosis"]


def listed(api: Api, user: str, **filters: object) -> dict:
    return api.call(user, "GET", "/api/v1/process-instances", params=filters)


def test_the_list_shows_each_instance_s_current_steps_holders_and_due_dates(api: Api) -> None:
    instance_id = run(api, STAGE_1)
    page = listed(api, "lei", status="running")
    [item] = [i for i in page["items"] if i["id"] == instance_id]
    [step] = item["current_steps"]
    assert step["element_id"] == "Task_collect_data" and step["name"]
    assert step["candidate_users"] == ["dana"] and step["assignee"] == "dana"  # the team's one data member
    assert step["due_at"].startswith(due_at("diagnosis").isoformat()[:16])  # end of the milestone day
    assert item["waiting"] == [] and item["overdue"] is False and item["incident"] is None

    task = api.task_named("dana", "Task_collect_data", instance_id)
    api.call("dana", "POST", f"/api/v1/tasks/{task['id']}/unclaim")
    [item] = [i for i in listed(api, "lei")["items"] if i["id"] == instance_id]
    assert item["current_steps"][0]["assignee"] is None


def test_overdue_lists_only_instances_with_a_step_past_its_due_date(
    api: Api, handbook: ProcessEngine
) -> None:
    late = run(api, STAGE_1)  # Task_collect_data is due by the end of the diagnosis milestone's day
    fresh = start_handbook(api)  # Task_locate_problem has no due date
    with time_machine.travel(due_at("diagnosis") + timedelta(days=1, hours=9), tick=False):
        api.reissue_tokens(handbook)
        overdue = listed(api, "lei", overdue="true")
        on_time = listed(api, "lei", overdue="false")
    assert [i["id"] for i in overdue["items"]] == [late] and overdue["total"] == 1
    assert overdue["items"][0]["overdue"] is True
    assert fresh in [i["id"] for i in on_time["items"]] and late not in [i["id"] for i in on_time["items"]]
    assert listed(api, "lei", overdue="true")["total"] == 0  # today nothing is late yet


def test_an_instance_waiting_for_the_approval_system_says_so(api: Api) -> None:
    kickoff = data("kickoff_minutes", resources_need_approval=True)
    instance_id = run(api, [*STAGE_1[:2], ("Task_kickoff_meeting", "leader", kickoff)])
    [item] = [i for i in listed(api, "lei")["items"] if i["id"] == instance_id]
    assert item["current_steps"] == []
    message, timer = item["waiting"]
    assert message == {
        "kind": "message",
        "element_id": "Task_await_resource_approval",
        "message": "approval_decision",
        "approval": True,
        "due_at": None,
    }
    assert timer["kind"] == "timer" and timer["due_at"]  # the boundary timer that chases an overdue approval
    detail = api.instance("lei", instance_id)
    assert detail["waiting"] == item["waiting"]  # the instance page says the same
    tokens = detail["path"]["tokens"]
    waiting = {"element_id": "Task_await_resource_approval", "state": "waiting"}
    assert {**waiting, "waits_for": "message:approval_decision"} in tokens


def test_has_incident_filters_the_list_and_the_path_shows_where_it_failed(api: Api) -> None:
    api.call("dora", "POST", "/api/v1/deployments", 201, files={"files": ("breaks.bpmn", FAILING)})
    broken = api.start("lei", {}, process_key="breaks")
    healthy = start_handbook(api)
    with_incident = listed(api, "lei", has_incident="true")
    assert [i["id"] for i in with_incident["items"]] == [broken["id"]]
    assert with_incident["items"][0]["incident"]["element_id"] == "Script_divide"
    assert [i["id"] for i in listed(api, "lei", has_incident="false")["items"]] == [healthy]
    path = api.instance("lei", broken["id"])["path"]
    assert path["elements"] == {"Start": 1} and path["flows"] == {"f1": 1}
    assert path["tokens"] == [{"element_id": "Script_divide", "state": "error", "waits_for": None}]


def test_the_list_is_paged_and_filtered_by_process(api: Api) -> None:
    ids = [start_handbook(api) for _ in range(3)]
    first = listed(api, "lei", process="ops_optimization", limit=2)
    second = listed(api, "lei", process="ops_optimization", limit=2, offset=2)
    assert first["total"] == second["total"] == 3
    assert len(first["items"]) == 2 and len(second["items"]) == 1
    assert {i["id"] for i in first["items"] + second["items"]} == set(ids)
    assert listed(api, "lei", process="nothing_like_it")["total"] == 0


def test_the_leader_cancels_with_a_reason_that_the_history_keeps(api: Api) -> None:
    instance_id = run(api, STAGE_1)
    leader = ["cancel", "suspend", "answer_message"]
    assert api.instance("lei", instance_id)["actions"] == leader  # the instance's leader
    admin = [*leader, "set_variables", "move_token", "migrate"]
    assert api.instance("ada", instance_id)["actions"] == admin  # an admin
    assert api.instance("dana", instance_id)["actions"] == []  # on the team, but not its leader
    path = f"/api/v1/process-instances/{instance_id}/cancel"
    api.call("dana", "POST", path, 403, json={"reason": "not mine to stop"})

    reason = "指标已自行恢复 / the metric recovered by itself"
    cancelled = api.call("lei", "POST", path, json={"reason": reason})
    assert cancelled["status"] == "cancelled"
    detail = api.instance("lei", instance_id)
    assert detail["actions"] == [] and detail["open_tasks"] == []
    [entry] = [h for h in detail["history"] if h["type"] == "instance_cancelled"]
    assert entry["actor"] == "lei" and entry["details"] == {"reason": reason}
    api.call("ada", "POST", path, 409, json={"reason": "again"})
    [item] = [i for i in listed(api, "lei", status="cancelled")["items"] if i["id"] == instance_id]
    assert item["current_steps"] == [] and item["waiting"] == []
