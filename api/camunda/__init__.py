"""A subset of the Camunda 7 REST API under /engine-rest, so that existing Camunda clients (workers,
message senders, task lists) work unchanged against opsflow. One module per Camunda resource; typed
variables in `variables.py`; Camunda's DTOs in `dto.py`; Camunda's error shape in `errors.py`.

Authentication is the native API's (`Authorization: Bearer <token or API key>`, api.deps.get_principal);
authorization is the engine's (engine.permissions): workers and message senders hold the `integration`
role, starters `leader`, task workers their task's role.

API keys: each route's scope is listed in ROUTE_SCOPES below and registered into api.deps.ROUTE_SCOPES
when this package is imported (the table get_principal checks), so a key holding `external-tasks` can run
a Camunda worker. Registration never overrides an entry api.deps already has.

OpenAPI: these routes are left out of /openapi.json (IN_OPENAPI) because the native API's schema tests
(the permission matrix, the fuzzing's one-error-shape check) cover every documented route and expect the
native error shape; Camunda's own OpenAPI document describes these endpoints.
"""

from fastapi import APIRouter

from api import deps
from api.camunda import (
    decision_definition,
    external_task,
    message,
    process_definition,
    process_instance,
    task,
)
from api.camunda.errors import PREFIX

IN_OPENAPI = False

#: (method, path) -> the API key scope it needs (names of engine.services.api_keys.SCOPES)
ROUTE_SCOPES: dict[tuple[str, str], str] = {
    ("POST", f"{PREFIX}/external-task/fetchAndLock"): "external-tasks",
    ("POST", f"{PREFIX}/external-task/{{task_id}}/complete"): "external-tasks",
    ("POST", f"{PREFIX}/external-task/{{task_id}}/failure"): "external-tasks",
    ("POST", f"{PREFIX}/external-task/{{task_id}}/bpmnError"): "external-tasks",
    ("POST", f"{PREFIX}/external-task/{{task_id}}/extendLock"): "external-tasks",
    ("POST", f"{PREFIX}/message"): "messages:send",
    ("POST", f"{PREFIX}/process-definition/key/{{key}}/start"): "instances:start",
    ("POST", f"{PREFIX}/process-definition/key/{{key}}/tenant-id/{{tenant_id}}/start"): "instances:start",
    ("GET", f"{PREFIX}/process-instance"): "instances:read",
    ("GET", f"{PREFIX}/process-instance/count"): "instances:read",
    ("GET", f"{PREFIX}/process-instance/{{instance_id}}"): "instances:read",
    ("GET", f"{PREFIX}/process-instance/{{instance_id}}/variables"): "instances:read",
    ("GET", f"{PREFIX}/process-instance/{{instance_id}}/variables/{{name}}"): "instances:read",
    ("GET", f"{PREFIX}/process-instance/{{instance_id}}/variables/{{name}}/data"): "instances:read",
    ("GET", f"{PREFIX}/task"): "tasks:read",
    ("GET", f"{PREFIX}/task/count"): "tasks:read",
    ("GET", f"{PREFIX}/task/{{task_id}}"): "tasks:read",
    ("GET", f"{PREFIX}/task/{{task_id}}/form-variables"): "tasks:read",
    ("POST", f"{PREFIX}/task/{{task_id}}/claim"): "tasks:work",
    ("POST", f"{PREFIX}/task/{{task_id}}/unclaim"): "tasks:work",
    ("POST", f"{PREFIX}/task/{{task_id}}/delegate"): "tasks:work",
    ("POST", f"{PREFIX}/task/{{task_id}}/resolve"): "tasks:work",
    ("POST", f"{PREFIX}/task/{{task_id}}/complete"): "tasks:work",
}
ROUTE_SCOPES.update(decision_definition.ROUTE_SCOPES)

router = APIRouter(include_in_schema=IN_OPENAPI)
for _module in (external_task, message, process_definition, process_instance, task):
    router.include_router(_module.router)
router.include_router(decision_definition.router)


def _register_scopes() -> None:
    routes = {
        (method, route.path)
        for module in (external_task, message, process_definition, process_instance, task)
        for route in module.router.routes
        for method in getattr(route, "methods", ())
    }
    missing = routes - ROUTE_SCOPES.keys()
    if missing:
        raise RuntimeError(f"api.camunda: routes without an API key scope: {sorted(missing)}")
    for route, scope in ROUTE_SCOPES.items():
        deps.ROUTE_SCOPES.setdefault(route, scope)


_register_scopes()

__all__ = ["IN_OPENAPI", "ROUTE_SCOPES", "router"]
