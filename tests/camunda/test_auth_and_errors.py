"""Across /engine-rest: bearer tokens, HTTP Basic and API keys (with scopes), Camunda's error shape for
every failure (unknown paths too), and the routes' place in the app (listed for API keys, kept out of
the native OpenAPI document)."""

import base64

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from api.camunda import ROUTE_SCOPES as CAMUNDA_SCOPES
from api.camunda.openapi import PATH as OPENAPI_PATH
from api.deps import ANY_KEY, ROUTE_SCOPES, SESSIONS_ONLY, get_principal
from api.main import create_app
from engine.config import Settings
from engine.engine import ProcessEngine
from engine.limits import SCOPES
from engine.views import Principal
from tests.camunda.conftest import REST, approve, start
from tests.helpers.api import Api

ADMIN = Principal("admin", "ada", frozenset({"admin"}))


def camunda_routes() -> list[APIRoute]:
    app = create_app(Settings(database_url="sqlite://"))
    routes = [ctx.original_route for ctx in iter_route_contexts(app.routes)]
    return [
        r for r in routes if isinstance(r, APIRoute) and r.path.startswith(REST) and r.path != OPENAPI_PATH
    ]


def _depends_on_principal(dependant) -> bool:
    return any(d.call is get_principal or _depends_on_principal(d) for d in dependant.dependencies)


def test_every_route_authenticates_and_names_its_api_key_scope() -> None:
    routes = camunda_routes()
    assert len(routes) == len(CAMUNDA_SCOPES)
    for route in routes:
        assert _depends_on_principal(route.dependant), route.path
        for method in route.methods:
            scope = ROUTE_SCOPES[(method, route.path)]
            assert scope in SCOPES or scope in (ANY_KEY, SESSIONS_ONLY), (method, route.path)


def test_the_routes_stay_out_of_the_native_openapi_document() -> None:
    paths = create_app(Settings(database_url="sqlite://")).openapi()["paths"]
    assert not [p for p in paths if p.startswith(REST)]


def test_an_api_key_works_within_its_scopes(rest: Api, engine: ProcessEngine) -> None:
    key = engine.api_keys.create("archiver", "archiver", ["external-tasks"], principal=ADMIN).key
    started = start(rest)
    approve(rest, started["id"])
    headers = {"Authorization": f"Bearer {key}"}
    body = {"workerId": "k", "maxTasks": 1, "topics": [{"topicName": "archive", "lockDuration": 1000}]}
    response = rest.client.post(f"{REST}/external-task/fetchAndLock", json=body, headers=headers)
    assert response.status_code == 200 and len(response.json()) == 1
    refused = rest.client.get(f"{REST}/task", headers=headers)
    assert refused.status_code == 403
    assert refused.json() == {
        "type": "AuthorizationException",
        "message": "this API key lacks the scope tasks:read",
        "code": None,
        "userId": "archiver",
        "missingAuthorizations": [{"permissionName": "READ", "resourceName": "Task", "resourceId": None}],
    }


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def test_basic_authentication_takes_a_password_or_a_key_as_the_password(
    rest: Api, engine: ProcessEngine
) -> None:
    key = engine.api_keys.create("archiver", "archiver", ["external-tasks"], principal=ADMIN).key
    started = start(rest)
    engine.identity.update_user("lei", password="lei-secret-1", actor="test")
    by_password = rest.client.get(
        f"{REST}/process-instance/{started['id']}", headers=basic("lei", "lei-secret-1")
    )
    assert by_password.status_code == 200 and by_password.json()["id"] == started["id"]
    by_key = rest.client.get(f"{REST}/external-task", headers=basic("archiver", key))
    assert by_key.status_code == 200
    someone_elses_key = rest.client.get(f"{REST}/external-task", headers=basic("lei", key))
    assert someone_elses_key.status_code == 401


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Basic bm9wZQ=="}, {"Authorization": "Basic %%%"}, basic("lei", "wrong")],
    ids=["none", "no colon", "not base64", "wrong password"],
)
def test_without_valid_credentials_the_answer_is_401_asking_for_basic(rest: Api, headers: dict) -> None:
    answer = rest.client.get(f"{REST}/task", headers=headers)
    assert answer.status_code == 401
    assert answer.headers["www-authenticate"].startswith("Basic")
    assert answer.json()["type"] == "AuthenticationException"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/nothing-here"), ("POST", "/process-definition/key/x/y/z"), ("GET", "")],
)
def test_an_unknown_path_is_a_camunda_shaped_404(rest: Api, method: str, path: str) -> None:
    answer = rest.client.request(
        method, f"{REST}{path}", headers={"Authorization": f"Bearer {rest.tokens['ada']}"}
    )
    assert answer.status_code == 404
    assert set(answer.json()) == {"type", "message", "code"}
    assert answer.json()["type"] == "InvalidRequestException"


def test_claiming_a_task_of_another_group_is_403_naming_the_user(rest: Api) -> None:
    started = start(rest)
    [task] = rest.call("ada", "GET", f"{REST}/task", params={"processInstanceId": started["id"]})
    answer = rest.call("eric", "POST", f"{REST}/task/{task['id']}/claim", 403, json={})
    assert answer["type"] == "AuthorizationException"
    assert answer["userId"] == "eric"
    assert answer["missingAuthorizations"] == [
        {"permissionName": "UPDATE", "resourceName": "Task", "resourceId": task["id"]}
    ]


def test_an_unexpected_error_is_a_camunda_shaped_500_without_details(
    rest: Api, monkeypatch: pytest.MonkeyPatch, engine: ProcessEngine
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(engine.external_tasks, "fetch_and_lock", broken)
    body = {"workerId": "w", "maxTasks": 1, "topics": [{"topicName": "archive", "lockDuration": 1000}]}
    answer = rest.call("ivan", "POST", f"{REST}/external-task/fetchAndLock", 500, json=body)
    assert answer == {"type": "RestException", "message": "internal server error", "code": None}


def test_a_concurrent_update_is_a_400_optimistic_locking_exception(
    rest: Api, monkeypatch: pytest.MonkeyPatch, engine: ProcessEngine
) -> None:
    from engine.errors import ConcurrentUpdate

    def raced(*args: object, **kwargs: object) -> None:
        raise ConcurrentUpdate("process instance x was changed by someone else; try again")

    monkeypatch.setattr(engine.tasks, "complete", raced)
    answer = rest.call("dana", "POST", f"{REST}/task/any/complete", 400, json={})
    assert answer["type"] == "OptimisticLockingException"
