"""Foreign BPMN (as Camunda Modeler and other tools write it) deployed and run over HTTP. Most of
these tests are about reading models and run on SQLite; those where storage matters (jobs, called
versions) run on PostgreSQL too."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from engine.config import Settings
from engine.engine import ProcessEngine
from tests.conftest import empty_database
from tests.helpers.api import Api

DATA = Path(__file__).parent / "data"
USERS = {"ada": ["admin"], "dora": ["designer"], "dana": ["data"], "lei": ["leader"], "ivan": ["integration"]}


@pytest.fixture
def db_url(_database_urls: dict[str, str]) -> str:
    return empty_database("sqlite", _database_urls)


@pytest.fixture
def api(engine: ProcessEngine, settings: Settings) -> Iterator[Api]:
    for name, roles in USERS.items():
        engine.identity.create_user(name, roles)
    tokens = {name: engine.identity.issue_token(name) for name in USERS}
    app_settings = settings.model_copy(update={"run_worker": False})
    client = TestClient(create_app(app_settings, engine=engine))
    client.__enter__()
    yield Api(client, tokens, app_factory=lambda: create_app(app_settings, engine=engine))
    client.__exit__(None, None, None)


def deploy(api: Api, *names: str, expect: int = 201, user: str = "dora") -> dict:
    """Deploys files of tests/bpmn_foreign/data by name."""
    files = [("files", (name, (DATA / name).read_bytes())) for name in names]
    return api.call(user, "POST", "/api/v1/deployments", expect, files=files)


def start(api: Api, key: str, expect: int = 201, **variables: Any) -> dict:
    return api.start("lei", variables, process_key=key, expect=expect)


def open_tasks(api: Api, instance_id: str) -> list[dict]:
    return api.instance("ada", instance_id)["open_tasks"]


def complete(api: Api, task: dict, expect: int = 200, user: str = "ada", **data: Any) -> dict:
    if task.get("assignee") is None:  # claimed already after a refused completion: fine too
        api.call(user, "POST", f"/api/v1/tasks/{task['id']}/claim", None)
    return api.complete(user, task["id"], data, expect)


def problems_of(response: dict) -> list[dict]:
    return response.get("problems") or response.get("detail", {}).get("problems", [])


def instance(api: Api, instance_id: str) -> dict:
    """The instance as an admin sees it (status, outcome, variables, incident)."""
    return api.instance("ada", instance_id)["instance"]
