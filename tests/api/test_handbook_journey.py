"""The whole handbook over HTTP, each task done by a user of the right role, with every role's inbox
checked at each step."""

import pytest

from tests.api.conftest import OUTSIDERS
from tests.fixtures.handbook_data import VALID
from tests.fixtures.handbook_journey import DESIGN, DIAGNOSIS, JOURNEY, STAGE_1, TEAM, data
from tests.helpers.api import Api

# TEAM names one person per role for the instance; `dan` and `lee` hold roles too but are not on it.
pytestmark = pytest.mark.usefixtures("outsiders")


def start_handbook(api: Api) -> str:
    instance = api.start("lei", data("start_trigger"), business_key="OPT-2026-001")
    assert instance["status"] == "running"
    assert instance["business_key"] == "OPT-2026-001"
    return instance["id"]


#: Variables the handbook's steps share by design (the process declares them: sharedVariables).
SHARED = {"team", "goal", "milestones", "iteration_count"}
#: Variables a task is given afresh from earlier answers each time it opens (its input parameters).
GIVEN = {"Task_kickoff_meeting": {"division"}, "Task_pilot": {"pilot_progress"}}
#: Variables a task opens without in every round: each member proposes anew (the last round's proposals
#: were consolidated), and each feasibility round decides development and investment approval again.
AFRESH = {
    "Task_propose_strategies": {"proposal"},
    "Task_tech_feasibility": {"needs_development"},
    "Task_resource_assessment": {"investment_needs_approval"},
}


def form_variables(schema: dict) -> set[str]:
    """The top-level variables a form-js form binds: keys and paths (a group without a path: its fields')."""
    found: set[str] = set()
    for component in schema["components"]:
        if component.get("type") == "group" and not component.get("path"):
            found |= form_variables(component)
        elif component.get("key") or component.get("path"):
            found.add((component.get("key") or component.get("path")).split(".")[0])
    return found


def assert_opens_with_its_own_answers(opened: dict, element_id: str, previous: dict | None) -> None:
    """A task opens with the answers it gave itself the last time it ran (a rework loop), never with another
    step's: what its form binds is either its own earlier answer or not there at all."""
    for variable in sorted(form_variables(opened["form"]["schema"]) - SHARED - GIVEN.get(element_id, set())):
        if previous is None or variable in AFRESH.get(element_id, set()):
            assert variable not in opened["data"], (
                f"{element_id} opens with {variable}={opened['data'][variable]!r}, which it never answered"
            )
        else:
            assert opened["data"].get(variable) == previous.get(variable), (element_id, variable)


def do_step(
    api: Api,
    instance_id: str,
    element_id: str,
    role: str,
    form_data: dict,
    team_formed: bool,
    answers: dict[tuple[str, str], dict] | None = None,
) -> None:
    """The task reaches the right person only. Once the team names one person per role, the engine
    assigns each task to that person (it is in their own tasks, not waiting to be claimed); before,
    the leaders' group is offered it and one of them claims it. With `answers` (what each task last
    submitted, by element and person; updated here), the task opens with its own earlier answers only."""
    doer = TEAM[role]
    mine = [t for t in api.inbox(doer, "mine", instance=instance_id) if t["element_id"] == element_id]
    offered = [t for t in api.inbox(doer, "offered", instance=instance_id) if t["element_id"] == element_id]
    if team_formed:
        assert len(mine) == 1 and offered == [], (
            f"{element_id} should be assigned to {doer}: {api.inbox(doer, instance=instance_id)}"
        )
        task = mine[0]
        assert task["assignee"] == doer
    else:
        assert len(offered) == 1, (
            f"{element_id} should be offered to {doer}: {api.inbox(doer, instance=instance_id)}"
        )
        task = offered[0]
    assert task["role"] == role
    for other_role, other in TEAM.items():
        if other != doer:
            ids = [t["id"] for t in api.inbox(other, instance=instance_id)]
            assert task["id"] not in ids, f"{element_id} must not reach {other} ({other_role})"
    if team_formed and role in OUTSIDERS:
        # named people only: someone holding the role but not on the team sees nothing
        assert api.inbox(OUTSIDERS[role], instance=instance_id) == []

    if not team_formed:
        api.claim(doer, task["id"])
    assert [t["id"] for t in api.inbox(doer, "mine", instance=instance_id)].count(task["id"]) == 1
    assert task["id"] not in [t["id"] for t in api.inbox(doer, "offered", instance=instance_id)]
    if answers is not None:
        opened = api.call(doer, "GET", f"/api/v1/tasks/{task['id']}")
        assert_opens_with_its_own_answers(opened, element_id, answers.get((element_id, doer)))
        answers[element_id, doer] = form_data
    api.complete(doer, task["id"], form_data)


def run_journey(api: Api, restart=None) -> str:
    instance_id = start_handbook(api)
    team_formed = False
    answers: dict[tuple[str, str], dict] = {}
    for element_id, role, form_data in JOURNEY:
        if restart:
            api = restart()
        do_step(api, instance_id, element_id, role, form_data, team_formed, answers)
        team_formed = team_formed or element_id == "Task_form_team"
    return instance_id


def test_one_instance_runs_through_all_six_stages_to_optimized(api: Api) -> None:
    instance_id = run_journey(api)
    assert_finished_optimized(api, instance_id)


def assert_finished_optimized(api: Api, instance_id: str) -> None:
    detail = api.instance("lei", instance_id)
    instance = detail["instance"]
    assert instance["status"] == "completed"
    assert instance["outcome"] == "optimized"
    assert instance["ended_at"] is not None
    assert detail["open_tasks"] == []
    assert instance["variables"]["iteration_count"] == 1
    assert instance["variables"]["problems"] == VALID["diagnosis_report"]["problems"]
    assert instance["team"] == VALID["form_team"]["team"]

    history = detail["history"]
    completed = [(h["element_id"], h["actor"]) for h in history if h["type"] == "task_completed"]
    assert completed == [(element_id, TEAM[role]) for element_id, role, _ in JOURNEY]
    claimed = [h["element_id"] for h in history if h["type"] == "task_claimed"]
    assert claimed == ["Task_locate_problem", "Task_form_team"]  # before the team named its people
    assigned = [h for h in history if h["type"] == "task_assigned"]
    by_model = [step for step in JOURNEY if step[0] == "Task_propose_strategies"]  # camunda:assignee
    assert len(assigned) == len(JOURNEY) - 2 - len(by_model)
    assert all(h["actor"] is None and h["details"]["reason"] == "sole_candidate" for h in assigned)
    expected = sorted(TEAM[role] for step, role, _ in JOURNEY[2:] if step != "Task_propose_strategies")
    assert sorted(h["details"]["assignee"] for h in assigned) == expected
    created = {h["task_id"] for h in history if h["type"] == "task_created"}
    assert {h["task_id"] for h in history if h["type"] == "task_completed"} == created
    assert history[0]["type"] == "instance_started" and history[0]["actor"] == "lei"
    assert history[-1]["type"] == "instance_completed"
    assert history[-1]["details"] == {"outcome": "optimized"}
    assert all(h["at"] for h in history)
    for stored in (
        h for h in history if h["type"] == "task_completed" and h["element_id"] == "Task_diagnosis_report"
    ):
        assert stored["details"]["data"]["problems"][0]["module"] == "用户注册流程"


def test_a_short_term_fluctuation_ends_the_instance_at_once(api: Api) -> None:
    instance_id = start_handbook(api)
    task = api.task_named("lei", "Task_locate_problem", instance_id)
    api.complete("lei", task["id"], data("locate_problem", problem_type="short_term"))
    detail = api.instance("lei", instance_id)
    assert detail["instance"]["status"] == "completed"
    assert detail["instance"]["outcome"] == "keep_observing"
    assert detail["open_tasks"] == []
    assert all(api.inbox(user, instance=instance_id) == [] for user in TEAM.values())


def test_stopping_the_plan_ends_the_instance_as_stopped(api: Api) -> None:
    instance_id = start_handbook(api)
    steps = [
        *STAGE_1,
        *DIAGNOSIS,
        ("Task_review_diagnosis", "leader", data("review_diagnosis", diagnosis_decision="accept")),
        *DESIGN[:-1],
        ("Task_plan_review", "leader", data("plan_review", plan_decision="stop")),
    ]
    for i, (element_id, role, form_data) in enumerate(steps):
        do_step(api, instance_id, element_id, role, form_data, team_formed=i > 1)
    assert api.instance("lei", instance_id)["instance"]["outcome"] == "stopped"


def test_the_roll_out_opens_with_nothing_of_the_pilot_or_the_data_cleaning(api: Api) -> None:
    instance_id = start_handbook(api)
    answers: dict[tuple[str, str], dict] = {}
    for i, (element_id, role, form_data) in enumerate(JOURNEY[:-2]):
        do_step(api, instance_id, element_id, role, form_data, i > 1, answers)
    roll_out = api.task_named("eric", "Task_roll_out", instance_id, "mine")
    opened = api.call("eric", "GET", f"/api/v1/tasks/{roll_out['id']}")
    assert form_variables(opened["form"]["schema"]) == {"rollout_scope", "completed_on", "rollout_notes"}
    assert not {"rollout_scope", "completed_on", "rollout_notes"} & opened["data"].keys()
    # the pilot's scope and the cleaning notes are still the process's, under their own names
    assert opened["data"]["pilot_scope"] == VALID["pilot"]["pilot_scope"]
    assert opened["data"]["cleaning_notes"] == VALID["collect_data"]["cleaning_notes"]


def test_a_step_done_again_opens_with_its_own_last_answer_not_another_step_s(api: Api) -> None:
    """The diagnosis is sent back once: its second review opens with the first review's comment; the plan
    review, which also has a comment, opens empty."""
    instance_id = start_handbook(api)
    sent_back = JOURNEY.index(next(s for s in JOURNEY if s[0] == "Task_review_diagnosis"))
    for i, (element_id, role, form_data) in enumerate(JOURNEY[: sent_back + 1 + len(DIAGNOSIS)]):
        do_step(api, instance_id, element_id, role, form_data, i > 1)
    review = api.task_named("lei", "Task_review_diagnosis", instance_id, "mine")
    opened = api.call("lei", "GET", f"/api/v1/tasks/{review['id']}")["data"]
    first_comment = JOURNEY[sent_back][2]["diagnosis_comment"]
    assert (opened["diagnosis_decision"], opened["diagnosis_comment"]) == ("back_to_collect", first_comment)
    do_step(api, instance_id, *JOURNEY[sent_back + 1 + len(DIAGNOSIS)][:3], True)
    for step in DESIGN[:-1]:
        do_step(api, instance_id, *step, True)
    plan_review = api.task_named("lei", "Task_plan_review", instance_id, "mine")
    opened = api.call("lei", "GET", f"/api/v1/tasks/{plan_review['id']}")["data"]
    assert (
        "plan_comment" not in opened
        and opened["diagnosis_comment"] == VALID["review_diagnosis"]["diagnosis_comment"]
    )
