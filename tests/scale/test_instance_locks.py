"""On PostgreSQL one instance is one row lock: work on different instances never waits on each
other, while two changes to the same instance take turns (and the version check backs it up)."""

import threading
import time
from pathlib import Path

import pytest

from engine.config import Settings
from engine.engine import ProcessEngine, build_engine
from tests.conftest import empty_database
from tests.engine.conftest import ADMIN


@pytest.fixture
def pg_engine(_database_urls: dict[str, str]) -> ProcessEngine:
    engine = build_engine(
        Settings(database_url=empty_database("postgresql", _database_urls), run_worker=False)
    )
    engine.repository.deploy(
        [("three_steps.bpmn", (Path(__file__).parent / "three_steps.bpmn").read_bytes())]
    )
    engine.identity.create_user("dana", ["data"])
    yield engine
    engine.close()


def test_a_locked_instance_does_not_hold_up_work_on_another(pg_engine: ProcessEngine) -> None:
    engine = pg_engine
    dana = engine.identity.authenticate(engine.identity.issue_token("dana"))
    first, second = (
        engine.runtime.start_process_instance_by_key("three_steps", principal=ADMIN) for _ in range(2)
    )
    [task_of_first] = engine.tasks.inbox(principal=dana, instance_id=first.id).items
    [task_of_second] = engine.tasks.inbox(principal=dana, instance_id=second.id).items

    holding, release = threading.Event(), threading.Event()

    def hold_first(uow) -> None:
        engine.runtime._instances.lock(uow.session, first.id)
        holding.set()
        release.wait(10)

    holder = threading.Thread(target=engine.runtime._tx.write, args=(hold_first,))
    holder.start()
    holding.wait(10)
    try:
        started = time.monotonic()
        engine.tasks.complete(task_of_second.id, {}, principal=dana)  # another instance: no waiting
        assert time.monotonic() - started < 2

        same = threading.Thread(
            target=engine.tasks.complete, args=(task_of_first.id, {}), kwargs={"principal": dana}
        )
        same.start()
        same.join(1.0)
        assert same.is_alive(), "a change to the locked instance must wait its turn"
    finally:
        release.set()
        holder.join(10)
    same.join(10)
    assert not same.is_alive()
    opened = [t.element_id for t in engine.tasks.inbox(principal=dana, instance_id=first.id).items]
    assert opened == ["Task_b"]
