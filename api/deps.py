"""Request dependencies as Annotated aliases: the engine, and the signed-in principal.

API keys (systems) are limited to scopes: `ROUTE_SCOPES` names the scope each authenticated route needs,
and `get_principal` checks it, so no route can forget. A route missing from the table is closed to API
keys (tests/api_keys checks that every route is listed). Session tokens have no scopes: groups decide.
"""

import base64
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from starlette.concurrency import run_in_threadpool

from engine.engine import ProcessEngine
from engine.errors import Forbidden, Unauthenticated
from engine.views import Principal

#: Open to every valid API key, whatever its scopes.
ANY_KEY = "*"
#: Closed to API keys: people only.
SESSIONS_ONLY = None

#: (method, route path) -> the scope an API key needs (a name of engine.limits.SCOPES),
#: ANY_KEY, or SESSIONS_ONLY.
ROUTE_SCOPES: dict[tuple[str, str], str | None] = {
    # tasks
    ("GET", "/api/v1/tasks"): "tasks:read",
    ("GET", "/api/v1/tasks/{task_id}"): "tasks:read",
    ("POST", "/api/v1/tasks/{task_id}/claim"): "tasks:work",
    ("POST", "/api/v1/tasks/{task_id}/unclaim"): "tasks:work",
    ("POST", "/api/v1/tasks/{task_id}/assign"): "tasks:work",
    ("POST", "/api/v1/tasks/{task_id}/delegate"): "tasks:work",
    ("POST", "/api/v1/tasks/{task_id}/resolve"): "tasks:work",
    ("PUT", "/api/v1/tasks/{task_id}/draft"): "tasks:work",
    ("POST", "/api/v1/tasks/{task_id}/complete"): "tasks:work",
    # process instances
    ("POST", "/api/v1/process-instances"): "instances:start",
    ("GET", "/api/v1/process-instances"): "instances:read",
    ("GET", "/api/v1/process-instances/{instance_id}"): "instances:read",
    ("GET", "/api/v1/process-instances/{instance_id}/documents/{kind}"): "instances:read",
    ("GET", "/api/v1/process-instances/{instance_id}/elements/{element_id}/executions"): "instances:read",
    ("POST", "/api/v1/process-instances/{instance_id}/cancel"): SESSIONS_ONLY,
    ("POST", "/api/v1/process-instances/{instance_id}/retry"): SESSIONS_ONLY,
    ("GET", "/api/v1/process-instances/export"): "instances:read",
    # the operator's actions are people's, signed in, and audited under their names
    ("POST", "/api/v1/process-instances/{instance_id}/suspend"): SESSIONS_ONLY,
    ("POST", "/api/v1/process-instances/{instance_id}/resume"): SESSIONS_ONLY,
    ("POST", "/api/v1/process-instances/{instance_id}/answer-message"): SESSIONS_ONLY,
    ("PATCH", "/api/v1/process-instances/{instance_id}/variables"): SESSIONS_ONLY,
    ("POST", "/api/v1/process-instances/{instance_id}/move-token"): SESSIONS_ONLY,
    ("POST", "/api/v1/process-instances/{instance_id}/migrate"): SESSIONS_ONLY,
    ("POST", "/api/v1/migrations/check"): SESSIONS_ONLY,
    ("POST", "/api/v1/migrations"): SESSIONS_ONLY,
    ("GET", "/api/v1/migrations/{batch_id}"): SESSIONS_ONLY,
    # analytics: figures over many instances, for leaders and admins
    ("GET", "/api/v1/analytics/processes/{key}"): "instances:read",
    ("GET", "/api/v1/analytics/handbook-goals"): "instances:read",
    # definitions, forms, deployments
    ("GET", "/api/v1/process-definitions"): "definitions:read",
    ("GET", "/api/v1/process-definitions/{key}/versions"): "definitions:read",
    ("GET", "/api/v1/process-definitions/{key}/xml"): "definitions:read",
    ("GET", "/api/v1/forms"): "definitions:read",
    ("GET", "/api/v1/forms/{key}"): "definitions:read",
    ("POST", "/api/v1/deployments"): "definitions:deploy",
    ("POST", "/api/v1/deployments/validate"): "definitions:deploy",
    # messages
    ("POST", "/api/v1/messages"): "messages:send",
    # webhooks
    ("POST", "/api/v1/webhooks"): "webhooks:manage",
    ("GET", "/api/v1/webhooks"): "webhooks:manage",
    ("GET", "/api/v1/webhooks/{webhook_id}"): "webhooks:manage",
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): "webhooks:manage",
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): "webhooks:manage",
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): "webhooks:manage",
    ("POST", "/api/v1/webhooks/{webhook_id}/deliveries/{event_id}/redeliver"): "webhooks:manage",
    # identity, API keys, audit, the browser's stream session
    ("GET", "/api/v1/me"): ANY_KEY,
    ("DELETE", "/api/v1/session"): SESSIONS_ONLY,
    ("GET", "/api/v1/users"): SESSIONS_ONLY,
    ("POST", "/api/v1/users"): SESSIONS_ONLY,
    ("GET", "/api/v1/users/{name}"): SESSIONS_ONLY,
    ("PATCH", "/api/v1/users/{name}"): SESSIONS_ONLY,
    ("GET", "/api/v1/groups"): SESSIONS_ONLY,
    ("POST", "/api/v1/groups"): SESSIONS_ONLY,
    ("GET", "/api/v1/groups/{group_id}"): SESSIONS_ONLY,
    ("PATCH", "/api/v1/groups/{group_id}"): SESSIONS_ONLY,
    ("DELETE", "/api/v1/groups/{group_id}"): SESSIONS_ONLY,
    ("PUT", "/api/v1/groups/{group_id}/members/{user}"): SESSIONS_ONLY,
    ("DELETE", "/api/v1/groups/{group_id}/members/{user}"): SESSIONS_ONLY,
    ("POST", "/api/v1/api-keys"): SESSIONS_ONLY,
    ("GET", "/api/v1/api-keys"): SESSIONS_ONLY,
    ("DELETE", "/api/v1/api-keys/{key_id}"): SESSIONS_ONLY,
    ("GET", "/api/v1/audit"): SESSIONS_ONLY,
    ("POST", "/web/session"): SESSIONS_ONLY,
    # notifications: people and admins, not systems
    ("POST", "/api/v1/notification-channels"): SESSIONS_ONLY,
    ("GET", "/api/v1/notification-channels"): SESSIONS_ONLY,
    ("GET", "/api/v1/notification-channels/{channel_id}"): SESSIONS_ONLY,
    ("PATCH", "/api/v1/notification-channels/{channel_id}"): SESSIONS_ONLY,
    ("DELETE", "/api/v1/notification-channels/{channel_id}"): SESSIONS_ONLY,
    ("GET", "/api/v1/notification-channels/{channel_id}/deliveries"): SESSIONS_ONLY,
    ("GET", "/api/v1/notification-channels/{channel_id}/notifications"): SESSIONS_ONLY,
    ("GET", "/api/v1/notification-preferences/me"): SESSIONS_ONLY,
    ("PATCH", "/api/v1/notification-preferences/me"): SESSIONS_ONLY,
    ("GET", "/api/v1/process-notifications/{process_key}"): SESSIONS_ONLY,
    ("PUT", "/api/v1/process-notifications/{process_key}"): SESSIONS_ONLY,
}


# Dependencies that do no I/O are `async def`: FastAPI runs a plain `def` dependency in the thread pool,
# a hand-off that costs more than the work.
async def get_engine(request: Request) -> ProcessEngine:
    engine: ProcessEngine = request.app.state.engine
    return engine


EngineDep = Annotated[ProcessEngine, Depends(get_engine)]


class _BearerPrincipal(HTTPBearer):
    """The signed-in principal. An HTTPBearer, so that OpenAPI documents the scheme, that also checks the
    credentials: one dependency where FastAPI would otherwise resolve three (bearer, engine, principal) on
    every request. HTTP Basic is accepted too (a user's password, or a token or API key as the password
    of its user), so that clients configured as for Camunda work unchanged. The principal is kept on
    the request for error answers that name the caller (Camunda's 403)."""

    # As a dependency it answers the principal, not HTTPBearer's credentials: a narrower override
    # than the base class declares, on purpose.
    async def __call__(self, request: Request) -> Principal:  # type: ignore[override]
        scheme, _, secret = (request.headers.get("authorization") or "").partition(" ")
        secret = secret.strip()
        engine: ProcessEngine = request.app.state.engine
        api_keys = engine.api_keys
        if scheme.lower() == "basic" and secret:
            user, password = _basic(secret)
            client = request.client.host if request.client else None
            found = api_keys.cached_basic(user, password)
            if found is None:
                found = await run_in_threadpool(api_keys.authenticate_basic, user, password, client=client)
        elif scheme.lower() == "bearer" and secret:
            found = api_keys.cached(secret)
            if found is None:  # not checked in the last moment: ask the database, off the event loop
                found = await run_in_threadpool(api_keys.authenticate, secret)
        else:
            raise Unauthenticated("send Authorization: Bearer <token>, or Basic <user:password>")
        request.state.principal = found.principal
        if found.scopes is not None:
            require_scope(request, found.scopes)
        return found.principal


def _basic(secret: str) -> tuple[str, str]:
    try:
        user, colon, password = base64.b64decode(secret, validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        raise Unauthenticated("Basic credentials are base64 of user:password") from None
    if not colon or not user:
        raise Unauthenticated("Basic credentials are base64 of user:password")
    return user, password


get_principal = _BearerPrincipal(
    auto_error=False,
    scheme_name="HTTPBearer",
    description="A token from `opsflow token NAME` or POST /api/v1/session, or an API key (opf_key_...)",
)


def require_scope(request: Request, scopes: frozenset[str]) -> None:
    """Refuse an API key the scope of the route it calls."""
    method = "GET" if request.method == "HEAD" else request.method
    path = getattr(request.scope.get("route"), "path", request.url.path)
    needed = ROUTE_SCOPES.get((method, path), SESSIONS_ONLY)
    if needed == ANY_KEY:
        return
    if needed is SESSIONS_ONLY:
        raise Forbidden(f"API keys may not call {method} {path}; it is for signed-in users")
    if needed not in scopes:
        raise Forbidden(f"this API key lacks the scope {needed}")


PrincipalDep = Annotated[Principal, Depends(get_principal)]
