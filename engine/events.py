"""Domain events. Each is written as an audit row in the same transaction as the change it reports,
and, for every webhook subscription that wants it, as a webhook job delivered after commit
(engine/jobs/webhooks.py). Events people are told about (`NOTIFIED`) also become one notify job while
a notification channel is active (engine/jobs/notify.py); `engine.notifications` turns it into
messages."""

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from engine.jobs import notify, queue, webhooks
from engine.storage.db import batched
from engine.storage.tables import AuditEventRow, NotificationChannelRow, WebhookSubscriptionRow, utcnow
from engine.storage.uow import before_commit

# Built once (their compiled form is reused): every completion records several events.
# inline: no RETURNING of the new ids (none is read), so that it can go in a batch (storage.db.batched)
_INSERT_AUDIT = AuditEventRow.__table__.insert().inline()
_SUBSCRIPTION = WebhookSubscriptionRow.__table__
_ACTIVE_SUBSCRIPTIONS = sa.select(_SUBSCRIPTION.c.id, _SUBSCRIPTION.c.event_types).where(
    _SUBSCRIPTION.c.active
)
_CHANNEL = NotificationChannelRow.__table__
# Who listens to this transaction's events, read in one statement the first time an event needs it:
# the active webhook subscriptions, and one active notification channel if there is any.
_LISTENERS = sa.union_all(
    sa.select(sa.literal("webhook").label("kind"), _SUBSCRIPTION.c.id, _SUBSCRIPTION.c.event_types).where(
        _SUBSCRIPTION.c.active
    ),
    sa.select(sa.literal("channel"), _CHANNEL.c.id, sa.null()).where(
        _CHANNEL.c.id == sa.select(_CHANNEL.c.id).where(_CHANNEL.c.active).limit(1).scalar_subquery()
    ),
)

INSTANCE_STARTED = "instance_started"
INSTANCE_COMPLETED = "instance_completed"
INSTANCE_CANCELLED = "instance_cancelled"
TASK_CREATED = "task_created"
TASK_CLAIMED = "task_claimed"
TASK_UNCLAIMED = "task_unclaimed"
TASK_ASSIGNED = "task_assigned"
TASK_DELEGATED = "task_delegated"
TASK_RESOLVED = "task_resolved"
TASK_COMPLETED = "task_completed"
TASK_OVERDUE = "task_overdue"
TASK_ESCALATED = "task_escalated"
MESSAGE_CORRELATED = "message_correlated"
MESSAGE_THROWN = "message_thrown"
APPROVAL_REQUESTED = "approval_requested"
INCIDENT = "incident"
VARIABLES_SET = "variables_set"
INCIDENT_RETRIED = "incident_retried"
INSTANCE_SUSPENDED = "instance_suspended"
INSTANCE_RESUMED = "instance_resumed"
MESSAGE_ANSWERED_BY_HAND = "message_answered_by_hand"
VARIABLES_CHANGED = "variables_changed"
TOKEN_MOVED = "token_moved"
INSTANCE_MIGRATED = "instance_migrated"
MIGRATION_STARTED = "migration_started"
DEFINITION_DEPLOYED = "definition_deployed"
FORM_DEPLOYED = "form_deployed"
DECISION_DEPLOYED = "decision_deployed"
USER_CREATED = "user_created"
USER_UPDATED = "user_updated"
GROUP_CREATED = "group_created"
GROUP_UPDATED = "group_updated"
GROUP_DELETED = "group_deleted"
MEMBER_ADDED = "member_added"
MEMBER_REMOVED = "member_removed"
SIGN_IN_FAILED = "sign_in_failed"
SSO_SIGNED_IN = "sso_signed_in"
WEBHOOK_CREATED = "webhook_created"
WEBHOOK_UPDATED = "webhook_updated"
WEBHOOK_DELETED = "webhook_deleted"
WEBHOOK_REDELIVERY_REQUESTED = "webhook_redelivery_requested"

#: What people may be told about (engine.notifications decides who, where and in which words).
NOTIFIED = frozenset(
    {TASK_CREATED, TASK_ASSIGNED, TASK_OVERDUE, TASK_ESCALATED, INSTANCE_COMPLETED, INCIDENT}
)

#: What integrators can subscribe to: audit type -> webhook event type.
WEBHOOK_TYPES = {
    INSTANCE_STARTED: "instance.started",
    INSTANCE_COMPLETED: "instance.completed",
    INSTANCE_CANCELLED: "instance.cancelled",
    TASK_CREATED: "task.created",
    TASK_CLAIMED: "task.claimed",
    TASK_COMPLETED: "task.completed",
    TASK_OVERDUE: "task.overdue",
    TASK_ESCALATED: "task.escalated",
    MESSAGE_THROWN: "message.thrown",
    APPROVAL_REQUESTED: "approval.requested",
    INCIDENT: "incident",
}


def record(
    session: Session,
    type: str,
    *,
    actor: str | None,
    instance_id: str | None = None,
    task_id: str | None = None,
    element_id: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    at = utcnow()
    pending = _pending(session)
    pending.audit.append(
        {
            "at": at,
            "type": type,
            "actor": actor,
            "instance_id": instance_id,
            "task_id": task_id,
            "element_id": element_id,
            "details": details,
        }
    )
    webhook_type = WEBHOOK_TYPES.get(type)
    wanted = []
    if webhook_type is not None:
        wanted = [sid for sid, types in _subscriptions(session) if webhook_type in types or "*" in types]
    notifying = type in NOTIFIED and _notifying(session)
    if not wanted and not notifying:
        return
    event_id = f"evt_{uuid.uuid4().hex}"
    event = {
        "id": event_id,
        "type": webhook_type or type,
        "occurred_at": at.isoformat(),
        "actor": actor,
        "instance_id": instance_id,
        "task_id": task_id,
        "element_id": element_id,
        "data": details or {},
    }
    pending.jobs += webhooks.jobs_for(event, wanted, at)
    if notifying:
        pending.jobs.append(notify.job_for({**event, "type": type}, at))


@dataclass
class _Pending:
    """The events of one transaction, written together just before it commits: one statement for the
    audit rows and one for the webhook and notify jobs, however many events a completion records (each
    statement is a round trip on PostgreSQL)."""

    audit: list[dict[str, Any]] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)

    def write(self, session: Session) -> None:
        # Imported here: the projection reads the event types this module defines.
        from engine import task_history

        conn = session.connection()
        history = task_history.projection(conn, self.audit) if self.audit else None  # reads first
        with batched(conn):  # then writes that answer nothing: one round trip on PostgreSQL
            if self.audit:
                conn.execute(_INSERT_AUDIT, self.audit)
            if history is not None:
                history.write(conn)
            queue.add(session, self.jobs)


def _pending(session: Session) -> _Pending:
    found: _Pending | None = session.info.get("pending_events")
    if found is None:
        pending = session.info["pending_events"] = _Pending()
        before_commit(session, lambda: pending.write(session))
        return pending
    return found


def _subscriptions(session: Session) -> list[tuple[str, list[str]]]:
    """Active subscriptions, read once per transaction (a completion records several events)."""
    return _listeners(session)[0]


def _notifying(session: Session) -> bool:
    """Whether any notification channel is active, read once per transaction."""
    return _listeners(session)[1]


def _listeners(session: Session) -> tuple[list[tuple[str, list[str]]], bool]:
    cached: tuple[list[tuple[str, list[str]]], bool] | None = session.info.get("event_listeners")
    if cached is None:
        rows = session.connection().execute(_LISTENERS).all()
        subscriptions = [(r.id, _json_list(r.event_types)) for r in rows if r.kind == "webhook"]
        cached = session.info["event_listeners"] = (subscriptions, any(r.kind == "channel" for r in rows))
    return cached


def _json_list(value: object) -> list[str]:
    """event_types as stored (a JSON column, decoded by the column type only outside a UNION)."""
    if isinstance(value, str):
        value = json.loads(value)
    return [str(v) for v in value] if isinstance(value, list) else []
