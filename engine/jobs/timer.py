"""Timer jobs: the timers an instance waits in (timer catch events, boundary timers). One job per
instance, due when its earliest timer is, kept in line by every save of the instance (`schedule`).
When it fires, the instance's due timers fire and it runs on to its next wait states (`FireTimers`);
that save schedules the job again for the next timer, or deletes it."""

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlmodel import Session

from engine.jobs import queue
from engine.storage.tables import JobRow, utcnow
from engine.storage.uow import UnitOfWork

if TYPE_CHECKING:  # the instance cycle schedules timers: it imports this module
    from engine.instances import Instances

KIND = "timer"
_JOB = queue.JOB.c
_DELETE = queue.JOB.delete().where(_JOB.id == sa.bindparam("job_id"))
_RESCHEDULE = (  # a worker that holds the job (it is firing this timer) leaves it be when done
    queue.JOB.update()
    .where(_JOB.id == sa.bindparam("job_id"))
    .values(due_at=sa.bindparam("due_at"), lock_owner=None, lock_expires_at=None, attempts=0, failed_at=None)
)


def job_id(instance_id: str) -> str:
    return f"{KIND}:{instance_id}"


def schedule(session: Session, instance_id: str, due: datetime | None) -> None:
    """The instance's timer job, due at `due` (its earliest timer); None: it waits for no timer."""
    conn, job = session.connection(), job_id(instance_id)
    if due is None:
        conn.execute(_DELETE, {"job_id": job})
    elif conn.execute(_RESCHEDULE, {"job_id": job, "due_at": due}).rowcount == 0:
        queue.add(
            session,
            [
                {
                    "id": job,
                    "kind": KIND,
                    "instance_id": instance_id,
                    "due_at": due,
                    "attempts": 0,
                    "created_at": utcnow(),
                }
            ],
        )
    else:
        queue.scheduled(session, due)


class FireTimers:
    """The handler: the instance's due timers fire, and it runs on (a suspended or ended instance's
    timers do not: the executor holds a suspended instance's jobs anyway)."""

    def __init__(self, instances: "Instances") -> None:
        self._instances = instances

    def __call__(self, uow: UnitOfWork, job: JobRow) -> None:
        session, instances = uow.session, self._instances
        if job.instance_id is None:
            return
        row = instances.lock(session, job.instance_id)
        if row.status != "running":
            return
        loaded = instances.load(session, row)
        incident = instances.runner.advance(loaded.workflow)
        instances.save(session, loaded, actor=None, incident=incident)
