"""Timer values are bounded: a date before 1970 or more than 100 years ahead, a duration longer than
100 years, a cycle under the minimum interval, and a non-interrupting boundary timer that repeats
without end are refused at deploy (422, with the element) when written in the model, and become an
incident on the timer's element when they come from data; the request that met them is answered.
Dates a person submits are bounded too, and NaN/Infinity are refused at the door."""

import json
from collections.abc import Iterator

import pytest

from tests.conftest import empty_database
from tests.fixtures.handbook_data import VALID
from tests.security.conftest import TEAM_A, World, form_data
from tests.security.runaway import Server, condition_process, reminder_process, running_server


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, _database_urls: dict[str, str]) -> Iterator[Server]:
    yield from running_server(empty_database(request.param, _database_urls))


LITERALS = [
    ("timeDuration", "P1000000Y", "100 years"),
    ("timeDuration", "PT99999999999H", "100 years"),
    ("timeDate", "0001-01-01T00:00:00Z", "1970"),
    ("timeDate", "9999-12-31T00:00:00Z", "100 years"),
    ("timeDate", "'not a date'", "ISO 8601"),
]


@pytest.mark.parametrize(("kind", "value", "words"), LITERALS)
def test_an_out_of_bounds_literal_timer_is_refused_at_deploy(
    server: Server, kind: str, value: str, words: str
) -> None:
    key = server.unique("literal_timer_")
    body = server.deploy(key, condition_process(key, "True", timer=value, kind=kind), expect=422)
    problem = body["problems"][0]
    assert problem["element_id"] == "Timer_1" and problem["file"] == f"{key}.bpmn" and problem["line"], body
    assert words in problem["message"], body


@pytest.mark.parametrize(
    ("cycle", "words"),
    [
        ("R/PT0S", "minimum of 1 s"),
        ("R5/PT0.5S", "minimum of 1 s"),
        ("R/PT1H", "how often it repeats"),
        ("R100000/PT1H", "at most 1000 times"),
    ],
)
def test_a_runaway_reminder_cycle_is_refused_at_deploy(server: Server, cycle: str, words: str) -> None:
    key = server.unique("literal_cycle_")
    body = server.deploy(key, reminder_process(key, cycle), expect=422)
    problem = body["problems"][0]
    assert problem["element_id"] == "Remind_1" and words in problem["message"], body


def test_bounded_timers_still_deploy_and_run(server: Server) -> None:
    key = server.unique("fine_cycle_")
    server.deploy(key, reminder_process(key, "R3/PT1H"))
    instance = server.instance(server.start(key)["id"])
    assert instance["incident"] is None and instance["status"] == "running"
    key = server.unique("fine_date_")
    server.deploy(key, condition_process(key, "True", timer="2100-01-01T00:00:00Z", kind="timeDate"))
    assert server.instance(server.start(key)["id"])["incident"] is None


@pytest.mark.parametrize(
    ("kind", "value", "words"),
    [
        ("timeDuration", "P1000000Y", "100 years"),
        ("timeDate", "9999-12-31T00:00:00Z", "100 years"),
        ("timeDate", "0001-01-01T00:00:00Z", "1970"),
        ("timeDuration", 5, "must be text"),
    ],
)
def test_an_out_of_bounds_timer_from_data_becomes_an_incident(
    server: Server, kind: str, value: object, words: str
) -> None:
    key = server.unique("data_timer_")
    server.deploy(key, condition_process(key, "True", timer="${when}", kind=kind))
    started = server.start(key, {"when": value})
    instance = server.instance(started["id"])
    assert instance["incident"] is not None, instance
    assert instance["incident"]["element_id"] == "Timer_1" and words in instance["incident"]["message"], (
        instance
    )
    assert server.call("ada", "GET", "/api/v1/process-instances", params={"limit": 5})["total"] >= 1


def test_a_zero_reminder_cycle_from_data_becomes_an_incident_and_creates_no_tasks(server: Server) -> None:
    key = server.unique("data_cycle_")
    server.deploy(key, reminder_process(key, "${every}"))
    started = server.start(key, {"every": "R/PT0S"})
    instance = server.instance(started["id"])
    assert instance["incident"] is not None and instance["incident"]["element_id"] == "Remind_1", instance
    assert "minimum of 1 s" in instance["incident"]["message"]
    tasks = server.call("ada", "GET", "/api/v1/tasks", params={"instance": started["id"], "scope": "all"})
    assert len(tasks["items"]) <= 1


# --- what a person submits: over the handbook, on SQLite and PostgreSQL --------------------------


def kickoff_task(world: World) -> tuple[str, str]:
    """A new instance of the handbook's process waiting in the kick-off meeting: (leader, task id)."""
    api, leader = world.api, "lei"
    instance_id = api.start(leader, form_data("start_trigger"))["id"]
    api.complete(
        leader, api.task_named(leader, "Task_locate_problem", instance_id)["id"], form_data("locate_problem")
    )
    team = [{**row, "user": TEAM_A[row["role"]]} for row in VALID["form_team"]["team"]]
    api.complete(leader, api.task_named(leader, "Task_form_team", instance_id)["id"], {"team": team})
    return leader, api.task_named(leader, "Task_kickoff_meeting", instance_id)["id"]


@pytest.mark.parametrize("due_date", ["9999-12-31", "0001-01-01"])
def test_a_milestone_date_out_of_range_is_refused_at_submit(world: World, due_date: str) -> None:
    leader, task_id = kickoff_task(world)
    minutes = form_data("kickoff_minutes")
    minutes["milestones"][0]["due_date"] = due_date
    body = world.api.complete(leader, task_id, minutes, expect=422)
    assert any(
        p.get("path", "").startswith("milestones") and "between" in p["message"] for p in body["problems"]
    ), body
    world.api.complete(leader, task_id, form_data("kickoff_minutes"))  # the task is still open


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_in_submitted_data_are_refused_with_their_path(world: World, constant: str) -> None:
    content = '{"process_key": "ops_optimization", "variables": {"budget": {"amount": CONSTANT}}}'
    content = content.replace("CONSTANT", constant)
    headers = {"Authorization": f"Bearer {world.api.tokens['lei']}", "Content-Type": "application/json"}
    response = world.api.client.post("/api/v1/process-instances", content=content, headers=headers)
    assert response.status_code == 422, response.text
    body = response.json()
    assert constant in body["message"] and body["problems"][0]["path"] == "variables.budget.amount", body
    assert json.loads(json.dumps(body))  # the answer itself is JSON
