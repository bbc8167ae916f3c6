"""Camunda-shaped errors for /engine-rest only: `{"type", "message", "code"}` (Camunda's ExceptionDto,
nulls included as Camunda's Jackson writes them), with Camunda's status codes.

Installed per route, not per app: every router of this package uses `CamundaRoute`, whose handler
catches what the route (and its dependencies, authentication included) raises. The native API's
exception handlers (api/errors.py) are untouched.

| raised                              | status | type                       | why                         |
|-------------------------------------|--------|----------------------------|-----------------------------|
| request body/query not valid        | 400    | InvalidRequestException    | Camunda: a malformed DTO    |
| engine InvalidInput                 | 400    | InvalidRequestException    | can never work as sent      |
| engine NotFound                     | 404    | InvalidRequestException    | "... does not exist"        |
| engine Forbidden                    | 403    | AuthorizationException     | as Camunda's authorization  |
| engine Unauthenticated              | 401    | AuthenticationException    | + WWW-Authenticate: Basic   |
| engine ConcurrentUpdate             | 400    | OptimisticLockingException | retrying may succeed        |
| engine Conflict (claimed, not open, | 400    | RestException              | see below                   |
|   locked by another worker, ...)    |        |                            |                             |
| anything else                       | 500    | RestException              | logged; never a stack trace |

Conflicts: Camunda answers a task claimed by someone else or an external task locked by another worker
with 400 (external tasks: BadUserRequestException -> RestException 400) or 500 (TaskAlreadyClaimed,
OptimisticLocking). We never answer 500 for a state the caller can cause, so every conflict is 400;
the type tells a retryable concurrent update apart. A resource may translate errors itself to follow
Camunda more closely (message correlation: nothing or several matching is 400, not 404).
"""

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.routing import PrefixRouter, Route
from engine.errors import (
    ConcurrentUpdate,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    OpsflowError,
    Unauthenticated,
)

log = logging.getLogger("opsflow.api.camunda")

PREFIX = "/engine-rest"

INVALID_REQUEST = "InvalidRequestException"
REST_EXCEPTION = "RestException"
AUTHORIZATION = "AuthorizationException"

#: engine error family -> (status, Camunda exception type); the first match wins
STATUS: list[tuple[type[OpsflowError], int, str]] = [
    (Unauthenticated, 401, "AuthenticationException"),
    (Forbidden, 403, AUTHORIZATION),
    (NotFound, 404, INVALID_REQUEST),
    (InvalidInput, 400, INVALID_REQUEST),
    (ConcurrentUpdate, 400, "OptimisticLockingException"),
    (Conflict, 400, REST_EXCEPTION),
]


class CamundaError(Exception):
    """An error this layer decides itself (an unsupported variable type, a Camunda-only rule)."""

    def __init__(self, status: int, type_: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.type = type_
        self.message = message


def invalid(message: str, status: int = 400) -> CamundaError:
    return CamundaError(status, INVALID_REQUEST, message)


def exception_body(type_: str, message: str) -> dict[str, Any]:
    return {"type": type_, "message": message, "code": None}


#: Camunda's clients answer a 401 by sending Basic credentials; bearer tokens work as well.
CHALLENGE = 'Basic realm="opsflow", Bearer'

#: the first path segment under /engine-rest -> Camunda's resource name, for missingAuthorizations
RESOURCES = {
    "task": "Task",
    "process-instance": "ProcessInstance",
    "process-definition": "ProcessDefinition",
    "deployment": "Deployment",
    "external-task": "ProcessInstance",
    "message": "ProcessInstance",
    "history": "HistoricProcessInstance",
    "user": "User",
    "group": "Group",
    "incident": "ProcessInstance",
    "job": "ProcessInstance",
    "decision-definition": "DecisionDefinition",
}


def error_response(exc: Exception, request: Request | None = None) -> JSONResponse:
    if isinstance(exc, CamundaError):
        return JSONResponse(exception_body(exc.type, exc.message), status_code=exc.status)
    if isinstance(exc, OpsflowError):
        status, type_ = next(((s, t) for cls, s, t in STATUS if isinstance(exc, cls)), (400, REST_EXCEPTION))
        headers = {"WWW-Authenticate": CHALLENGE} if status == 401 else None
        body = exception_body(type_, str(exc))
        if status == 403:
            body.update(authorization_details(request))
        return JSONResponse(body, status_code=status, headers=headers)
    if isinstance(exc, RequestValidationError):
        return JSONResponse(exception_body(INVALID_REQUEST, _describe(exc)), status_code=400)
    raise exc


def authorization_details(request: Request | None) -> dict[str, Any]:
    """Camunda's AuthorizationExceptionDto fields: who was refused, and what they lacked (the
    permission the method needs on the resource of the path, and the resource's id if the path has
    one)."""
    principal = getattr(request.state, "principal", None) if request is not None else None
    if request is None:
        return {"userId": None, "missingAuthorizations": []}
    segments = request.url.path.removeprefix(PREFIX).strip("/").split("/")
    resource = RESOURCES.get(segments[0], segments[0]) if segments and segments[0] else None
    params = request.path_params
    resource_id = next(iter(params.values()), None) if params else None
    permission = {"GET": "READ", "DELETE": "DELETE"}.get(request.method, "UPDATE")
    if request.method == "POST" and segments[-1:] in (["create"], ["start"], ["submit-form"]):
        permission = "CREATE"
    return {
        "userId": principal.name if principal is not None else None,
        "missingAuthorizations": [
            {"permissionName": permission, "resourceName": resource, "resourceId": resource_id}
        ],
    }


def _describe(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path"))
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg", "invalid"))
    return "Invalid request: " + "; ".join(parts)


class CamundaRoute(Route):
    """An APIRoute whose errors come out in Camunda's shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def camunda_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except (CamundaError, OpsflowError, RequestValidationError) as exc:
                return error_response(exc, request)
            except Exception:
                log.exception("unexpected error on %s %s", request.method, request.url.path)
                return JSONResponse(exception_body(REST_EXCEPTION, "internal server error"), status_code=500)

        return camunda_handler


def camunda_router(resource: str, tag: str) -> PrefixRouter:
    """A router of one Camunda resource (`/task`), under /engine-rest: its routes answer errors in
    Camunda's shape. The full prefix is set here, not by an enclosing router, so that each route's own
    path is the one api.deps.require_scope looks up in ROUTE_SCOPES."""
    return PrefixRouter(prefix=PREFIX + resource, tags=[f"camunda: {tag}"], route_class=CamundaRoute)


def not_found_body(request: Request) -> dict[str, Any]:
    """An unknown path under /engine-rest, in Camunda's shape."""
    return exception_body(
        INVALID_REQUEST, f"No resource {request.method} {request.url.path}: not supported by opsflow"
    )
