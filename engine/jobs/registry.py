"""Every kind of job the engine runs, and its handler: the table the executor reads, built once by
build_engine. What schedules each kind, and what its handler does, is in the module named here.

    timer            jobs/timer.py          an instance's timers fire; it runs on
    timer_start      jobs/timer_start.py    a timer start event starts a new instance
    task_due         jobs/task_due.py       an overdue task reminds its holder
    task_escalate    jobs/task_escalate.py  ... and, after the grace period, goes to the leader
    webhook          jobs/webhooks.py       an event is POSTed to a subscriber (outside a transaction)
    notify           jobs/notify.py         an event becomes notifications (notifications/outbox.py)
    notify_send      notifications/delivery.py   one notification is sent (outside a transaction)
    notify_digest    notifications/outbox.py     a person's digest is put together
    migration_batch  services/migrations.py      the next instances move to a new version

(paths under engine/)
"""

from dataclasses import dataclass

from engine.instances import Instances
from engine.jobs import notify, task_due, task_escalate, timer, timer_start, webhooks
from engine.jobs.executor import MAX_ATTEMPTS
from engine.jobs.kinds import JobKind
from engine.notifications import model as notification_model
from engine.notifications.delivery import Sender as NotificationSender
from engine.notifications.outbox import Digest, Fanout
from engine.permissions import TeamRules
from engine.policy import Policy
from engine.services import migrations
from engine.services.migrations import MigrationService
from engine.services.runtime import RuntimeService
from engine.storage.uow import Transactions
from engine.webhook_targets import TargetPolicy


@dataclass(frozen=True)
class Wiring:
    """What the handlers work with."""

    tx: Transactions
    instances: Instances
    runtime: RuntimeService
    migrations: MigrationService
    rules: TeamRules
    policy: Policy
    webhook_targets: TargetPolicy
    public_base_url: str
    lock_seconds: float


def job_kinds(w: Wiring) -> dict[str, JobKind]:
    kinds = [
        JobKind(timer.KIND, run=timer.FireTimers(w.instances)),
        JobKind(timer_start.KIND, run=timer_start.StartOnTimer(w.runtime.start_by_timer)),
        JobKind(task_due.KIND, run=task_due.remind),
        JobKind(task_escalate.KIND, run=task_escalate.Escalate(w.rules)),
        # deliveries keep their own count of attempts (each is in their delivery log), not the setting's
        JobKind(
            webhooks.KIND,
            outside=webhooks.WebhookSender(w.tx, targets=w.webhook_targets),
            max_attempts=MAX_ATTEMPTS,
        ),
        JobKind(notify.KIND, run=Fanout(w.public_base_url, w.policy)),
        JobKind(
            notification_model.JOB_SEND,
            outside=NotificationSender(w.tx, targets=w.webhook_targets, claim_seconds=w.lock_seconds),
            max_attempts=MAX_ATTEMPTS,
        ),
        JobKind(notification_model.JOB_DIGEST, run=Digest(w.public_base_url)),
        JobKind(migrations.JOB_KIND, run=w.migrations.run_batch),
    ]
    return {kind.name: kind for kind in kinds}
