"""Idempotency-Key: a retried request is answered from the first answer, never executed twice."""

import threading
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi import Depends
from fastapi.testclient import TestClient
from sqlmodel import select

from api.deps import get_principal
from api.main import create_app
from engine.config import Settings
from engine.engine import ProcessEngine
from engine.services.idempotency import IdempotencyService
from engine.storage.tables import IdempotencyRow, utcnow
from engine.storage.uow import Transactions
from engine.views import StoredAnswer
from tests.fixtures.handbook_data import VALID
from tests.helpers.api import Api
from tests.helpers.server import live_server

IN_PROGRESS = "a request with this Idempotency-Key is still in progress; retry later"


def started(api: Api) -> tuple[str, str]:
    instance_id = api.start("lei", VALID["start_trigger"], business_key="OPT-1")["id"]
    return instance_id, api.task_named("lei", "Task_locate_problem", instance_id)["id"]


def post(api: Api, user: str | None, path: str, key: str, json: dict | None = None) -> httpx.Response:
    headers = {"Idempotency-Key": key}
    if user is not None:
        headers["Authorization"] = f"Bearer {api.tokens[user]}"
    return api.client.post(path, json=json, headers=headers)


def completions(api: Api, instance_id: str) -> int:
    return len([h for h in api.instance("lei", instance_id)["history"] if h["type"] == "task_completed"])


def rows(engine: ProcessEngine) -> list[IdempotencyRow]:
    def read(uow) -> list[IdempotencyRow]:
        found = uow.session.exec(select(IdempotencyRow).order_by(IdempotencyRow.key)).all()
        uow.session.expunge_all()
        return list(found)

    return Transactions(engine.db).read(read)


def test_a_retried_completion_replays_the_first_answer_and_completes_once(api: Api) -> None:
    instance_id, task_id = started(api)
    path, body = f"/api/v1/tasks/{task_id}/complete", {"data": VALID["locate_problem"]}
    first = post(api, "lei", path, "complete-1", body)
    assert first.status_code == 200 and "idempotent-replayed" not in first.headers
    again = post(api, "lei", path, "complete-1", body)
    assert again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.content == first.content
    assert completions(api, instance_id) == 1
    # without the key, the same request runs again, and the engine refuses it
    assert api.complete("lei", task_id, VALID["locate_problem"], expect=409)["error"] == "conflict"


def test_the_same_key_for_another_request_is_409(api: Api) -> None:
    instance_id, task_id = started(api)
    path = f"/api/v1/tasks/{task_id}/complete"
    assert post(api, "lei", path, "k", {"data": VALID["locate_problem"]}).status_code == 200
    other_body = post(api, "lei", path, "k", {"data": {**VALID["locate_problem"], "reasoning": "other"}})
    assert other_body.status_code == 409
    body = other_body.json()
    assert body["error"] == "conflict" and "different request" in body["message"] and body["problems"] == []
    other_path = post(api, "lei", f"/api/v1/tasks/{task_id}/claim", "k")
    assert other_path.status_code == 409 and "different request" in other_path.json()["message"]
    put = api.client.put(
        f"/api/v1/tasks/{task_id}/complete",
        json={"data": VALID["locate_problem"]},
        headers={"Idempotency-Key": "k", "Authorization": f"Bearer {api.tokens['lei']}"},
    )
    assert put.status_code == 409  # another method
    assert completions(api, instance_id) == 1


def test_keys_belong_to_one_principal(api: Api) -> None:
    body = {"process_key": "ops_optimization", "variables": VALID["start_trigger"]}
    lei = post(api, "lei", "/api/v1/process-instances", "start-1", body)
    ada = post(api, "ada", "/api/v1/process-instances", "start-1", body)
    assert lei.status_code == ada.status_code == 201
    assert lei.json()["id"] != ada.json()["id"]
    assert "idempotent-replayed" not in ada.headers


def test_a_client_error_is_the_answer_and_is_replayed(api: Api) -> None:
    instance_id, task_id = started(api)
    path, body = f"/api/v1/tasks/{task_id}/complete", {"data": {}}
    first = post(api, "lei", path, "bad", body)
    assert first.status_code == 422 and first.json()["error"] == "invalid_input"
    again = post(api, "lei", path, "bad", body)
    assert (again.status_code, again.content) == (422, first.content)
    assert again.headers["idempotent-replayed"] == "true"
    assert completions(api, instance_id) == 0


def test_a_server_error_frees_the_key_for_a_retry(settings: Settings) -> None:
    from engine.engine import build_engine
    from engine.seed import DEMO_USERS

    engine = build_engine(settings)
    engine.identity.create_user("lei", DEMO_USERS["lei"])
    token = engine.identity.issue_token("lei")
    app = create_app(settings, engine)
    calls: list[int] = []

    def flaky() -> dict:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("the database went away")
        return {"calls": len(calls)}

    # under /engine-rest: the Camunda API is covered as well
    app.add_api_route("/engine-rest/flaky", flaky, methods=["POST"], dependencies=[Depends(get_principal)])
    headers = {"Idempotency-Key": "retry-me", "Authorization": f"Bearer {token}"}
    with TestClient(app, raise_server_exceptions=False) as client:
        assert client.post("/engine-rest/flaky", headers=headers).status_code == 500
        assert rows(engine) == []
        assert client.post("/engine-rest/flaky", headers=headers).json() == {"calls": 2}
        replay = client.post("/engine-rest/flaky", headers=headers)
        assert replay.json() == {"calls": 2} and replay.headers["idempotent-replayed"] == "true"
    assert len(calls) == 2
    engine.close()


def test_bad_keys_and_missing_tokens(api: Api, handbook: ProcessEngine) -> None:
    body = {"process_key": "ops_optimization", "variables": VALID["start_trigger"]}
    too_long = post(api, "lei", "/api/v1/process-instances", "k" * 201, body)
    assert too_long.status_code == 422
    assert too_long.json()["problems"] == [{"message": "1-200 characters", "path": "Idempotency-Key"}]
    assert post(api, "lei", "/api/v1/process-instances", "k" * 200, body).status_code == 201
    # no token, or a wrong one: left to the route, which answers 401; nothing is kept
    assert post(api, None, "/api/v1/process-instances", "anon", body).status_code == 401
    headers = {"Idempotency-Key": "anon", "Authorization": "Bearer x"}
    wrong = api.client.post("/api/v1/process-instances", json=body, headers=headers)
    assert wrong.status_code == 401
    assert [r.key for r in rows(handbook)] == ["k" * 200]


def test_keys_expire_after_a_day(api: Api, handbook: ProcessEngine) -> None:
    lei = handbook.identity.authenticate(api.tokens["lei"]).user_id
    old = utcnow() - timedelta(hours=25)

    def plant(uow) -> None:
        for key in ("old", "ancient"):
            uow.session.add(
                IdempotencyRow(
                    principal=lei,
                    key=key,
                    request_hash="0" * 64,
                    status_code=200,
                    response_body="{}",
                    content_type="application/json",
                    created_at=old,
                )
            )

    Transactions(handbook.db).write(plant)
    body = {"process_key": "ops_optimization", "variables": VALID["start_trigger"]}
    response = post(api, "lei", "/api/v1/process-instances", "old", body)
    assert response.status_code == 201 and "idempotent-replayed" not in response.headers
    assert [(r.key, r.status_code) for r in rows(handbook)] == [("old", 201)]  # and "ancient" is gone


def test_an_answer_holding_a_secret_is_not_kept_but_not_run_twice(api: Api, handbook: ProcessEngine) -> None:
    body = {"name": "monitoring key", "system": "monitoring", "scopes": ["messages:send"]}
    first = post(api, "ada", "/api/v1/api-keys", "new-key", body)
    assert first.status_code == 201
    again = post(api, "ada", "/api/v1/api-keys", "new-key", body)
    assert again.status_code == 409 and "held a secret" in again.json()["message"]
    assert len(api.call("ada", "GET", "/api/v1/api-keys")) == 1
    [row] = rows(handbook)
    assert (row.status_code, row.response_body) == (201, None)
    assert first.json()["key"] not in str(row)


def test_the_claim_states(engine: ProcessEngine) -> None:
    service = IdempotencyService(Transactions(engine.db), stale_after=timedelta(minutes=10))
    assert service.claim("u1", "k", "a" * 64).outcome == "claimed"
    assert service.claim("u1", "k", "a" * 64).outcome == "in_progress"
    assert service.claim("u1", "k", "b" * 64).outcome == "mismatch"
    assert service.claim("u2", "k", "b" * 64).outcome == "claimed"
    service.release("u2", "k")
    assert service.claim("u2", "k", "c" * 64).outcome == "claimed"
    service.store("u1", "k", StoredAnswer(200, '{"ok":true}', "application/json"))
    claim = service.claim("u1", "k", "a" * 64)
    assert claim.outcome == "replay" and claim.answer == StoredAnswer(200, '{"ok":true}', "application/json")
    service.release("u1", "k")  # a stored answer is never released
    assert service.claim("u1", "k", "a" * 64).outcome == "replay"
    # an answer that never came (the server died) is taken over after stale_after
    impatient = IdempotencyService(Transactions(engine.db), stale_after=timedelta(0))
    assert impatient.claim("u2", "k", "c" * 64).outcome == "claimed"
    # an expired key is a new key, even before the cleanup deleted it
    forgetful = IdempotencyService(Transactions(engine.db), ttl=timedelta(0), cleanup_every=timedelta(days=1))
    assert forgetful.claim("u3", "first", "a" * 64).outcome == "claimed"  # cleans up, once
    forgetful.store("u3", "first", StoredAnswer(201, "{}", "application/json"))
    assert forgetful.claim("u3", "first", "b" * 64).outcome == "claimed"


def test_concurrent_duplicates_run_once(api: Api, settings: Settings) -> None:
    instance_id, task_id = started(api)
    results: list[httpx.Response] = []
    barrier = threading.Barrier(4)
    with live_server(create_app(settings)) as base:

        def complete() -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                barrier.wait()
                results.append(
                    client.post(
                        f"/api/v1/tasks/{task_id}/complete",
                        json={"data": VALID["locate_problem"]},
                        headers={"Authorization": f"Bearer {api.tokens['lei']}", "Idempotency-Key": "race"},
                    )
                )

        threads = [threading.Thread(target=complete) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    executed = [r for r in results if r.status_code == 200 and "idempotent-replayed" not in r.headers]
    assert len(executed) == 1, [(r.status_code, r.text[:100]) for r in results]
    for r in results:
        if r.status_code == 409:
            assert r.json()["message"] == IN_PROGRESS and r.headers["retry-after"] == "1"
        else:
            assert r.status_code == 200 and r.content == executed[0].content
    assert completions(api, instance_id) == 1


def test_the_camunda_api_is_covered_with_its_own_error_shape(api: Api, handbook: ProcessEngine) -> None:
    messages = Path(__file__).resolve().parent.parent / "engine" / "data" / "messages.bpmn"
    handbook.repository.deploy([("messages.bpmn", messages.read_bytes())], actor="test")
    created = api.call(
        "ada",
        "POST",
        "/api/v1/api-keys",
        201,
        json={"name": "alarms", "system": "monitoring", "scopes": ["messages:send"]},
    )
    headers = {"Authorization": f"Bearer {created['key']}", "Idempotency-Key": "alarm-1"}
    body = {"messageName": "alarm", "businessKey": "ALARM-1", "resultEnabled": True}
    first = api.client.post("/engine-rest/message", json=body, headers=headers)
    assert first.status_code == 200 and first.json()[0]["resultType"] == "ProcessDefinition"
    again = api.client.post("/engine-rest/message", json=body, headers=headers)
    assert (again.status_code, again.content) == (200, first.content)
    assert again.headers["idempotent-replayed"] == "true"
    alarms = api.call("ada", "GET", "/api/v1/process-instances", params={"process": "alarm_handling"})
    assert alarms["total"] == 1
    other = api.client.post("/engine-rest/message", json={**body, "businessKey": "ALARM-2"}, headers=headers)
    assert other.status_code == 409
    assert other.json()["type"] == "RestException" and "different request" in other.json()["message"]
