"""Across /engine-rest: bearer tokens and API keys (with scopes), Camunda's error shape for every failure,
and the routes' place in the app (listed for API keys, kept out of the native OpenAPI document)."""

import pytest
from fastapi.routing import APIRoute, iter_route_contexts

from api.camunda import ROUTE_SCOPES as CAMUNDA_SCOPES
from api.deps import ROUTE_SCOPES, get_principal
from api.main import create_app
from engine.config import Settings
from engine.engine import ProcessEngine
from engine.services.api_keys import SCOPES
from engine.views import Principal
from tests.camunda.conftest import REST, approve, start
from tests.helpers.api import Api

ADMIN = Principal("admin", "ada", frozenset({"admin"}))


def camunda_routes() -> list[APIRoute]:
    app = create_app(Settings(database_url="sqlite://"))
    routes = [ctx.original_route for ctx in iter_route_contexts(app.routes)]
    return [r for r in routes if isinstance(r, APIRoute) and r.path.startswith(REST)]


def _depends_on_principal(dependant) -> bool:
    return any(d.call is get_principal or _depends_on_principal(d) for d in dependant.dependencies)


def test_every_route_authenticates_and_names_its_api_key_scope() -> None:
    routes = camunda_routes()
    assert len(routes) == len(CAMUNDA_SCOPES)
    for route in routes:
        assert _depends_on_principal(route.dependant), route.path
        for method in route.methods:
            assert ROUTE_SCOPES[(method, route.path)] in SCOPES, (method, route.path)


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
    }


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
