"""An incident nothing in the workflow shows (an external task out of retries, a job that gave up) is
a change of its instance like any other: it is made under the instance's version check, so a change
of the same instance that was already under way (it read the instance before the incident) is
refused as concurrent, and cannot save the instance without the incident."""

from collections.abc import Callable

import pytest

from engine.engine import ProcessEngine
from engine.errors import ConcurrentUpdate
from engine.instances import InstanceRecord
from engine.storage.tables import JobRow
from engine.storage.uow import UnitOfWork
from engine.views import TopicRequest
from tests.engine.conftest import ADMIN
from tests.helpers.jobs import queue_cmdb_sync

WORKER = frozenset({"integration"})


def external_task_runs_out_of_retries(engine: ProcessEngine, instance_id: str) -> None:
    [task] = engine.external_tasks.fetch_and_lock(
        "w1", [TopicRequest("bi-score", lock_duration_ms=60_000)], max_tasks=1, principal_roles=WORKER
    )
    engine.external_tasks.handle_failure(
        task.id,
        "w1",
        error_message="BI down",
        error_details=None,
        retries=0,
        retry_timeout_ms=0,
        principal_roles=WORKER,
        actor="bi",
    )


def job_gives_up(engine: ProcessEngine, instance_id: str) -> None:
    def fails(uow: UnitOfWork, job: JobRow) -> None:
        raise ConnectionError("the CMDB is unreachable")

    queue_cmdb_sync(engine, instance_id, fails)
    assert engine.jobs.run_due_jobs() == 1


@pytest.mark.parametrize("raise_incident", [external_task_runs_out_of_retries, job_gives_up])
def test_an_incident_raised_while_a_change_is_under_way_is_not_lost(
    engine: ProcessEngine,
    deployed: Callable[[str], None],
    raise_incident: Callable[[ProcessEngine, str], None],
) -> None:
    deployed("external")
    instance_id = engine.runtime.start_process_instance_by_key("external", principal=ADMIN).id
    cycle, tx = engine.runtime._instances, engine.runtime._tx
    # A change of the instance begins: it has read the instance (and will save what it read, changed).
    read: InstanceRecord = tx.read(lambda uow: cycle.lock(uow.session, instance_id))

    raise_incident(engine, instance_id)

    def change(uow: UnitOfWork) -> None:  # the change goes on from what it read
        loaded = cycle.load(uow.session, read)
        cycle.set_variables(uow.session, loaded, {"note": "checked"}, [], actor="ada")

    with pytest.raises(ConcurrentUpdate):
        tx.write(change)
    detail = engine.runtime.get_instance(instance_id, principal=ADMIN)
    assert detail.instance.incident is not None
    assert "note" not in detail.instance.variables
    assert [h.type for h in detail.history][-1] == "incident"
    # Tried again from the instance as it is now, the change is made, and the incident stays.
    engine.runtime.set_variables(instance_id, {"note": "checked"}, principal=ADMIN)
    detail = engine.runtime.get_instance(instance_id, principal=ADMIN)
    assert detail.instance.variables["note"] == "checked" and detail.instance.incident is not None
