"""Who may call what: every endpoint of the native API, for every role and without a token, on the
caller's own team's instance and on another team's, as one table. An endpoint added to the app without a
row here fails `test_every_endpoint_of_the_native_api_has_a_row_in_the_matrix`. Teammates read each
other's tasks of their instance (the answer says `read_only`), and act only on their own.

The world (tests/security/conftest.py): team A is the demo users, team B other people; each team's
instance waits in Task_collect_data, offered to the team's data member only. Each column acts as the
demo user of that role (lei, dana, eric, sara, dora, ada), `ivan` (an integration account), or sends no
token. A cell `X/Y` is X on the caller's own team's instance or task (team A) and Y on the other team's
(team B); a single value holds for both, or the endpoint has no instance. Only the demo users of the four
lane roles are on team A; dora, ada and ivan are on no team.

How a cell is called, so that every answer means "allowed" or "refused":
- claim, assign, draft, complete and start run on an unclaimed task; unclaim on the task claimed by the
  team's data member; cancel on a running instance of the team; whatever an allowed call changes is put
  back before the next cell.
- complete sends an empty form: 422 (the form's own errors) is the answer of a caller who got past the
  permission check; nothing is completed.
- POST /webhooks/{id}/deliveries/{event}/redeliver names an event never sent: 404 is the answer of a
  caller who got past the permission check.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import APIRoute

from api.main import create_app
from engine.config import Settings
from engine.notifications.model import EVENT_TYPES
from tests.security.conftest import PASSWORD, SIGNS_IN, TEAM_A, Team, World, form_data, tiny_bpmn

COLUMNS = ("leader", "data", "execution", "support", "designer", "admin", "integration", "no token")
ACTORS = {**TEAM_A, "designer": "dora", "admin": "ada", "integration": "ivan", "no token": None}

MATRIX = """
endpoint                                                          leader  data    execution support designer admin integration no token
GET    /health                                                    200     200     200     200     200      200   200         200

GET    /api/v1/tasks                                              200     200     200     200     200      200   200         401
GET    /api/v1/tasks/{task_id}                                    200/404 200/404 200/404 200/404 404      200   404         401
POST   /api/v1/tasks/{task_id}/claim                              403/404 200/404 403/404 403/404 404      200   404         401
POST   /api/v1/tasks/{task_id}/unclaim                            200/404 200/404 403/404 403/404 404      200   404         401
POST   /api/v1/tasks/{task_id}/assign                             200/404 403/404 403/404 403/404 404      200   404         401
POST   /api/v1/tasks/{task_id}/delegate                           200/404 403/404 403/404 403/404 404      200   404         401
POST   /api/v1/tasks/{task_id}/resolve                            403/404 200/404 403/404 403/404 404      403   404         401
PUT    /api/v1/tasks/{task_id}/draft                              403/404 200/404 403/404 403/404 404      403   404         401
POST   /api/v1/tasks/{task_id}/complete                           403/404 422/404 403/404 403/404 404      403   404         401

POST   /api/v1/process-instances                                  201     403     403     403     403      201   201         401
GET    /api/v1/process-instances                                  200     200     200     200     200      200   200         401
GET    /api/v1/process-instances/export                           200     200     200     200     200      200   200         401
GET    /api/v1/process-instances/{instance_id}                    200/404 200/404 200/404 200/404 404      200   404         401
POST   /api/v1/process-instances/{instance_id}/cancel             200/404 403/404 403/404 403/404 404      200   404         401
POST   /api/v1/process-instances/{instance_id}/retry              403     403     403     403     403      409   403         401
GET    /api/v1/process-instances/{instance_id}/documents/{kind}   200/404 200/404 200/404 200/404 404      200   404         401
GET    /api/v1/process-instances/{instance_id}/elements/{element_id}/executions 200/404 200/404 200/404 200/404 404 200 404     401
POST   /api/v1/process-instances/{instance_id}/suspend            200/404 403/404 403/404 403/404 404      200   404         401
POST   /api/v1/process-instances/{instance_id}/resume             200/404 403/404 403/404 403/404 404      200   404         401
POST   /api/v1/process-instances/{instance_id}/answer-message     409/404 403/404 403/404 403/404 404      409   404         401
PATCH  /api/v1/process-instances/{instance_id}/variables          403     403     403     403     403      200   403         401
POST   /api/v1/process-instances/{instance_id}/move-token         403     403     403     403     403      409   403         401
POST   /api/v1/process-instances/{instance_id}/migrate            403     403     403     403     403      409   403         401
POST   /api/v1/migrations/check                                   403     403     403     403     403      200   403         401
POST   /api/v1/migrations                                         403     403     403     403     403      202   403         401
GET    /api/v1/migrations/{batch_id}                              403     403     403     403     403      404   403         401

GET    /api/v1/analytics/processes/{key}                          200     403     403     403     403      200   403         401
GET    /api/v1/analytics/handbook-goals                           200     403     403     403     403      200   403         401

GET    /api/v1/process-definitions                                200     200     200     200     200      200   200         401
GET    /api/v1/process-definitions/{key}/versions                 200     200     200     200     200      200   200         401
GET    /api/v1/process-definitions/{key}/xml                      200     200     200     200     200      200   200         401
GET    /api/v1/forms                                              200     200     200     200     200      200   200         401
GET    /api/v1/forms/{key}                                        200     200     200     200     200      200   200         401
POST   /api/v1/deployments                                        403     403     403     403     201      201   403         401
POST   /api/v1/deployments/validate                               403     403     403     403     200      200   403         401

GET    /api/v1/decisions                                          200     200     200     200     200      200   200         401
GET    /api/v1/decisions/{key}/versions                           200     200     200     200     200      200   200         401
GET    /api/v1/decisions/{key}/xml                                200     200     200     200     200      200   200         401
POST   /api/v1/decisions/{key}/evaluate                           200     200     200     200     200      200   200         401
GET    /api/v1/decisions/evaluations                              200/404 200/404 200/404 200/404 404      200   404         401

POST   /api/v1/messages                                           403     403     403     403     403      200   200         401

POST   /api/v1/session                                            200     200     200     200     200      200   200         200
DELETE /api/v1/session                                            204     204     204     204     204      204   204         401
GET    /api/v1/me                                                 200     200     200     200     200      200   200         401
GET    /api/v1/users                                              200     200     200     200     200      200   200         401
POST   /api/v1/users                                              403     403     403     403     403      201   403         401
GET    /api/v1/users/{name}                                       200     200     200     200     200      200   200         401
PATCH  /api/v1/users/{name}                                       403     403     403     403     403      200   403         401

GET    /api/v1/groups                                             200     200     200     200     200      200   200         401
POST   /api/v1/groups                                             403     403     403     403     403      201   403         401
GET    /api/v1/groups/{group_id}                                  200     200     200     200     200      200   200         401
PATCH  /api/v1/groups/{group_id}                                  403     403     403     403     403      200   403         401
DELETE /api/v1/groups/{group_id}                                  403     403     403     403     403      204   403         401
PUT    /api/v1/groups/{group_id}/members/{user}                   403     403     403     403     403      200   403         401
DELETE /api/v1/groups/{group_id}/members/{user}                   403     403     403     403     403      200   403         401

POST   /api/v1/api-keys                                           403     403     403     403     403      201   403         401
GET    /api/v1/api-keys                                           403     403     403     403     403      200   403         401
DELETE /api/v1/api-keys/{key_id}                                  403     403     403     403     403      204   403         401

POST   /api/v1/webhooks                                           403     403     403     403     403      201   403         401
GET    /api/v1/webhooks                                           403     403     403     403     403      200   403         401
GET    /api/v1/webhooks/{webhook_id}                              403     403     403     403     403      200   403         401
PATCH  /api/v1/webhooks/{webhook_id}                              403     403     403     403     403      200   403         401
DELETE /api/v1/webhooks/{webhook_id}                              403     403     403     403     403      204   403         401
GET    /api/v1/webhooks/{webhook_id}/deliveries                   403     403     403     403     403      200   403         401
POST   /api/v1/webhooks/{webhook_id}/deliveries/{event_id}/redeliver 403  403     403     403     403      404   403         401

POST   /api/v1/notification-channels                              403     403     403     403     403      201   403         401
GET    /api/v1/notification-channels                              403     403     403     403     403      200   403         401
GET    /api/v1/notification-channels/{channel_id}                 403     403     403     403     403      200   403         401
PATCH  /api/v1/notification-channels/{channel_id}                 403     403     403     403     403      200   403         401
DELETE /api/v1/notification-channels/{channel_id}                 403     403     403     403     403      204   403         401
GET    /api/v1/notification-channels/{channel_id}/deliveries      403     403     403     403     403      200   403         401
GET    /api/v1/notification-channels/{channel_id}/notifications   403     403     403     403     403      200   403         401
GET    /api/v1/notification-preferences/me                        200     200     200     200     200      200   200         401
PATCH  /api/v1/notification-preferences/me                        200     200     200     200     200      200   200         401
GET    /api/v1/process-notifications/{process_key}                200     200     200     200     200      200   200         401
PUT    /api/v1/process-notifications/{process_key}                403     403     403     403     200      200   403         401

GET    /api/v1/audit                                              403     403     403     403     403      200   403         401
"""  # noqa: E501 (a table reads best on one line per endpoint)


def _parse(table: str) -> dict[str, dict[str, dict[str, int]]]:
    """endpoint -> column -> {"own": status, "other": status}"""
    rows: dict[str, dict[str, dict[str, int]]] = {}
    for line in table.strip().splitlines()[1:]:
        if not line.strip():
            continue
        method, path, *cells = line.split()
        assert len(cells) == len(COLUMNS), f"{method} {path}: {len(cells)} cells for {len(COLUMNS)} columns"
        parsed = {}
        for column, cell in zip(COLUMNS, cells, strict=True):
            own, _, other = cell.partition("/")
            parsed[column] = {"own": int(own), "other": int(other or own)}
        rows[f"{method} {path}"] = parsed
    return rows


EXPECTED = _parse(MATRIX)


# --- how each endpoint is called ---------------------------------------------------------------------


@dataclass
class Cell:
    world: World
    team: Team
    actor: str | None
    state: dict[str, Any] = field(default_factory=dict)

    def as_admin(self, method: str, path: str, expect: int | None = 200, **kwargs: Any) -> Any:
        return self.world.api.call("ada", method, path, expect, **kwargs)


Request = tuple[str, str, dict[str, Any]]


@dataclass
class Probe:
    request: Callable[[Cell], Request]
    per_team: bool = False  # called on each team's instance or task
    before: Callable[[Cell], None] | None = None  # brings about the state the call needs
    after: Callable[[Cell, int], None] | None = None  # puts back what an allowed call changed


def _task(cell: Cell, action: str = "") -> str:
    return f"/api/v1/tasks/{cell.team.task_id}{action}"


def _unclaim_if_claimed(cell: Cell, _status: int = 0) -> None:
    if cell.as_admin("GET", _task(cell))["task"]["assignee"] is not None:
        cell.as_admin("POST", _task(cell, "/unclaim"))


def _claim_for_data_member(cell: Cell) -> None:
    cell.world.api.claim(cell.team.members["data"], cell.team.task_id)


def _delegate_to_data_member(cell: Cell) -> None:
    cell.as_admin("POST", _task(cell, "/delegate"), json={"user": cell.team.members["data"]})


def _running_instance(cell: Cell) -> None:
    spares = cell.world.spare_instances
    if cell.team.leader not in spares:
        spares[cell.team.leader] = cell.world.start_with_team(cell.team.members)
    cell.state["instance_id"] = spares[cell.team.leader]


def _spend_instance(cell: Cell, status: int) -> None:
    if status == 200:
        del cell.world.spare_instances[cell.team.leader]


def _suspend(cell: Cell) -> None:
    cell.as_admin("POST", f"/api/v1/process-instances/{cell.team.instance_id}/suspend", json={})


def _resume_if_suspended(cell: Cell, _status: int = 0) -> None:
    path = f"/api/v1/process-instances/{cell.team.instance_id}"
    if cell.as_admin("GET", path)["instance"]["status"] == "suspended":
        cell.as_admin("POST", f"{path}/resume", json={})


def _cancel_started(cell: Cell, status: int) -> None:
    if status == 201:
        cell.as_admin("POST", f"/api/v1/process-instances/{cell.state['response']['id']}/cancel")


def _fresh_token(cell: Cell) -> dict[str, Any]:
    if cell.actor is None:
        return {}
    return {"headers": {"Authorization": f"Bearer {cell.world.engine.identity.issue_token(cell.actor)}"}}


def _new_group(cell: Cell) -> None:
    """A group of its own with ivan in it: nobody else's rights change whatever the call does."""
    cell.state["group_id"] = cell.as_admin(
        "POST", "/api/v1/groups", 201, json={"id": cell.world.unique("dept")}
    )["id"]
    cell.as_admin("PUT", f"/api/v1/groups/{cell.state['group_id']}/members/ivan")


def _new_webhook(cell: Cell) -> None:
    """An active subscription (nothing is sent: no worker runs in this world)."""
    created = cell.as_admin(
        "POST", "/api/v1/webhooks", 201, json={"url": "https://hooks.example/opsflow", "event_types": ["*"]}
    )
    cell.state["webhook_id"] = created["id"]


def _drop_webhook(cell: Cell, status: int) -> None:
    webhook_id = cell.state.get("webhook_id") or (cell.state.get("response") or {}).get("id")
    if webhook_id and status != 204:
        cell.as_admin("DELETE", f"/api/v1/webhooks/{webhook_id}", None)


def _shared_webhook(cell: Cell) -> None:
    shared = cell.world.shared
    if "webhook_id" not in shared:
        _new_webhook(cell)
        shared["webhook_id"] = cell.state["webhook_id"]
    cell.state["webhook_id"] = shared["webhook_id"]


def _new_api_key(cell: Cell) -> None:
    created = cell.as_admin(
        "POST", "/api/v1/api-keys", 201, json={"name": "matrix", "system": "ivan", "scopes": ["tasks:read"]}
    )
    cell.state["key_id"] = created["id"]


def _tiny_files(cell: Cell) -> dict[str, Any]:
    name = cell.world.unique("matrix_process_")
    return {"files": [("files", (f"{name}.bpmn", tiny_bpmn(name)))]}


_SMTP_CHANNEL = {
    "name": "matrix",
    "kind": "smtp",
    "settings": {"host": "smtp.example", "sender": "opsflow@example.com"},
    "active": False,  # inactive: nothing the other cells do queues a notification for it
}


def _new_channel(cell: Cell) -> None:
    cell.state["channel_id"] = cell.as_admin(
        "POST", "/api/v1/notification-channels", 201, json=_SMTP_CHANNEL
    )["id"]


def _drop_channel(cell: Cell, status: int) -> None:
    channel_id = cell.state.get("channel_id") or (cell.state.get("response") or {}).get("id")
    if channel_id and status != 204:
        cell.as_admin("DELETE", f"/api/v1/notification-channels/{channel_id}", None)


def _shared_channel(cell: Cell) -> None:
    shared = cell.world.shared
    if "channel_id" not in shared:
        _new_channel(cell)
        shared["channel_id"] = cell.state["channel_id"]
    cell.state["channel_id"] = shared["channel_id"]


def _channel(cell: Cell, tail: str = "") -> str:
    return f"/api/v1/notification-channels/{cell.state['channel_id']}{tail}"


PROBES: dict[str, Probe] = {
    "GET /health": Probe(lambda c: ("GET", "/health", {})),
    # tasks
    "GET /api/v1/tasks": Probe(lambda c: ("GET", "/api/v1/tasks", {})),
    "GET /api/v1/tasks/{task_id}": Probe(lambda c: ("GET", _task(c), {}), per_team=True),
    "POST /api/v1/tasks/{task_id}/claim": Probe(
        lambda c: ("POST", _task(c, "/claim"), {}), per_team=True, after=_unclaim_if_claimed
    ),
    "POST /api/v1/tasks/{task_id}/unclaim": Probe(
        lambda c: ("POST", _task(c, "/unclaim"), {}),
        per_team=True,
        before=_claim_for_data_member,
        after=_unclaim_if_claimed,
    ),
    "POST /api/v1/tasks/{task_id}/assign": Probe(
        lambda c: ("POST", _task(c, "/assign"), {"json": {"user": c.team.members["data"]}}),
        per_team=True,
        after=_unclaim_if_claimed,
    ),
    "POST /api/v1/tasks/{task_id}/delegate": Probe(
        lambda c: ("POST", _task(c, "/delegate"), {"json": {"user": c.team.members["support"]}}),
        per_team=True,
        after=_unclaim_if_claimed,
    ),
    # resolving a task the admin delegated to the team's data member
    "POST /api/v1/tasks/{task_id}/resolve": Probe(
        lambda c: ("POST", _task(c, "/resolve"), {"json": {"data": {}}}),
        per_team=True,
        before=_delegate_to_data_member,
        after=_unclaim_if_claimed,
    ),
    "PUT /api/v1/tasks/{task_id}/draft": Probe(
        lambda c: ("PUT", _task(c, "/draft"), {"json": {"data": {"notes": "half done"}}}), per_team=True
    ),
    "POST /api/v1/tasks/{task_id}/complete": Probe(
        lambda c: ("POST", _task(c, "/complete"), {"json": {"data": {}}}), per_team=True
    ),
    # process instances
    "POST /api/v1/process-instances": Probe(
        lambda c: (
            "POST",
            "/api/v1/process-instances",
            {"json": {"process_key": "ops_optimization", "variables": form_data("start_trigger")}},
        ),
        after=_cancel_started,
    ),
    "GET /api/v1/process-instances": Probe(lambda c: ("GET", "/api/v1/process-instances", {})),
    "GET /api/v1/process-instances/export": Probe(lambda c: ("GET", "/api/v1/process-instances/export", {})),
    # retrying an instance without an incident: admins get past the permission check to a 409
    "POST /api/v1/process-instances/{instance_id}/retry": Probe(
        lambda c: ("POST", f"/api/v1/process-instances/{c.team.instance_id}/retry", {"json": {}})
    ),
    # suspending the team's running instance; it is resumed after
    "POST /api/v1/process-instances/{instance_id}/suspend": Probe(
        lambda c: ("POST", f"/api/v1/process-instances/{c.team.instance_id}/suspend", {"json": {}}),
        per_team=True,
        after=_resume_if_suspended,
    ),
    "POST /api/v1/process-instances/{instance_id}/resume": Probe(
        lambda c: ("POST", f"/api/v1/process-instances/{c.team.instance_id}/resume", {"json": {}}),
        per_team=True,
        before=_suspend,
        after=_resume_if_suspended,
    ),
    # the team's instance waits for no message: whoever gets past the permission check gets a 409
    "POST /api/v1/process-instances/{instance_id}/answer-message": Probe(
        lambda c: (
            "POST",
            f"/api/v1/process-instances/{c.team.instance_id}/answer-message",
            {"json": {"message": "approval_decision", "payload": {"approved": True}, "reason": "matrix"}},
        ),
        per_team=True,
    ),
    "PATCH /api/v1/process-instances/{instance_id}/variables": Probe(
        lambda c: (
            "PATCH",
            f"/api/v1/process-instances/{c.team.instance_id}/variables",
            {"json": {"variables": {"matrix_note": "checked"}, "reason": "matrix"}},
        )
    ),
    # skipping a step the instance is not at: admins get past the permission check to a 409
    "POST /api/v1/process-instances/{instance_id}/move-token": Probe(
        lambda c: (
            "POST",
            f"/api/v1/process-instances/{c.team.instance_id}/move-token",
            {"json": {"skip": "Task_not_open", "reason": "matrix"}},
        )
    ),
    # to the version it is on: admins get past the permission check to a 409
    "POST /api/v1/process-instances/{instance_id}/migrate": Probe(
        lambda c: (
            "POST",
            f"/api/v1/process-instances/{c.team.instance_id}/migrate",
            {"json": {"target_version": 1}},
        )
    ),
    "POST /api/v1/migrations/check": Probe(
        lambda c: (
            "POST",
            "/api/v1/migrations/check",
            {"json": {"process_key": "ops_optimization", "target_version": 1}},
        )
    ),
    # a batch to the version every instance is on: nothing moves
    "POST /api/v1/migrations": Probe(
        lambda c: (
            "POST",
            "/api/v1/migrations",
            {"json": {"process_key": "ops_optimization", "target_version": 1}},
        )
    ),
    "GET /api/v1/migrations/{batch_id}": Probe(lambda c: ("GET", "/api/v1/migrations/no-such-batch", {})),
    "GET /api/v1/process-instances/{instance_id}": Probe(
        lambda c: ("GET", f"/api/v1/process-instances/{c.team.instance_id}", {}), per_team=True
    ),
    "POST /api/v1/process-instances/{instance_id}/cancel": Probe(
        lambda c: (
            "POST",
            f"/api/v1/process-instances/{c.state['instance_id']}/cancel",
            {"json": {"reason": "matrix"}},
        ),
        per_team=True,
        before=_running_instance,
        after=_spend_instance,
    ),
    # the handbook's documents: the kick-off minutes, recorded before the task both instances wait in
    "GET /api/v1/process-instances/{instance_id}/documents/{kind}": Probe(
        lambda c: (
            "GET",
            f"/api/v1/process-instances/{c.team.instance_id}/documents/kickoff-minutes",
            {"params": {"format": "docx"}},
        ),
        per_team=True,
    ),
    # the kick-off the leader completed: its runs, with the data to whoever may read the task
    "GET /api/v1/process-instances/{instance_id}/elements/{element_id}/executions": Probe(
        lambda c: (
            "GET",
            f"/api/v1/process-instances/{c.team.instance_id}/elements/Task_kickoff_meeting/executions",
            {},
        ),
        per_team=True,
    ),
    # analytics
    "GET /api/v1/analytics/processes/{key}": Probe(
        lambda c: ("GET", "/api/v1/analytics/processes/ops_optimization", {})
    ),
    "GET /api/v1/analytics/handbook-goals": Probe(lambda c: ("GET", "/api/v1/analytics/handbook-goals", {})),
    # definitions, forms, deployments
    "GET /api/v1/process-definitions": Probe(lambda c: ("GET", "/api/v1/process-definitions", {})),
    "GET /api/v1/process-definitions/{key}/versions": Probe(
        lambda c: ("GET", "/api/v1/process-definitions/ops_optimization/versions", {})
    ),
    "GET /api/v1/process-definitions/{key}/xml": Probe(
        lambda c: ("GET", "/api/v1/process-definitions/ops_optimization/xml", {})
    ),
    "GET /api/v1/forms": Probe(lambda c: ("GET", "/api/v1/forms", {})),
    "GET /api/v1/forms/{key}": Probe(lambda c: ("GET", "/api/v1/forms/collect_data", {})),
    "POST /api/v1/deployments": Probe(lambda c: ("POST", "/api/v1/deployments", _tiny_files(c))),
    "POST /api/v1/deployments/validate": Probe(
        lambda c: ("POST", "/api/v1/deployments/validate", _tiny_files(c))
    ),
    # decisions: the handbook's metric anomaly rule
    "GET /api/v1/decisions": Probe(lambda c: ("GET", "/api/v1/decisions", {})),
    "GET /api/v1/decisions/{key}/versions": Probe(
        lambda c: ("GET", "/api/v1/decisions/metric_anomaly_rule/versions", {})
    ),
    "GET /api/v1/decisions/{key}/xml": Probe(
        lambda c: ("GET", "/api/v1/decisions/metric_anomaly_rule/xml", {})
    ),
    "POST /api/v1/decisions/{key}/evaluate": Probe(
        lambda c: (
            "POST",
            "/api/v1/decisions/metric_anomaly_rule/evaluate",
            {"json": {"variables": {"consecutive_missed_periods": 2}}},
        )
    ),
    "GET /api/v1/decisions/evaluations": Probe(
        lambda c: ("GET", "/api/v1/decisions/evaluations", {"params": {"instance_id": c.team.instance_id}}),
        per_team=True,
    ),
    # messages
    "POST /api/v1/messages": Probe(
        lambda c: (
            "POST",
            "/api/v1/messages",
            {"json": {"name": "alarm", "business_key": c.world.unique("ALARM-")}},
        )
    ),
    # identity
    "POST /api/v1/session": Probe(
        lambda c: ("POST", "/api/v1/session", {"json": {"name": SIGNS_IN, "password": PASSWORD}})
    ),
    "DELETE /api/v1/session": Probe(lambda c: ("DELETE", "/api/v1/session", _fresh_token(c))),
    "GET /api/v1/me": Probe(lambda c: ("GET", "/api/v1/me", {})),
    "GET /api/v1/users": Probe(lambda c: ("GET", "/api/v1/users", {})),
    "POST /api/v1/users": Probe(
        lambda c: (
            "POST",
            "/api/v1/users",
            {"json": {"name": c.world.unique("newcomer"), "groups": ["data"]}},
        )
    ),
    "GET /api/v1/users/{name}": Probe(lambda c: ("GET", "/api/v1/users/dana", {})),
    "PATCH /api/v1/users/{name}": Probe(
        lambda c: ("PATCH", "/api/v1/users/dora", {"json": {"display_name": "Dora"}})
    ),
    # groups
    "GET /api/v1/groups": Probe(lambda c: ("GET", "/api/v1/groups", {})),
    "POST /api/v1/groups": Probe(
        lambda c: ("POST", "/api/v1/groups", {"json": {"id": c.world.unique("dept")}})
    ),
    "GET /api/v1/groups/{group_id}": Probe(lambda c: ("GET", "/api/v1/groups/data", {})),
    "PATCH /api/v1/groups/{group_id}": Probe(
        lambda c: ("PATCH", "/api/v1/groups/data", {"json": {"name_en": "Data"}})
    ),
    "DELETE /api/v1/groups/{group_id}": Probe(
        lambda c: ("DELETE", f"/api/v1/groups/{c.state['group_id']}", {}), before=_new_group
    ),
    "PUT /api/v1/groups/{group_id}/members/{user}": Probe(
        lambda c: ("PUT", f"/api/v1/groups/{c.state['group_id']}/members/ivan", {}), before=_new_group
    ),
    "DELETE /api/v1/groups/{group_id}/members/{user}": Probe(
        lambda c: ("DELETE", f"/api/v1/groups/{c.state['group_id']}/members/ivan", {}), before=_new_group
    ),
    # API keys
    "POST /api/v1/api-keys": Probe(
        lambda c: (
            "POST",
            "/api/v1/api-keys",
            {"json": {"name": "matrix", "system": "ivan", "scopes": ["tasks:read"]}},
        )
    ),
    "GET /api/v1/api-keys": Probe(lambda c: ("GET", "/api/v1/api-keys", {})),
    "DELETE /api/v1/api-keys/{key_id}": Probe(
        lambda c: ("DELETE", f"/api/v1/api-keys/{c.state['key_id']}", {}), before=_new_api_key
    ),
    # webhooks
    "POST /api/v1/webhooks": Probe(
        lambda c: (
            "POST",
            "/api/v1/webhooks",
            {"json": {"url": "https://hooks.example/opsflow", "event_types": ["task.created"]}},
        ),
        after=_drop_webhook,
    ),
    "GET /api/v1/webhooks": Probe(lambda c: ("GET", "/api/v1/webhooks", {})),
    "GET /api/v1/webhooks/{webhook_id}": Probe(
        lambda c: ("GET", f"/api/v1/webhooks/{c.state['webhook_id']}", {}), before=_shared_webhook
    ),
    "PATCH /api/v1/webhooks/{webhook_id}": Probe(
        lambda c: ("PATCH", f"/api/v1/webhooks/{c.state['webhook_id']}", {"json": {"active": True}}),
        before=_shared_webhook,
    ),
    "DELETE /api/v1/webhooks/{webhook_id}": Probe(
        lambda c: ("DELETE", f"/api/v1/webhooks/{c.state['webhook_id']}", {}),
        before=_new_webhook,
        after=_drop_webhook,
    ),
    "GET /api/v1/webhooks/{webhook_id}/deliveries": Probe(
        lambda c: ("GET", f"/api/v1/webhooks/{c.state['webhook_id']}/deliveries", {}), before=_shared_webhook
    ),
    "POST /api/v1/webhooks/{webhook_id}/deliveries/{event_id}/redeliver": Probe(
        lambda c: ("POST", f"/api/v1/webhooks/{c.state['webhook_id']}/deliveries/evt_unsent/redeliver", {}),
        before=_shared_webhook,
    ),
    # notification channels
    "POST /api/v1/notification-channels": Probe(
        lambda c: ("POST", "/api/v1/notification-channels", {"json": _SMTP_CHANNEL}), after=_drop_channel
    ),
    "GET /api/v1/notification-channels": Probe(lambda c: ("GET", "/api/v1/notification-channels", {})),
    "GET /api/v1/notification-channels/{channel_id}": Probe(
        lambda c: ("GET", _channel(c), {}), before=_shared_channel
    ),
    "PATCH /api/v1/notification-channels/{channel_id}": Probe(
        lambda c: ("PATCH", _channel(c), {"json": {"active": False}}), before=_shared_channel
    ),
    "DELETE /api/v1/notification-channels/{channel_id}": Probe(
        lambda c: ("DELETE", _channel(c), {}), before=_new_channel, after=_drop_channel
    ),
    "GET /api/v1/notification-channels/{channel_id}/deliveries": Probe(
        lambda c: ("GET", _channel(c, "/deliveries"), {}), before=_shared_channel
    ),
    "GET /api/v1/notification-channels/{channel_id}/notifications": Probe(
        lambda c: ("GET", _channel(c, "/notifications"), {}), before=_shared_channel
    ),
    # notification preferences: one's own (zh is already everyone's language), and a process's (every
    # event, as when nobody has chosen)
    "GET /api/v1/notification-preferences/me": Probe(
        lambda c: ("GET", "/api/v1/notification-preferences/me", {})
    ),
    "PATCH /api/v1/notification-preferences/me": Probe(
        lambda c: ("PATCH", "/api/v1/notification-preferences/me", {"json": {"language": "zh"}})
    ),
    "GET /api/v1/process-notifications/{process_key}": Probe(
        lambda c: ("GET", "/api/v1/process-notifications/ops_optimization", {})
    ),
    "PUT /api/v1/process-notifications/{process_key}": Probe(
        lambda c: (
            "PUT",
            "/api/v1/process-notifications/ops_optimization",
            {"json": {"event_types": list(EVENT_TYPES)}},
        )
    ),
    # audit
    "GET /api/v1/audit": Probe(lambda c: ("GET", "/api/v1/audit", {})),
}


NATIVE = ("/api/", "/health")
OTHER_APIS = ("/engine-rest",)  # the Camunda 7 REST subset: another API, with its own tests


def documented_endpoints() -> set[str]:
    """`METHOD path` of every route of the app that its OpenAPI document describes."""
    app = create_app(Settings(database_url="sqlite://"))
    try:  # FastAPI versions that keep included routers as lazy branches of app.routes
        from fastapi.routing import iter_route_contexts

        routes = [(ctx.original_route, ctx.path, ctx.methods) for ctx in iter_route_contexts(app.routes)]
    except ImportError:
        routes = [(r, getattr(r, "path", None), getattr(r, "methods", None)) for r in app.routes]
    return {
        f"{method} {path}"
        for route, path, methods in routes
        if isinstance(route, APIRoute) and route.include_in_schema
        for method in methods or ()
        if method != "HEAD"
    }


def test_every_endpoint_of_the_native_api_has_a_row_in_the_matrix() -> None:
    endpoints = documented_endpoints()
    native = {e for e in endpoints if e.split(" ", 1)[1].startswith(NATIVE)}
    assert sorted(native - EXPECTED.keys()) == [], "endpoints without a row in MATRIX"
    assert sorted(EXPECTED.keys() - native) == [], "rows of MATRIX for endpoints that do not exist"
    assert PROBES.keys() == EXPECTED.keys(), "every row of MATRIX needs a probe saying how it is called"
    stray = [e for e in endpoints - native if not e.split(" ", 1)[1].startswith(OTHER_APIS)]
    assert stray == [], "documented endpoints of no known API: add them to MATRIX or to OTHER_APIS"


@pytest.mark.parametrize("endpoint", list(EXPECTED))
def test_who_may_call_what(world: World, endpoint: str) -> None:
    probe = PROBES[endpoint]
    wrong = []
    for column, expected in EXPECTED[endpoint].items():
        assert probe.per_team or expected["own"] == expected["other"], f"{endpoint} has no team: one value"
        for side in ("own", "other") if probe.per_team else ("own",):
            cell = Cell(world, world.teams[side], ACTORS[column])
            if probe.before:
                probe.before(cell)
            method, path, kwargs = probe.request(cell)
            headers = kwargs.pop("headers", {})
            if cell.actor is not None and "Authorization" not in headers:
                headers["Authorization"] = f"Bearer {world.api.tokens[cell.actor]}"
            response = world.api.client.request(method, path, headers=headers, **kwargs)
            if response.content and response.headers.get("content-type", "").startswith("application/json"):
                cell.state["response"] = response.json()
            if probe.after:
                probe.after(cell, response.status_code)
            if response.status_code != expected[side]:
                where = f"{side} team" if probe.per_team else ""
                wrong.append(
                    f"{column} ({cell.actor or 'no token'}) {where}: expected {expected[side]}, "
                    f"got {response.status_code} {response.text[:200]}"
                )
    assert not wrong, f"{endpoint}:\n" + "\n".join(wrong)
