"""The handbook as its team lives it, over HTTP: a task for the one person a team names arrives in
their own tasks, milestones are in the future, teammates see each other's tasks, data carried
forward from earlier stages."""

import copy
import json

import pytest

from tests.fixtures.handbook_data import VALID
from tests.fixtures.handbook_journey import DESIGN, DIAGNOSIS, EXECUTION, STAGE_1, TEAM, data
from tests.helpers.api import Api

pytestmark = pytest.mark.usefixtures("outsiders")  # `lee` (leader) and `dan` (data) exist, on no team


def through_kickoff(api: Api, team: list[dict] | None = None, minutes: dict | None = None) -> str:
    instance_id = api.start("lei", VALID["start_trigger"])["id"]
    steps = (
        ("Task_locate_problem", VALID["locate_problem"]),
        ("Task_form_team", {"team": team or VALID["form_team"]["team"]}),
        ("Task_kickoff_meeting", minutes or VALID["kickoff_minutes"]),
    )
    for element_id, form_data in steps:
        api.complete("lei", api.task_named("lei", element_id, instance_id)["id"], form_data)
    return instance_id


def test_a_task_whose_only_candidate_is_one_person_is_assigned_to_them_by_the_engine(api: Api) -> None:
    instance_id = through_kickoff(api)
    [task] = api.inbox("dana", "mine", instance=instance_id)
    assert task["element_id"] == "Task_collect_data"
    assert task["assignee"] == "dana"
    assert api.inbox("dana", "offered", instance=instance_id) == []
    assert api.inbox("dan", instance=instance_id) == []  # a data specialist not on the team
    history = api.instance("lei", instance_id)["history"]
    [assigned] = [h for h in history if h["type"] == "task_assigned" and h["task_id"] == task["id"]]
    assert assigned["actor"] is None  # the engine, not a person
    assert assigned["details"] == {"assignee": "dana", "reason": "sole_candidate"}
    api.complete("dana", task["id"], VALID["collect_data"])  # no claim needed


def test_a_task_the_team_names_two_people_for_is_offered_to_both_to_claim(api: Api) -> None:
    team = [*copy.deepcopy(VALID["form_team"]["team"]), {"user": "dan", "role": "data", "duty": "数据清洗"}]
    instance_id = through_kickoff(api, team)
    for person in ("dana", "dan"):
        [task] = api.inbox(person, "offered", instance=instance_id)
        assert task["element_id"] == "Task_collect_data" and task["assignee"] is None
    history = api.instance("lei", instance_id)["history"]
    assigned = [h["element_id"] for h in history if h["type"] == "task_assigned"]
    assert assigned == ["Task_kickoff_meeting"]  # the one leader's; not the data task


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"Accept-Language": "zh-CN,zh;q=0.9"}, "日期已过：请选择今天或之后的日期。"),
        ({"Accept-Language": "en"}, "The date is in the past: choose today or a later day."),
    ],
)
def test_a_kickoff_milestone_in_the_past_is_refused_at_its_field(
    api: Api, headers: dict, message: str
) -> None:
    """Milestone dates are the stages' deadlines (handbook, stage 4): one already past would make its
    stage's tasks overdue, and escalate them, the moment they arrive."""
    instance_id = api.start("lei", VALID["start_trigger"])["id"]
    for element_id, form in (("Task_locate_problem", "locate_problem"), ("Task_form_team", "form_team")):
        api.complete("lei", api.task_named("lei", element_id, instance_id)["id"], VALID[form])
    kickoff = api.task_named("lei", "Task_kickoff_meeting", instance_id)
    minutes = copy.deepcopy(VALID["kickoff_minutes"])
    minutes["milestones"][1]["due_date"] = "2020-01-08"
    body = api.call(
        "lei", "POST", f"/api/v1/tasks/{kickoff['id']}/complete", 422, json={"data": minutes}, headers=headers
    )
    [problem] = body["problems"]
    assert problem["path"] == "milestones[1].due_date"
    assert problem["element_id"] == "Field_milestones_due_date"
    assert problem["message"] == message
    api.complete("lei", kickoff["id"], VALID["kickoff_minutes"])  # the planned dates are accepted


def test_teammates_read_each_other_s_tasks_of_their_instance_but_do_not_act_on_them(api: Api) -> None:
    instance_id = through_kickoff(api)
    [task] = api.inbox("dana", "mine", instance=instance_id)
    seen = api.call("eric", "GET", f"/api/v1/tasks/{task['id']}")  # eric: execution, on the team
    assert seen["read_only"] is True
    assert seen["task"]["assignee"] == "dana"
    assert seen["form"]["key"] == "collect_data"
    assert seen["data"]["goal"] == VALID["kickoff_minutes"]["goal"]
    assert api.call("dana", "GET", f"/api/v1/tasks/{task['id']}")["read_only"] is False
    assert api.call("lei", "GET", f"/api/v1/tasks/{task['id']}")["read_only"] is False  # the leader acts
    api.claim("eric", task["id"], expect=403)
    api.complete("eric", task["id"], VALID["collect_data"], expect=403)
    api.call("dan", "GET", f"/api/v1/tasks/{task['id']}", 404)  # a data specialist on no team: no such task


def walk(api: Api, instance_id: str, steps: list) -> None:
    for element_id, role, form_data in steps:
        doer = TEAM[role]
        task = api.task_named(doer, element_id, instance_id)
        if task["assignee"] is None:
            api.claim(doer, task["id"])
        api.complete(doer, task["id"], form_data)


def test_the_division_of_work_is_prefilled_from_the_team_named_one_step_before(api: Api) -> None:
    instance_id = api.start("lei", VALID["start_trigger"])["id"]
    walk(api, instance_id, STAGE_1[:2])
    kickoff = api.task_named("lei", "Task_kickoff_meeting", instance_id)
    shown = api.call("lei", "GET", f"/api/v1/tasks/{kickoff['id']}")["data"]
    assert shown["division"] == [{"name": m["user"], "duty": m["duty"]} for m in VALID["form_team"]["team"]]
    edited = {**copy.deepcopy(VALID["kickoff_minutes"]), "division": [{"name": "雷明", "duty": "统筹"}]}
    api.complete("lei", kickoff["id"], edited)
    assert api.instance("lei", instance_id)["instance"]["variables"]["division"] == edited["division"]


def to_execution(api: Api) -> str:
    instance_id = api.start("lei", VALID["start_trigger"])["id"]
    accept = ("Task_review_diagnosis", "leader", data("review_diagnosis", diagnosis_decision="accept"))
    walk(api, instance_id, [*STAGE_1, *DIAGNOSIS, accept, *DESIGN])
    return instance_id


def test_pilot_progress_is_reported_per_milestone_of_the_execution_stage(api: Api) -> None:
    instance_id = to_execution(api)
    pilot = api.task_named("eric", "Task_pilot", instance_id)
    detail = api.call("eric", "GET", f"/api/v1/tasks/{pilot['id']}")
    milestones = [m for m in VALID["kickoff_minutes"]["milestones"] if m["stage"] == "execution"]
    assert detail["data"]["pilot_progress"] == [
        {"milestone": m["milestone"], "due_date": m["due_date"], "status": None, "note": ""}
        for m in milestones
    ]
    rows = {c["key"]: c for c in detail["form"]["schema"]["components"][2]["components"]}
    assert rows["milestone"]["readonly"] is True and rows["due_date"]["readonly"] is True
    no_status = copy.deepcopy(VALID["pilot"])
    no_status["pilot_progress"][0]["status"] = None
    body = api.complete("eric", pilot["id"], no_status, expect=422)
    assert [p["path"] for p in body["problems"]] == ["pilot_progress[0].status"]
    renamed = copy.deepcopy(VALID["pilot"])
    renamed["pilot_progress"][0]["milestone"] = "别的节点"  # read-only: Table 2-1's words stay
    api.complete("eric", pilot["id"], renamed)
    history = api.instance("lei", instance_id)["history"]
    [done] = [h for h in history if h["type"] == "task_completed" and h["element_id"] == "Task_pilot"]
    assert done["details"]["data"]["pilot_progress"] == VALID["pilot"]["pilot_progress"]


def test_the_goal_of_table_2_1_is_shown_read_only_when_the_effect_is_measured(api: Api) -> None:
    instance_id = to_execution(api)
    walk(api, instance_id, EXECUTION[:-1])
    measure = api.task_named("dana", "Task_measure_effect", instance_id)
    detail = api.call("dana", "GET", f"/api/v1/tasks/{measure['id']}")
    assert detail["data"]["goal"] == VALID["kickoff_minutes"]["goal"]
    assert json.dumps(detail["form"]["schema"]).count('"key": "target"') == 1  # goal.target, not typed again
    [goal] = [c for c in detail["form"]["schema"]["components"] if c.get("path") == "goal"]
    assert all(c["readonly"] is True for c in goal["components"])
    moved = {**copy.deepcopy(VALID["measure_effect"]), "goal": {"metric": "x", "baseline": 1, "target": 2}}
    api.complete("dana", measure["id"], moved)  # the goal is not measured again: it stays as set
    variables = api.instance("lei", instance_id)["instance"]["variables"]
    assert variables["goal"] == VALID["kickoff_minutes"]["goal"]
    assert "target" not in variables


def test_every_member_proposes_strategies_in_parallel_and_the_leader_consolidates_them(api: Api) -> None:
    instance_id = api.start("lei", VALID["start_trigger"])["id"]
    accept = ("Task_review_diagnosis", "leader", data("review_diagnosis", diagnosis_decision="accept"))
    walk(api, instance_id, [*STAGE_1, *DIAGNOSIS, accept])
    open_tasks = api.instance("lei", instance_id)["open_tasks"]
    proposing = {t["assignee"]: t for t in open_tasks if t["element_id"] == "Task_propose_strategies"}
    assert sorted(proposing) == sorted(TEAM.values())  # one each, all at once
    assert {t["role"] for t in proposing.values()} == set(TEAM)
    assert len(open_tasks) == len(TEAM)  # the leader's workshop waits for every proposal
    for role, person in TEAM.items():
        proposal = copy.deepcopy(VALID["propose_strategies"])
        proposal["proposal"]["strategies"][0]["strategy"] = f"{role} 的策略"
        api.complete(person, proposing[person]["id"], proposal)
    brainstorm = api.task_named("lei", "Task_brainstorm", instance_id)
    shown = api.call("lei", "GET", f"/api/v1/tasks/{brainstorm['id']}")["data"]["proposals"]
    assert sorted(p["strategies"][0]["strategy"] for p in shown) == sorted(f"{r} 的策略" for r in TEAM)
    api.complete("lei", brainstorm["id"], VALID["brainstorm"])
    assert "proposals" not in api.instance("lei", instance_id)["instance"]["variables"]  # consumed
