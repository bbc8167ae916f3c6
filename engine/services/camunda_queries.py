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
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, or_, select

from engine import permissions, variable_types
from engine.bpmn.catalog import Catalog
from engine.errors import Forbidden, InvalidInput
from engine.permissions import TeamRules
from engine.queries import (
    InstanceFilter,
    Paging,
    Sorting,
    TaskFilter,
    TaskRecord,
    VariableCondition,
    VariableRecord,
)
from engine.services import instance_summaries as summary
from engine.services.identity import users_with_groups
from engine.services.mappers import candidates_of, instance_view, task_view
from engine.storage.tables import (
    ExternalTaskRow,
    MessageSubscriptionRow,
    OpenTaskRow,
    ProcessDefinitionRow,
    ProcessInstanceRow,
    TaskCandidateRow,
)
from engine.storage.uow import Transactions, UnitOfWork
from engine.views import InstanceView, Page, Principal

OPERATORS = ("eq", "neq", "gt", "gteq", "lt", "lteq", "like")


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
    def __init__(self, tx: Transactions, rules: TeamRules) -> None:
        self._tx = tx
        self._rules = rules

    # --- tasks ------------------------------------------------------------------------------------

    def tasks(self, f: TaskFilter, paging: Paging, *, principal: Principal) -> Page[TaskRecord]:
        """Open user tasks matching the filter that the principal may see (oldest first by default)."""
        check_paging(paging)

        def query(uow: UnitOfWork) -> Page[TaskRecord]:
            session = uow.session
            q = (
                select(OpenTaskRow, ProcessInstanceRow.definition_id)
                .join(ProcessInstanceRow, ProcessInstanceRow.id == OpenTaskRow.instance_id)
                .where(*_task_conditions(session, f), self._rules.task_visible.sql(principal))
            )
            total = session.exec(select(sa.func.count()).select_from(q.subquery())).one()
            order = order_by(paging.sorting, TASK_SORT, OpenTaskRow.created_at, OpenTaskRow.id)
            page = session.exec(q.order_by(*order).offset(paging.offset).limit(paging.limit)).all()
            candidates = candidates_of(session, [task.id for task, _ in page])
            definitions = catalogs_of(session, {definition_id for _, definition_id in page})
            records = [
                TaskRecord(
                    task_view(task, *candidates[task.id]),
                    definition_id,
                    definitions[definition_id].of(task.element_id).documentation,
                )
                for task, definition_id in page
            ]
            return Page(records, total, paging.offset, paging.limit)

        return self._tx.read(query)

    def task_exists(self, task_id: str) -> bool:
        """Whether an open task of this id exists, whoever may see it: Camunda answers a task the caller
        may not act on with 403, not 404."""
        return self._tx.read(lambda uow: uow.session.get(OpenTaskRow, task_id) is not None)

    def candidate_group_counts(self, *, principal: Principal) -> list[tuple[str | None, int]]:
        """Open unassigned tasks per candidate group (None: offered to no group), as Camunda's report."""
        if not permissions.can_manage_users(principal):
            raise Forbidden("only admins read the candidate group report")

        def query(uow: UnitOfWork) -> list[tuple[str | None, int]]:
            grouped = uow.session.exec(
                select(TaskCandidateRow.value, sa.func.count())
                .join(OpenTaskRow, OpenTaskRow.id == TaskCandidateRow.task_id)
                .where(TaskCandidateRow.kind == "group", OpenTaskRow.assignee.is_(None))
                .group_by(TaskCandidateRow.value)
                .order_by(TaskCandidateRow.value)
            ).all()
            offered = select(TaskCandidateRow.task_id).where(TaskCandidateRow.kind == "group")
            none = uow.session.exec(
                select(sa.func.count()).where(OpenTaskRow.assignee.is_(None), OpenTaskRow.id.not_in(offered))
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
                *_instance_conditions(f), self._rules.instance_visible.sql(principal)
            )
            total = session.exec(select(sa.func.count()).select_from(q.subquery())).one()
            order = order_by(
                paging.sorting, INSTANCE_SORT, ProcessInstanceRow.started_at.desc(), ProcessInstanceRow.id
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
                .join(MessageSubscriptionRow, MessageSubscriptionRow.instance_id == ProcessInstanceRow.id)
                .where(MessageSubscriptionRow.message_name == name, ProcessInstanceRow.status == "running")
            )
            if business_key is not None:
                q = q.where(ProcessInstanceRow.business_key == business_key)
            return list(uow.session.exec(q.order_by(ProcessInstanceRow.started_at)).all())

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
                *_instance_conditions(f), self._rules.instance_visible.sql(principal)
            )
            records: list[VariableRecord] = []
            for row in session.exec(q.order_by(ProcessInstanceRow.started_at, ProcessInstanceRow.id)).all():
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


def _task_conditions(session: Session, f: TaskFilter) -> list[sa.ColumnElement[bool]]:
    conditions = [
        *is_in(OpenTaskRow.instance_id, f.process_instance_ids),
        *is_in(OpenTaskRow.process_key, f.process_definition_keys),
        *is_in(OpenTaskRow.element_id, f.task_definition_keys),
        *is_in(OpenTaskRow.id, f.task_ids),
        *is_in(OpenTaskRow.assignee, f.assignees),
    ]
    for column, value in (
        (OpenTaskRow.business_key, f.business_key),
        (ProcessInstanceRow.definition_id, f.process_definition_id),
        (OpenTaskRow.name, f.name),
    ):
        if value is not None:
            conditions.append(column == value)
    for column, pattern in (
        (OpenTaskRow.business_key, f.business_key_like),
        (OpenTaskRow.name, f.name_like),
        (OpenTaskRow.assignee, f.assignee_like),
    ):
        if pattern is not None:
            conditions.append(column.like(pattern))
    for column, moment, before in (
        (OpenTaskRow.due_at, f.due_before, True),
        (OpenTaskRow.due_at, f.due_after, False),
        (OpenTaskRow.created_at, f.created_before, True),
        (OpenTaskRow.created_at, f.created_after, False),
    ):
        if moment is not None:
            conditions.append(column < moment if before else column > moment)
    offered_to = []
    if f.candidate_groups is not None:
        offered_to.append(_offered(groups=list(f.candidate_groups)))
    if f.candidate_user is not None:
        groups = sorted(users_with_groups(session, {f.candidate_user}).get(f.candidate_user, set()))
        offered_to.append(_offered(user=f.candidate_user, groups=groups))
    conditions += offered_to
    if offered_to and not f.include_assigned_tasks:
        conditions.append(OpenTaskRow.assignee.is_(None))
    if f.assigned is True:
        conditions.append(OpenTaskRow.assignee.is_not(None))
    elif f.assigned is False:
        conditions.append(OpenTaskRow.assignee.is_(None))
    conditions += [_variable(c) for c in f.process_variables]
    return conditions


def _instance_conditions(f: InstanceFilter) -> list[sa.ColumnElement[bool]]:
    conditions = [
        *is_in(ProcessInstanceRow.id, f.ids),
        *is_in(ProcessInstanceRow.process_key, f.process_definition_keys),
    ]
    if f.statuses is not None:
        conditions.append(ProcessInstanceRow.status.in_(f.statuses))
    if f.business_key is not None:
        conditions.append(ProcessInstanceRow.business_key == f.business_key)
    if f.business_key_like is not None:
        conditions.append(ProcessInstanceRow.business_key.like(f.business_key_like))
    if f.process_definition_id is not None:
        conditions.append(ProcessInstanceRow.definition_id == f.process_definition_id)
    if f.with_incident is not None:
        conditions.append(summary.has_incident() if f.with_incident else sa.not_(summary.has_incident()))
    if f.activity_ids is not None:
        ids = list(f.activity_ids)
        conditions.append(
            sa.or_(
                ProcessInstanceRow.id.in_(
                    select(OpenTaskRow.instance_id).where(OpenTaskRow.element_id.in_(ids))
                ),
                ProcessInstanceRow.id.in_(
                    select(ExternalTaskRow.instance_id).where(ExternalTaskRow.element_id.in_(ids))
                ),
                ProcessInstanceRow.id.in_(
                    select(MessageSubscriptionRow.instance_id).where(
                        MessageSubscriptionRow.element_id.in_(ids)
                    )
                ),
            )
        )
    conditions += [_variable(c) for c in f.variables]
    return conditions


def _variable(c: VariableCondition) -> Any:
    """A condition on a variable in the instance's data snapshot (JSON on both databases). A value is
    compared as what it is: a number as a number, a boolean as a boolean, text as text."""
    if c.operator not in OPERATORS:
        raise InvalidInput(f"unknown variable operator {c.operator!r}; operators are {', '.join(OPERATORS)}")
    element = ProcessInstanceRow.variables[c.name]
    value = c.value
    if c.operator == "like":
        return element.as_string().like(str(value))
    if isinstance(value, bool):
        column, value = element.as_boolean(), value
    elif isinstance(value, int | float):
        column, value = element.as_float(), float(value)
    elif value is None:
        return element.as_string().is_(None) if c.operator == "eq" else element.as_string().is_not(None)
    else:
        column, value = element.as_string(), str(value)
    return {
        "eq": column == value,
        "neq": column != value,
        "gt": column > value,
        "gteq": column >= value,
        "lt": column < value,
        "lteq": column <= value,
    }[c.operator]


def _offered(*, user: str | None = None, groups: list[str]) -> Any:
    """Offered to the user by name or to any of the groups (a filter of the query, not a visibility rule)."""
    clauses = [(TaskCandidateRow.kind == "group") & TaskCandidateRow.value.in_(groups)] if groups else []
    if user is not None:
        clauses.append((TaskCandidateRow.kind == "user") & (TaskCandidateRow.value == user))
    if not clauses:
        return sa.false()
    return OpenTaskRow.id.in_(select(TaskCandidateRow.task_id).where(or_(*clauses)))


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
            ProcessDefinitionRow.id.in_(definition_ids)
        )
    ).all()
    return dict(rows)


def catalogs_of(session: Session, definition_ids: set[str]) -> dict[str, Catalog]:
    if not definition_ids:
        return {}
    rows = session.exec(
        select(ProcessDefinitionRow.id, ProcessDefinitionRow.catalog).where(
            ProcessDefinitionRow.id.in_(definition_ids)
        )
    ).all()
    return {definition_id: catalog or Catalog() for definition_id, catalog in rows}
