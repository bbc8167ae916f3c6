"""Read-only queries that the Camunda 7 REST layer (api/camunda) needs and the other services do not
offer in this shape: a task query with Camunda's filters over every task the caller may see (not only
their inbox), facts about external tasks that their view lacks (creation time, extension properties),
and a cheap "is anything lockable?" probe for long polling. Nothing here writes.

Who may see a task is decided by the rule TaskService decides it by for one task (engine.permissions,
engine.visibility), in its SQL form: an admin, its assignee, its candidates, and the leader of its
instance.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import Session, or_, select

from engine.errors import InvalidInput
from engine.permissions import TeamRules
from engine.services.identity import users_with_groups
from engine.services.views import candidates_of, task_view
from engine.storage.tables import (
    ExternalTaskRow,
    OpenTaskRow,
    ProcessDefinitionRow,
    ProcessInstanceRow,
    TaskCandidateRow,
    utcnow,
)
from engine.storage.uow import Transactions, UnitOfWork
from engine.views import Page, Principal, TaskView

if TYPE_CHECKING:
    from engine.engine import ProcessEngine

MAX_RESULTS = 1000


@dataclass(frozen=True)
class TaskFilter:
    """Camunda's task query parameters that opsflow can answer (names in snake_case)."""

    process_instance_id: str | None = None
    process_instance_business_key: str | None = None
    process_definition_key: str | None = None
    process_definition_id: str | None = None
    task_definition_key: str | None = None
    name: str | None = None
    assignee: str | None = None
    candidate_group: str | None = None
    candidate_user: str | None = None
    include_assigned_tasks: bool = False
    assigned: bool | None = None  # True: only assigned tasks; False (Camunda's `unassigned`): only unassigned


@dataclass(frozen=True)
class TaskRecord:
    task: TaskView
    definition_id: str
    documentation: str


@dataclass(frozen=True)
class ExternalTaskFacts:
    created_at: datetime
    extension_properties: dict[str, str]


class CamundaQueries:
    def __init__(self, tx: Transactions, rules: TeamRules) -> None:
        self._tx = tx
        self._rules = rules

    @classmethod
    def of(cls, engine: "ProcessEngine") -> "CamundaQueries":
        return cls(Transactions(engine.db), engine.rules)

    # --- tasks ------------------------------------------------------------------------------------

    def tasks(
        self, task_filter: TaskFilter, *, principal: Principal, offset: int = 0, limit: int = MAX_RESULTS
    ) -> Page[TaskRecord]:
        """Open user tasks matching the filter that the principal may see, oldest first."""
        if offset < 0 or limit < 0:
            raise InvalidInput("firstResult and maxResults must not be negative")
        limit = min(limit, MAX_RESULTS)

        def query(uow: UnitOfWork) -> Page[TaskRecord]:
            session = uow.session
            q = (
                select(OpenTaskRow, ProcessInstanceRow.definition_id)
                .join(ProcessInstanceRow, ProcessInstanceRow.id == OpenTaskRow.instance_id)
                .where(*_conditions(session, task_filter), self._rules.task_visible.sql(principal))
            )
            total = session.exec(select(sa.func.count()).select_from(q.subquery())).one()
            page = session.exec(
                q.order_by(OpenTaskRow.created_at, OpenTaskRow.id).offset(offset).limit(limit)
            ).all()
            candidates = candidates_of(session, [task.id for task, _ in page])
            definitions = _catalogs(session, {definition_id for _, definition_id in page})
            records = [
                TaskRecord(
                    task_view(task, *candidates[task.id]),
                    definition_id,
                    definitions[definition_id].get(task.element_id, {}).get("documentation") or "",
                )
                for task, definition_id in page
            ]
            return Page(records, total, offset, limit)

        return self._tx.read(query)

    # --- external tasks ---------------------------------------------------------------------------

    def external_task_facts(self, task_ids: list[str]) -> dict[str, ExternalTaskFacts]:
        """Creation time and `camunda:properties` of the service task, per external task id."""
        if not task_ids:
            return {}

        def query(uow: UnitOfWork) -> dict[str, ExternalTaskFacts]:
            session = uow.session
            rows = session.exec(select(ExternalTaskRow).where(ExternalTaskRow.id.in_(task_ids))).all()
            catalogs = _catalogs(session, {r.definition_id for r in rows})
            return {
                r.id: ExternalTaskFacts(r.created_at, _properties(catalogs[r.definition_id], r.element_id))
                for r in rows
            }

        return self._tx.read(query)

    def has_lockable_external_tasks(self, topics: list[tuple[str, str | None]]) -> bool:
        """Whether fetch_and_lock could lock anything for these (topic, business key or None) pairs now,
        by the same conditions; lets long polling poll with a cheap read instead of a write."""
        if not topics:
            return False
        wanted = [
            (ExternalTaskRow.topic == name)
            & (ExternalTaskRow.business_key == business_key if business_key is not None else sa.true())
            for name, business_key in topics
        ]

        def query(uow: UnitOfWork) -> bool:
            now = utcnow()
            found = uow.session.exec(
                select(ExternalTaskRow.id)
                .where(
                    or_(*wanted),
                    sa.or_(ExternalTaskRow.lock_expires_at.is_(None), ExternalTaskRow.lock_expires_at < now),
                    sa.or_(ExternalTaskRow.retries.is_(None), ExternalTaskRow.retries > 0),
                )
                .limit(1)
            ).first()
            return found is not None

        return self._tx.read(query)


# --- helpers ----------------------------------------------------------------------------------------


def _conditions(session: Session, f: TaskFilter) -> list:
    conditions = []
    for column, value in (
        (OpenTaskRow.instance_id, f.process_instance_id),
        (OpenTaskRow.business_key, f.process_instance_business_key),
        (OpenTaskRow.process_key, f.process_definition_key),
        (ProcessInstanceRow.definition_id, f.process_definition_id),
        (OpenTaskRow.element_id, f.task_definition_key),
        (OpenTaskRow.name, f.name),
        (OpenTaskRow.assignee, f.assignee),
    ):
        if value is not None:
            conditions.append(column == value)
    offered_to = []
    if f.candidate_group is not None:
        offered_to.append(_offered(groups=[f.candidate_group]))
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
    return conditions


def _offered(*, user: str | None = None, groups: list[str]):
    """Offered to the user by name or to any of the groups (a filter of the query, not a visibility rule)."""
    clauses = [(TaskCandidateRow.kind == "group") & TaskCandidateRow.value.in_(groups)] if groups else []
    if user is not None:
        clauses.append((TaskCandidateRow.kind == "user") & (TaskCandidateRow.value == user))
    if not clauses:
        return sa.false()
    return OpenTaskRow.id.in_(select(TaskCandidateRow.task_id).where(or_(*clauses)))


def _properties(catalog: dict, element_id: str) -> dict[str, str]:
    return {str(k): str(v) for k, v in (catalog.get(element_id, {}).get("properties") or {}).items()}


def _catalogs(session: Session, definition_ids: set[str]) -> dict[str, dict]:
    if not definition_ids:
        return {}
    rows = session.exec(
        select(ProcessDefinitionRow.id, ProcessDefinitionRow.catalog).where(
            ProcessDefinitionRow.id.in_(definition_ids)
        )
    ).all()
    return {definition_id: catalog or {} for definition_id, catalog in rows}
