"""Timers are jobs in the database: they fire when due, once, and after a restart at once."""

import time
from datetime import UTC, datetime, timedelta

import time_machine

from engine.config import Settings
from engine.engine import ProcessEngine, build_engine
from tests.engine.conftest import ADMIN


def open_elements(engine: ProcessEngine, instance_id: str) -> list[str]:
    return [t.element_id for t in engine.runtime.get_instance(instance_id, principal=ADMIN).open_tasks]


def test_a_boundary_timer_written_as_plain_iso_fires_when_due_and_not_before(engine, deployed) -> None:
    deployed("timers")
    with time_machine.travel(datetime(2026, 11, 24, 9, 0, tzinfo=UTC), tick=False) as clock:
        instance = engine.runtime.start_process_instance_by_key("timers", principal=ADMIN)
        assert open_elements(engine, instance.id) == ["Task_report"]
        clock.shift(timedelta(minutes=59))
        assert engine.jobs.run_due_jobs() == 0
        assert open_elements(engine, instance.id) == ["Task_report"]
        clock.shift(timedelta(minutes=2))
        assert engine.jobs.run_due_jobs() == 1
        assert open_elements(engine, instance.id) == ["Task_escalated"]
        assert engine.jobs.run_due_jobs() == 0  # fired once
        history = engine.runtime.get_instance(instance.id, principal=ADMIN).history
        assert [h.element_id for h in history if h.type == "task_created"] == [
            "Task_report",
            "Task_escalated",
        ]


def test_an_intermediate_timer_that_fell_due_while_everything_was_down_fires_at_once(
    settings: Settings, deployed, engine
) -> None:
    deployed("timers")
    with time_machine.travel(datetime(2026, 11, 24, 9, 0, tzinfo=UTC), tick=False) as clock:
        instance = engine.runtime.start_process_instance_by_key("timers", principal=ADMIN)
        task = engine.tasks.inbox(principal=ADMIN, scope="all", instance_id=instance.id)
        assert task.total == 0  # offered to the data role, not to ada
        [report] = engine.runtime.get_instance(instance.id, principal=ADMIN).open_tasks
        engine.identity.create_user("dana", ["data"])
        dana = engine.identity.authenticate(engine.identity.issue_token("dana"))
        engine.tasks.complete(report.id, {}, principal=dana)
        assert open_elements(engine, instance.id) == []
        engine.close()

        clock.shift(timedelta(hours=5))  # the server was down for five hours
        restarted = build_engine(settings)
        assert restarted.jobs.run_due_jobs() == 1
        assert open_elements(restarted, instance.id) == ["Task_check"]
        restarted.close()


def test_the_worker_inside_the_server_fires_a_timer_within_a_second_of_its_due_time(engine, settings) -> None:
    short = (
        (__import__("pathlib").Path(__file__).parent / "data" / "timers.bpmn")
        .read_text()
        .replace('"PT30M"', "PT1S")
        .replace('id="timers" name="Timers"', 'id="timers_fast" name="Timers fast"')
    )
    engine.repository.deploy([("fast.bpmn", short.encode())])
    engine.identity.create_user("dana", ["data"])
    dana = engine.identity.authenticate(engine.identity.issue_token("dana"))
    worker = engine.worker().start()
    try:
        instance = engine.runtime.start_process_instance_by_key("timers_fast", principal=ADMIN)
        [report] = engine.runtime.get_instance(instance.id, principal=ADMIN).open_tasks
        completed_at = time.monotonic()
        engine.tasks.complete(report.id, {}, principal=dana)
        while open_elements(engine, instance.id) != ["Task_check"]:
            assert time.monotonic() - completed_at < 1 + 1.0, (
                "the timer did not fire within a second of its due time"
            )
            time.sleep(0.02)
    finally:
        worker.stop()
