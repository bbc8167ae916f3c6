"""The inbox at scale, in two ways of answering one query.

- `by_offer_index`: "offered to me" reads task_candidate's offer indexes, one ordered range per key (my
  name, each of my groups), merged, instead of joining every offered task; "mine" reads open_task by
  assignee. It serves the inbox's own filters (process, stage, overdue) and sorts (by creation, by due
  date). Its statements are built once per shape and run with bound values.
- `by_filters`: one general query over open_task, for an instance or a business key (a few tasks each).

Both answer exactly alike (tests/engine/test_inbox.py)."""

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, or_

from engine.services.mappers import TASK_VIEW_COLUMNS, task_views
from engine.storage.tables import AnySelect, OpenTaskRow, TaskCandidateRow, utcnow
from engine.views import Page, Principal, TaskView

_TASK = OpenTaskRow.__table__
_CANDIDATE = TaskCandidateRow.__table__
_BY_ROLE = _CANDIDATE.alias("by_role")
_OPEN_TASKS_BY_ID = sa.select(*TASK_VIEW_COLUMNS).where(_TASK.c.id.in_(sa.bindparam("ids", expanding=True)))

#: A row of a merge: (sort key, task id). The sort key is None for a task without a due date.
Row = tuple[datetime | None, str]


@dataclass(frozen=True)
class InboxQuery:
    scope: str = "all"  # mine | offered | all
    process_key: str | None = None
    stage: str | None = None
    instance_id: str | None = None
    business_key: str | None = None
    overdue: bool | None = None
    sort: str = "created"  # created | due, "-" in front: descending
    offset: int = 0
    limit: int = 50

    @property
    def by_due(self) -> bool:
        return self.sort.removeprefix("-") == "due"

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    @property
    def fits_offer_index(self) -> bool:
        return not (self.instance_id or self.business_key)

    @property
    def shape(self) -> tuple[bool, bool, bool | None]:
        """What decides the statements' form: a process filter, a stage filter, the overdue filter."""
        return bool(self.process_key), bool(self.stage), self.overdue


def offer_keys(principal: Principal) -> list[tuple[str, str]]:
    return [("user", principal.name), *(("group", group) for group in sorted(principal.groups))]


# --- the offer index --------------------------------------------------------------------------------


def _due_filter(column: sa.ColumnElement[Any], overdue: bool | None) -> sa.ColumnElement[bool] | None:
    """Overdue: due before now (bound as `now`); not overdue: no due date, or due later."""
    if overdue is None:
        return None
    late = column < sa.bindparam("now")  # false for a task without a due date
    return late if overdue else or_(column.is_(None), column >= sa.bindparam("now"))


def _offers(
    candidate: sa.TableClause, key: int, with_process: bool, with_stage: bool, overdue: bool | None
) -> sa.ColumnElement[bool]:
    """Open offers to key number `key` of the request (bound as kind_<key>, value_<key>)."""
    return sa.and_(
        candidate.c.kind == sa.bindparam(f"kind_{key}"),
        candidate.c.value == sa.bindparam(f"value_{key}"),
        candidate.c.open,
        *_filters(candidate, with_process, with_stage, overdue),
    )


def _filters(
    table: sa.TableClause, with_process: bool, with_stage: bool, overdue: bool | None
) -> list[sa.ColumnElement[bool]]:
    """The inbox's filters on a table that carries the task's process_key, stage and due_at (open_task,
    or task_candidate's copies of them), bound as process_key, stage and now."""
    conditions = []
    if with_process:
        conditions.append(table.c.process_key == sa.bindparam("process_key"))
    if with_stage:
        conditions.append(table.c.stage == sa.bindparam("stage"))
    due = _due_filter(table.c.due_at, overdue)
    if due is not None:
        conditions.append(due)
    return conditions


@functools.cache
def _count_one(key: int, with_process: bool, with_stage: bool, overdue: bool | None) -> AnySelect:
    return (
        sa.select(sa.func.count())
        .select_from(_CANDIDATE)
        .where(_offers(_CANDIDATE, key, with_process, with_stage, overdue))
    )


@functools.cache
def _count_both(with_process: bool, with_stage: bool, overdue: bool | None) -> AnySelect:
    """Offered to me by name and by a group of mine at once (an escalation, say): counted once."""
    return (
        sa.select(sa.func.count())
        .select_from(_CANDIDATE)
        .join(_BY_ROLE, _BY_ROLE.c.task_id == _CANDIDATE.c.task_id)
        .where(
            _offers(_CANDIDATE, 0, with_process, with_stage, overdue),
            _BY_ROLE.c.kind == sa.bindparam("kind_1"),
            _BY_ROLE.c.value == sa.bindparam("value_1"),
        )
    )


@functools.cache
def _count_distinct(keys: int, with_process: bool, with_stage: bool, overdue: bool | None) -> AnySelect:
    """Several groups: a task offered to two of them must count once."""
    any_key = sa.or_(*(_offers(_CANDIDATE, k, with_process, with_stage, overdue) for k in range(keys)))
    return sa.select(sa.func.count(sa.distinct(_CANDIDATE.c.task_id))).where(any_key)


@functools.cache
def _count(
    keys: int, with_mine: bool, with_process: bool, with_stage: bool, overdue: bool | None
) -> AnySelect:
    """The inbox's total in one statement (each statement is a round trip on PostgreSQL): the offers
    to my `keys` (my name, my groups), plus the tasks claimed by me (mine and offered never overlap:
    an offer is open only while nobody has claimed the task)."""
    shape = (with_process, with_stage, overdue)
    parts: list[sa.ColumnElement[bool]] = []
    if keys > 2:
        parts.append(_count_distinct(keys, *shape).scalar_subquery())
    elif keys:
        parts += [_count_one(k, *shape).scalar_subquery() for k in range(keys)]
        if keys == 2:
            parts.append(-_count_both(*shape).scalar_subquery())
    if with_mine:
        parts.append(_mine(*shape, False, False)[0].scalar_subquery())
    return sa.select(functools.reduce(lambda a, b: a + b, parts))


@functools.cache
def _first(
    key: int, with_process: bool, with_stage: bool, overdue: bool | None, by_due: bool, descending: bool
) -> list[AnySelect]:
    """The statements that read the first offers of key number `key` in inbox order: by creation, one;
    by due date, the dated offers in order, then those without a due date (always last) by id."""
    offers = _offers(_CANDIDATE, key, with_process, with_stage, overdue)
    if not by_due:
        created = _CANDIDATE.c.created_at.desc() if descending else _CANDIDATE.c.created_at.asc()
        return [_first_rows(_CANDIDATE.c.created_at, offers, created)]
    due = _CANDIDATE.c.due_at
    dated = _first_rows(due, offers & due.is_not(None), due.desc() if descending else due.asc())
    if overdue:  # an overdue task has a due date
        return [dated]
    # typed: inside a UNION, PostgreSQL would take a bare NULL for text
    return [dated, _first_rows(sa.cast(sa.null(), due.type), offers & due.is_(None))]


def _first_rows(
    key: sa.ColumnElement[Any], where: sa.ColumnElement[bool], *order: sa.ColumnElement[Any]
) -> AnySelect:
    return (
        sa.select(key, _CANDIDATE.c.task_id)
        .where(where)
        .order_by(*order, _CANDIDATE.c.task_id)
        .limit(sa.bindparam("count"))
    )


@functools.cache
def _firsts(
    keys: int,
    with_mine: bool,
    with_process: bool,
    with_stage: bool,
    overdue: bool | None,
    by_due: bool,
    descending: bool,
) -> sa.CompoundSelect[*tuple[Any, ...]] | AnySelect:
    """The first rows of every ordered range the inbox merges (each key's offers, the tasks claimed by
    me), in one statement: each range keeps its own order and limit inside the UNION ALL."""
    shape = (with_process, with_stage, overdue, by_due, descending)
    ranges = [statement for k in range(keys) for statement in _first(k, *shape)]
    if with_mine:
        ranges.append(_mine(*shape)[1])
    if len(ranges) == 1:
        return ranges[0]
    return sa.union_all(*(r.subquery().select() for r in ranges))


@functools.cache
def _mine(
    with_process: bool, with_stage: bool, overdue: bool | None, by_due: bool, descending: bool
) -> tuple[AnySelect, AnySelect]:
    """Count and first rows of the tasks claimed by me (a few hundred at most: sorted as they are)."""
    mine = [_TASK.c.assignee == sa.bindparam("assignee"), *_filters(_TASK, with_process, with_stage, overdue)]
    key = _TASK.c.due_at if by_due else _TASK.c.created_at
    order = key.desc() if descending else key.asc()
    if by_due:  # created_at is never empty
        order = order.nulls_last()
    return (
        sa.select(sa.func.count()).select_from(_TASK).where(*mine),
        sa.select(key, _TASK.c.id).where(*mine).order_by(order, _TASK.c.id).limit(sa.bindparam("count")),
    )


def _params(keys: list[tuple[str, str]], query: InboxQuery, now: datetime) -> dict[str, object]:
    params: dict[str, object] = {"now": now}
    if query.process_key:
        params["process_key"] = query.process_key
    if query.stage:
        params["stage"] = query.stage
    for i, (kind, value) in enumerate(keys):
        params[f"kind_{i}"], params[f"value_{i}"] = kind, value
    return params


def by_offer_index(session: Session, principal: Principal, query: InboxQuery) -> Page[TaskView]:
    """Four statements whatever the scope and the number of my groups: the total, the first rows of
    every range merged, the page's tasks, their candidates."""
    conn, now = session.connection(), utcnow()
    keys = offer_keys(principal) if query.scope in ("offered", "all") else []
    with_mine = query.scope in ("mine", "all")
    params = {**_params(keys, query, now), "assignee": principal.name}
    total = conn.execute(_count(len(keys), with_mine, *query.shape), params).scalar_one()
    firsts = _firsts(len(keys), with_mine, *query.shape, query.by_due, query.descending)
    found = conn.execute(firsts, {**params, "count": query.offset + query.limit})
    rows = _ordered([tuple(r) for r in found], query.descending)
    ids = [task_id for _, task_id in rows][query.offset : query.offset + query.limit]
    if not ids:
        return Page([], total, query.offset, query.limit)
    by_id = {r.id: r for r in conn.execute(_OPEN_TASKS_BY_ID, {"ids": ids})}
    return Page(task_views(session, [by_id[i] for i in ids if i in by_id]), total, query.offset, query.limit)


def _ordered(rows: list[Row], descending: bool) -> list[Row]:
    """By sort key (latest first when descending), those without one last, then by id; each task once."""
    unique = sorted({r[1]: r for r in reversed(rows)}.values(), key=lambda r: r[1])  # the first row of each
    keyed = [r for r in unique if r[0] is not None]
    keyed.sort(key=lambda r: r[0] or datetime.min, reverse=descending)  # stable: ties stay in id order
    return keyed + [r for r in unique if r[0] is None]


# --- the general query ------------------------------------------------------------------------------


def by_filters(session: Session, principal: Principal, query: InboxQuery) -> Page[TaskView]:
    mine = _TASK.c.assignee == principal.name
    offer_to_me = or_(
        (_CANDIDATE.c.kind == "user") & (_CANDIDATE.c.value == principal.name),
        (_CANDIDATE.c.kind == "group") & _CANDIDATE.c.value.in_(principal.groups),
    )
    offered_to_me: sa.ColumnElement[bool]
    if query.instance_id or query.business_key:  # a few tasks at most: check each one's offers
        offered_to_me = sa.exists().where(_CANDIDATE.c.task_id == _TASK.c.id, offer_to_me)
    else:  # start from the offers to my name and groups
        offered_to_me = _TASK.c.id.in_(sa.select(_CANDIDATE.c.task_id).where(offer_to_me))
    offered = _TASK.c.assignee.is_(None) & offered_to_me
    scope = {"mine": mine, "offered": offered, "all": or_(mine, offered)}[query.scope]
    q = sa.select(*TASK_VIEW_COLUMNS).where(scope, *_filters(_TASK, *query.shape))
    for column, value in (
        (_TASK.c.instance_id, query.instance_id),
        (_TASK.c.business_key, query.business_key),
    ):
        if value:
            q = q.where(column == value)
    conn, params = session.connection(), _params([], query, utcnow())
    total = conn.execute(sa.select(sa.func.count()).select_from(q.subquery()), params).scalar_one()
    key = _TASK.c.due_at if query.by_due else _TASK.c.created_at
    order = (sa.desc(key) if query.descending else sa.asc(key)).nulls_last()
    page = q.order_by(order, _TASK.c.id).offset(query.offset).limit(query.limit)
    return Page(task_views(session, conn.execute(page, params).all()), total, query.offset, query.limit)
