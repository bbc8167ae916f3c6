"""Due dates of user tasks, and what happens when one passes: a reminder to the task's holder, then,
after a grace period the designer sets (`escalationGrace`, default P1D), escalation to the leader."""

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from engine import events
from engine.bpmn.catalog import ElementInfo
from engine.bpmn.runner import duration as iso_duration
from engine.permissions import TeamRules
from engine.storage.tables import JobRow, OpenTaskRow, ProcessInstanceRow, TaskCandidateRow, utcnow
from engine.storage.uow import UnitOfWork

_JOB = JobRow.__table__
_INSERT_JOB = _JOB.insert()
_DELETE_TASK_JOBS = _JOB.delete().where(_JOB.c.task_id.in_(sa.bindparam("task_ids", expanding=True)))

DEFAULT_GRACE = "P1D"
MAX_YEARS_AHEAD = 200


def due_datetime(value: object) -> datetime | None:
    """A task's due date from what its `camunda:dueDate` gave: a date means by the end of that day
    (UTC); a datetime is taken as is; an ISO string of either, or a duration (counted from now). None:
    no due date. Anything else is a ValueError."""
    try:
        due = _due_datetime(value)
    except OverflowError:
        raise ValueError(f"{value!r} lies beyond the dates the engine can compute with") from None
    if due is not None and due > utcnow() + timedelta(days=366 * MAX_YEARS_AHEAD):
        raise ValueError(f"the due date {value!r} lies more than {MAX_YEARS_AHEAD} years ahead")
    return due


def _due_datetime(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value + timedelta(days=1), time(), UTC)
    if isinstance(value, str):
        if value.startswith("P"):
            try:
                return utcnow() + duration(value)
            except Exception:
                raise ValueError(f"{value!r} is not an ISO-8601 duration") from None
        try:
            if len(value) == 10:
                return _due_datetime(date.fromisoformat(value))
            return _due_datetime(datetime.fromisoformat(value))
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date, a datetime or an ISO-8601 duration")


def duration(text: str) -> timedelta:
    return iso_duration(text, utcnow())


def schedule(session: Session, task: Mapping[str, Any], entry: ElementInfo) -> None:
    """A reminder job for a new open task (its index values) that has a due date."""
    if task["due_at"] is None:
        return
    grace = entry.properties.get("escalationGrace") or DEFAULT_GRACE
    session.connection().execute(
        _INSERT_JOB,
        {
            "id": f"due:{task['id']}",
            "kind": "task_due",
            "instance_id": task["instance_id"],
            "task_id": task["id"],
            "due_at": task["due_at"],
            "attempts": 0,
            "payload": {"grace": grace},
            "created_at": utcnow(),
        },
    )


def remind(uow: UnitOfWork, job: JobRow) -> None:
    """The task is overdue: tell its holder (an event), and schedule the escalation."""
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
        details={"name": task.name, "assignee": task.assignee, "due_at": task.due_at.isoformat()},
    )
    try:
        grace = duration((job.payload or {}).get("grace") or DEFAULT_GRACE)
    except Exception:
        grace = duration(DEFAULT_GRACE)
    session.add(
        JobRow(
            id=f"escalate:{task.id}",
            kind="task_escalate",
            instance_id=task.instance_id,
            task_id=task.id,
            due_at=job.due_at + grace,
            created_at=utcnow(),
        )
    )


def escalate(uow: UnitOfWork, job: JobRow, rules: TeamRules) -> None:
    """Still open after the grace period: the instance's leaders are offered the task, and a task
    someone holds is handed to the leader, who may give it back or to someone else."""
    session = uow.session
    task = session.get(OpenTaskRow, job.task_id)
    if task is None:
        return
    instance = session.get(ProcessInstanceRow, task.instance_id)
    leaders = rules.leaders_of(instance.started_by, instance.team)
    present = set(
        session.exec(
            select(TaskCandidateRow.value).where(
                TaskCandidateRow.task_id == task.id, TaskCandidateRow.kind == "user"
            )
        ).all()
    )
    previous = task.assignee
    if previous is not None and leaders and previous not in leaders:
        task.assignee, task.claimed_at = leaders[0], utcnow()
        session.add(task)
    session.add_all(TaskCandidateRow.of(task, "user", name) for name in leaders if name not in present)
    events.record(
        session,
        events.TASK_ESCALATED,
        actor=None,
        instance_id=task.instance_id,
        task_id=task.id,
        element_id=task.element_id,
        details={"name": task.name, "to": leaders, "previous_assignee": previous},
    )


def cancel(session: Session, task_ids: set[str]) -> None:
    """Completed or cancelled tasks need no reminders."""
    if task_ids:
        session.connection().execute(_DELETE_TASK_JOBS, {"task_ids": list(task_ids)})
