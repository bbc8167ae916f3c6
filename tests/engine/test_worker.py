"""The worker loop sleeps until the next job is due, at most its poll; a job that this process
schedules due sooner wakes it at once."""

import threading
import time

from engine.engine import ProcessEngine
from engine.jobs.worker import Worker
from engine.storage.tables import JobRow
from engine.storage.uow import UnitOfWork
from tests.engine.conftest import ADMIN
from tests.helpers.jobs import queue_cmdb_sync


def test_a_job_made_due_now_runs_at_once_not_after_the_worker_s_poll(engine: ProcessEngine, deployed) -> None:
    deployed("external")
    instance_id = engine.runtime.start_process_instance_by_key("external", principal=ADMIN).id
    cmdb = {"up": False, "ran": threading.Event()}

    def sync(uow: UnitOfWork, job: JobRow) -> None:  # a job kind of whoever extends the engine
        if not cmdb["up"]:
            raise ConnectionError("the CMDB is unreachable")
        cmdb["ran"].set()

    queue_cmdb_sync(engine, instance_id, sync)
    engine.jobs.run_due_jobs()  # it gives up: the instance's incident
    assert engine.runtime.get_instance(instance_id, principal=ADMIN).instance.incident is not None

    waiting = threading.Event()  # the worker's loop reached its wait (maintenance runs just before)
    worker = Worker(engine.jobs, poll=30, maintenance=waiting.set, listen=engine.jobs.listen).start()
    try:
        assert waiting.wait(10)
        cmdb["up"] = True
        retried_at = time.monotonic()
        engine.runtime.retry(instance_id, principal=ADMIN)  # the job is due again, now
        assert cmdb["ran"].wait(10)
        assert time.monotonic() - retried_at < 5  # not the 30 s poll
    finally:
        worker.stop()
