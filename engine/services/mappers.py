"""Mapping of rows to the engine's read models."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlmodel import Session

from engine import variable_types
from engine.storage.tables import AuditEventRow, OpenTaskRow, ProcessInstanceRow, TaskCandidateRow
from engine.views import AuditEntry, InstanceView, TaskView

if TYPE_CHECKING:
    from engine.instances import InstanceRecord


def instance_view(row: "ProcessInstanceRow | InstanceRecord", version: int) -> InstanceView:
    variables, types = variable_types.split(row.variables)
    return InstanceView(
        row.id,
        row.definition_id,
        row.process_key,
        version,
        row.business_key,
        row.status,
        row.outcome,
        row.started_by,
        row.started_at,
        row.ended_at,
        list(row.team or []),
        variables,
        row.incident,
        types,
    )


_CANDIDATE = TaskCandidateRow.__table__
#: What a TaskView is made of: every open_task column but the draft (a draft may be large, and lists
#: never show it).
TASK_VIEW_COLUMNS = [c for c in OpenTaskRow.__table__.c if c.name != "draft"]
_CANDIDATES_OF = sa.select(_CANDIDATE.c.task_id, _CANDIDATE.c.kind, _CANDIDATE.c.value).where(
    _CANDIDATE.c.task_id.in_(sa.bindparam("task_ids", expanding=True))
)


def candidates_of(session: Session, task_ids: Sequence[str]) -> dict[str, tuple[list[str], list[str]]]:
    found: dict[str, tuple[list[str], list[str]]] = {t: ([], []) for t in task_ids}
    if task_ids:
        rows = session.connection().execute(_CANDIDATES_OF, {"task_ids": list(task_ids)})
        for task_id, kind, value in rows:
            found[task_id][0 if kind == "user" else 1].append(value)
    return found


#: Where TaskView's candidate lists sit among TASK_VIEW_COLUMNS (the view has the columns' order).
_CANDIDATES_AT = [c.name for c in TASK_VIEW_COLUMNS].index("created_at")


def task_views(session: Session, rows: Sequence[Sequence[Any]]) -> list[TaskView]:
    """Views of rows of TASK_VIEW_COLUMNS, in that order, with their candidates. Built by position: a
    page of 50 takes a quarter of the time it takes attribute by attribute."""
    candidates = candidates_of(session, [r[0] for r in rows])
    at = _CANDIDATES_AT
    return [TaskView(*r[:at], *(sorted(names) for names in candidates[r[0]]), *r[at:]) for r in rows]


@dataclass
class OpenTask:
    """An open task's index row as plain values, detached from any session: read with Core by the task
    actions (which change it in place as they claim, assign, delegate) and built by the instance cycle
    for the tasks it opens. (The Camunda task query's engine.queries.TaskRecord is a view of one.)"""

    id: str
    instance_id: str
    process_key: str
    business_key: str | None
    element_id: str
    name: str
    role: str | None
    stage: str | None
    form_key: str | None
    assignee: str | None
    created_at: datetime
    claimed_at: datetime | None
    due_at: datetime | None
    owner: str | None
    delegation: str | None
    draft: dict[str, Any] | None = None


def task_view(row: OpenTaskRow | OpenTask, users: list[str], roles: list[str]) -> TaskView:
    return TaskView(
        row.id,
        row.instance_id,
        row.process_key,
        row.business_key,
        row.element_id,
        row.name,
        row.role,
        row.stage,
        row.form_key,
        row.assignee,
        sorted(users),
        sorted(roles),
        row.created_at,
        row.claimed_at,
        row.due_at,
        row.owner,
        row.delegation,
    )


def audit_view(row: AuditEventRow) -> AuditEntry:
    assert row.id is not None  # a row read back: the database numbered it
    return AuditEntry(
        row.id, row.at, row.type, row.actor, row.instance_id, row.task_id, row.element_id, row.details
    )
