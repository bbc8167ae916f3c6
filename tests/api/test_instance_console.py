"""The operator's console over HTTP: the path the engine really took (elements that ran, flows taken,
where the tokens are), the instance list with current steps, holders and incidents, and cancelling."""

import pytest

from tests.api.test_handbook_journey import do_step, start_handbook
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
    for element_id, role, form_data in steps:
        do_step(api, instance_id, element_id, role, form_data, team_formed=False)
    return instance_id


def test_after_a_straight_run_the_path_holds_what_ran_and_not_the_loops_never_taken(api: Api) -> None:
    instance_id = run(api, STRAIGHT)
    path = api.instance("lei", instance_id)["path"]

    loops = {"Flow_back_to_collect", "Flow_back_to_breakdown", "Flow_plan_rework"}
    iterations = {"Flow_iterate_design", "Flow_iterate_diagnosis"}
    assert not (loops | iterations) & path["flows"].keys()
    for ran in ("StartEvent_trigger", "Script_init", "Gateway_feasibility_split", "Gateway_feasibility_join",
                "Gateway_resources_approval", "Gateway_investment_approval", "EndEvent_optimized"):
        assert path["elements"][ran] == 1, ran
    # the approval waits were never needed; the stopped and short-term ends never reached
    for skipped in ("Task_await_resource_approval", "EndEvent_stopped", "EndEvent_keep_observing"):
        assert skipped not in path["elements"]
    # every branch of a parallel split arrives at its join: three flows in, one join run
    joined = {"Flow_split_risk", "Flow_risk_join", "Flow_resource_join", "Flow_tech_join"}
    assert joined <= path["flows"].keys()
    assert path["flows"]["Flow_start_init"] == 1 and path["flows"]["Flow_review_end"] == 1
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
