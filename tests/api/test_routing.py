"""Every route hands a plain `def` endpoint to the thread pool once per request (api.routing.Route)."""

import inspect
import threading

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from api.main import create_app
from api.routing import PrefixRouter, Route
from engine.config import Settings


def test_every_route_uses_the_route_class_that_hands_off_once() -> None:
    """A new router needs `route_class=Route`, or its def endpoints cost a second thread hand-off."""
    app = create_app(Settings(database_url="sqlite://"))
    routes = [
        c.original_route for c in iter_route_contexts(app.routes) if isinstance(c.original_route, APIRoute)
    ]
    assert len(routes) > 50
    assert [r.path for r in routes if not isinstance(r, Route)] == []
    assert [r.path for r in routes if not inspect.iscoroutinefunction(r.endpoint)] == []


def test_a_def_endpoint_still_runs_off_the_event_loop_and_keeps_its_signature() -> None:
    app = FastAPI()
    app.router.route_class = Route

    @app.get("/where/{name}")
    def where(name: str, times: int = 1) -> dict:
        """Says where it ran."""
        return {"thread": threading.current_thread().name, "echo": name * times}

    with TestClient(app) as client:
        answer = client.get("/where/ab", params={"times": 2}).json()
        loop_thread = client.portal.call(lambda: threading.current_thread().name)
    assert answer["echo"] == "abab"
    assert answer["thread"] != loop_thread
    operation = app.openapi()["paths"]["/where/{name}"]["get"]
    assert operation["description"] == "Says where it ran."
    assert [p["name"] for p in operation["parameters"]] == ["name", "times"]


def _prefix_routers(routes: list, found: list[PrefixRouter]) -> list[PrefixRouter]:
    for route in routes:
        router = getattr(route, "original_router", None)  # an included router (a lazy branch)
        if router is not None:
            if isinstance(router, PrefixRouter):
                found.append(router)
            _prefix_routers(router.routes, found)
    return found


def test_every_route_of_a_prefix_router_lies_under_its_path() -> None:
    """A PrefixRouter refuses a request outside its path without trying its routes: a route added to
    it outside that path would never be reached."""
    app = create_app(Settings(database_url="sqlite://"))
    routers = _prefix_routers(app.routes, [])
    assert {r.under for r in routers} >= {"/api/v1", "/engine-rest", "/engine-rest/task", "/api/v1/tasks"}
    for router in routers:
        paths = [c.original_route.path for c in iter_route_contexts(router.routes)]
        assert paths and [p for p in paths if not p.startswith(router.under)] == []


def test_a_prefix_router_answers_inside_its_path_and_leaves_the_rest_to_others() -> None:
    app = FastAPI()
    app.router.route_class = Route
    inner = PrefixRouter(prefix="/v1/things", route_class=Route)

    @inner.get("/{name}")
    def thing(name: str) -> dict:
        return {"thing": name}

    @app.get("/v1/other")
    def other() -> dict:
        return {"other": True}

    app.include_router(inner)
    with TestClient(app) as client:
        assert client.get("/v1/things/a").json() == {"thing": "a"}
        assert client.get("/v1/other").json() == {"other": True}
        assert client.post("/v1/things/a").status_code == 405
        assert client.get("/v1/thingsx").status_code == 404
