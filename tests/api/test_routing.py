"""Every route hands a plain `def` endpoint to the thread pool once per request (api.routing.Route)."""

import inspect
import threading

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient

from api.main import create_app
from api.routing import Route
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
