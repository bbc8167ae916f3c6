"""A job kind of whoever extends the engine (a CMDB sync), queued due now for one instance and allowed
one attempt: its handler decides whether it succeeds or gives up (an incident on the instance)."""

from collections.abc import Callable

from engine.engine import ProcessEngine
from engine.storage.tables import JobRow, utcnow
from engine.storage.uow import UnitOfWork


def queue_cmdb_sync(
    engine: ProcessEngine, instance_id: str, handler: Callable[[UnitOfWork, JobRow], None]
) -> None:
    engine.jobs.register("cmdb_sync", handler)

    def add(uow: UnitOfWork) -> None:
        now = utcnow()
        uow.session.add(
            JobRow(
                id=f"cmdb:{instance_id}",
                kind="cmdb_sync",
                instance_id=instance_id,
                due_at=now,
                created_at=now,
                payload={"max_attempts": 1},
            )
        )

    engine.jobs._tx.write(add)
