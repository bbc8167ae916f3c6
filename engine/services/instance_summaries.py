"""Where each instance of a list page stands: its open tasks (who holds them, when due), the messages
and timers it waits for, and whether work is overdue. A few queries per page, never per row."""

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import fields
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlmodel import Session, col

from engine.bpmn.catalog import Catalog
from engine.services.mappers import TASK_VIEW_COLUMNS, instance_view, task_views
from engine.storage.tables import (
    AnySelect,
    JobRow,
    MessageSubscriptionRow,
    OpenTaskRow,
    ProcessInstanceRow,
)
from engine.views import InstanceSummaryView, InstanceView, TaskView, WaitingView

S = TypeVar("S", bound=AnySelect)  # a select of instances: of rows, or of some of their columns
_IDS: sa.BindParameter[list[str]] = sa.bindparam("ids", expanding=True)
_OPEN_TASKS = (
    sa.select(*TASK_VIEW_COLUMNS)
    .where(col(OpenTaskRow.instance_id).in_(_IDS))
    .order_by(col(OpenTaskRow.created_at), col(OpenTaskRow.id))
)
_SUBSCRIPTION = MessageSubscriptionRow.__table__.c
_SUBSCRIPTIONS = sa.select(
    _SUBSCRIPTION.instance_id, _SUBSCRIPTION.element_id, _SUBSCRIPTION.message_name
).where(_SUBSCRIPTION.instance_id.in_(_IDS))
_JOB = JobRow.__table__.c
_TIMERS = sa.select(_JOB.instance_id, _JOB.due_at).where(
    _JOB.instance_id.in_(_IDS), _JOB.kind == "timer", _JOB.failed_at.is_(None)
)
_INSTANCE_FIELDS = [f.name for f in fields(InstanceView)]


def waiting_of(
    session: Session, rows: Sequence[ProcessInstanceRow], catalog_of: Callable[[str], Catalog]
) -> dict[str, list[WaitingView]]:
    """The messages (the approval system's among them, by the element's `approval` property) and
    timers each instance waits for, by instance id."""
    ids = [r.id for r in rows]
    conn = session.connection()
    waiting: dict[str, list[WaitingView]] = defaultdict(list)
    definition_of = {r.id: r.definition_id for r in rows}
    for instance_id, element_id, message in conn.execute(_SUBSCRIPTIONS, {"ids": ids}):
        approval = bool(catalog_of(definition_of[instance_id]).of(element_id).properties.get("approval"))
        waiting[instance_id].append(WaitingView("message", element_id, message, approval))
    for instance_id, due_at in conn.execute(_TIMERS, {"ids": ids}):
        waiting[instance_id].append(WaitingView("timer", due_at=due_at))
    return waiting


def summaries(
    session: Session,
    rows: Sequence[ProcessInstanceRow],
    version_of: Callable[[str], int],
    catalog_of: Callable[[str], Catalog],
    now: datetime,
) -> list[InstanceSummaryView]:
    ids = [r.id for r in rows]
    if not ids:
        return []
    conn = session.connection()
    steps: dict[str, list[TaskView]] = defaultdict(list)
    for task in task_views(session, conn.execute(_OPEN_TASKS, {"ids": ids}).all()):
        steps[task.instance_id].append(task)
    waiting = waiting_of(session, rows, catalog_of)
    result = []
    for row in rows:
        view = instance_view(row, version_of(row.definition_id))
        current = steps[row.id]
        overdue = any(t.due_at is not None and t.due_at < now for t in current)
        base = {name: getattr(view, name) for name in _INSTANCE_FIELDS}
        result.append(
            InstanceSummaryView(**base, current_steps=current, waiting=waiting[row.id], overdue=overdue)
        )
    return result
