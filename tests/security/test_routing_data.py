"""Routing data only from its owner: the `team` variable says who is offered every task and who leads
the instance, so only the task whose form names the team may change it (validated there). A message,
an external task, a task without that form or a start that skips the start form asking to change it
is refused with a 4xx that names the variable, and nothing of the request is kept."""

import json
from pathlib import Path

import pytest

from tests.camunda.conftest import REST, typed
from tests.fixtures.handbook_data import VALID
from tests.security.conftest import TEAM_A, TEAM_B, World

ROUTED_BPMN = Path(__file__).resolve().parent / "data" / "routed.bpmn"
#: what every attempt asks for: team B in place of team A (lars leading, dina offered the data task)
OTHER_TEAM = [{**row, "user": TEAM_B[row["role"]]} for row in VALID["form_team"]["team"]]


@pytest.fixture(scope="module")
def routed(world: World) -> World:
    world.api.client.post(
        "/api/v1/deployments",
        files=[("files", ("routed.bpmn", ROUTED_BPMN.read_bytes()))],
        headers={"Authorization": f"Bearer {world.api.tokens['dora']}"},
    ).raise_for_status()
    key = world.api.call(
        "ada",
        "POST",
        "/api/v1/api-keys",
        201,
        json={"name": "approvals", "system": "approvals_bot", "scopes": ["messages:send"]},
    )["key"]
    world.api.tokens["approvals_bot"] = key
    return world


def team_of(world: World, instance_id: str) -> list[dict]:
    return world.api.instance("ada", instance_id)["instance"]["variables"].get("team", [])


def assert_team_kept(world: World, instance_id: str) -> None:
    assert [(m["user"], m["role"]) for m in team_of(world, instance_id)] == [
        (TEAM_A[row["role"]], row["role"]) for row in VALID["form_team"]["team"]
    ]
    world.api.instance("lei", instance_id)  # the starter still sees their instance
    world.api.instance("lars", instance_id, expect=404)  # the other team's leader does not


def assert_refused(response, status: int) -> None:
    assert response.status_code == status, response.text
    assert "team" in response.text


def fetch_external(world: World, business_key: str) -> dict:
    topic = {"topicName": "routed-bi", "lockDuration": 60_000, "businessKey": business_key}
    body = {"workerId": "w1", "maxTasks": 1, "topics": [topic]}
    [task] = world.api.call("ivan", "POST", f"{REST}/external-task/fetchAndLock", json=body)
    return task


def test_only_the_team_form_names_the_team_and_no_other_door_changes_it(routed: World) -> None:
    world, api = routed, routed.api
    business_key = world.unique("ROUTED-")
    instance_id = api.start("lei", {}, process_key="routed", business_key=business_key)["id"]
    api.complete("lei", api.task_named("lei", "Task_team", instance_id)["id"], VALID["form_team"])
    assert_team_kept(world, instance_id)

    # an external task's completion
    task = fetch_external(world, business_key)
    variables = {"team": typed(json.dumps(OTHER_TEAM), "Json"), "score": typed(3, "Integer")}
    response = api.client.post(
        f"{REST}/external-task/{task['id']}/complete",
        json={"workerId": "w1", "variables": variables},
        headers={"Authorization": f"Bearer {api.tokens['ivan']}"},
    )
    assert_refused(response, 400)
    assert_team_kept(world, instance_id)
    assert "score" not in api.instance("ada", instance_id)["instance"]["variables"]  # nothing was kept
    api.call("ivan", "POST", f"{REST}/external-task/{task['id']}/complete", 204, json={"workerId": "w1"})

    # the approval answer, from a key that may only send messages
    message = {"name": "routed_decision", "business_key": business_key}
    response = api.client.post(
        "/api/v1/messages",
        json={**message, "payload": {"approved": True, "team": OTHER_TEAM}},
        headers={"Authorization": f"Bearer {api.tokens['approvals_bot']}"},
    )
    assert_refused(response, 422)
    assert response.json()["problems"][0]["path"] == "team"
    assert_team_kept(world, instance_id)
    api.call("approvals_bot", "POST", "/api/v1/messages", json={**message, "payload": {"approved": True}})

    # a task without a form, completed by the instance's own leader
    plain = api.task_named("lei", "Task_plain", instance_id)
    assert_refused(
        api.client.post(
            f"/api/v1/tasks/{plain['id']}/complete",
            json={"data": {"team": OTHER_TEAM}},
            headers={"Authorization": f"Bearer {api.tokens['lei']}"},
        ),
        422,
    )
    assert_team_kept(world, instance_id)
    api.complete("lei", plain["id"], {"note": "fine"})

    # the data task went to the team's data member, not to the other team's
    data_task = api.task_named("dana", "Task_data", instance_id)
    assert data_task["candidate_users"] == ["dana"]
    assert [t for t in api.inbox("dina", instance=instance_id)] == []


def test_the_team_form_may_still_change_the_team_and_is_validated_there(routed: World) -> None:
    api = routed.api
    instance_id = api.start("lei", {}, process_key="routed")["id"]
    task = api.task_named("lei", "Task_team", instance_id)
    wrong = [{**row, "user": "nobody"} for row in OTHER_TEAM]
    assert "nobody" in api.complete("lei", task["id"], {"team": wrong}, expect=422)["problems"][0]["message"]
    api.complete("lei", task["id"], {"team": OTHER_TEAM})
    assert [m["user"] for m in team_of(routed, instance_id)] == [m["user"] for m in OTHER_TEAM]


def test_a_start_over_engine_rest_cannot_name_the_team(routed: World) -> None:
    api = routed.api
    before = api.call("ada", "GET", "/api/v1/process-instances", params={"limit": 1})["total"]
    variables = {
        **{k: typed(v) for k, v in VALID["start_trigger"].items() if not isinstance(v, (list, dict))},
        "team": typed(json.dumps(OTHER_TEAM), "Json"),
    }
    response = api.client.post(
        f"{REST}/process-definition/key/ops_optimization/start",
        json={"variables": variables},
        headers={"Authorization": f"Bearer {api.tokens['ivan']}"},
    )
    assert_refused(response, 400)
    assert api.call("ada", "GET", "/api/v1/process-instances", params={"limit": 1})["total"] == before


def test_a_message_that_starts_a_process_cannot_name_the_team(routed: World) -> None:
    api = routed.api
    response = api.client.post(
        "/api/v1/messages",
        json={"name": "alarm", "payload": {"team": OTHER_TEAM}},
        headers={"Authorization": f"Bearer {api.tokens['ivan']}"},
    )
    assert_refused(response, 422)


def test_resending_the_same_team_through_another_door_changes_nothing_and_is_allowed(routed: World) -> None:
    api = routed.api
    business_key = routed.unique("SAME-")
    instance_id = api.start("lei", {}, process_key="routed", business_key=business_key)["id"]
    api.complete("lei", api.task_named("lei", "Task_team", instance_id)["id"], VALID["form_team"])
    task = fetch_external(routed, business_key)
    same = {"team": typed(json.dumps(VALID["form_team"]["team"], ensure_ascii=False), "Json")}
    api.call(
        "ivan",
        "POST",
        f"{REST}/external-task/{task['id']}/complete",
        204,
        json={"workerId": "w1", "variables": same},
    )
    assert_team_kept(routed, instance_id)
