"""External tasks: service tasks done by workers of other systems, fetched and locked per topic
(the Camunda 7 external task pattern)."""

from datetime import timedelta
from typing import Any, cast

import sqlalchemy as sa
from sqlmodel import Session, select

from engine import events, permissions, variable_types
from engine.bpmn.runner import throw_bpmn_error
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound
from engine.instances import Instances, Loaded, require_active, set_incident
from engine.storage.tables import ExternalTaskRow, ProcessInstanceRow, utcnow
from engine.storage.uow import Transactions, UnitOfWork
from engine.views import ExternalTaskView, TopicRequest

_X = ExternalTaskRow.__table__.c
_I = ProcessInstanceRow.__table__.c


class ExternalTaskService:
    def __init__(self, tx: Transactions, instances: Instances) -> None:
        self._tx = tx
        self._instances = instances

    def fetch_and_lock(
        self,
        worker_id: str,
        topics: list[TopicRequest],
        *,
        max_tasks: int,
        principal_roles: frozenset[str],
    ) -> list[ExternalTaskView]:
        _require_worker(principal_roles)
        if not worker_id:
            raise InvalidInput("a worker id is required")
        if max_tasks < 1 or not topics:
            return []
        by_name = {t.name: t for t in topics}
        for topic in topics:
            if topic.lock_duration_ms <= 0:
                raise InvalidInput(f"topic {topic.name}: the lock duration must be positive")

        def fetch(uow: UnitOfWork) -> list[ExternalTaskView]:
            session, now = uow.session, utcnow()
            query = (
                select(ExternalTaskRow)
                .where(
                    _X.topic.in_(by_name),
                    sa.or_(_X.lock_expires_at.is_(None), _X.lock_expires_at < now),
                    sa.or_(_X.retries.is_(None), _X.retries > 0),
                    ~sa.exists().where(  # a suspended instance's work waits
                        _I.id == _X.instance_id,
                        _I.status == "suspended",
                    ),
                )
                .order_by(_X.priority.desc(), _X.created_at)
                .limit(max_tasks * 4)
            )
            if session.get_bind().dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            locked = []
            for row in session.exec(query).all():
                topic = by_name[row.topic]
                if topic.business_key is not None and row.business_key != topic.business_key:
                    continue
                expires = now + timedelta(milliseconds=topic.lock_duration_ms)
                result = session.execute(
                    sa.update(ExternalTaskRow)
                    .where(
                        _X.id == row.id,
                        sa.or_(_X.lock_expires_at.is_(None), _X.lock_expires_at < now),
                    )
                    .values(worker_id=worker_id, lock_expires_at=expires)
                )
                claimed = cast(sa.CursorResult[Any], result).rowcount
                if claimed:
                    row.worker_id, row.lock_expires_at = worker_id, expires
                    locked.append(_view(session, row, topic.variables))
                if len(locked) >= max_tasks:
                    break
            return locked

        return self._tx.write(fetch)

    def complete(
        self,
        task_id: str,
        worker_id: str,
        variables: dict[str, Any],
        *,
        principal_roles: frozenset[str],
        actor: str,
    ) -> None:
        _require_worker(principal_roles)

        def complete(uow: UnitOfWork) -> None:
            session = uow.session
            row, loaded = self._load_locked(session, task_id, worker_id)
            instance = loaded.row
            incident = self._instances.runner.complete_external_task(loaded.workflow, task_id, variables)
            events.record(
                session,
                events.TASK_COMPLETED,
                actor=actor,
                instance_id=instance.id,
                task_id=task_id,
                element_id=row.element_id,
                details={"worker_id": worker_id, "data": variables},
            )
            self._instances.save(session, loaded, actor=actor, incident=incident)

        self._tx.write(complete)

    def handle_failure(
        self,
        task_id: str,
        worker_id: str,
        *,
        error_message: str,
        error_details: str | None,
        retries: int,
        retry_timeout_ms: int,
        principal_roles: frozenset[str],
        actor: str,
    ) -> None:
        """The worker could not do it: retry after the timeout, or, with no retries left, an incident."""
        _require_worker(principal_roles)
        if retries < 0 or retry_timeout_ms < 0:
            raise InvalidInput("retries and retryTimeout must not be negative")

        def fail(uow: UnitOfWork) -> None:
            session = uow.session
            row = _locked_by(session, task_id, worker_id)
            row.retries, row.error_message, row.error_details = retries, error_message, error_details
            row.worker_id = None
            row.lock_expires_at = utcnow() + timedelta(milliseconds=retry_timeout_ms)
            session.add(row)
            if retries == 0:  # the instance's incident, through its cycle (version checked)
                instance = self._instances.lock(session, row.instance_id)
                incident = {
                    "element_id": row.element_id,
                    "message": f"external task failed: {error_message}",
                    "external_task_id": row.id,
                }
                set_incident(session, instance, incident)
                events.record(
                    session,
                    events.INCIDENT,
                    actor=actor,
                    instance_id=row.instance_id,
                    task_id=task_id,
                    element_id=row.element_id,
                    details={"message": error_message, "details": error_details},
                )

        self._tx.write(fail)

    def bpmn_error(
        self,
        task_id: str,
        worker_id: str,
        *,
        error_code: str,
        error_message: str,
        variables: dict[str, Any],
        principal_roles: frozenset[str],
        actor: str,
    ) -> None:
        _require_worker(principal_roles)

        def throw(uow: UnitOfWork) -> None:
            session = uow.session
            row, loaded = self._load_locked(session, task_id, worker_id)
            instance = loaded.row
            if not throw_bpmn_error(loaded.workflow, task_id, error_code, error_message, variables):
                raise InvalidInput(
                    f"no error boundary event on {row.element_id} catches the error code {error_code!r}"
                )
            events.record(
                session,
                events.TASK_COMPLETED,
                actor=actor,
                instance_id=instance.id,
                task_id=task_id,
                element_id=row.element_id,
                details={"bpmn_error": error_code, "message": error_message},
            )
            incident = self._instances.runner.advance(loaded.workflow)
            self._instances.save(session, loaded, actor=actor, incident=incident)

        self._tx.write(throw)

    def _load_locked(self, session: Session, task_id: str, worker_id: str) -> tuple[ExternalTaskRow, Loaded]:
        """The task locked by this worker, and its instance locked and loaded."""
        row = _locked_by(session, task_id, worker_id)
        instance = self._instances.lock(session, row.instance_id)
        require_active(instance)
        return row, self._instances.load(session, instance)

    def extend_lock(
        self, task_id: str, worker_id: str, new_duration_ms: int, *, principal_roles: frozenset[str]
    ) -> None:
        _require_worker(principal_roles)
        if new_duration_ms <= 0:
            raise InvalidInput("the new lock duration must be positive")

        def extend(uow: UnitOfWork) -> None:
            row = _locked_by(uow.session, task_id, worker_id)
            row.lock_expires_at = utcnow() + timedelta(milliseconds=new_duration_ms)
            uow.session.add(row)

        self._tx.write(extend)

    def set_retries(self, task_id: str, retries: int, *, principal_roles: frozenset[str]) -> None:
        """An operator resolves an incident by giving the task new retries (the instance's incident of
        this task goes with it)."""
        _require_worker(principal_roles)

        def update(uow: UnitOfWork) -> None:
            row = uow.session.get(ExternalTaskRow, task_id)
            if row is None:
                raise NotFound(f"external task {task_id} not found")
            row.retries = retries
            uow.session.add(row)
            if retries > 0:
                instance = self._instances.lock(uow.session, row.instance_id)
                if (instance.incident or {}).get("element_id") == row.element_id:
                    set_incident(uow.session, instance, None)

        self._tx.write(update)

    def unlock(self, task_id: str, *, principal_roles: frozenset[str]) -> None:
        """Releases the lock whoever holds it, so that any worker may fetch the task again."""
        _require_worker(principal_roles)

        def update(uow: UnitOfWork) -> None:
            row = uow.session.get(ExternalTaskRow, task_id)
            if row is None:
                raise NotFound(f"external task {task_id} not found")
            row.worker_id = None
            row.lock_expires_at = None
            uow.session.add(row)

        self._tx.write(update)

    def list(
        self,
        *,
        topic: str | None = None,
        instance_id: str | None = None,
        locked: bool | None = None,
        principal_roles: frozenset[str],
    ) -> list[ExternalTaskView]:
        _require_worker(principal_roles)

        def query(uow: UnitOfWork) -> list[ExternalTaskView]:
            q = select(ExternalTaskRow)
            if topic:
                q = q.where(_X.topic == topic)
            if instance_id:
                q = q.where(_X.instance_id == instance_id)
            if locked is not None:
                held = _X.worker_id.is_not(None) & (_X.lock_expires_at >= utcnow())
                q = q.where(held if locked else ~held)
            rows = uow.session.exec(q.order_by(_X.created_at)).all()
            return [_view(uow.session, r, []) for r in rows]

        return self._tx.read(query)

    def get(self, task_id: str, *, principal_roles: frozenset[str]) -> ExternalTaskView:
        _require_worker(principal_roles)

        def get(uow: UnitOfWork) -> ExternalTaskView:
            row = uow.session.get(ExternalTaskRow, task_id)
            if row is None:
                raise NotFound(f"external task {task_id} not found")
            return _view(uow.session, row, [])

        return self._tx.read(get)


def _require_worker(roles: frozenset[str]) -> None:
    if not permissions.can_work_external_tasks(roles):
        raise Forbidden("only admins and integration accounts work on external tasks")


def _locked_by(session: Session, task_id: str, worker_id: str) -> ExternalTaskRow:
    row = session.get(ExternalTaskRow, task_id)
    if row is None:
        raise NotFound(f"external task {task_id} not found")
    if row.worker_id != worker_id or row.lock_expires_at is None or row.lock_expires_at < utcnow():
        holder = f"worker {row.worker_id}" if row.worker_id else "no worker"
        raise Conflict(f"external task {task_id} is not locked by worker {worker_id!r} (held by {holder})")
    return row


def _view(session: Session, row: ExternalTaskRow, names: list[str] | None) -> ExternalTaskView:
    variables, types = variable_types.split(
        session.exec(select(_I.variables).where(_I.id == row.instance_id)).one()
    )
    if names is not None:
        variables = {k: v for k, v in variables.items() if k in names}
    return ExternalTaskView(
        row.id,
        row.topic,
        row.worker_id,
        row.lock_expires_at,
        row.instance_id,
        row.process_key,
        row.definition_id,
        row.business_key,
        row.element_id,
        row.retries,
        row.error_message,
        row.error_details,
        row.priority,
        row.created_at,
        variables,
        {k: t for k, t in types.items() if k in variables},
    )
