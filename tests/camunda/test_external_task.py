"""POST /engine-rest/external-task/fetchAndLock, /{id}/complete, /failure, /bpmnError, /extendLock."""

import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import time_machine

from api.main import create_app
from engine.config import Settings
from tests.camunda.conftest import REST, approve, fetch, start, tasks, typed
from tests.helpers.api import Api
from tests.helpers.server import live_server

LOCKED_FIELDS = {
    "activityId",
    "activityInstanceId",
    "errorMessage",
    "errorDetails",
    "executionId",
    "id",
    "lockExpirationTime",
    "createTime",
    "processDefinitionId",
    "processDefinitionKey",
    "processDefinitionVersionTag",
    "processInstanceId",
    "retries",
    "suspended",
    "workerId",
    "topicName",
    "tenantId",
    "variables",
    "priority",
    "businessKey",
    "extensionProperties",
}


def at_archive(rest: Api, business_key: str = "INV-1", **variables: object) -> dict:
    started = start(rest, business_key=business_key, **variables)
    approve(rest, started["id"])
    return started


def url(task_id: str, action: str) -> str:
    return f"{REST}/external-task/{task_id}/{action}"


def test_a_worker_fetches_and_locks_with_camundas_fields(rest: Api) -> None:
    started = at_archive(rest, customer="acme")
    [task] = fetch(rest, topic={"variables": ["customer", "amount"], "includeExtensionProperties": True})
    assert set(task) == LOCKED_FIELDS
    assert (
        task["topicName"] == "archive" and task["workerId"] == "w1" and task["activityId"] == "Task_archive"
    )
    assert (
        task["processInstanceId"] == started["id"] and task["processDefinitionId"] == started["definitionId"]
    )
    assert task["processDefinitionKey"] == "invoice" and task["businessKey"] == "INV-1"
    assert task["retries"] is None and task["errorMessage"] is None and task["priority"] == 0
    assert task["variables"] == {
        "customer": {"type": "String", "value": "acme", "valueInfo": {}},
        "amount": {"type": "Integer", "value": 120, "valueInfo": {}},
    }
    assert task["extensionProperties"] == {"archive": "finance"}
    locked_until = datetime.strptime(task["lockExpirationTime"], "%Y-%m-%dT%H:%M:%S.%f%z")
    assert timedelta(seconds=55) < locked_until - datetime.now(UTC) <= timedelta(seconds=60)
    assert fetch(rest, "w2") == []  # locked by w1


def test_variables_and_extension_properties_are_only_sent_as_asked(rest: Api) -> None:
    at_archive(rest, customer="acme")
    [task] = fetch(rest, topic={"variables": []})
    assert task["variables"] == {} and task["extensionProperties"] == {}


def test_complete_needs_the_lock_holder_and_moves_the_process_on(rest: Api) -> None:
    started = at_archive(rest)
    [task] = fetch(rest)
    other = rest.call("ivan", "POST", url(task["id"], "complete"), 400, json={"workerId": "w2"})
    assert other["type"] == "RestException" and "w2" in other["message"]
    body = {
        "workerId": "w1",
        "variables": {"archived_at": typed("2024-01-31T10:00:00.000+0000", "Date")},
        "localVariables": {"tmp": typed(1, "Integer")},
    }
    rest.call("ivan", "POST", url(task["id"], "complete"), 204, json=body)
    archived = rest.call("lei", "GET", f"{REST}/process-instance/{started['id']}/variables/archived_at")
    assert archived == {"type": "Date", "value": "2024-01-31T10:00:00.000+0000", "valueInfo": {}}
    variables = rest.call("lei", "GET", f"{REST}/process-instance/{started['id']}/variables")
    assert "tmp" not in variables  # local variables end with the activity
    assert rest.call("ivan", "POST", url(task["id"], "complete"), 404, json={"workerId": "w1"})["type"] == (
        "InvalidRequestException"
    )


def test_a_failure_with_retries_returns_the_task_after_the_retry_timeout(rest: Api) -> None:
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as clock:
        at_archive(rest)
        [task] = fetch(rest)
        failure = {
            "workerId": "w1",
            "errorMessage": "archive timeout",
            "errorDetails": "trace...",
            "retries": 2,
            "retryTimeout": 5000,
        }
        rest.call("ivan", "POST", url(task["id"], "failure"), 204, json=failure)
        assert fetch(rest) == []
        clock.shift(timedelta(seconds=6))
        [again] = fetch(rest)
        assert again["retries"] == 2 and again["errorMessage"] == "archive timeout"
        assert again["errorDetails"] == "trace..."
        rest.call(
            "ivan",
            "POST",
            url(task["id"], "failure"),
            204,
            json={"workerId": "w1", "errorMessage": "down", "retries": 0, "retryTimeout": 0},
        )
        clock.shift(timedelta(seconds=60))
        assert fetch(rest) == []  # an incident now
    with_variables = rest.call(
        "ivan", "POST", url(task["id"], "failure"), 400, json={"workerId": "w1", "variables": {"x": typed(1)}}
    )
    assert with_variables["type"] == "InvalidRequestException"


def test_a_bpmn_error_is_caught_by_the_boundary_event(rest: Api) -> None:
    started = at_archive(rest)
    [task] = fetch(rest)
    uncaught = rest.call(
        "ivan",
        "POST",
        url(task["id"], "bpmnError"),
        400,
        json={"workerId": "w1", "errorCode": "NOBODY_CATCHES"},
    )
    assert uncaught["type"] == "InvalidRequestException"
    rest.call(
        "ivan",
        "POST",
        url(task["id"], "bpmnError"),
        204,
        json={
            "workerId": "w1",
            "errorCode": "ARCHIVE_DOWN",
            "errorMessage": "offline",
            "variables": {"tried": typed(3, "Integer")},
        },
    )
    [by_hand] = tasks(rest, "ada", processInstanceId=started["id"])
    assert by_hand["taskDefinitionKey"] == "Task_archive_by_hand"
    assert rest.call("ivan", "POST", url(task["id"], "bpmnError"), 400, json={"workerId": "w1"})[
        "message"
    ] == ("errorCode is required")


def test_extend_lock_keeps_the_task_locked(rest: Api) -> None:
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=UTC), tick=False) as clock:
        at_archive(rest)
        [task] = fetch(rest)
        rest.call(
            "ivan",
            "POST",
            url(task["id"], "extendLock"),
            204,
            json={"workerId": "w1", "newDuration": 600_000},
        )
        clock.shift(timedelta(seconds=120))
        assert fetch(rest, "w2") == []
        wrong = rest.call(
            "ivan", "POST", url(task["id"], "extendLock"), 400, json={"workerId": "w2", "newDuration": 1}
        )
        assert wrong["type"] == "RestException"
        zero = rest.call(
            "ivan", "POST", url(task["id"], "extendLock"), 400, json={"workerId": "w1", "newDuration": 0}
        )
        assert zero["type"] == "InvalidRequestException"


def test_only_integration_accounts_and_admins_work_external_tasks(rest: Api) -> None:
    at_archive(rest)
    body = fetch(rest, user="dana", expect=403)
    assert body["type"] == "AuthorizationException" and body["userId"] == "dana"
    assert set(body) == {"type", "message", "code", "userId", "missingAuthorizations"}
    assert len(fetch(rest, user="ada")) == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"workerId": None}, "workerId is required"),
        ({"topic": {"lockDuration": None}}, "lockDuration"),
        ({"topic": {"processDefinitionKey": "invoice"}}, "processDefinitionKey"),
        ({"topic": {"processVariables": {"customer": "acme"}}}, "processVariables"),
        ({"asyncResponseTimeout": 1_800_001}, "cannot be set to a value greater than 1800000"),
        ({"maxTasks": "ten"}, "maxTasks"),
    ],
)
def test_bad_fetch_requests_are_400(rest: Api, change: dict, message: str) -> None:
    body = fetch(rest, expect=400, **change)
    assert body["type"] == "InvalidRequestException" and message in body["message"]


def test_a_fetch_accepts_what_camunda_clients_send_besides(rest: Api) -> None:
    at_archive(rest)
    extra = {
        "usePriority": True,
        "sorting": None,
        "includeExtensionProperties": None,
        "topic": {
            "processVariables": {},
            "deserializeValues": True,
            "variables": None,
            "withoutTenantId": None,
        },
    }
    assert len(fetch(rest, **extra)) == 1
    assert fetch(rest, maxTasks=0) == []


def test_long_polling_answers_empty_after_the_timeout(rest: Api) -> None:
    begun = time.monotonic()
    assert fetch(rest, asyncResponseTimeout=400) == []
    assert time.monotonic() - begun >= 0.4


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_long_polling_answers_as_soon_as_a_task_can_be_locked(rest: Api, settings: Settings, engine) -> None:
    """Against a live server: the request waits, then locks the task that appears meanwhile."""
    started = start(rest, business_key="LATE")
    app = create_app(settings.model_copy(update={"run_worker": False}), engine=engine)
    answers: list[httpx.Response] = []
    with live_server(app) as base:
        body = {
            "workerId": "poller",
            "maxTasks": 1,
            "asyncResponseTimeout": 10_000,
            "topics": [{"topicName": "archive", "lockDuration": 10_000}],
        }
        headers = {"Authorization": f"Bearer {rest.tokens['ivan']}"}
        waiting = threading.Thread(
            target=lambda: answers.append(
                httpx.post(f"{base}{REST}/external-task/fetchAndLock", json=body, headers=headers, timeout=20)
            )
        )
        begun = time.monotonic()
        waiting.start()
        time.sleep(0.5)
        approve(rest, started["id"])
        waiting.join(timeout=15)
        elapsed = time.monotonic() - begun
    [answer] = answers
    assert answer.status_code == 200 and [t["businessKey"] for t in answer.json()] == ["LATE"]
    assert elapsed < 5


def test_a_topic_can_be_narrowed_to_a_business_key(rest: Api) -> None:
    at_archive(rest, business_key="INV-1")
    at_archive(rest, business_key="INV-2")
    [task] = fetch(rest, topic={"businessKey": "INV-2"}, asyncResponseTimeout=200)
    assert task["businessKey"] == "INV-2"
    assert fetch(rest, topic={"businessKey": "INV-2"}, asyncResponseTimeout=200) == []
