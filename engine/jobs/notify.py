"""Notify jobs: one per event people may be told about (engine.events.NOTIFIED), queued by
`engine.events.record` in the transaction of the change while a notification channel is active.
Its handler, engine.notifications.outbox.Fanout, decides who is told where, and queues one
notify_send job per message (engine.notifications.delivery sends them) or a digest entry."""

from datetime import datetime
from typing import Any

KIND = "notify"


def job_for(event: dict[str, Any], at: datetime) -> dict[str, Any]:
    """The notify job of one event (its audit type, not its webhook type)."""
    return {
        "id": f"{KIND}:{event['id']}",
        "kind": KIND,
        "instance_id": event["instance_id"],  # no task_id: task_due.cancel drops a task's jobs
        "due_at": at,
        "created_at": at,
        "attempts": 0,
        "payload": {"event": event},
    }
