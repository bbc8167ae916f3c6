"""Task due jobs: a user task with a due date (`camunda:dueDate`, engine/deadlines.py) gets one when
it opens (`schedule`), dropped with the task's other deadline jobs when it closes (`cancel`). When it
fires the task is overdue: its holder is reminded (a task_overdue event) and the escalation is
scheduled after the grace period the designer set (`escalationGrace`, default P1D;
engine/jobs/task_escalate.py)."""

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from engine import events
from engine.bpmn.catalog import ElementInfo
from engine.deadlines import duration
from engine.jobs import queue, task_escalate
from engine.storage.tables import JobRow, OpenTaskRow, utcnow
from engine.storage.uow import UnitOfWork

KIND = "task_due"
DEFAULT_GRACE = "P1D"
_JOB = queue.JOB.c
# Only the deadline jobs: a webhook job also names its task, and its delivery must outlive the task.
_DELETE_TASK_JOBS = queue.JOB.delete().where(
    _JOB.task_id.in_(sa.bindparam("task_ids", expanding=True)), _JOB.kind.in_((KIND, task_escalate.KIND))
)


def schedule(session: Session, task: Mapping[str, Any], entry: ElementInfo) -> None:
    """A reminder job for a new open task (its index values) that has a due date; `entry`: its
    element's catalog entry."""
    if task["due_at"] is None:
        return
    grace = entry.properties.get("escalationGrace") or DEFAULT_GRACE
    queue.add(
        session,
        [
            {
                "id": f"due:{task['id']}",
                "kind": KIND,
                "instance_id": task["instance_id"],
                "task_id": task["id"],
                "due_at": task["due_at"],
                "attempts": 0,
                "payload": {"grace": grace},
                "created_at": utcnow(),
            }
        ],
    )


def cancel(session: Session, task_ids: set[str]) -> None:
    """Completed or cancelled tasks need no reminders (nor escalations)."""
    if task_ids:
        session.connection().execute(_DELETE_TASK_JOBS, {"task_ids": list(task_ids)})


def remind(uow: UnitOfWork, job: JobRow) -> None:
    """The handler: the task is overdue; tell its holder (an event), and schedule the escalation."""
    session = uow.session
    task = session.get(OpenTaskRow, job.task_id)
    if task is None:
        return
    events.record(
        session,
        events.TASK_OVERDUE,
        actor=None,
        instance_id=task.instance_id,
        task_id=task.id,
        element_id=task.element_id,
        details={"name": task.name, "assignee": task.assignee, "due_at": _iso(task)},
    )
    try:
        grace = duration((job.payload or {}).get("grace") or DEFAULT_GRACE)
    except Exception:
        grace = duration(DEFAULT_GRACE)
    task_escalate.schedule(session, task, job.due_at + grace)


def _iso(task: OpenTaskRow) -> str | None:
    return task.due_at.isoformat() if task.due_at is not None else None
