"""What a kind of job is to the executor: the handler that does its work, and how often it is tried.
engine/jobs/registry.py lists every kind; each kind's module says when its jobs are scheduled."""

from collections.abc import Callable
from dataclasses import dataclass

from engine.jobs import notify, webhooks
from engine.notifications import model as notification_model
from engine.storage.tables import JobRow
from engine.storage.uow import UnitOfWork

#: Work run inside the job's transaction. It completes its job by deleting or rescheduling it; when
#: it leaves the job untouched the executor deletes it.
Handler = Callable[[UnitOfWork, JobRow], None]
#: Slow work outside any transaction (an HTTP call): it gets a detached copy of the claimed job;
#: returning means done (the job is deleted), raising means retry with backoff.
OutsideHandler = Callable[[JobRow], None]

#: Jobs that deliver what an instance already did (webhooks, notifications) rather than do its work:
#: their failure is no incident of the instance, and they go out while it is suspended. Every other
#: job of an instance (timers, deadlines) is its own work.
DELIVERY = (webhooks.KIND, notify.KIND, notification_model.JOB_SEND, notification_model.JOB_DIGEST)


@dataclass(frozen=True)
class JobKind:
    name: str
    run: Handler | None = None
    outside: OutsideHandler | None = None  # instead of `run`: no transaction is held while it works
    #: attempts before the job stops as failed (an incident of its instance, unless a delivery);
    #: None: the executor's setting. A job's own payload["max_attempts"] comes first.
    max_attempts: int | None = None
