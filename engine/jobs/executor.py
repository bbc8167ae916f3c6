"""Claims due jobs and runs each in its own transaction, with the handler its kind names
(engine/jobs/registry.py). Several executors (threads, processes, hosts) may share one database: a
job is claimed by a guarded update, and a claim expires so that a dead worker's jobs are taken over.
A job that keeps failing backs off, then stops as failed: an incident of its instance."""

import logging
import socket
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from engine.jobs.kinds import DELIVERY, Handler, JobKind, OutsideHandler
from engine.services import incidents
from engine.storage.tables import JobRow, ProcessInstanceRow, utcnow
from engine.storage.uow import Transactions, UnitOfWork

log = logging.getLogger("opsflow.jobs")
_J = JobRow.__table__.c
_I = ProcessInstanceRow.__table__.c

MAX_ATTEMPTS = 8


def backoff(attempts: int) -> timedelta:
    """Exponential: 1 s, 2 s, 4 s ... capped at 10 minutes."""
    return timedelta(seconds=min(2 ** max(attempts - 1, 0), 600))


def _not_held_by_suspension() -> sa.ColumnElement[bool]:
    """A suspended instance's own jobs (timers, deadlines) wait until it is resumed; what it already
    did is still delivered (webhooks, notifications)."""
    return sa.or_(
        _J.instance_id.is_(None),
        _J.kind.in_(DELIVERY),
        ~sa.exists().where(_I.id == _J.instance_id, _I.status == "suspended"),
    )


class JobExecutor:
    def __init__(
        self,
        tx: Transactions,
        kinds: Mapping[str, JobKind],
        *,
        owner: str | None = None,
        lock_seconds: float = 60,
        batch: int = 20,
        max_attempts: int = MAX_ATTEMPTS,
    ) -> None:
        self._tx = tx
        self._kinds = dict(kinds)
        self.owner = owner or f"{socket.gethostname()}:{uuid.uuid4().hex[:8]}"
        self._lock = timedelta(seconds=lock_seconds)
        self._batch = batch
        self._max_attempts = max_attempts  # before a job stops and becomes an incident

    def register(self, kind: str, handler: Handler) -> None:
        """A kind of job of whoever extends the engine, run inside its job's transaction."""
        self._kinds[kind] = JobKind(kind, run=handler)

    def register_outside(self, kind: str, handler: OutsideHandler) -> None:
        """A handler that must not hold a transaction while it works (network calls)."""
        self._kinds[kind] = JobKind(kind, outside=handler)

    def listen(self, listener: Callable[[datetime], None]) -> Callable[[], None]:
        """Tell `listener` the earliest due time of the jobs each committed transaction of this
        process scheduled (engine/jobs/queue.py); returns what stops it."""
        self._tx.job_listeners.append(listener)
        return lambda: self._tx.job_listeners.remove(listener)

    def run_due_jobs(self, now: datetime | None = None) -> int:
        """Claim what is due and run it; returns how many jobs ran (successfully or not)."""
        claimed = self._claim(now or utcnow())
        for job_id, expires in claimed:
            self._run(job_id, expires)
        return len(claimed)

    def next_due(self) -> datetime | None:
        def query(uow: UnitOfWork) -> datetime | None:
            # A job another worker holds is not due before its claim expires.
            held = _J.lock_owner.is_not(None) & (_J.lock_expires_at > utcnow())
            wake_at = sa.case((held, _J.lock_expires_at), else_=_J.due_at)
            earliest: datetime | None = uow.session.exec(
                select(sa.func.min(wake_at)).where(_J.failed_at.is_(None), _not_held_by_suspension())
            ).one()
            return earliest

        return self._tx.read(query)

    def _claim(self, now: datetime) -> list[tuple[str, datetime]]:
        return [(job_id, expires) for job_id, expires, _ in self.claim(now)]

    def run_claimed(self, job_id: str, expires: datetime) -> None:
        """Run one job this executor claimed (from `claim`), in its own transaction."""
        self._run(job_id, expires)

    def claim(
        self, now: datetime, *, limit: int | None = None, busy: frozenset[str] = frozenset()
    ) -> list[tuple[str, datetime, str | None]]:
        """Claim up to `limit` due jobs, none of an instance in `busy` (one job per instance at a
        time: two would only collide on its version). (job id, claim expiry, instance id)."""
        expires = now + self._lock

        def claim(uow: UnitOfWork) -> list[tuple[str, datetime, str | None]]:
            session = uow.session
            due = (
                select(_J.id)
                .where(
                    _J.due_at <= now,
                    _J.failed_at.is_(None),
                    sa.or_(_J.lock_owner.is_(None), _J.lock_expires_at < now),
                    _not_held_by_suspension(),
                )
                .order_by(_J.due_at)
                .limit(min(limit or self._batch, self._batch))
            )
            if busy:
                due = due.where(sa.or_(_J.instance_id.is_(None), _J.instance_id.not_in(busy)))
            if session.get_bind().dialect.name == "postgresql":
                due = due.with_for_update(skip_locked=True)  # other workers skip, never wait
            ids = list(session.exec(due).all())
            if not ids:
                return []
            ids = self._count_timeouts(session, ids, now)
            # The guard repeats the due condition: on any database, a row another worker claimed
            # meanwhile is not claimed again.
            result = session.execute(
                sa.update(JobRow)
                .where(_J.id.in_(ids), sa.or_(_J.lock_owner.is_(None), _J.lock_expires_at < now))
                .values(lock_owner=self.owner, lock_expires_at=expires)
                .returning(_J.id, _J.instance_id)
            )
            return [(job_id, expires, instance_id) for job_id, instance_id in result.all()]

        return self._tx.write(claim)

    def _run(self, job_id: str, expires: datetime) -> None:
        def detached(uow: UnitOfWork) -> JobRow | None:
            job = uow.session.get(JobRow, job_id)
            if job is None or job.lock_owner != self.owner:
                return None
            uow.session.expunge(job)
            return job

        def finish(uow: UnitOfWork) -> None:
            uow.session.execute(
                sa.delete(JobRow).where(
                    _J.id == job_id, _J.lock_owner == self.owner, _J.lock_expires_at == expires
                )
            )

        def run(uow: UnitOfWork) -> None:
            job = uow.session.get(JobRow, job_id)
            if job is None or job.lock_owner != self.owner:
                return  # finished or taken over meanwhile
            kind = self._kinds.get(job.kind)
            if kind is None or kind.run is None:
                raise LookupError(f"no handler for {job.kind} jobs")
            kind.run(uow, job)
            uow.session.execute(
                sa.delete(JobRow).where(
                    _J.id == job_id, _J.lock_owner == self.owner, _J.lock_expires_at == expires
                )
            )

        try:
            job = self._tx.read(detached)
            if job is None:
                return
            kind = self._kinds.get(job.kind)
            outside = kind.outside if kind is not None else None
            if outside is not None:
                outside(job)
                self._tx.write(finish)
            else:
                self._tx.write(run)
        except Exception as exc:  # a failing job must not stop the others
            log.warning("job %s failed: %s", job_id, exc)
            self._record_failure(job_id, exc)

    def _record_failure(self, job_id: str, exc: Exception) -> None:
        def fail(uow: UnitOfWork) -> None:
            job = uow.session.get(JobRow, job_id)
            if job is None or job.lock_owner != self.owner:
                return
            job.attempts += 1
            job.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            job.lock_owner = job.lock_expires_at = None
            if job.attempts >= self.max_attempts(job):
                self._give_up(uow.session, job)
            else:
                job.due_at = utcnow() + backoff(job.attempts)
            uow.session.add(job)

        self._tx.write(fail)

    def max_attempts(self, job: JobRow) -> int:
        kind = self._kinds.get(job.kind)
        limit = (job.payload or {}).get("max_attempts") or (kind.max_attempts if kind else None)
        return int(limit or self._max_attempts)

    def _count_timeouts(self, session: Session, ids: list[str], now: datetime) -> list[str]:
        """A job whose claim expired was taken by a worker that died or hung on it: that counts as a
        failed attempt, so a job that holds every worker it reaches is not retaken forever. Returns
        the ids still to claim."""
        stale = session.exec(select(JobRow).where(_J.id.in_(ids), _J.lock_owner.is_not(None))).all()
        for job in stale:
            job.attempts += 1
            job.last_error = f"timed out: worker {job.lock_owner}'s claim expired before the job finished"
            if job.attempts >= self.max_attempts(job):
                job.lock_owner = job.lock_expires_at = None
                self._give_up(session, job)
                ids.remove(job.id)
            session.add(job)
        if stale:
            session.flush()
        return ids

    @staticmethod
    def _give_up(session: Session, job: JobRow) -> None:
        """No more attempts: the job stays, failed, and its instance shows an incident (a retry of the
        incident makes it due again: engine/services/incidents.py)."""
        job.failed_at = utcnow()
        incidents.raise_for_failed_job(session, job)
