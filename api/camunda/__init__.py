"""A subset of the Camunda 7 REST API under /engine-rest, so that existing Camunda clients (workers,
message senders, task lists, Camunda Modeler's deploy button) work unchanged against opsflow. One module
per Camunda resource; typed variables in `variables.py`; query parameters in `queries.py`; Camunda's DTOs
in `dto.py` and `dto_history.py`; Camunda's error shape in `errors.py`; this subset's own OpenAPI
document in `openapi.py` (served at /engine-rest/openapi.json).

Authentication is the native API's (api.deps.get_principal): `Authorization: Bearer <token or API key>`
or HTTP Basic (a user's password, or a token or API key as the password of its user), as Camunda's
clients send it. Authorization is the engine's (engine.permissions): workers and message senders hold
the `integration` role, starters `leader`, task workers their task's role.

API keys: each route's scope follows from its resource and method (`scope_of`), is listed in
ROUTE_SCOPES and registered into api.deps.ROUTE_SCOPES when this package is imported (the table
get_principal checks), so a key holding `external-tasks` can run a Camunda worker. Registration never
overrides an entry api.deps already has.

The routes are left out of the native /openapi.json (IN_OPENAPI) because the native API's schema tests
(the permission matrix, the fuzzing's one-error-shape check) expect the native error shape; /engine-rest
has its own document.
"""

import inspect

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException

from api import deps
from api.camunda import (
    decision_definition,
    deployment,
    external_task,
    history,
    identity,
    message,
    openapi,
    operations,
    process_definition,
    process_instance,
    task,
    task_variables,
    variable_instance,
)
from api.camunda.errors import PREFIX, exception_body, not_found_body
from api.routing import PrefixRouter

IN_OPENAPI = False

ROUTERS: list[APIRouter] = [
    external_task.router,
    message.router,
    deployment.router,
    process_definition.router,
    process_instance.router,
    task.router,
    task_variables.router,
    variable_instance.router,
    history.router,
    identity.user_router,
    identity.group_router,
    *operations.routers,
    decision_definition.router,
]


def scope_of(method: str, path: str) -> str | None:
    """The API key scope of a route, from its resource and method (None: people only)."""
    resource = path.removeprefix(PREFIX).strip("/").split("/")[0]
    writes = method != "GET" and not path.endswith(("/count", f"{PREFIX}/task", f"{PREFIX}/process-instance"))
    writes = writes and not path.startswith(f"{PREFIX}/history") and path != f"{PREFIX}/external-task"
    if resource == "external-task":
        return "external-tasks"
    if resource in ("message", "signal"):
        return "messages:send"
    if resource == "deployment":
        return "definitions:deploy" if writes else "definitions:read"
    if resource == "process-definition":
        return "instances:start" if writes else "definitions:read"
    if resource == "process-instance":
        if method == "DELETE" and path.endswith("{instance_id}"):
            return None  # cancelling is people's, as in the native API
        return "instances:start" if writes else "instances:read"
    if resource == "task":
        return "tasks:work" if writes else "tasks:read"
    if resource in ("history", "variable-instance", "incident"):
        return "instances:read"
    if resource in ("user", "group"):
        return "tasks:read"
    if resource in ("version", "engine", "openapi.json"):
        return deps.ANY_KEY
    return None  # jobs: admins


def _routes() -> list[tuple[str, str]]:
    return sorted(
        (method, route.path)
        for r in ROUTERS
        for route in r.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    )


#: (method, path) -> the API key scope it needs (names of engine.limits.SCOPES), deps.ANY_KEY,
#: or deps.SESSIONS_ONLY
ROUTE_SCOPES: dict[tuple[str, str], str | None] = {
    route: decision_definition.ROUTE_SCOPES.get(route, scope_of(*route)) for route in _routes()
}

router = PrefixRouter(under=PREFIX, include_in_schema=IN_OPENAPI)
for _router in ROUTERS:
    router.include_router(_router)


def install(app: FastAPI) -> None:
    """Camunda's error shape for paths under /engine-rest that match no route (the native one stays
    for the rest), and the OpenAPI document of this subset."""
    native = app.exception_handlers[HTTPException]

    async def http_error(request: Request, exc: HTTPException) -> Response:
        path = request.url.path
        if path != PREFIX and not path.startswith(PREFIX + "/"):
            answer = native(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        if exc.status_code == 404:
            return JSONResponse(not_found_body(request), status_code=404)
        body = exception_body("RestException", str(exc.detail))
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    # Starlette types every handler as taking Exception, not the class it is registered for.
    app.add_exception_handler(HTTPException, http_error)  # type: ignore[arg-type]

    @app.get(openapi.PATH, include_in_schema=False)
    def engine_rest_openapi() -> JSONResponse:
        """The OpenAPI document of /engine-rest: exactly the operations opsflow implements."""
        return JSONResponse(openapi.document(ROUTERS))


for _route, _scope in ROUTE_SCOPES.items():
    deps.ROUTE_SCOPES.setdefault(_route, _scope)

__all__ = ["IN_OPENAPI", "ROUTERS", "ROUTE_SCOPES", "install", "router", "scope_of"]
