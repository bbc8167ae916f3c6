"""External tasks: fetched and locked by topic, completed, failed with retries, or answered with a
BPMN error; an expired lock returns the task to the queue."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from engine.errors import Conflict, Forbidden
from engine.views import TopicRequest
from tests.engine.conftest import ADMIN

WORKER = frozenset({"integration"})
TOPIC = [TopicRequest("bi-score", lock_duration_ms=60_000)]


def open_elements(engine, instance_id: str) -> list[str]:
    return [t.element_id for t in engine.runtime.get_instance(instance_id, principal=ADMIN).open_tasks]


def fetch(engine, worker: str = "w1", topics=TOPIC):
    return engine.external_tasks.fetch_and_lock(worker, topics, max_tasks=10, principal_roles=WORKER)


def test_a_worker_fetches_locks_and_completes_with_variables(engine, deployed) -> None:
    deployed("external")
    instance = engine.runtime.start_process_instance_by_key(
        "external", principal=ADMIN, variables={"metric": "cvr"}
    )
    assert open_elements(engine, instance.id) == []  # an external task is no one's inbox item
    [task] = fetch(engine)
    assert task.topic == "bi-score" and task.variables["metric"] == "cvr" and task.worker_id == "w1"
    assert fetch(engine, "w2") == []  # locked
    with pytest.raises(Conflict):
        engine.external_tasks.complete(task.id, "w2", {}, principal_roles=WORKER, actor="bi")
    engine.external_tasks.complete(task.id, "w1", {"score": 0.42}, principal_roles=WORKER, actor="bi")
    detail = engine.runtime.get_instance(instance.id, principal=ADMIN)
    assert [t.element_id for t in detail.open_tasks] == ["Task_review"]
    assert detail.instance.variables["score"] == 0.42


def test_an_expired_lock_returns_the_task_to_the_queue(engine, deployed) -> None:
    deployed("external")
    with time_machine.travel(datetime(2026, 11, 24, 9, 0, tzinfo=UTC), tick=False) as clock:
        engine.runtime.start_process_instance_by_key("external", principal=ADMIN)
        [task] = fetch(engine)
        clock.shift(timedelta(seconds=61))
        [again] = fetch(engine, "w2")
        assert again.id == task.id and again.worker_id == "w2"
        with pytest.raises(Conflict):
            engine.external_tasks.complete(task.id, "w1", {}, principal_roles=WORKER, actor="bi")


def test_failures_are_retried_and_an_incident_is_raised_when_retries_run_out(engine, deployed) -> None:
    deployed("external")
    with time_machine.travel(datetime(2026, 11, 24, 9, 0, tzinfo=UTC), tick=False) as clock:
        instance = engine.runtime.start_process_instance_by_key("external", principal=ADMIN)
        [task] = fetch(engine)
        engine.external_tasks.handle_failure(
            task.id,
            "w1",
            error_message="BI timeout",
            error_details="...",
            retries=1,
            retry_timeout_ms=5000,
            principal_roles=WORKER,
            actor="bi",
        )
        assert fetch(engine) == []  # waits for the retry timeout
        clock.shift(timedelta(seconds=6))
        [retry] = fetch(engine)
        assert retry.retries == 1 and retry.error_message == "BI timeout"
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
        clock.shift(timedelta(seconds=10))
        assert fetch(engine) == []
        detail = engine.runtime.get_instance(instance.id, principal=ADMIN)
        assert detail.instance.incident["element_id"] == "Task_score"
        assert [h.type for h in detail.history][-1] == "incident"
        engine.external_tasks.set_retries(task.id, 1, principal_roles=WORKER)
        assert [t.id for t in fetch(engine)] == [task.id]


def test_a_bpmn_error_is_caught_by_the_error_boundary_event(engine, deployed) -> None:
    deployed("external")
    instance = engine.runtime.start_process_instance_by_key("external", principal=ADMIN)
    [task] = fetch(engine)
    engine.external_tasks.bpmn_error(
        task.id,
        "w1",
        error_code="UNREACHABLE",
        error_message="no route",
        variables={"tried": 3},
        principal_roles=WORKER,
        actor="bi",
    )
    assert open_elements(engine, instance.id) == ["Task_fix"]
    assert fetch(engine) == []


def test_only_integration_accounts_and_admins_work_external_tasks(engine, deployed) -> None:
    deployed("external")
    with pytest.raises(Forbidden):
        engine.external_tasks.fetch_and_lock("w", TOPIC, max_tasks=1, principal_roles=frozenset({"data"}))
