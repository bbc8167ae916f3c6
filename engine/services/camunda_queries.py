"""Read-only queries in the shape of Camunda 7's query API (filters, sorting, paging, counts) that the
REST layer (api/camunda) translates to and from: open tasks, running instances and their variables.
Definitions, deployments and external tasks are in camunda_resources.py; history, incidents and jobs in
camunda_history.py. What callers pass and get back (filters, records, the paging, sorting and
variable conditions all three share) is public in engine/queries.py; the SQL is here.
Nothing here writes. A service of ProcessEngine (`engine.camunda`): each method is one read
transaction.

Who may see what is decided by the rules the other services decide by (engine.permissions,
engine.visibility), in their SQL form: tasks as TaskService shows them, instances as RuntimeService.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from engine import permissions, variable_types
from engine.bpmn.catalog import Catalog
from engine.errors import Forbidden, InvalidInput
from engine.instances import Instances
from engine.permissions import TeamRules
from engine.queries import Paging, Sorting, TaskFilter, TaskRecord, VariableRecord
from engine.services import instance_filter
from engine.services.identity import users_with_groups
from engine.services.instance_filter import variable_condition, variable_kind
from engine.services.mappers import TASK_VIEW_COLUMNS, instance_view, task_views
from engine.storage.tables import (
    MessageSubscriptionRow,
    OpenTaskRow,
    ProcessDefinitionRow,
    ProcessInstanceRow,
    TaskCandidateRow,
    utcnow,
)
from engine.storage.uow import Transactions, UnitOfWork
from engine.views import InstanceFilter, InstanceView, Page, Principal

#: Task query statements kept per shape and principal (see CamundaQueries.tasks); cleared when full.
MAX_CACHED_STATEMENTS = 512

_TASK, _INSTANCE = OpenTaskRow.__table__, ProcessInstanceRow.__table__
_CANDIDATE = TaskCandidateRow.__table__
_TASK_AND_INSTANCE = _TASK.join(_INSTANCE, _INSTANCE.c.id == _TASK.c.instance_id)


_TASK_EXISTS = sa.select(_TASK.c.id).where(_TASK.c.id == sa.bindparam("task_id"))


@dataclass(frozen=True)
class _TaskStatements:
    page: sa.Select[Any]
    count: sa.Select[Any]


TASK_SORT = {
    "created": OpenTaskRow.created_at,
    "due": OpenTaskRow.due_at,
    "name": OpenTaskRow.name,
    "name_ci": sa.func.lower(OpenTaskRow.name),
    "assignee": OpenTaskRow.assignee,
    "id": OpenTaskRow.id,
    "instance": OpenTaskRow.instance_id,
    "updated": OpenTaskRow.claimed_at,
}


INSTANCE_SORT = {
    "id": ProcessInstanceRow.id,
    "key": ProcessInstanceRow.process_key,
    "definition": ProcessInstanceRow.definition_id,
    "business_key": ProcessInstanceRow.business_key,
    "started": ProcessInstanceRow.started_at,
    "ended": ProcessInstanceRow.ended_at,
}


class CamundaQueries:
    def __init__(self, tx: Transactions, rules: TeamRules, instances: Instances) -> None:
        self._tx = tx
        self._rules = rules
        self._instances = instances  # deployed versions, read once and kept (their documentation)
        self._task_queries: dict[tuple[object, ...], _TaskStatements] = {}

    # --- tasks ------------------------------------------------------------------------------------

    def tasks(self, f: TaskFilter, paging: Paging, *, principal: Principal) -> Page[TaskRecord]:
        """Open user tasks matching the filter that the principal may see (oldest first by default).

        Core statements built once per shape (which filters are set, the sorting, who asks) and
        compiled once by SQLAlchemy, the filter's values bound: a Camunda client asks this before
        every task it works on. The total is counted only when the page does not already tell it."""
        check_paging(paging)

        def query(uow: UnitOfWork) -> Page[TaskRecord]:
            session = uow.session
            candidate_groups: list[str] = []
            if f.candidate_user is not None:
                found = users_with_groups(session, {f.candidate_user}).get(f.candidate_user, set())
                candidate_groups = sorted(found)
            statements, params = self._task_statements(f, paging, principal, candidate_groups)
            conn = session.connection()
            page: list[sa.Row[Any]] = []
            if paging.limit > 0:
                params.update(offset=paging.offset, limit=paging.limit)
                page = list(conn.execute(statements.page, params))
            if page and len(page) < paging.limit:
                total = paging.offset + len(page)
            elif not page and paging.offset == 0 and paging.limit > 0:
                total = 0
            else:
                total = conn.execute(statements.count, params).scalar_one()
            views = task_views(session, [r[1:] for r in page])
            records: list[TaskRecord] = []
            for row, view in zip(page, views, strict=True):
                catalog = self._instances.definition(session, row[0]).catalog
                records.append(TaskRecord(view, row[0], catalog.of(view.element_id).documentation))
            return Page(records, total, paging.offset, paging.limit)

        return self._tx.read(query)

    def _task_statements(
        self, f: TaskFilter, paging: Paging, principal: Principal, candidate_groups: list[str]
    ) -> tuple["_TaskStatements", dict[str, Any]]:
        conditions, params, shape = _task_conditions(f, candidate_groups)
        sorting = tuple((s.key, s.descending) for s in paging.sorting)
        key = (shape, sorting, principal.name, principal.groups)
        found = self._task_queries.get(key)
        if found is None:
            visible = self._rules.task_visible.sql(principal)
            order = order_by(paging.sorting, TASK_SORT, _TASK.c.created_at, _TASK.c.id)
            found = _TaskStatements(
                page=sa.select(_INSTANCE.c.definition_id, *TASK_VIEW_COLUMNS)
                .select_from(_TASK_AND_INSTANCE)
                .where(*conditions, visible)
                .order_by(*order)
                .offset(sa.bindparam("offset", type_=sa.Integer))
                .limit(sa.bindparam("limit", type_=sa.Integer)),
                count=sa.select(sa.func.count()).select_from(_TASK_AND_INSTANCE).where(*conditions, visible),
            )
            if len(self._task_queries) >= MAX_CACHED_STATEMENTS:
                self._task_queries.clear()
            self._task_queries[key] = found
        return found, params

    def task_exists(self, task_id: str) -> bool:
        """Whether an open task of this id exists, whoever may see it: Camunda answers a task the caller
        may not act on with 403, not 404."""

        def exists(uow: UnitOfWork) -> bool:
            return uow.session.connection().execute(_TASK_EXISTS, {"task_id": task_id}).first() is not None

        return self._tx.read(exists)

    def candidate_group_counts(self, *, principal: Principal) -> list[tuple[str | None, int]]:
        """Open unassigned tasks per candidate group (None: offered to no group), as Camunda's report."""
        if not permissions.can_manage_users(principal):
            raise Forbidden("only admins read the candidate group report")

        def query(uow: UnitOfWork) -> list[tuple[str | None, int]]:
            grouped = uow.session.exec(
                select(TaskCandidateRow.value, sa.func.count())
                .join(OpenTaskRow, col(OpenTaskRow.id) == TaskCandidateRow.task_id)
                .where(TaskCandidateRow.kind == "group", col(OpenTaskRow.assignee).is_(None))
                .group_by(TaskCandidateRow.value)
                .order_by(TaskCandidateRow.value)
            ).all()
            offered = select(TaskCandidateRow.task_id).where(TaskCandidateRow.kind == "group")
            none = uow.session.exec(
                select(sa.func.count()).where(
                    col(OpenTaskRow.assignee).is_(None), col(OpenTaskRow.id).not_in(offered)
                )
            ).one()
            return ([(None, none)] if none else []) + [(g, n) for g, n in grouped]

        return self._tx.read(query)

    # --- process instances ------------------------------------------------------------------------

    def instances(self, f: InstanceFilter, paging: Paging, *, principal: Principal) -> Page[InstanceView]:
        """Instances matching the filter that the principal may see (newest first by default)."""
        check_paging(paging)

        def query(uow: UnitOfWork) -> Page[InstanceView]:
            session = uow.session
            q = select(ProcessInstanceRow).where(
                *instance_filter.conditions(f, utcnow()), self._rules.instance_visible.sql(principal)
            )
            total = session.exec(select(sa.func.count()).select_from(q.subquery())).one()
            order = order_by(
                paging.sorting,
                INSTANCE_SORT,
                col(ProcessInstanceRow.started_at).desc(),
                ProcessInstanceRow.id,
            )
            rows = session.exec(q.order_by(*order).offset(paging.offset).limit(paging.limit)).all()
            versions = _versions(session, {r.definition_id for r in rows})
            return Page(
                [instance_view(r, versions[r.definition_id]) for r in rows],
                total,
                paging.offset,
                paging.limit,
            )

        return self._tx.read(query)

    def waiting_for_message(self, name: str, *, business_key: str | None, principal: Principal) -> list[str]:
        """Running instances (ids) waiting for the message, for correlating to all of them."""
        if not permissions.can_correlate(principal):
            raise Forbidden("only admins and integration accounts send messages")

        def query(uow: UnitOfWork) -> list[str]:
            q = (
                select(ProcessInstanceRow.id)
                .join(
                    MessageSubscriptionRow, col(MessageSubscriptionRow.instance_id) == ProcessInstanceRow.id
                )
                .where(MessageSubscriptionRow.message_name == name, ProcessInstanceRow.status == "running")
            )
            if business_key is not None:
                q = q.where(ProcessInstanceRow.business_key == business_key)
            return list(uow.session.exec(q.order_by(col(ProcessInstanceRow.started_at))).all())

        return self._tx.read(query)

    # --- variables --------------------------------------------------------------------------------

    def variables(
        self,
        f: InstanceFilter,
        names: tuple[str, ...] | None,
        name_like: str | None,
        paging: Paging,
        *,
        principal: Principal,
    ) -> Page[VariableRecord]:
        """The variables of the instances matching the filter (running ones, or all for history), one
        record per variable, by instance then name."""
        check_paging(paging)

        def query(uow: UnitOfWork) -> Page[VariableRecord]:
            session = uow.session
            q = select(ProcessInstanceRow).where(
                *instance_filter.conditions(f, utcnow()), self._rules.instance_visible.sql(principal)
            )
            records: list[VariableRecord] = []
            for row in session.exec(
                q.order_by(col(ProcessInstanceRow.started_at), col(ProcessInstanceRow.id))
            ).all():
                values, types = variable_types.split(row.variables)
                for name in sorted(values):
                    if names is not None and name not in names:
                        continue
                    if name_like is not None and not _like(name, name_like):
                        continue
                    records.append(
                        VariableRecord(
                            row.id,
                            row.definition_id,
                            row.process_key,
                            name,
                            values[name],
                            types.get(name),
                            row.started_at,
                            row.status == "running",
                        )
                    )
            end = paging.offset + paging.limit
            return Page(records[paging.offset : end], len(records), paging.offset, paging.limit)

        return self._tx.read(query)


# --- conditions -------------------------------------------------------------------------------------


def check_paging(paging: Paging) -> None:
    if paging.offset < 0 or paging.limit < 0:
        raise InvalidInput("firstResult and maxResults must not be negative")


def order_by(sorting: tuple[Sorting, ...], table: dict[str, Any], *default: Any) -> list[Any]:
    order = []
    for s in sorting:
        column = table.get(s.key)
        if column is None:
            raise InvalidInput(f"cannot sort by {s.key}")
        order.append(column.desc() if s.descending else column.asc())
    return order + list(default)


def is_in(column: Any, values: tuple[str, ...] | None) -> list[sa.ColumnElement[bool]]:
    return [] if values is None else [column.in_(values)]


#: Filters of TaskFilter that compare one column with the value given: (field, column, how).
_TASK_FILTERS: tuple[tuple[str, sa.ColumnElement[Any], str], ...] = (
    ("process_instance_ids", _TASK.c.instance_id, "in"),
    ("process_definition_keys", _TASK.c.process_key, "in"),
    ("task_definition_keys", _TASK.c.element_id, "in"),
    ("task_ids", _TASK.c.id, "in"),
    ("assignees", _TASK.c.assignee, "in"),
    ("business_key", _TASK.c.business_key, "eq"),
    ("process_definition_id", _INSTANCE.c.definition_id, "eq"),
    ("name", _TASK.c.name, "eq"),
    ("business_key_like", _TASK.c.business_key, "like"),
    ("name_like", _TASK.c.name, "like"),
    ("assignee_like", _TASK.c.assignee, "like"),
    ("due_before", _TASK.c.due_at, "lt"),
    ("due_after", _TASK.c.due_at, "gt"),
    ("created_before", _TASK.c.created_at, "lt"),
    ("created_after", _TASK.c.created_at, "gt"),
)


_COMPARE: dict[str, Callable[[sa.ColumnElement[Any], sa.BindParameter[Any]], sa.ColumnElement[bool]]] = {
    "in": lambda column, value: column.in_(value),
    "eq": lambda column, value: column == value,
    "like": lambda column, value: column.like(value),
    "lt": lambda column, value: column < value,
    "gt": lambda column, value: column > value,
}


def _task_conditions(
    f: TaskFilter, candidate_user_groups: list[str]
) -> tuple[list[sa.ColumnElement[bool]], dict[str, Any], tuple[object, ...]]:
    """The filter's conditions with its values as bound parameters, those values, and the filter's
    shape: the conditions are the same for every filter of the same shape."""
    conditions: list[sa.ColumnElement[bool]] = []
    params: dict[str, Any] = {}
    shape: list[object] = []
    for name, column, how in _TASK_FILTERS:
        value = getattr(f, name)
        if value is None:
            continue
        shape.append(name)
        params[name] = list(value) if how == "in" else value
        bound: sa.BindParameter[Any] = sa.bindparam(name, expanding=how == "in")
        conditions.append(_COMPARE[how](column, bound))
    offered_to = []
    if f.candidate_groups is not None:
        groups = list(f.candidate_groups)
        shape.append(("candidate_groups", bool(groups)))
        params["candidate_groups"] = groups
        offered_to.append(_offered(groups="candidate_groups" if groups else None))
    if f.candidate_user is not None:
        shape.append(("candidate_user", bool(candidate_user_groups)))
        params["candidate_user"] = f.candidate_user
        params["candidate_user_groups"] = candidate_user_groups
        offered_to.append(
            _offered(user="candidate_user", groups="candidate_user_groups" if candidate_user_groups else None)
        )
    conditions += offered_to
    if offered_to and not f.include_assigned_tasks:
        shape.append("unassigned_offer")
        conditions.append(_TASK.c.assignee.is_(None))
    if f.assigned is not None:
        shape.append(("assigned", f.assigned))
        conditions.append(_TASK.c.assignee.is_not(None) if f.assigned else _TASK.c.assignee.is_(None))
    for i, c in enumerate(f.process_variables):
        kind, value = variable_kind(c)
        shape.append(("variable", c.name, c.operator, kind))
        params[f"variable_{i}"] = value
        conditions.append(variable_condition(c, bind=f"variable_{i}"))
    return conditions, params, tuple(shape)


def _offered(*, user: str | None = None, groups: str | None = None) -> sa.ColumnElement[bool]:
    """Offered to the user by name or to any of the groups (a filter of the query, not a visibility
    rule); `user` and `groups` name the bound parameters that hold them."""
    clauses: list[sa.ColumnElement[bool]] = []
    if groups is not None:
        clauses.append(
            (_CANDIDATE.c.kind == "group") & _CANDIDATE.c.value.in_(sa.bindparam(groups, expanding=True))
        )
    if user is not None:
        clauses.append((_CANDIDATE.c.kind == "user") & (_CANDIDATE.c.value == sa.bindparam(user)))
    if not clauses:
        return sa.false()
    return _TASK.c.id.in_(sa.select(_CANDIDATE.c.task_id).where(sa.or_(*clauses)))


def _like(text: str, pattern: str) -> bool:
    return (
        re.fullmatch("".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in pattern), text)
        is not None
    )


def _versions(session: Session, definition_ids: set[str]) -> dict[str, int]:
    if not definition_ids:
        return {}
    rows = session.exec(
        select(ProcessDefinitionRow.id, ProcessDefinitionRow.version).where(
            col(ProcessDefinitionRow.id).in_(definition_ids)
        )
    ).all()
    return dict(rows)


def catalogs_of(session: Session, definition_ids: set[str]) -> dict[str, Catalog]:
    if not definition_ids:
        return {}
    rows = session.exec(
        select(ProcessDefinitionRow.id, ProcessDefinitionRow.catalog).where(
            col(ProcessDefinitionRow.id).in_(definition_ids)
        )
    ).all()
    return {
        definition_id: catalog if isinstance(catalog, Catalog) else Catalog.from_json(catalog or {})
        for definition_id, catalog in rows
    }
