"""Analytics over HTTP: two handbook optimizations, one worked through stage 5 with the diagnosis sent
back once, one stopped after its kick-off; the figures per process and the goals against the effects."""

from datetime import UTC, datetime, timedelta

import pytest

from engine.engine import ProcessEngine
from engine.storage import schema
from tests.fixtures.handbook_journey import DESIGN, DIAGNOSIS, EXECUTION, STAGE_1, TEAM, data
from tests.helpers.api import Api

PATH = "/api/v1/analytics/processes/ops_optimization"


def walk(api: Api, instance_id: str, steps: list) -> None:
    for element_id, role, form_data in steps:
        task = api.task_named(TEAM[role], element_id, instance_id)
        api.complete(TEAM[role], task["id"], form_data)


@pytest.fixture
def optimizations(api: Api) -> tuple[str, str]:
    measured = api.start("lei", data("start_trigger"), business_key="OPT-1")["id"]
    walk(
        api,
        measured,
        [
            *STAGE_1,
            *DIAGNOSIS,
            (
                "Task_review_diagnosis",
                "leader",
                data("review_diagnosis", diagnosis_decision="back_to_collect"),
            ),
            *DIAGNOSIS,
            ("Task_review_diagnosis", "leader", data("review_diagnosis", diagnosis_decision="accept")),
            *DESIGN,
            *EXECUTION,
        ],
    )
    kickoff = data(
        "kickoff_minutes", goal={"metric": "平均处理时长", "baseline": 30, "target": 20, "unit": "min"}
    )
    planned = api.start("lei", data("start_trigger"), business_key="OPT-2")["id"]
    walk(api, planned, [*STAGE_1[:2], ("Task_kickoff_meeting", "leader", kickoff)])
    return measured, planned


def test_the_goals_of_every_optimization_against_the_effect_measured(api: Api, optimizations) -> None:
    measured, planned = optimizations
    rows = api.call("lei", "GET", "/api/v1/analytics/handbook-goals")
    assert [r["instance_id"] for r in rows] == [measured, planned]
    first, second = rows
    assert (first["metric"], first["baseline"], first["target"], first["unit"]) == ("注册转化率", 15, 20, "%")
    assert (first["before"], first["after"], first["achieved"]) == (15, 20.5, True)
    assert first["progress"] == pytest.approx(1.1)  # 5.5 of the 5 points planned
    assert (second["metric"], second["baseline"], second["target"]) == ("平均处理时长", 30, 20)
    assert (second["after"], second["achieved"], second["progress"]) == (None, None, None)
    assert (first["status"], second["status"], second["business_key"]) == ("running", "running", "OPT-2")
    api.call("lei", "POST", f"/api/v1/process-instances/{planned}/suspend", json={"reason": "no budget yet"})
    suspended = api.call("lei", "GET", "/api/v1/analytics/handbook-goals")
    assert [r["status"] for r in suspended] == ["running", "suspended"]
    api.call("dana", "GET", "/api/v1/analytics/handbook-goals", 403)


def test_the_figures_of_the_handbook_process(api: Api, optimizations) -> None:
    figures = api.call("ada", "GET", PATH)
    assert (figures["started"], figures["completed"], figures["diagram_version"]) == (2, 0, 1)
    steps = {s["element_id"]: s for s in figures["steps"]}
    assert steps["Task_kickoff_meeting"]["runs"] == 2
    # twice in the first (sent back once), waiting in the second
    assert steps["Task_collect_data"]["runs"] == 3 and steps["Task_collect_data"]["completed"] == 2
    assert steps["Task_measure_effect"]["completed"] == 1
    assert steps["Task_evaluation_decision"]["completed"] == 0  # waiting for the leader
    assert steps["Task_collect_data"]["duration"]["count"] == 2
    loops = {loop["flow_id"]: loop for loop in figures["loops"]}
    assert (loops["Flow_back_to_collect"]["taken"], loops["Flow_back_to_collect"]["instances"]) == (1, 1)
    assert loops["Flow_back_to_breakdown"]["taken"] == 0
    assert loops["Flow_plan_rework"]["taken"] == 0
    assert all(loop["flow_id"] for loop in figures["loops"])  # every re-entry is a loop of the diagram
    assert [w["started"] for w in figures["trend"]] == [2]

    tomorrow = datetime.now(UTC) + timedelta(days=1)
    period = {"from": tomorrow.isoformat(), "to": (tomorrow + timedelta(days=7)).isoformat(), "version": 1}
    empty = api.call("lei", "GET", PATH, params=period)
    assert (empty["started"], empty["steps"], empty["trend"]) == (0, [], [])


def test_an_upgraded_database_answers_as_before(api: Api, handbook: ProcessEngine, optimizations) -> None:
    """Migration 0014 derives the task history and the goal figures from what an older database holds
    (its audit log, its instances' data): the answers are those the engine gave as the work happened."""
    now = datetime.now(UTC)
    period = {"from": (now - timedelta(days=1)).isoformat(), "to": (now + timedelta(days=1)).isoformat()}

    def answers() -> tuple:
        return api.call("ada", "GET", PATH, params=period), api.call(
            "ada", "GET", "/api/v1/analytics/handbook-goals"
        )

    before = answers()
    schema.downgrade(handbook.db, "0013")
    schema.upgrade(handbook.db)
    after = answers()
    assert after == before
    assert len(after[1]) == 2 and after[0]["steps"]


def test_bad_requests_say_what_was_wrong(api: Api) -> None:
    assert api.call("ada", "GET", PATH, 422, params={"from": "yesterday"})["problems"]
    problem = api.call("ada", "GET", PATH, 422, params={"from": "2027-02-01", "to": "2027-01-01"})
    assert "to must be after from" in problem["message"] and problem["problems"][0]["path"] == "to"
    api.call("ada", "GET", PATH, 404, params={"version": 9})
    api.call("ada", "GET", "/api/v1/analytics/processes/no_such_process", 404)
    api.call("eric", "GET", PATH, 403)
