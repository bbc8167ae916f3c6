"""Fixtures for the Camunda 7 REST layer: a process written as for Camunda 7 (tests/camunda/data),
users of every role plus integration accounts, and an HTTP client that names the acting user."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from engine.config import Settings
from engine.engine import ProcessEngine
from tests.helpers.api import Api

DATA = Path(__file__).parent / "data"
USERS: dict[str, list[str]] = {
    "ada": ["admin"],
    "lei": ["leader"],
    "dana": ["data"],
    "eric": ["execution"],
    "sara": ["support"],
    "ivan": ["integration"],  # a worker / message sender
    "bot": ["integration", "leader"],  # a system that also starts processes
}
REST = "/engine-rest"


def deploy_invoice(engine: ProcessEngine) -> None:
    files = [(p.name, p.read_bytes()) for p in sorted(DATA.iterdir()) if p.suffix in (".bpmn", ".form")]
    engine.repository.deploy(files, name="camunda tests", actor="test")


def create_users(engine: ProcessEngine) -> dict[str, str]:
    for name, roles in USERS.items():
        engine.identity.create_user(name, roles)
    return {name: engine.identity.issue_token(name) for name in USERS}


@pytest.fixture
def tokens(engine: ProcessEngine) -> dict[str, str]:
    deploy_invoice(engine)
    return create_users(engine)


@pytest.fixture
def rest(engine: ProcessEngine, settings: Settings, tokens: dict[str, str]) -> Iterator[Api]:
    """An HTTP client on the app (sharing the test's engine); paths are under /engine-rest."""
    client = TestClient(create_app(settings.model_copy(update={"run_worker": False}), engine=engine))
    client.__enter__()
    yield Api(client, tokens, app_factory=lambda: create_app(settings, engine=engine))
    client.__exit__(None, None, None)


def typed(value: Any, type_name: str | None = None, **value_info: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"value": value}
    if type_name is not None:
        body["type"] = type_name
    if value_info:
        body["valueInfo"] = value_info
    return body


def start(
    rest: Api, *, key: str = "invoice", business_key: str | None = None, user: str = "lei", **variables: Any
) -> dict:
    """Starts an instance through /engine-rest; variables are sent untyped."""
    body: dict[str, Any] = {"variables": {k: typed(v) for k, v in variables.items()}}
    if business_key:
        body["businessKey"] = business_key
    return rest.call(user, "POST", f"{REST}/process-definition/key/{key}/start", json=body)


def tasks(rest: Api, user: str = "ada", **params: Any) -> list[dict]:
    return rest.call(user, "GET", f"{REST}/task", params=params)


def approve(rest: Api, instance_id: str, amount: int = 120) -> None:
    """dana (data) completes Task_approve: the instance goes on to the external task `archive`."""
    [task] = tasks(rest, "dana", processInstanceId=instance_id, taskDefinitionKey="Task_approve")
    variables = {"amount": typed(amount, "Integer"), "approved": typed(True, "Boolean")}
    rest.call("dana", "POST", f"{REST}/task/{task['id']}/complete", 204, json={"variables": variables})


def fetch(rest: Api, worker: str = "w1", user: str = "ivan", expect: int = 200, **extra: Any) -> Any:
    topic = {"topicName": "archive", "lockDuration": 60_000, **extra.pop("topic", {})}
    body = {"workerId": worker, "maxTasks": 10, "topics": [topic], **extra}
    return rest.call(user, "POST", f"{REST}/external-task/fetchAndLock", expect, json=body)
