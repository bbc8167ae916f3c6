"""The inbox at scale. "Offered to me" reads task_candidate's offer index: one ordered range per key
(my name, each of my roles), merged, instead of joining every offered task; "mine" reads open_task
by assignee. Used when the filters are the common ones (process, sort by creation)."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, func, select

from engine.storage.tables import OpenTaskRow, TaskCandidateRow
from engine.views import Principal


def offer_keys(principal: Principal) -> list[tuple[str, str]]:
    return [("user", principal.name), *(("role", role) for role in sorted(principal.roles))]


def _offers(kind: str, value: str, process_key: str | None) -> sa.ColumnElement[bool]:
    condition = (TaskCandidateRow.kind == kind) & (TaskCandidateRow.value == value) & TaskCandidateRow.open
    return condition & (TaskCandidateRow.process_key == process_key) if process_key else condition


def count_offered(session: Session, principal: Principal, process_key: str | None) -> int:
    keys = offer_keys(principal)
    if len(keys) > 2:  # several roles: a task offered to two of them must count once
        any_key = sa.or_(*(_offers(kind, value, process_key) for kind, value in keys))
        return session.exec(select(func.count(sa.distinct(TaskCandidateRow.task_id))).where(any_key)).one()
    total = sum(
        session.exec(
            select(func.count()).select_from(TaskCandidateRow).where(_offers(k, v, process_key))
        ).one()
        for k, v in keys
    )
    if len(keys) == 2:  # offered to me by name and by my role at once (an escalation, say): once
        by_role = sa.orm.aliased(TaskCandidateRow)
        total -= session.exec(
            select(func.count())
            .select_from(TaskCandidateRow)
            .join(by_role, by_role.task_id == TaskCandidateRow.task_id)
            .where(_offers(*keys[0], process_key), by_role.kind == keys[1][0], by_role.value == keys[1][1])
        ).one()
    return total


def first_offered(
    session: Session, principal: Principal, process_key: str | None, descending: bool, count: int
) -> list[tuple[datetime, str]]:
    """The first `count` offered tasks as (created_at, task id), in inbox order."""
    created = TaskCandidateRow.created_at.desc() if descending else TaskCandidateRow.created_at.asc()
    found: list[tuple[datetime, str]] = []
    for kind, value in offer_keys(principal):
        found += session.exec(
            select(TaskCandidateRow.created_at, TaskCandidateRow.task_id)
            .where(_offers(kind, value, process_key))
            .order_by(created, TaskCandidateRow.task_id)
            .limit(count)
        ).all()
    return _ordered(found, descending)[:count]


def first_mine(
    session: Session, principal: Principal, process_key: str | None, descending: bool, count: int
) -> tuple[int, list[tuple[datetime, str]]]:
    mine = OpenTaskRow.assignee == principal.name
    if process_key:
        mine = mine & (OpenTaskRow.process_key == process_key)
    created = OpenTaskRow.created_at.desc() if descending else OpenTaskRow.created_at.asc()
    total = session.exec(select(func.count()).select_from(OpenTaskRow).where(mine)).one()
    rows = session.exec(
        select(OpenTaskRow.created_at, OpenTaskRow.id)
        .where(mine)
        .order_by(created, OpenTaskRow.id)
        .limit(count)
    ).all()
    return total, list(rows)


def merge(*lists: list[tuple[datetime, str]], descending: bool) -> list[str]:
    return [task_id for _, task_id in _ordered([row for rows in lists for row in rows], descending)]


def _ordered(rows: list[tuple[datetime, str]], descending: bool) -> list[tuple[datetime, str]]:
    """By creation (newest first when descending), then by id; each task once."""
    seen: set[str] = set()
    unique = [r for r in rows if not (r[1] in seen or seen.add(r[1]))]
    unique.sort(key=lambda r: r[1])
    unique.sort(key=lambda r: r[0], reverse=descending)  # stable: ties stay in id order
    return unique
