"""Camunda 7-shaped queries of what is deployed and of external tasks, for the REST layer (api/camunda):
process definitions (every version, or the latest), deployments, and external tasks (list, topics,
facts their view lacks, a cheap "is anything lockable?" probe for long polling). A service of
ProcessEngine (`engine.camunda_resources`); each method is one read transaction; nothing here writes.
"""

import sqlalchemy as sa
from sqlmodel import col, or_, select

from engine import permissions
from engine.bpmn.catalog import Catalog
from engine.errors import Forbidden
from engine.queries import (
    DefinitionFilter,
    DefinitionRecord,
    DeploymentRecord,
    ExternalTaskFilter,
    Paging,
)
from engine.services.camunda_queries import catalogs_of, check_paging, is_in, order_by
from engine.services.repository import definition_view
from engine.storage.tables import DeploymentRow, ExternalTaskRow, ProcessDefinitionRow, utcnow
from engine.storage.uow import Transactions, UnitOfWork
from engine.views import ExternalTaskView, Page, Principal

DEFINITION_SORT = {
    "id": ProcessDefinitionRow.id,
    "key": ProcessDefinitionRow.key,
    "name": ProcessDefinitionRow.name,
    "version": ProcessDefinitionRow.version,
    "deployment": ProcessDefinitionRow.deployment_id,
    "deployed": ProcessDefinitionRow.deployed_at,
}


DEPLOYMENT_SORT = {
    "id": DeploymentRow.id,
    "name": DeploymentRow.name,
    "deployed": DeploymentRow.deployed_at,
}


EXTERNAL_TASK_SORT = {
    "id": ExternalTaskRow.id,
    "lock_expires": ExternalTaskRow.lock_expires_at,
    "instance": ExternalTaskRow.instance_id,
    "key": ExternalTaskRow.process_key,
    "priority": ExternalTaskRow.priority,
    "created": ExternalTaskRow.created_at,
}


class CamundaResources:
    def __init__(self, tx: Transactions) -> None:
        self._tx = tx

    # --- definitions and deployments --------------------------------------------------------------

    def definitions(self, f: DefinitionFilter, paging: Paging) -> Page[DefinitionRecord]:
        check_paging(paging)

        def query(uow: UnitOfWork) -> Page[DefinitionRecord]:
            session = uow.session
            q = select(ProcessDefinitionRow).where(*_definition_conditions(f))
            total = session.exec(select(sa.func.count()).select_from(q.subquery())).one()
            order = order_by(
                paging.sorting, DEFINITION_SORT, ProcessDefinitionRow.key, ProcessDefinitionRow.version
            )
            rows = session.exec(q.order_by(*order).offset(paging.offset).limit(paging.limit)).all()
            return Page([_definition(r) for r in rows], total, paging.offset, paging.limit)

        return self._tx.read(query)

    def deployments(
        self, *, id: str | None, name: str | None, name_like: str | None, paging: Paging
    ) -> Page[DeploymentRecord]:
        check_paging(paging)

        def query(uow: UnitOfWork) -> Page[DeploymentRecord]:
            session = uow.session
            q = select(DeploymentRow)
            if id is not None:
                q = q.where(DeploymentRow.id == id)
            if name is not None:
                q = q.where(DeploymentRow.name == name)
            if name_like is not None:
                q = q.where(col(DeploymentRow.name).like(name_like))
            total = session.exec(select(sa.func.count()).select_from(q.subquery())).one()
            order = order_by(paging.sorting, DEPLOYMENT_SORT, DeploymentRow.deployed_at, DeploymentRow.id)
            rows = session.exec(q.order_by(*order).offset(paging.offset).limit(paging.limit)).all()
            records = [DeploymentRecord(r.id, r.name, r.deployed_by, r.deployed_at) for r in rows]
            return Page(records, total, paging.offset, paging.limit)

        return self._tx.read(query)

    # --- external tasks ---------------------------------------------------------------------------

    def external_tasks(
        self, f: ExternalTaskFilter, paging: Paging, *, principal: Principal
    ) -> Page[ExternalTaskView]:
        if not permissions.can_work_external_tasks(principal.groups):
            raise Forbidden("only admins and integration accounts see external tasks")
        check_paging(paging)

        def query(uow: UnitOfWork) -> Page[ExternalTaskView]:
            session = uow.session
            q = select(ExternalTaskRow).where(*_external_task_conditions(f))
            total = session.exec(select(sa.func.count()).select_from(q.subquery())).one()
            order = order_by(
                paging.sorting, EXTERNAL_TASK_SORT, ExternalTaskRow.created_at, ExternalTaskRow.id
            )
            rows = session.exec(q.order_by(*order).offset(paging.offset).limit(paging.limit)).all()
            records = [
                ExternalTaskView(
                    r.id,
                    r.topic,
                    r.worker_id,
                    r.lock_expires_at,
                    r.instance_id,
                    r.process_key,
                    r.definition_id,
                    r.business_key,
                    r.element_id,
                    r.retries,
                    r.error_message,
                    r.error_details,
                    r.priority,
                    r.created_at,
                )
                for r in rows
            ]
            return Page(records, total, paging.offset, paging.limit)

        return self._tx.read(query)

    def topic_names(
        self, *, with_locked: bool | None, with_unlocked: bool | None, principal: Principal
    ) -> list[str]:
        if not permissions.can_work_external_tasks(principal.groups):
            raise Forbidden("only admins and integration accounts see external tasks")

        def query(uow: UnitOfWork) -> list[str]:
            q = select(ExternalTaskRow.topic).distinct()
            held = _held()
            if with_locked:
                q = q.where(held)
            if with_unlocked:
                q = q.where(~held)
            return sorted(uow.session.exec(q).all())

        return self._tx.read(query)

    def extension_properties(self, task_ids: list[str]) -> dict[str, dict[str, str]]:
        """The `camunda:properties` of each external task's service task, by external task id."""
        if not task_ids:
            return {}

        def query(uow: UnitOfWork) -> dict[str, dict[str, str]]:
            session = uow.session
            rows = session.exec(select(ExternalTaskRow).where(col(ExternalTaskRow.id).in_(task_ids))).all()
            catalogs = catalogs_of(session, {r.definition_id for r in rows})
            return {r.id: _properties(catalogs[r.definition_id], r.element_id) for r in rows}

        return self._tx.read(query)

    def has_lockable_external_tasks(self, topics: list[tuple[str, str | None]]) -> bool:
        """Whether fetch_and_lock could lock anything for these (topic, business key or None) pairs now,
        by the same conditions; lets long polling poll with a cheap read instead of a write."""
        if not topics:
            return False
        wanted = [
            (col(ExternalTaskRow.topic) == name)
            & (col(ExternalTaskRow.business_key) == business_key if business_key is not None else sa.true())
            for name, business_key in topics
        ]

        def query(uow: UnitOfWork) -> bool:
            now = utcnow()
            found = uow.session.exec(
                select(ExternalTaskRow.id)
                .where(
                    or_(*wanted),
                    sa.or_(
                        col(ExternalTaskRow.lock_expires_at).is_(None),
                        col(ExternalTaskRow.lock_expires_at) < now,
                    ),
                    sa.or_(col(ExternalTaskRow.retries).is_(None), col(ExternalTaskRow.retries) > 0),
                )
                .limit(1)
            ).first()
            return found is not None

        return self._tx.read(query)


# --- conditions ---------------------------------------------------------------------------------------


def _definition_conditions(f: DefinitionFilter) -> list[sa.ColumnElement[bool]]:
    conditions = [*is_in(col(ProcessDefinitionRow.id), f.ids), *is_in(col(ProcessDefinitionRow.key), f.keys)]
    for column, value in (
        (col(ProcessDefinitionRow.id), f.id),
        (col(ProcessDefinitionRow.key), f.key),
        (col(ProcessDefinitionRow.name), f.name),
        (col(ProcessDefinitionRow.version), f.version),
        (col(ProcessDefinitionRow.deployment_id), f.deployment_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if f.key_like is not None:
        conditions.append(col(ProcessDefinitionRow.key).like(f.key_like))
    if f.name_like is not None:
        conditions.append(col(ProcessDefinitionRow.name).like(f.name_like))
    if f.latest_only:
        latest = (
            select(ProcessDefinitionRow.key, sa.func.max(ProcessDefinitionRow.version).label("v"))
            .group_by(ProcessDefinitionRow.key)
            .subquery()
        )
        conditions.append(
            sa.tuple_(ProcessDefinitionRow.key, ProcessDefinitionRow.version).in_(
                select(latest.c.key, latest.c.v)
            )
        )
    return conditions


def _held() -> sa.ColumnElement[bool]:
    return col(ExternalTaskRow.worker_id).is_not(None) & (col(ExternalTaskRow.lock_expires_at) >= utcnow())


def _external_task_conditions(f: ExternalTaskFilter) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    for column, value in (
        (col(ExternalTaskRow.id), f.id),
        (col(ExternalTaskRow.topic), f.topic),
        (col(ExternalTaskRow.worker_id), f.worker_id),
        (col(ExternalTaskRow.instance_id), f.instance_id),
        (col(ExternalTaskRow.element_id), f.activity_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if f.locked is not None:
        conditions.append(_held() if f.locked else ~_held())
    if f.with_retries_left is True:
        conditions.append(sa.or_(col(ExternalTaskRow.retries).is_(None), col(ExternalTaskRow.retries) > 0))
    elif f.with_retries_left is False:
        conditions.append(col(ExternalTaskRow.retries) == 0)
    return conditions


def _definition(row: ProcessDefinitionRow) -> DefinitionRecord:
    view = definition_view(row)
    return DefinitionRecord(
        row.id,
        row.key,
        row.version,
        row.name,
        row.resource_name,
        row.deployment_id,
        row.deployed_at,
        view.start_form_key,
    )


def _properties(catalog: Catalog, element_id: str) -> dict[str, str]:
    return dict(catalog.of(element_id).properties)
