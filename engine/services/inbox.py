"""The inbox at scale. "Offered to me" reads task_candidate's offer index: one ordered range per key
(my name, each of my roles), merged, instead of joining every offered task; "mine" reads open_task
by assignee. Used when the filters are the common ones (process, sort by creation).

Core statements, each built once per shape (with or without a process filter, ascending or
descending) and run with bound values: at 100,000 open tasks these run on every inbox request."""

import functools
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session

from engine.storage.tables import OpenTaskRow, TaskCandidateRow
from engine.views import Principal

_TASK = OpenTaskRow.__table__
_CANDIDATE = TaskCandidateRow.__table__
_BY_ROLE = _CANDIDATE.alias("by_role")


def offer_keys(principal: Principal) -> list[tuple[str, str]]:
    return [("user", principal.name), *(("role", role) for role in sorted(principal.roles))]


def _offers(candidate: sa.TableClause, key: int, with_process: bool) -> sa.ColumnElement[bool]:
    """Open offers to key number `key` of the request (bound as kind_<key>, value_<key>)."""
    condition = sa.and_(
        candidate.c.kind == sa.bindparam(f"kind_{key}"),
        candidate.c.value == sa.bindparam(f"value_{key}"),
        candidate.c.open,
    )
    return condition & (candidate.c.process_key == sa.bindparam("process_key")) if with_process else condition


@functools.cache
def _count_one(with_process: bool) -> sa.Select:
    return sa.select(sa.func.count()).select_from(_CANDIDATE).where(_offers(_CANDIDATE, 0, with_process))


@functools.cache
def _count_both(with_process: bool) -> sa.Select:
    """Offered to me by name and by my role at once (an escalation, say): counted once."""
    return (
        sa.select(sa.func.count())
        .select_from(_CANDIDATE)
        .join(_BY_ROLE, _BY_ROLE.c.task_id == _CANDIDATE.c.task_id)
        .where(
            _offers(_CANDIDATE, 0, with_process),
            _BY_ROLE.c.kind == sa.bindparam("kind_1"),
            _BY_ROLE.c.value == sa.bindparam("value_1"),
        )
    )


@functools.cache
def _count_distinct(keys: int, with_process: bool) -> sa.Select:
    """Several roles: a task offered to two of them must count once."""
    any_key = sa.or_(*(_offers(_CANDIDATE, k, with_process) for k in range(keys)))
    return sa.select(sa.func.count(sa.distinct(_CANDIDATE.c.task_id))).where(any_key)


@functools.cache
def _first(with_process: bool, descending: bool) -> sa.Select:
    created = _CANDIDATE.c.created_at.desc() if descending else _CANDIDATE.c.created_at.asc()
    return (
        sa.select(_CANDIDATE.c.created_at, _CANDIDATE.c.task_id)
        .where(_offers(_CANDIDATE, 0, with_process))
        .order_by(created, _CANDIDATE.c.task_id)
        .limit(sa.bindparam("count"))
    )


@functools.cache
def _mine(with_process: bool, descending: bool) -> tuple[sa.Select, sa.Select]:
    mine = _TASK.c.assignee == sa.bindparam("assignee")
    if with_process:
        mine = mine & (_TASK.c.process_key == sa.bindparam("process_key"))
    created = _TASK.c.created_at.desc() if descending else _TASK.c.created_at.asc()
    return (
        sa.select(sa.func.count()).select_from(_TASK).where(mine),
        sa.select(_TASK.c.created_at, _TASK.c.id).where(mine).order_by(created, _TASK.c.id).limit(
            sa.bindparam("count")
        ),
    )


def _params(keys: list[tuple[str, str]], process_key: str | None) -> dict:
    params: dict = {"process_key": process_key} if process_key else {}
    for i, (kind, value) in enumerate(keys):
        params[f"kind_{i}"], params[f"value_{i}"] = kind, value
    return params


def count_offered(session: Session, principal: Principal, process_key: str | None) -> int:
    conn, keys, with_process = session.connection(), offer_keys(principal), bool(process_key)
    if len(keys) > 2:
        return conn.execute(_count_distinct(len(keys), with_process), _params(keys, process_key)).scalar_one()
    total = sum(
        conn.execute(_count_one(with_process), _params([key], process_key)).scalar_one() for key in keys
    )
    if len(keys) == 2:
        total -= conn.execute(_count_both(with_process), _params(keys, process_key)).scalar_one()
    return total


def first_offered(
    session: Session, principal: Principal, process_key: str | None, descending: bool, count: int
) -> list[tuple[datetime, str]]:
    """The first `count` offered tasks as (created_at, task id), in inbox order."""
    conn, statement = session.connection(), _first(bool(process_key), descending)
    found: list[tuple[datetime, str]] = []
    for key in offer_keys(principal):
        found += [tuple(r) for r in conn.execute(statement, {**_params([key], process_key), "count": count})]
    return _ordered(found, descending)[:count]


def first_mine(
    session: Session, principal: Principal, process_key: str | None, descending: bool, count: int
) -> tuple[int, list[tuple[datetime, str]]]:
    conn = session.connection()
    count_mine, first = _mine(bool(process_key), descending)
    params = {"assignee": principal.name, **({"process_key": process_key} if process_key else {})}
    total = conn.execute(count_mine, params).scalar_one()
    return total, [tuple(r) for r in conn.execute(first, {**params, "count": count})]


def merge(*lists: list[tuple[datetime, str]], descending: bool) -> list[str]:
    return [task_id for _, task_id in _ordered([row for rows in lists for row in rows], descending)]


def _ordered(rows: list[tuple[datetime, str]], descending: bool) -> list[tuple[datetime, str]]:
    """By creation (newest first when descending), then by id; each task once."""
    seen: set[str] = set()
    unique = [r for r in rows if not (r[1] in seen or seen.add(r[1]))]
    unique.sort(key=lambda r: r[1])
    unique.sort(key=lambda r: r[0], reverse=descending)  # stable: ties stay in id order
    return unique
