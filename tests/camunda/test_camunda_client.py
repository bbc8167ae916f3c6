"""The unmodified PyPI package camunda-external-task-client-python3 against a live opsflow server, with
bearer tokens: its ExternalTaskWorker/ExternalTaskClient fetch, lock, complete, fail and throw BPMN
errors on our external tasks; its EngineClient starts instances, queries them and correlates messages.

ExternalTaskWorker.subscribe() loops forever, so the worker is driven one cycle at a time through its
own fetch_and_execute (fetch and lock -> the handler -> complete), which is what each loop turn runs.
"""

from collections.abc import Iterator

import httpx
import pytest
from camunda.client.engine_client import EngineClient
from camunda.client.external_task_client import ExternalTaskClient
from camunda.external_task.external_task import ExternalTask, TaskResult
from camunda.external_task.external_task_worker import ExternalTaskWorker, NoExternalTaskFound

from api.main import create_app
from engine.config import Settings
from engine.engine import ProcessEngine
from tests.camunda.conftest import REST
from tests.helpers.server import live_server


@pytest.fixture
def base_url(engine: ProcessEngine, settings: Settings, tokens: dict[str, str]) -> Iterator[str]:
    app = create_app(settings.model_copy(update={"run_worker": False}), engine=engine)
    with live_server(app) as base:
        yield f"{base}{REST}"


def bearer(token: str) -> dict:
    return {"auth_bearer": {"access_token": token}}


def worker_config(token: str) -> dict:
    return {
        **bearer(token),
        "maxTasks": 1,
        "lockDuration": 10_000,
        "asyncResponseTimeout": 1000,
        "sleepSeconds": 0,
    }


def open_tasks(base_url: str, token: str, instance_id: str) -> list[dict]:
    response = httpx.get(
        f"{base_url}/task",
        params={"processInstanceId": instance_id},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def approve(base_url: str, token: str, instance_id: str) -> None:
    [task] = open_tasks(base_url, token, instance_id)
    body = {"variables": {"amount": {"value": 120, "type": "Integer"}, "approved": {"value": True}}}
    response = httpx.post(
        f"{base_url}/task/{task['id']}/complete", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 204, response.text


def test_engine_client_and_external_task_worker_run_a_camunda_process(
    base_url: str, tokens: dict[str, str]
) -> None:
    engine_client = EngineClient(base_url, config=bearer(tokens["bot"]))
    started = engine_client.start_process(
        "invoice", {"customer": "acme", "rush": False}, business_key="INV-PY"
    )
    assert started["businessKey"] == "INV-PY" and started["ended"] is False
    found = engine_client.get_process_instance(process_key="invoice", variables=["customer_eq_acme"])
    assert [i["id"] for i in found] == [started["id"]]
    assert engine_client.get_process_instance(process_key="invoice", variables=["customer_eq_nobody"]) == []
    approve(base_url, tokens["dana"], started["id"])

    seen: list[ExternalTask] = []

    def archive(task: ExternalTask) -> TaskResult:
        seen.append(task)
        return task.complete({"archived": True, "archive_ref": "A-1"})

    worker = ExternalTaskWorker("py-worker", base_url, config=worker_config(tokens["ivan"]))
    worker.fetch_and_execute("archive", archive)
    [task] = seen
    assert task.get_topic_name() == "archive" and task.get_worker_id() == "py-worker"
    assert task.get_business_key() == "INV-PY" and task.get_process_instance_id() == started["id"]
    assert task.get_variable("customer") == "acme" and task.get_variable("amount") == 120
    assert task.get_variable("rush") is False
    assert task.get_extension_property("archive") == "finance"
    with pytest.raises(NoExternalTaskFound):  # the only task is done; long polling gives up after 1 s
        worker.fetch_and_execute("archive", archive)

    [result] = engine_client.correlate_message(
        "payment_received", business_key="INV-PY", process_variables={"paid": True}
    )
    assert result["resultType"] == "Execution" and result["execution"]["processInstanceId"] == started["id"]
    [book] = open_tasks(base_url, tokens["eric"], started["id"])
    assert book["taskDefinitionKey"] == "Task_book" and book["assignee"] == "eric"
    variables = httpx.get(
        f"{base_url}/process-instance/{started['id']}/variables",
        headers={"Authorization": f"Bearer {tokens['bot']}"},
    ).json()
    assert variables["archived"] == {"type": "Boolean", "value": True, "valueInfo": {}}
    assert variables["paid"]["value"] is True and variables["archive_ref"]["value"] == "A-1"


def test_a_message_from_the_engine_client_starts_a_process(base_url: str, tokens: dict[str, str]) -> None:
    engine_client = EngineClient(base_url, config=bearer(tokens["ivan"]))
    [result] = engine_client.correlate_message("invoice_alarm", business_key="ALARM-PY")
    assert result["resultType"] == "ProcessDefinition"
    assert result["processInstance"]["definitionKey"] == "invoice_alarm"
    with pytest.raises(
        Exception, match="received 400 : RestException : Cannot correlate message 'payment_received'"
    ):
        engine_client.correlate_message("payment_received", business_key="NOBODY")


def test_the_external_task_client_reports_failures_and_bpmn_errors(
    base_url: str, tokens: dict[str, str]
) -> None:
    engine_client = EngineClient(base_url, config=bearer(tokens["bot"]))
    started = engine_client.start_process("invoice", {}, business_key="INV-FAIL")
    approve(base_url, tokens["dana"], started["id"])
    client = ExternalTaskClient("py-client", base_url, config=worker_config(tokens["ivan"]))

    [task] = client.fetch_and_lock("archive")
    assert client.failure(task["id"], "archive offline", "stack trace", retries=2, retry_timeout=0) is True
    [again] = client.fetch_and_lock("archive")
    assert again["id"] == task["id"] and again["retries"] == 2 and again["errorMessage"] == "archive offline"
    assert client.bpmn_failure(again["id"], "ARCHIVE_DOWN", "gave up", {"attempts": 2}) is True
    [by_hand] = open_tasks(base_url, tokens["sara"], started["id"])
    assert by_hand["taskDefinitionKey"] == "Task_archive_by_hand"
    assert client.fetch_and_lock("archive") == []


def test_a_wrong_or_missing_token_is_refused(base_url: str, tokens: dict[str, str]) -> None:
    with pytest.raises(Exception, match="received 401 : AuthenticationException"):
        EngineClient(base_url, config=bearer("opf_not-a-token")).start_process("invoice", {})
    with pytest.raises(Exception, match="received 401"):
        ExternalTaskClient("anonymous", base_url, config={"asyncResponseTimeout": 0}).fetch_and_lock(
            "archive"
        )
    with pytest.raises(Exception, match="received 403 : AuthorizationException"):
        ExternalTaskClient("a-person", base_url, config=bearer(tokens["dana"])).fetch_and_lock("archive")
