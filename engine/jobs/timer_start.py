"""Timer start jobs: one per timer start event of a process key, due when the timer next fires,
scheduled when a version is deployed (`schedule`). Deploying a new version of the key replaces its
jobs (as Camunda does): the newest version is the one started. When it fires, a new instance of the
version that scheduled it starts (`StartOnTimer`), and the job is due again at the cycle's next time,
or deleted after its last."""

from collections.abc import Callable
from datetime import UTC, datetime

from sqlmodel import Session

from engine.bpmn.catalog import Catalog
from engine.bpmn.cron import first_due, next_due
from engine.bpmn.parser import timer_starts
from engine.jobs import queue
from engine.storage.tables import JobRow, utcnow
from engine.storage.uow import UnitOfWork

KIND = "timer_start"
_JOB = queue.JOB


def schedule(session: Session, definition_id: str, key: str, catalog: Catalog) -> None:
    conn = session.connection()
    conn.execute(_JOB.delete().where(_JOB.c.kind == KIND, _JOB.c.id.like(f"{KIND}:{key}:%")))
    now = utcnow()
    jobs = []
    for element_id, timer in timer_starts(catalog, key):
        due, remaining = first_due(timer.kind or "cycle", timer.expression, now)
        jobs.append(
            {
                "id": f"{KIND}:{key}:{element_id}",
                "kind": KIND,
                "due_at": due,
                "attempts": 0,
                "created_at": now,
                "payload": {
                    "definition_id": definition_id,
                    "element_id": element_id,
                    "expression": timer.expression,
                    "remaining": remaining,
                },
            }
        )
    queue.add(session, jobs)


class StartOnTimer:
    """The handler. `start(session, definition_id)` starts an instance of that version in the job's
    transaction (RuntimeService.start_by_timer)."""

    def __init__(self, start: Callable[[Session, str], object]) -> None:
        self._start = start

    def __call__(self, uow: UnitOfWork, job: JobRow) -> None:
        self._start(uow.session, (job.payload or {})["definition_id"])
        _reschedule(uow.session, job)


def _reschedule(session: Session, job: JobRow) -> None:
    """After a firing: due at the cycle's next time (missed times are skipped, not caught up), or
    left to be deleted by the executor when it fired its last time."""
    payload = dict(job.payload or {})
    remaining = payload.get("remaining", 0)
    if remaining == 0:
        return
    now, due = utcnow(), _aware(job.due_at)
    while due <= now:
        due = next_due(payload["expression"], due)
    payload["remaining"] = remaining - 1 if remaining > 0 else -1
    session.connection().execute(
        _JOB.update()
        .where(_JOB.c.id == job.id)
        .values(due_at=due, payload=payload, lock_owner=None, lock_expires_at=None, attempts=0)
    )
    queue.scheduled(session, due)


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)
