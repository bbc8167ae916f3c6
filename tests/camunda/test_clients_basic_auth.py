"""Unmodified Camunda clients from PyPI, configured exactly as their documentation says for a Camunda
engine with HTTP Basic authentication, against a live opsflow server on loopback, doing an integrator's
whole flow: deploy, start, list tasks with filters and sorting, claim, set variables, complete,
fetch and lock, fail, retry, correlate, and read the history.

- pycamunda: each request object gets `request.auth = HTTPBasicAuth(user, password)`.
- camunda-external-task-client-python3: `config={"auth_basic": {"username": ..., "password": ...}}`;
  its worker is driven one cycle at a time through its own fetch_and_execute.
"""

from collections.abc import Iterator
from pathlib import Path

import pycamunda.deployment
import pycamunda.externaltask
import pycamunda.message
import pycamunda.processdef
import pycamunda.processinst
import pycamunda.task
import pytest
import requests
from camunda.client.external_task_client import ExternalTaskClient
from camunda.external_task.external_task import ExternalTask, TaskResult
from camunda.external_task.external_task_worker import ExternalTaskWorker
from requests.auth import HTTPBasicAuth

from api.main import create_app
from engine.config import Settings
from engine.engine import ProcessEngine
from tests.camunda.conftest import DATA, REST
from tests.helpers.server import live_server

PASSWORD = "camunda-client-1"


@pytest.fixture
def url(engine: ProcessEngine, settings: Settings, tokens: dict[str, str]) -> Iterator[str]:
    for name in ("ada", "lei", "dana", "ivan"):
        engine.identity.update_user(name, password=PASSWORD, actor="test")
    app = create_app(settings.model_copy(update={"run_worker": False}), engine=engine)
    with live_server(app) as base:
        yield f"{base}{REST}"


def as_user(request: pycamunda.base.CamundaRequest, user: str) -> pycamunda.base.CamundaRequest:
    request.auth = HTTPBasicAuth(user, PASSWORD)
    return request


def worker_config(user: str) -> dict:
    return {
        "auth_basic": {"username": user, "password": PASSWORD},
        "maxTasks": 1,
        "lockDuration": 10_000,
        "asyncResponseTimeout": 0,
        "sleepSeconds": 0,
    }


def test_pycamunda_and_the_external_task_client_run_an_integrators_flow(url: str, tmp_path: Path) -> None:
    changed = tmp_path / "invoice.bpmn"  # a new version of the deployed process
    changed.write_bytes((DATA / "invoice.bpmn").read_bytes().replace(b'name="Invoice"', b'name="Invoice 2"'))
    deploy = as_user(
        pycamunda.deployment.Create(url, name="invoice from pycamunda", source="pycamunda"), "ada"
    )
    deploy.add_resource(changed.open("rb"))
    deploy.add_resource((DATA / "approve_invoice.form").open("rb"))
    deployment = deploy()
    assert deployment.name == "invoice from pycamunda"
    [definition] = [d for d in deployment.deployed_process_definitions.values() if d.key == "invoice"]
    assert definition.version == 2

    started = []
    for business_key, amount in (("PY-1", 300), ("PY-2", 80)):
        start = as_user(
            pycamunda.processdef.StartInstance(url, key="invoice", business_key=business_key), "lei"
        )
        start.add_variable("amount", amount, type_="Long")
        start.add_variable("customer", "acme")
        started.append(start())
    first, second = started
    assert first.business_key == "PY-1"

    listed = as_user(
        pycamunda.task.GetList(
            url,
            candidate_group="data",
            process_definition_key_in=["invoice"],
            task_definition_key="Task_approve",
            sort_by="created",
            ascending=False,
        ),
        "dana",
    )()
    assert [t.process_instance_id for t in listed] == [second.id_, first.id_]
    [task] = as_user(pycamunda.task.GetList(url, process_instance_id=first.id_), "dana")()

    as_user(pycamunda.task.Claim(url, task.id_, user_id="dana"), "dana")()
    claimed = as_user(pycamunda.task.GetList(url, assignee="dana"), "dana")()
    assert [t.id_ for t in claimed] == [task.id_]

    modify = as_user(pycamunda.processinst.VariablesModify(url, first.id_), "lei")
    modify.add_variable("priority_note", "urgent")
    modify()
    note = as_user(pycamunda.processinst.VariablesGet(url, first.id_, "priority_note"), "lei")()
    assert note.value == "urgent"
    amount = as_user(pycamunda.processinst.VariablesGet(url, first.id_, "amount"), "lei")()
    assert amount.type_ == "Long" and amount.value == 300

    complete = as_user(pycamunda.task.Complete(url, task.id_), "dana")
    complete.add_variable("amount", 300, type_="Long")
    complete.add_variable("approved", True, type_="Boolean")
    complete()

    client = ExternalTaskClient("py-basic", url, config=worker_config("ivan"))
    [locked] = client.fetch_and_lock("archive")
    assert locked["processInstanceId"] == first.id_
    assert client.failure(locked["id"], "archive offline", "trace", retries=0, retry_timeout=0) is True
    assert client.fetch_and_lock("archive") == []  # an incident now
    retry = as_user(pycamunda.externaltask.SetRetries(url, locked["id"], retries=1), "ivan")
    retry()

    seen: list[ExternalTask] = []

    def archive(external_task: ExternalTask) -> TaskResult:
        seen.append(external_task)
        return external_task.complete({"archived": True})

    ExternalTaskWorker("py-worker", url, config=worker_config("ivan")).fetch_and_execute("archive", archive)
    [done] = seen
    assert done.get_variable("amount") == 300 and done.get_variable("priority_note") == "urgent"

    correlate = as_user(
        pycamunda.message.CorrelateSingle(
            url,
            "payment_received",
            business_key="PY-1",
            result_enabled=True,
        ),
        "ivan",
    )
    correlate.add_process_variable("paid", True)
    [correlated] = correlate()
    assert correlated.execution.process_instance_id == first.id_
    [book] = as_user(pycamunda.task.GetList(url, process_instance_id=first.id_), "lei")()
    assert book.task_definition_key == "Task_book"

    auth = HTTPBasicAuth("lei", PASSWORD)  # history: plain requests, as an integrator's report does
    history = requests.get(
        f"{url}/history/task", params={"processInstanceId": first.id_}, auth=auth, timeout=10
    )
    assert history.status_code == 200
    assert [(t["taskDefinitionKey"], t["assignee"]) for t in history.json()] == [
        ("Task_approve", "dana"),
        ("Task_book", "eric"),
    ]
    instances = requests.get(
        f"{url}/history/process-instance",
        params={"processInstanceBusinessKeyLike": "PY-%", "sortBy": "businessKey", "sortOrder": "asc"},
        auth=auth,
        timeout=10,
    )
    assert [i["businessKey"] for i in instances.json()] == ["PY-1", "PY-2"]


def test_wrong_basic_credentials_are_refused_by_both_clients(url: str) -> None:
    refused = as_user(pycamunda.task.GetList(url), "dana")
    refused.auth = HTTPBasicAuth("dana", "wrong")
    with pytest.raises(pycamunda.PyCamundaException):
        refused()
    config = {**worker_config("ivan"), "auth_basic": {"username": "ivan", "password": "wrong"}}
    with pytest.raises(Exception, match="received 401"):
        ExternalTaskClient("py-basic", url, config=config).fetch_and_lock("archive")
