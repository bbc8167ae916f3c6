"""The per-step and rework-loop figures as the engine computed them before migration 0014: straight
from audit_event, exact nearest-rank percentiles by sorting every task of the period. Kept here only
as the benchmark's reference: the "before" timing, and the exact figures the histograms are checked
against at 10,000 instances. The instance-level figures did not change and are not repeated."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from engine import events
from engine.analytics_sql import PERCENTILES, seconds_between
from engine.storage.tables import AuditEventRow, ProcessDefinitionRow, ProcessInstanceRow
from engine.views import Percentiles

_AUDIT = AuditEventRow.__table__
_INSTANCE = ProcessInstanceRow.__table__
_DEFINITION = ProcessDefinitionRow.__table__
_TAKEN_UP = (events.TASK_CLAIMED, events.TASK_ASSIGNED)


def figures(
    conn: sa.Connection, key: str, version: int | None, start: datetime, end: datetime
) -> dict[str, Any]:
    """{"steps": {element: (runs, completed, overdue, waiting, work, duration)}, "loops": {(from, to): n}}"""
    d = _DEFINITION.c
    query = sa.select(d.id).where(d.key == key)
    if version is not None:
        query = query.where(d.version == version)
    ids = list(conn.execute(query).scalars())
    instances = sa.select(_INSTANCE.c.id).where(_INSTANCE.c.definition_id.in_(ids))
    return {"steps": _steps(conn, instances, start, end), "loops": _loops(conn, instances, start, end)}


def _steps(
    conn: sa.Connection, instances: sa.Select[Any], start: datetime, end: datetime
) -> dict[str, tuple[Any, ...]]:
    a = _AUDIT.c

    def first(kinds: tuple[str, ...]) -> Any:
        return sa.func.min(sa.case((a.type.in_(kinds), a.at)))

    per_task = (
        sa.select(
            sa.func.max(a.element_id).label("element_id"),
            first((events.TASK_CREATED,)).label("created_at"),
            first(_TAKEN_UP).label("claimed_at"),
            first((events.TASK_COMPLETED,)).label("completed_at"),
            sa.func.max(sa.case((a.type == events.TASK_OVERDUE, 1), else_=0)).label("overdue"),
        )
        .where(
            a.type.in_((events.TASK_CREATED, *_TAKEN_UP, events.TASK_COMPLETED, events.TASK_OVERDUE)),
            a.instance_id.in_(instances),
            a.task_id.is_not(None),
            a.at >= start,
        )
        .group_by(a.task_id)
        .subquery()
    )
    t = per_task.c
    waiting = seconds_between(t.created_at, sa.func.coalesce(t.claimed_at, t.completed_at))
    timed = (
        sa.select(
            t.element_id,
            t.completed_at,
            t.overdue,
            waiting.label("waiting"),
            seconds_between(t.claimed_at, t.completed_at).label("work"),
            seconds_between(t.created_at, t.completed_at).label("duration"),
        )
        .where(t.created_at >= start, t.created_at < end)
        .subquery()
    )
    measures = ("waiting", "work", "duration")
    ranks = []
    for measure in measures:
        rank, count = ranked(timed.c[measure], timed.c.element_id)
        ranks += [rank.label(f"{measure}_r"), count.label(f"{measure}_n")]
    rows = sa.select(timed, *ranks).subquery()
    r = rows.c
    columns = [sa.func.count(), sa.func.count(r.completed_at), sa.func.sum(r.overdue)]
    for measure in measures:
        value, rank, count = r[measure], r[f"{measure}_r"], r[f"{measure}_n"]
        columns += [sa.func.count(value), *(percentile(value, rank, count, s) for _, s in PERCENTILES)]
    found = {}
    for row in conn.execute(sa.select(r.element_id, *columns).group_by(r.element_id)):
        element_id, runs, completed, overdue, *rest = row
        parts = [Percentiles(*rest[i : i + 4]) for i in range(0, 12, 4)]
        found[element_id] = (runs, completed, overdue or 0, *parts)
    return found


def _loops(
    conn: sa.Connection, instances: sa.Select[Any], start: datetime, end: datetime
) -> dict[tuple[str, str], int]:
    a = _AUDIT.c
    created = (
        sa.select(
            a.id,
            a.instance_id,
            a.element_id,
            sa.func.row_number().over(partition_by=[a.instance_id, a.element_id], order_by=a.id).label("nth"),
        )
        .where(a.type == events.TASK_CREATED, a.instance_id.in_(instances))
        .subquery()
    )
    c = created.c
    earlier = _AUDIT.alias("earlier")
    e = earlier.c
    previous_id = (
        sa.select(sa.func.max(e.id))
        .where(e.instance_id == c.instance_id, e.type == events.TASK_COMPLETED, e.id < c.id)
        .scalar_subquery()
    )
    previous = _AUDIT.alias("previous")
    again = (
        sa.select(c.instance_id, c.element_id, previous_id.label("previous_id"))
        .select_from(created.join(_AUDIT, _AUDIT.c.id == c.id))
        .where(c.nth > 1, _AUDIT.c.at >= start, _AUDIT.c.at < end)
        .subquery()
    )
    pairs = conn.execute(
        sa.select(previous.c.element_id, again.c.element_id, sa.func.count())
        .select_from(again.join(previous, previous.c.id == again.c.previous_id))
        .group_by(previous.c.element_id, again.c.element_id)
    ).all()
    return {(source, target): taken for source, target, taken in pairs}


def ranked(value: Any, *partition: Any) -> tuple[Any, Any]:
    """The rank of `value` among the non-null values of its partition, and how many there are. NULLs
    get a partition of their own, so the ranks of the others are 1..n on both databases (which sort
    NULLs at opposite ends)."""
    rank = sa.func.row_number().over(
        partition_by=[*partition, sa.case((value.is_(None), 1), else_=0)], order_by=value
    )
    count = sa.func.count(value).over(partition_by=list(partition) or None)
    return rank, count


def percentile(value: Any, rank: Any, count: Any, share: float) -> Any:
    """Aggregate: the nearest-rank percentile, the smallest value whose rank reaches share * count."""
    return sa.func.min(sa.case((sa.and_(value.is_not(None), rank >= share * count), value)))
