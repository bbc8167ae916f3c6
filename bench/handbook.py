"""The handbook journey (as in tests/api/test_handbook_journey.py): which user completes which task with
which form data, in order; both loops back (diagnosis, design) are taken once."""

from __future__ import annotations

import copy

from bench.common import Client
from tests.fixtures.handbook_data import VALID

TEAM = {"leader": "lei", "data": "dana", "execution": "eric", "support": "sara"}
USERS = {name: [role] for role, name in TEAM.items()}
PROCESS = "ops_optimization"


def data(form: str, **changes: object) -> dict:
    return {**copy.deepcopy(VALID[form]), **changes}


STAGE_1 = [
    ("Task_locate_problem", "leader", data("locate_problem", problem_type="structural")),
    ("Task_form_team", "leader", data("form_team")),
    ("Task_kickoff_meeting", "leader", data("kickoff_minutes")),
]
DIAGNOSIS = [
    ("Task_collect_data", "data", data("collect_data")),
    ("Task_break_down", "data", data("break_down")),
    ("Task_qualitative_check", "execution", data("qualitative_check")),
    ("Task_diagnosis_report", "data", data("diagnosis_report")),
]
DESIGN = [
    ("Task_brainstorm", "leader", data("brainstorm")),
    ("Task_tech_feasibility", "support", data("tech_feasibility", needs_development=True)),
    ("Task_resource_assessment", "execution", data("resource_assessment")),
    ("Task_risk_assessment", "data", data("risk_assessment")),
    ("Task_plan_review", "leader", data("plan_review", plan_decision="approve")),
]
EXECUTION = [
    ("Task_pilot", "execution", data("pilot")),
    ("Task_monitoring", "data", data("monitoring")),
    ("Task_tool_changes", "support", data("tool_changes")),
    ("Task_measure_effect", "data", data("measure_effect")),
]
JOURNEY = [
    *STAGE_1,
    *DIAGNOSIS,
    ("Task_review_diagnosis", "leader", data("review_diagnosis", diagnosis_decision="back_to_collect")),
    *DIAGNOSIS,
    ("Task_review_diagnosis", "leader", data("review_diagnosis", diagnosis_decision="accept")),
    *DESIGN,
    *EXECUTION,
    ("Task_evaluation_decision", "leader", data("evaluation_decision", evaluation_decision="iterate_design")),
    *DESIGN,
    *EXECUTION,
    ("Task_evaluation_decision", "leader", data("evaluation_decision", evaluation_decision="roll_out")),
    ("Task_roll_out", "execution", data("roll_out")),
    ("Task_review_standardize", "leader", data("review_standardize")),
]


def run_handbook(clients: dict[str, Client], n: int = 0) -> int:
    """One instance through the whole journey; `clients` by user name. Returns completions done."""
    leader = clients[TEAM["leader"]]
    instance = leader.start(PROCESS, data("start_trigger"), business_key=f"OPT-BENCH-{n}")
    open_tasks = leader.inbox(label="inbox", scope="offered", instance=instance["id"])["items"]
    done = 0
    for element_id, role, form_data in JOURNEY:
        task = next((t for t in open_tasks if t["element_id"] == element_id), None)
        if task is None:
            raise RuntimeError(f"{element_id} is not open; open: {[t['element_id'] for t in open_tasks]}")
        detail = clients[TEAM[role]].complete(task["id"], form_data)
        done += 1
        open_tasks = detail["open_tasks"]
    if detail["instance"]["status"] != "completed" or detail["instance"]["outcome"] != "optimized":
        raise RuntimeError(f"the handbook instance ended as {detail['instance']}")
    return done
