"""Claiming, assigning and completing tasks: who may, and what happens when two act at once."""

import threading

import httpx
import pytest

from api.main import create_app
from engine.config import Settings
from tests.fixtures.handbook_data import VALID
from tests.helpers.api import Api
from tests.helpers.server import live_server


@pytest.fixture
def tokens(api: Api, outsiders: dict[str, str]) -> Api:
    """lee (a second leader) and dan (a second data specialist), neither on any team yet."""
    return api


def started(api: Api) -> tuple[str, str]:
    instance_id = api.start("lei", VALID["start_trigger"], business_key="OPT-7")["id"]
    return instance_id, api.task_named("lei", "Task_locate_problem", instance_id)["id"]


def test_a_task_is_offered_to_every_holder_of_its_role_until_someone_claims_it(tokens: Api) -> None:
    api = tokens
    _instance_id, task_id = started(api)
    assert [t["id"] for t in api.inbox("lee", "offered")] == [task_id]
    api.claim("lee", task_id)
    assert api.inbox("lei", "offered") == []
    body = api.claim("lei", task_id, expect=409)
    assert "lee" in body["message"]
    assert api.complete("lei", task_id, VALID["locate_problem"], expect=403)["error"] == "forbidden"
    api.call("lee", "POST", f"/api/v1/tasks/{task_id}/unclaim")
    assert [t["id"] for t in api.inbox("lei", "offered")] == [task_id]
    assert api.inbox("dana") == []  # the data role is not offered a leader's task


def test_after_team_formation_tasks_go_to_the_named_people_only(tokens: Api) -> None:
    api = tokens
    instance_id, task_id = started(api)
    api.complete("lei", task_id, VALID["locate_problem"])
    api.complete("lei", api.task_named("lei", "Task_form_team", instance_id)["id"], VALID["form_team"])
    assert api.inbox("lee") == []
    assert api.instance("lee", instance_id, expect=404)["error"] == "not_found"
    kickoff = api.task_named("lei", "Task_kickoff_meeting", instance_id)
    assert kickoff["candidate_users"] == ["lei"] and kickoff["candidate_groups"] == []
    api.complete("lei", kickoff["id"], VALID["kickoff_minutes"])
    collect = api.task_named("dana", "Task_collect_data", instance_id)
    assert api.inbox("dan") == []
    assert api.call("dan", "GET", f"/api/v1/tasks/{collect['id']}", 404)["error"] == "not_found"


def test_a_team_member_of_another_role_gets_403(api: Api) -> None:
    instance_id, task_id = started(api)
    api.complete("lei", task_id, VALID["locate_problem"])
    api.complete("lei", api.task_named("lei", "Task_form_team", instance_id)["id"], VALID["form_team"])
    kickoff = api.task_named("lei", "Task_kickoff_meeting", instance_id)
    assert api.complete("dana", kickoff["id"], VALID["kickoff_minutes"], expect=403)["error"] == "forbidden"
    assert api.claim("eric", kickoff["id"], expect=403)["error"] == "forbidden"
    assert api.instance("dana", instance_id)["instance"]["id"] == instance_id  # dana is on the team


def test_the_leader_assigns_a_task_to_a_candidate(tokens: Api) -> None:
    api = tokens
    _instance_id, task_id = started(api)
    assigned = api.call("lei", "POST", f"/api/v1/tasks/{task_id}/assign", json={"user": "lee"})
    assert assigned["assignee"] == "lee"
    assert [t["id"] for t in api.inbox("lee", "mine")] == [task_id]
    body = api.call("lei", "POST", f"/api/v1/tasks/{task_id}/assign", 422, json={"user": "dana"})
    assert body["problems"][0]["path"] == "user"
    assert api.call("dana", "POST", f"/api/v1/tasks/{task_id}/assign", 404, json={"user": "dana"})


def test_completing_a_task_twice_answers_409(api: Api) -> None:
    _, task_id = started(api)
    api.complete("lei", task_id, VALID["locate_problem"])
    body = api.complete("lei", task_id, VALID["locate_problem"], expect=409)
    assert body["error"] == "conflict"
    assert api.complete("lei", "00000000-0000-0000-0000-000000000000", {}, expect=404)["error"] == "not_found"


def test_a_draft_is_kept_with_the_task_and_shown_as_its_data(api: Api) -> None:
    _, task_id = started(api)
    api.call("lei", "PUT", f"/api/v1/tasks/{task_id}/draft", json={"data": {"anomaly_summary": "half done"}})
    detail = api.call("lei", "GET", f"/api/v1/tasks/{task_id}")
    assert detail["draft"] == {"anomaly_summary": "half done"}
    assert detail["data"]["anomaly_summary"] == "half done"
    assert detail["data"]["trigger"] == VALID["start_trigger"]["trigger"]
    assert detail["form"]["key"] == "locate_problem"
    assert detail["documentation"]
    assert detail["instance"]["business_key"] == "OPT-7"


def test_two_people_completing_the_same_task_at_once_exactly_one_wins(
    tokens: Api, settings: Settings
) -> None:
    api = tokens
    instance_id, task_id = started(api)
    results: list[int] = []
    barrier = threading.Barrier(2)
    with live_server(create_app(settings)) as base:

        def complete(user: str) -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                barrier.wait()
                response = client.post(
                    f"/api/v1/tasks/{task_id}/complete",
                    json={"data": VALID["locate_problem"]},
                    headers={"Authorization": f"Bearer {api.tokens[user]}"},
                )
                results.append(response.status_code)

        threads = [threading.Thread(target=complete, args=(u,)) for u in ("lei", "lee")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert sorted(results) == [200, 409]
    history = api.instance("lei", instance_id)["history"]
    assert len([h for h in history if h["type"] == "task_completed"]) == 1


def test_the_inbox_filters_sorts_and_pages_with_totals(api: Api) -> None:
    ids = [api.start("lei", VALID["start_trigger"], business_key=f"BK-{i}")["id"] for i in range(5)]
    page = api.call("lei", "GET", "/api/v1/tasks", params={"limit": 2, "sort": "-created"})
    assert page["total"] == 5 and len(page["items"]) == 2
    assert page["items"][0]["instance_id"] == ids[-1]
    rest = api.call("lei", "GET", "/api/v1/tasks", params={"limit": 2, "offset": 4, "sort": "-created"})
    assert [t["instance_id"] for t in rest["items"]] == [ids[0]]
    assert [t["business_key"] for t in api.inbox("lei", business_key="BK-3")] == ["BK-3"]
    assert len(api.inbox("lei", process="ops_optimization", stage="kickoff")) == 5
    assert api.inbox("lei", stage="diagnosis") == []
    assert [t["instance_id"] for t in api.inbox("lei", instance=ids[2])] == [ids[2]]
    assert (
        api.call("lei", "GET", "/api/v1/tasks", 422, params={"scope": "everything"})["error"]
        == "invalid_input"
    )


def test_calls_without_a_valid_token_get_401_but_health_and_openapi_are_open(api: Api) -> None:
    assert api.call(None, "GET", "/api/v1/tasks", 401)["error"] == "unauthenticated"
    assert api.client.get("/api/v1/tasks", headers={"Authorization": "Bearer nope"}).status_code == 401
    assert api.call(None, "GET", "/health") == {"status": "ok"}
    assert "/api/v1/tasks" in api.call(None, "GET", "/openapi.json")["paths"]
    assert api.client.get("/docs").status_code == 200


def test_repeated_wrong_passwords_lock_the_name_for_a_while(api: Api) -> None:
    mei = {"name": "mei", "roles": ["data"], "password": "right-password"}
    api.call("ada", "POST", "/api/v1/users", 201, json=mei)
    for _ in range(5):
        api.call(None, "POST", "/api/v1/session", 401, json={"name": "mei", "password": "wrong"})
    refused = api.client.post("/api/v1/session", json={"name": "mei", "password": "right-password"})
    assert refused.status_code == 429 and refused.json()["error"] == "too_many_attempts"
    assert refused.headers["Retry-After"] == "900"
    history = api.call("ada", "GET", "/api/v1/audit", params={"type": "sign_in_failed", "actor": "mei"})
    assert history["total"] == 5
    # other names are not affected
    assert api.call(None, "POST", "/api/v1/session", json={"name": "lei", "password": "x"}, expect=401)
