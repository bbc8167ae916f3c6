"""Version migration: running instances move from one version of their process to another. A check
first says which can move and why others cannot; one instance moves at once, a filtered set in a batch
the job executor works through a few at a time. Task ids, claims, drafts and history stay."""

import uuid

import sqlalchemy as sa
from sqlmodel import Session, col, select

from engine import events, permissions
from engine.bpmn import migration
from engine.bpmn.runner import ready_external_tasks, ready_user_tasks, waiting_messages
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from engine.instances import ACTIVE, InstanceRecord, Instances, Loaded
from engine.jobs import queue
from engine.permissions import TeamRules
from engine.services import instance_filter
from engine.services.console import require_visible
from engine.services.mappers import instance_view
from engine.storage.tables import (
    ExternalTaskRow,
    JobRow,
    MessageSubscriptionRow,
    MigrationBatchRow,
    OpenTaskRow,
    ProcessDefinitionRow,
    ProcessInstanceRow,
    utcnow,
)
from engine.storage.uow import Transactions, UnitOfWork
from engine.views import InstanceFilter, InstanceView, MigrationBatchView, MigrationCheckView, Principal

JOB_KIND = "migration_batch"
PER_RUN = 10  # instances one job run moves (one transaction)
MAX_BATCH = 10_000


class MigrationService:
    def __init__(self, tx: Transactions, instances: Instances, rules: TeamRules) -> None:
        self._tx = tx
        self._instances = instances
        self._rules = rules

    def check(
        self,
        process_key: str,
        target_version: int,
        *,
        principal: Principal,
        where: InstanceFilter | None = None,
        mapping: dict[str, str] | None = None,
        limit: int = 500,
    ) -> list[MigrationCheckView]:
        """For each active instance of the process (narrowed by `where`), whether it can move to the
        target version and why not."""
        _require_admin(principal)
        mapping = dict(mapping or {})

        def check(uow: UnitOfWork) -> list[MigrationCheckView]:
            session = uow.session
            target = _definition_id(session, process_key, target_version)
            rows = self._candidates(session, principal, process_key, where, limit)
            return [self._check_one(session, row, target, mapping) for row in rows]

        return self._tx.read(check)

    def migrate(
        self,
        instance_id: str,
        target_version: int,
        *,
        principal: Principal,
        mapping: dict[str, str] | None = None,
        reason: str = "",
    ) -> InstanceView:
        _require_admin(principal)

        def move(uow: UnitOfWork) -> InstanceView:
            session = uow.session
            row = self._instances.lock(session, instance_id)
            require_visible(session, self._rules, principal, row)
            target = _definition_id(session, row.process_key, target_version)
            reasons = self._move(session, row, target, dict(mapping or {}), principal.name, reason, None)
            if reasons:
                raise Conflict(
                    f"process instance {instance_id} cannot move to version {target_version}: "
                    + "; ".join(reasons)
                )
            return instance_view(row, target_version)

        return self._tx.write(move)

    def start_batch(
        self,
        process_key: str,
        target_version: int,
        *,
        principal: Principal,
        where: InstanceFilter | None = None,
        mapping: dict[str, str] | None = None,
        reason: str = "",
    ) -> MigrationBatchView:
        """Every active instance of the process matching `where` (not already on the target version)
        moves in the background; the batch reports its progress."""
        _require_admin(principal)
        mapping = dict(mapping or {})

        def start(uow: UnitOfWork) -> MigrationBatchView:
            session = uow.session
            target = _definition_id(session, process_key, target_version)
            candidates = self._candidates(session, principal, process_key, where, MAX_BATCH)
            ids = [r.id for r in candidates if r.definition_id != target]
            now = utcnow()
            batch = MigrationBatchRow(
                id=str(uuid.uuid4()),
                process_key=process_key,
                target_definition_id=target,
                target_version=target_version,
                mapping=mapping,
                reason=reason,
                started_by=principal.name,
                created_at=now,
                total=len(ids),
                pending=ids,
                migrated=[],
                skipped={},
            )
            if not ids:
                batch.finished_at = now
            session.add(batch)
            if ids:
                session.add(
                    JobRow(
                        id=f"{JOB_KIND}:{batch.id}",
                        kind=JOB_KIND,
                        due_at=now,
                        created_at=now,
                        payload={"batch_id": batch.id},
                    )
                )
                queue.scheduled(session, now)  # this process's workers start on it at once
            events.record(
                session,
                events.MIGRATION_STARTED,
                actor=principal.name,
                details={
                    "batch_id": batch.id,
                    "process_key": process_key,
                    "target_version": target_version,
                    "instances": len(ids),
                    "mapping": mapping,
                    "reason": reason,
                },
            )
            session.flush()
            return _batch_view(batch)

        return self._tx.write(start)

    def batch(self, batch_id: str, *, principal: Principal) -> MigrationBatchView:
        _require_admin(principal)

        def read(uow: UnitOfWork) -> MigrationBatchView:
            found = uow.session.get(MigrationBatchRow, batch_id)
            if found is None:
                raise NotFound(f"migration batch {batch_id} not found")
            return _batch_view(found)

        return self._tx.read(read)

    def run_batch(self, uow: UnitOfWork, job: JobRow) -> None:
        """The job's handler: move the next few instances; come back at once while any are left."""
        session = uow.session
        batch = session.get(MigrationBatchRow, (job.payload or {}).get("batch_id"))
        if batch is None or batch.finished_at is not None:
            return
        pending, migrated, skipped = list(batch.pending), list(batch.migrated), dict(batch.skipped)
        for instance_id in pending[:PER_RUN]:
            row = self._instances.lock(session, instance_id)
            reasons = self._move(
                session,
                row,
                batch.target_definition_id,
                batch.mapping,
                batch.started_by,
                batch.reason,
                batch.id,
            )
            if reasons:
                skipped[instance_id] = reasons
            else:
                migrated.append(instance_id)
        batch.pending, batch.migrated, batch.skipped = pending[PER_RUN:], migrated, skipped
        if not batch.pending:
            batch.finished_at = utcnow()
        session.add(batch)
        if batch.pending:  # rescheduled: the executor leaves a job it no longer holds be
            job.due_at, job.lock_owner, job.lock_expires_at = utcnow(), None, None
            session.add(job)

    # --- one instance -------------------------------------------------------------------------------

    def _move(
        self,
        session: Session,
        row: InstanceRecord,
        target_id: str,
        mapping: dict[str, str],
        actor: str,
        reason: str,
        batch_id: str | None,
    ) -> list[str]:
        """Move the locked instance; returns why it cannot (nothing changed then)."""
        if row.status not in ACTIVE:
            return [f"it is {row.status}"]
        if row.definition_id == target_id:
            return ["it is on that version already"]
        if row.incident is not None:
            return ["it has an incident: resolve it first"]
        loaded = self._instances.load(session, row)
        store = self._instances.store
        new_spec, new_deps = store.specs.get(target_id)
        plan = migration.plan(store.registry, loaded.workflow, new_spec, new_deps, mapping)
        if not plan.can_move:
            return plan.reasons
        source = loaded.definition
        migration.migrate(loaded.workflow, plan, new_spec, new_deps)
        target = self._instances.definition(session, target_id)
        loaded.definition, row.definition_id = target, target_id
        events.record(
            session,
            events.INSTANCE_MIGRATED,
            actor=actor,
            instance_id=row.id,
            details={
                "from_version": source.version,
                "to_version": target.version,
                "mapping": mapping,
                "reason": reason,
                "batch_id": batch_id,
            },
        )
        incident = self._instances.runner.advance(loaded.workflow)
        session.execute(
            sa.update(ProcessInstanceRow)
            .where(col(ProcessInstanceRow.id) == row.id)
            .values(definition_id=target_id)
        )
        self._instances.save(session, loaded, actor=actor, incident=incident)
        _retag(session, loaded)
        return []

    def _check_one(
        self, session: Session, row: ProcessInstanceRow, target_id: str, mapping: dict[str, str]
    ) -> MigrationCheckView:
        version = self._instances.definition(session, row.definition_id).version
        reasons: list[str] = []
        if row.definition_id == target_id:
            reasons = ["it is on that version already"]
        elif row.incident is not None:
            reasons = ["it has an incident: resolve it first"]
        else:
            store = self._instances.store
            new_spec, new_deps = store.specs.get(target_id)
            reasons = self._instances.read_workflow(
                session,
                row,
                lambda wf: migration.plan(store.registry, wf, new_spec, new_deps, mapping).reasons,
            )
        return MigrationCheckView(row.id, row.business_key, version, not reasons, reasons)

    def _candidates(
        self,
        session: Session,
        principal: Principal,
        process_key: str,
        where: InstanceFilter | None,
        limit: int,
    ) -> list[ProcessInstanceRow]:
        where = where or InstanceFilter()
        if where.statuses is not None and not set(where.statuses) <= set(ACTIVE):
            raise InvalidInput(
                "only running or suspended instances move", [Problem("not ended", path="status")]
            )
        q = select(ProcessInstanceRow).where(*instance_filter.conditions(where, utcnow()))
        q = q.where(
            col(ProcessInstanceRow.process_key) == process_key,
            col(ProcessInstanceRow.status).in_(ACTIVE),
            self._rules.instance_visible.sql(principal),
        )
        return list(
            session.exec(
                q.order_by(col(ProcessInstanceRow.started_at), col(ProcessInstanceRow.id)).limit(limit)
            )
        )


def _retag(session: Session, loaded: Loaded) -> None:
    """Index rows keep their ids (claims, drafts, locks survive); what they say of the element follows
    the new version (a renamed task, its name, form and stage)."""
    row, catalog = loaded.row, loaded.definition.catalog
    for task in ready_user_tasks(loaded.workflow):
        entry = catalog.of(task.element_id)
        session.execute(
            sa.update(OpenTaskRow)
            .where(col(OpenTaskRow.id) == task.id, col(OpenTaskRow.element_id) != task.element_id)
            .values(
                element_id=task.element_id,
                name=entry.name or task.name,
                form_key=entry.form_key,
                stage=entry.stage,
            )
        )
    for task in ready_external_tasks(loaded.workflow):
        session.execute(
            sa.update(ExternalTaskRow)
            .where(col(ExternalTaskRow.id) == task.id)
            .values(element_id=task.element_id, definition_id=row.definition_id)
        )
    for waiting in waiting_messages(loaded.workflow):
        session.execute(
            sa.update(MessageSubscriptionRow)
            .where(
                col(MessageSubscriptionRow.instance_id) == row.id,
                col(MessageSubscriptionRow.message_name) == waiting.message,
            )
            .values(element_id=waiting.element_id)
        )


def _definition_id(session: Session, key: str, version: int) -> str:
    found = session.exec(
        select(ProcessDefinitionRow.id).where(
            ProcessDefinitionRow.key == key, ProcessDefinitionRow.version == version
        )
    ).first()
    if found is None:
        raise NotFound(f"process {key} has no version {version}")
    return found


def _require_admin(principal: Principal) -> None:
    if not permissions.can_modify_instances(principal):
        raise Forbidden("only admins migrate instances")


def _batch_view(row: MigrationBatchRow) -> MigrationBatchView:
    return MigrationBatchView(
        row.id,
        row.process_key,
        row.target_version,
        row.started_by,
        row.created_at,
        row.finished_at,
        row.total,
        len(row.pending),
        list(row.migrated),
        dict(row.skipped),
    )
