"""Camunda 7's history, incident and job queries, answered from opsflow's own tables: instances of every
status (process_instance), user tasks from the audit log (task_created / task_completed / claims),
incidents from the instance's incident, exhausted external tasks and failed jobs, jobs from the job
table. A service of ProcessEngine (`engine.camunda_history`); each method is one read transaction.

Activity history covers the activities the audit log records with their times: user tasks. Other
elements (gateways, script tasks) leave no timed trace in opsflow; the instance page's path shows them.
"""

from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from engine import events, permissions
from engine.errors import Forbidden
from engine.permissions import TeamRules
from engine.queries import (
    HistoricInstance,
    HistoricInstanceFilter,
    HistoricTask,
    HistoricTaskFilter,
    IncidentRecord,
    JobRecord,
    Paging,
)
from engine.services.camunda_queries import INSTANCE_SORT, check_paging, order_by
from engine.storage.tables import (
    AuditEventRow,
    ExternalTaskRow,
    JobRow,
    OpenTaskRow,
    ProcessDefinitionRow,
    ProcessInstanceRow,
)
from engine.storage.uow import Transactions, UnitOfWork
from engine.views import Page, Principal

HISTORIC_INSTANCE_SORT = INSTANCE_SORT  # the same columns sort ended instances


HISTORIC_TASK_SORT = {"id": "id", "started": "created_at", "ended": "ended_at", "name": "name"}


class CamundaHistory:
    def __init__(self, tx: Transactions, rules: TeamRules) -> None:
        self._tx = tx
        self._rules = rules

    def instances(
        self, f: HistoricInstanceFilter, paging: Paging, *, principal: Principal
    ) -> Page[HistoricInstance]:
        check_paging(paging)

        def query(uow: UnitOfWork) -> Page[HistoricInstance]:
            session = uow.session
            q = (
                select(ProcessInstanceRow, ProcessDefinitionRow.name, ProcessDefinitionRow.version)
                .join(ProcessDefinitionRow, col(ProcessDefinitionRow.id) == ProcessInstanceRow.definition_id)
                .where(*_historic_conditions(f), self._rules.instance_visible.sql(principal))
            )
            total = session.exec(select(sa.func.count()).select_from(q.subquery())).one()
            order = order_by(
                paging.sorting, HISTORIC_INSTANCE_SORT, ProcessInstanceRow.started_at, ProcessInstanceRow.id
            )
            rows = session.exec(q.order_by(*order).offset(paging.offset).limit(paging.limit)).all()
            items = [
                HistoricInstance(
                    r.id,
                    r.business_key,
                    r.definition_id,
                    r.process_key,
                    name,
                    version,
                    r.started_at,
                    r.ended_at,
                    r.started_by,
                    r.status,
                    bool(r.incident),
                )
                for r, name, version in rows
            ]
            return Page(items, total, paging.offset, paging.limit)

        return self._tx.read(query)

    def tasks(self, f: HistoricTaskFilter, paging: Paging, *, principal: Principal) -> Page[HistoricTask]:
        """User tasks that were ever opened, from the audit log, with their end and assignee."""
        check_paging(paging)

        def query(uow: UnitOfWork) -> Page[HistoricTask]:
            session = uow.session
            q = (
                select(AuditEventRow, ProcessInstanceRow.definition_id, ProcessInstanceRow.process_key)
                .join(ProcessInstanceRow, col(ProcessInstanceRow.id) == AuditEventRow.instance_id)
                .where(AuditEventRow.type == events.TASK_CREATED, self._rules.instance_visible.sql(principal))
            )
            for column, value in (
                (AuditEventRow.instance_id, f.instance_id),
                (AuditEventRow.task_id, f.task_id),
                (col(ProcessInstanceRow.process_key), f.process_definition_key),
                (AuditEventRow.element_id, f.task_definition_key),
            ):
                if value is not None:
                    q = q.where(column == value)
            created = session.exec(q.order_by(col(AuditEventRow.id))).all()
            task_ids = [c.task_id for c, _, _ in created if c.task_id is not None]
            ends = _task_ends(session, task_ids)
            open_assignees = _open_assignees(session, task_ids)
            tasks = []
            for event, definition_id, process_key in created:
                task_id, instance_id = event.task_id, event.instance_id
                if task_id is None or instance_id is None:  # never: a task_created event of an instance
                    continue
                end = ends.get(task_id)
                ended_at, completed = (end[0], end[2]) if end else (None, False)
                assignee = end[1] if end else open_assignees.get(task_id)
                details = event.details or {}
                tasks.append(
                    HistoricTask(
                        task_id,
                        details.get("name") or "",
                        event.element_id or "",
                        instance_id,
                        definition_id,
                        process_key,
                        event.at,
                        ended_at,
                        assignee,
                        details.get("role"),
                        completed,
                    )
                )
            if f.finished is not None:
                tasks = [t for t in tasks if (t.ended_at is not None) == f.finished]
            if f.assignee is not None:
                tasks = [t for t in tasks if t.assignee == f.assignee]
            for s in reversed(paging.sorting):
                tasks.sort(key=_nulls_last(HISTORIC_TASK_SORT[s.key]), reverse=s.descending)
            stop = paging.offset + paging.limit
            return Page(tasks[paging.offset : stop], len(tasks), paging.offset, paging.limit)

        return self._tx.read(query)

    def incidents(
        self, *, instance_id: str | None, incident_type: str | None, paging: Paging, principal: Principal
    ) -> Page[IncidentRecord]:
        """Open incidents: failing steps of instances, external tasks out of retries, failed jobs."""
        if not (
            permissions.can_resolve_incidents(principal)
            or permissions.can_work_external_tasks(principal.groups)
        ):
            raise Forbidden("only admins and integration accounts see incidents")
        check_paging(paging)

        def query(uow: UnitOfWork) -> Page[IncidentRecord]:
            session = uow.session
            found: list[IncidentRecord] = []
            exhausted = session.exec(select(ExternalTaskRow).where(ExternalTaskRow.retries == 0)).all()
            by_task = {(t.instance_id, t.element_id) for t in exhausted}
            instances = select(ProcessInstanceRow).where(
                col(ProcessInstanceRow.incident).is_not(None), col(ProcessInstanceRow.status) == "running"
            )
            for r in session.exec(instances).all():
                if r.incident and (r.id, r.incident.get("element_id")) not in by_task:  # listed below
                    found.append(
                        IncidentRecord(
                            f"instance:{r.id}",
                            "failedJob",
                            r.id,
                            r.definition_id,
                            r.incident.get("element_id"),
                            r.incident.get("message"),
                            None,
                            None,
                        )
                    )
            for t in exhausted:
                found.append(
                    IncidentRecord(
                        f"external-task:{t.id}",
                        "failedExternalTask",
                        t.instance_id,
                        t.definition_id,
                        t.element_id,
                        t.error_message,
                        None,
                        t.id,
                    )
                )
            for j in session.exec(select(JobRow).where(col(JobRow.failed_at).is_not(None))).all():
                found.append(
                    IncidentRecord(
                        f"job:{j.id}", "failedJob", j.instance_id, None, None, j.last_error, j.failed_at, j.id
                    )
                )
            if instance_id is not None:
                found = [i for i in found if i.instance_id == instance_id]
            if incident_type is not None:
                found = [i for i in found if i.kind == incident_type]
            end = paging.offset + paging.limit
            return Page(found[paging.offset : end], len(found), paging.offset, paging.limit)

        return self._tx.read(query)

    def jobs(
        self, *, instance_id: str | None, with_exception: bool | None, paging: Paging, principal: Principal
    ) -> Page[JobRecord]:
        """Timers, deadlines and deliveries waiting in the job table (admins only)."""
        if not permissions.can_resolve_incidents(principal):
            raise Forbidden("only admins see jobs")
        check_paging(paging)

        def query(uow: UnitOfWork) -> Page[JobRecord]:
            session = uow.session
            q = select(JobRow)
            if instance_id is not None:
                q = q.where(JobRow.instance_id == instance_id)
            if with_exception:
                q = q.where(col(JobRow.last_error).is_not(None))
            total = session.exec(select(sa.func.count()).select_from(q.subquery())).one()
            order = order_by(
                paging.sorting, {"id": JobRow.id, "due": JobRow.due_at}, JobRow.due_at, JobRow.id
            )
            rows = session.exec(q.order_by(*order).offset(paging.offset).limit(paging.limit)).all()
            items = [
                JobRecord(
                    r.id,
                    r.kind,
                    r.instance_id,
                    r.due_at,
                    r.attempts,
                    r.last_error,
                    r.failed_at is not None,
                    r.created_at,
                )
                for r in rows
            ]
            return Page(items, total, paging.offset, paging.limit)

        return self._tx.read(query)


def _historic_conditions(f: HistoricInstanceFilter) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if f.ids is not None:
        conditions.append(col(ProcessInstanceRow.id).in_(f.ids))
    if f.process_definition_keys is not None:
        conditions.append(col(ProcessInstanceRow.process_key).in_(f.process_definition_keys))
    if f.states is not None:
        conditions.append(col(ProcessInstanceRow.status).in_(f.states))
    for column, value in (
        (col(ProcessInstanceRow.business_key), f.business_key),
        (col(ProcessInstanceRow.definition_id), f.process_definition_id),
        (col(ProcessInstanceRow.started_by), f.started_by),
    ):
        if value is not None:
            conditions.append(column == value)
    if f.business_key_like is not None:
        conditions.append(col(ProcessInstanceRow.business_key).like(f.business_key_like))
    if f.finished is True:
        conditions.append(col(ProcessInstanceRow.status) != "running")
    elif f.finished is False:
        conditions.append(col(ProcessInstanceRow.status) == "running")
    return conditions


def _task_ends(session: Session, task_ids: list[str]) -> dict[str, tuple[datetime, str | None, bool]]:
    """task id -> (when it ended, who completed it, whether completed rather than cancelled)."""
    if not task_ids:
        return {}
    rows = session.exec(
        select(AuditEventRow).where(
            col(AuditEventRow.task_id).in_(task_ids), col(AuditEventRow.type) == events.TASK_COMPLETED
        )
    ).all()
    return {r.task_id: (r.at, r.actor, True) for r in rows if r.task_id is not None}


def _nulls_last(attribute: str) -> Callable[[HistoricTask], tuple[bool, Any]]:
    """A sort key by a task's attribute, tasks without it after the others (before them, reversed)."""
    return lambda task: (getattr(task, attribute) is None, getattr(task, attribute))


def _open_assignees(session: Session, task_ids: list[str]) -> dict[str, str | None]:
    if not task_ids:
        return {}
    rows = session.exec(
        select(OpenTaskRow.id, OpenTaskRow.assignee).where(col(OpenTaskRow.id).in_(task_ids))
    ).all()
    return dict(rows)
