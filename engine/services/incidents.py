"""What an incident's retry sets going again besides the failed task itself: an external task whose
retries ran out (no worker would fetch it again) and jobs that gave up (timers, deadlines)."""

import sqlalchemy as sa
from sqlmodel import Session

from engine import events, instances
from engine.errors import NotFound
from engine.jobs import queue
from engine.jobs.kinds import DELIVERY
from engine.storage.tables import ExternalTaskRow, JobRow, utcnow

_JOB = queue.JOB
_EXTERNAL = ExternalTaskRow.__table__
_FAILED_JOBS = (
    sa.select(_JOB.c.id)
    .where(
        _JOB.c.instance_id == sa.bindparam("instance_id"),
        _JOB.c.kind.not_in(DELIVERY),
        _JOB.c.failed_at.is_not(None),
    )
    .order_by(_JOB.c.id)
)


def failed_jobs(session: Session, instance_id: str) -> list[str]:
    return list(session.connection().execute(_FAILED_JOBS, {"instance_id": instance_id}).scalars())


def rerun_jobs(session: Session, job_ids: list[str]) -> None:
    """Due now, with a fresh count of attempts."""
    if job_ids:
        now = utcnow()
        session.connection().execute(
            _JOB.update()
            .where(_JOB.c.id.in_(job_ids))
            .values(failed_at=None, attempts=0, due_at=now, lock_owner=None, lock_expires_at=None)
        )
        queue.scheduled(session, now)


def restore_external_tasks(session: Session, instance_id: str) -> list[str]:
    """External tasks with no retries left go back to the queue as if new (retries unset, unlocked,
    fetchable now); the last error stays for whoever looks. Returns their ids."""
    conn = session.connection()
    exhausted = list(
        conn.execute(
            sa.select(_EXTERNAL.c.id).where(_EXTERNAL.c.instance_id == instance_id, _EXTERNAL.c.retries == 0)
        ).scalars()
    )
    if exhausted:
        conn.execute(
            _EXTERNAL.update()
            .where(_EXTERNAL.c.id.in_(exhausted))
            .values(retries=None, worker_id=None, lock_expires_at=None)
        )
    return exhausted


def raise_for_failed_job(session: Session, job: JobRow) -> None:
    """A job of an instance gave up: the instance carries an incident, which a retry resolves. It is
    raised through the instance's cycle (locked, version checked), so no save of the instance prepared
    before it can erase it; the event follows the change."""
    if job.instance_id is None or job.kind in DELIVERY:
        return
    message = f"the {job.kind} job failed {job.attempts} times: {job.last_error}"
    try:
        instance = instances.lock(session, job.instance_id)
    except NotFound:
        instance = None
    if instance is not None and instance.status in instances.ACTIVE:
        instances.set_incident(session, instance, {"element_id": None, "message": message, "job_id": job.id})
    events.record(
        session,
        events.INCIDENT,
        actor=None,
        instance_id=job.instance_id,
        task_id=job.task_id,
        details={"message": message, "job_id": job.id},
    )
