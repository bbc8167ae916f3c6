"""Domain events. Each is written as an audit row in the same transaction as the change it reports."""

from sqlmodel import Session

from engine.storage.tables import AuditEventRow, utcnow

INSTANCE_STARTED = "instance_started"
INSTANCE_COMPLETED = "instance_completed"
INSTANCE_CANCELLED = "instance_cancelled"
TASK_CREATED = "task_created"
TASK_CLAIMED = "task_claimed"
TASK_UNCLAIMED = "task_unclaimed"
TASK_ASSIGNED = "task_assigned"
TASK_COMPLETED = "task_completed"
TASK_CANCELLED = "task_cancelled"
INCIDENT = "incident"
DEFINITION_DEPLOYED = "definition_deployed"
FORM_DEPLOYED = "form_deployed"
USER_CREATED = "user_created"


def record(
    session: Session,
    type: str,
    *,
    actor: str | None,
    instance_id: str | None = None,
    task_id: str | None = None,
    element_id: str | None = None,
    details: dict | None = None,
) -> None:
    session.add(
        AuditEventRow(
            at=utcnow(),
            type=type,
            actor=actor,
            instance_id=instance_id,
            task_id=task_id,
            element_id=element_id,
            details=details,
        )
    )
