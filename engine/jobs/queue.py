"""The job table's way in. Every kind's schedule function writes its rows through `add`, and a
transaction that scheduled a job tells this process's workers after it commits (`scheduled`), so a
job due now runs at once instead of after the workers' next poll (Camunda's MessageAddedNotification).
Workers of other processes find it by polling."""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from engine.storage.tables import JobRow
from engine.storage.uow import UnitOfWork

JOB = JobRow.__table__
_INSERT = JOB.insert()


def add(session: Session, jobs: Sequence[Mapping[str, Any]]) -> None:
    """Insert job rows (every column but the lock and failure ones given: id, kind, instance_id,
    task_id, due_at, attempts, payload, created_at; one statement for all)."""
    if jobs:
        session.connection().execute(_INSERT, [dict(job) for job in jobs])
        scheduled(session, min(job["due_at"] for job in jobs))


def scheduled(session: Session, due_at: datetime) -> None:
    """A job of this transaction is due at `due_at`: once it commits, this process's workers hear
    of the earliest such time (engine/jobs/worker.py wakes for one due before its next poll)."""
    uow = session.info.get("uow")
    if not isinstance(uow, UnitOfWork):
        return  # a bare session (a test's setup): the workers' poll finds it
    earliest: list[datetime] | None = session.info.get("jobs_due")
    if earliest is None:
        earliest = session.info["jobs_due"] = [due_at]
        uow.after_commit(lambda: uow.jobs_scheduled(earliest[0]))
    elif due_at < earliest[0]:
        earliest[0] = due_at
