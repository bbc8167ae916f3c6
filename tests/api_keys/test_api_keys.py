"""API keys for systems: admins create, list and revoke them; each key may only use its scopes."""

from pathlib import Path

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from api.deps import ANY_KEY, ROUTE_SCOPES, SESSIONS_ONLY, get_principal
from api.main import create_app
from engine.engine import ProcessEngine
from engine.limits import SCOPES
from tests.helpers.api import Api

MESSAGES_BPMN = Path(__file__).resolve().parent.parent / "engine" / "data" / "messages.bpmn"

#: Routes under /api and /engine-rest that need no token at all.
#: signing in, and the description of /engine-rest (like /openapi.json of the native API: what exists,
#: no data)
PUBLIC_ROUTES = {("POST", "/api/v1/session"), ("GET", "/engine-rest/openapi.json")}
API_PREFIXES = ("/api/", "/engine-rest")


def create_key(
    api: Api, scopes: list[str], *, system: str = "monitoring", expect: int = 201, **extra: object
) -> dict:
    body = {"name": f"{system} key", "system": system, "scopes": scopes, **extra}
    return api.call("ada", "POST", "/api/v1/api-keys", expect, json=body)


def with_key(api: Api, key: str, method: str, path: str, expect: int, **kwargs) -> dict:
    return api.call(None, method, path, expect, headers={"Authorization": f"Bearer {key}"}, **kwargs)


def test_an_admin_creates_a_key_for_a_new_system_account_and_sees_it_once(api: Api) -> None:
    created = create_key(api, ["messages:send", "instances:read"], expires_in_days=30)
    assert created["key"].startswith("opf_key_")
    assert created["system"] == "monitoring" and created["name"] == "monitoring key"
    assert created["scopes"] == ["instances:read", "messages:send"]
    assert created["expires_at"] is not None and created["revoked_at"] is None
    users = {u["name"]: u["groups"] for u in api.call("ada", "GET", "/api/v1/users")}
    assert users["monitoring"] == ["integration"]

    listed = api.call("ada", "GET", "/api/v1/api-keys")
    assert [k["id"] for k in listed] == [created["id"]]
    assert "key" not in listed[0]
    assert created["key"] not in str(listed) and created["key"][8:] not in str(listed)
    assert with_key(api, created["key"], "GET", "/api/v1/me", 200)["name"] == "monitoring"

    second = create_key(api, ["tasks:read"])  # a second key for the same account
    assert second["system"] == "monitoring" and second["key"] != created["key"]
    assert len(api.call("ada", "GET", "/api/v1/api-keys")) == 2


def test_a_key_may_use_its_scopes_and_nothing_else(api: Api, handbook: ProcessEngine) -> None:
    handbook.repository.deploy([("messages.bpmn", MESSAGES_BPMN.read_bytes())], actor="test")
    key = create_key(api, ["messages:send"])["key"]
    sent = with_key(
        api, key, "POST", "/api/v1/messages", 200, json={"name": "alarm", "business_key": "ALARM-9"}
    )
    assert sent["started"] is True
    refused = with_key(api, key, "GET", "/api/v1/tasks", 403)
    assert refused == {
        "error": "forbidden",
        "message": "this API key lacks the scope tasks:read",
        "problems": [],
    }
    assert with_key(api, key, "GET", "/api/v1/process-instances", 403)["message"].endswith("instances:read")
    # routes for people only, whatever the scopes
    assert "API keys may not" in with_key(api, key, "GET", "/api/v1/api-keys", 403)["message"]
    body = {"name": "x", "system": "other", "scopes": ["messages:send"]}
    assert with_key(api, key, "POST", "/api/v1/api-keys", 403, json=body)["error"] == "forbidden"
    # session tokens have no scopes: their roles decide
    assert api.call("lei", "GET", "/api/v1/tasks")["total"] == 0


def test_scopes_are_a_ceiling_roles_still_decide(api: Api) -> None:
    key = create_key(api, ["instances:start", "definitions:deploy"])["key"]
    variables = {"trigger": "new_business", "title": "t", "description": "d"}
    body = {"process_key": "ops_optimization", "variables": variables}
    assert with_key(api, key, "POST", "/api/v1/process-instances", 201, json=body)["status"] == "running"
    files = [("files", ("tiny.bpmn", b"<x/>"))]
    message = with_key(api, key, "POST", "/api/v1/deployments", 403, files=files)["message"]
    assert "scope" not in message  # the scope passed; the integration role may not deploy


def test_a_revoked_key_is_refused(api: Api) -> None:
    created = create_key(api, ["tasks:read"])
    with_key(api, created["key"], "GET", "/api/v1/tasks", 200)
    api.call("ada", "DELETE", f"/api/v1/api-keys/{created['id']}", 204)
    assert with_key(api, created["key"], "GET", "/api/v1/tasks", 401)["error"] == "unauthenticated"
    assert api.call("ada", "GET", "/api/v1/api-keys")[0]["revoked_at"] is not None
    api.call("ada", "DELETE", f"/api/v1/api-keys/{created['id']}", 204)  # again: nothing changes
    assert api.call("ada", "DELETE", "/api/v1/api-keys/no-such-key", 404)["error"] == "not_found"


def test_only_admins_manage_keys(api: Api) -> None:
    body = {"name": "mine", "system": "monitoring", "scopes": ["tasks:read"]}
    assert api.call("lei", "POST", "/api/v1/api-keys", 403, json=body)["error"] == "forbidden"
    assert "monitoring" not in {u["name"] for u in api.call("ada", "GET", "/api/v1/users")}
    assert api.call("dora", "GET", "/api/v1/api-keys", 403)["error"] == "forbidden"
    created = create_key(api, ["tasks:read"])
    api.call("lei", "DELETE", f"/api/v1/api-keys/{created['id']}", 403)
    assert api.call(None, "GET", "/api/v1/api-keys", 401)["error"] == "unauthenticated"


def test_bad_keys_are_refused_with_every_problem(api: Api) -> None:
    body = create_key(api, ["tasks:read", "everything"], expect=422)
    assert body["problems"][0]["path"] == "scopes" and "everything" in body["problems"][0]["message"]
    assert create_key(api, [], expect=422)["error"] == "invalid_input"
    assert create_key(api, ["tasks:read"], expires_in_days=0, expect=422)["problems"][0]["path"] == (
        "expires_in_days"
    )
    # a person's account is not a system account
    assert create_key(api, ["tasks:read"], system="lei", expect=422)["problems"][0]["path"] == "system"
    assert create_key(api, ["tasks:read"], system="no spaces", expect=422)["error"] == "invalid_input"
    assert api.call("ada", "GET", "/api/v1/api-keys") == []


def _depends_on_principal(dependant: Dependant) -> bool:
    return any(d.call is get_principal or _depends_on_principal(d) for d in dependant.dependencies)


def test_every_route_names_the_scope_an_api_key_needs() -> None:
    """A new route is closed to API keys until it is listed in api.deps.ROUTE_SCOPES: list it there."""
    app = create_app()
    missing, unauthenticated = [], []
    contexts = [c for c in iter_route_contexts(app.routes) if isinstance(c.original_route, APIRoute)]
    assert len(contexts) > 50  # every route of the app, those of included routers too
    for context in contexts:
        route, path = context.original_route, context.path
        for method in sorted(context.methods):
            if _depends_on_principal(route.dependant):
                if (method, path) not in ROUTE_SCOPES:
                    missing.append(f"{method} {path}")
            elif path.startswith(API_PREFIXES) and (method, path) not in PUBLIC_ROUTES:
                unauthenticated.append(f"{method} {path}")
    assert missing == [], "add these routes to api.deps.ROUTE_SCOPES"
    assert unauthenticated == [], "these routes do not authenticate through api.deps.get_principal"
    assert {s for s in ROUTE_SCOPES.values() if s not in (ANY_KEY, SESSIONS_ONLY)} <= set(SCOPES)
