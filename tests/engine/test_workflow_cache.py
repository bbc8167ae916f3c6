"""The per-process cache of deserialized workflows never changes what a completion does: a workflow
another server changed is read again, and a rolled-back completion leaves no trace in the cache."""

import dataclasses

import pytest

from engine import events
from engine.engine import build_engine
from engine.errors import Conflict
from engine.instances import InstanceRecord
from engine.storage.tables import ProcessInstanceRow
from tests.engine.conftest import ADMIN


def _open_task(engine, instance_id: str):
    return engine.runtime.get_instance(instance_id, principal=ADMIN).open_tasks


def test_a_workflow_changed_by_another_server_is_read_again(engine, deployed, settings) -> None:
    deployed("three_steps")
    other = build_engine(settings)  # a second server process on the same database
    try:
        instance = engine.runtime.start_process_instance_by_key("three_steps", principal=ADMIN)
        (a,) = _open_task(engine, instance.id)
        (b,) = engine.tasks.complete(a.id, {"a": 1}, principal=ADMIN).open_tasks  # cached here
        (c,) = other.tasks.complete(b.id, {"b": 2}, principal=ADMIN).open_tasks  # changed there
        assert c.element_id == "Task_c"

        done = engine.tasks.complete(c.id, {"c": 3}, principal=ADMIN)

        assert done.instance.status == "completed"
        assert done.instance.variables == {"a": 1, "b": 2, "c": 3}
        with pytest.raises(Conflict):  # the other server's copy is stale too, and it knows
            other.tasks.complete(c.id, {"c": 4}, principal=ADMIN)
    finally:
        other.close()


def test_a_completion_that_rolls_back_leaves_the_cached_workflow_untouched(
    engine, deployed, monkeypatch
) -> None:
    deployed("three_steps")
    instance = engine.runtime.start_process_instance_by_key("three_steps", principal=ADMIN)
    (a,) = _open_task(engine, instance.id)
    (b,) = engine.tasks.complete(a.id, {"a": 1}, principal=ADMIN).open_tasks
    record = events.record

    def fail_on_completion(session, type, **kwargs) -> None:
        if type == events.TASK_COMPLETED:  # after SpiffWorkflow ran the task, before the commit
            raise RuntimeError("the database went away")
        record(session, type, **kwargs)

    monkeypatch.setattr(events, "record", fail_on_completion)
    with pytest.raises(RuntimeError):
        engine.tasks.complete(b.id, {"b": "lost"}, principal=ADMIN)
    monkeypatch.setattr(events, "record", record)

    (still_b,) = _open_task(engine, instance.id)
    assert still_b.id == b.id
    (c,) = engine.tasks.complete(b.id, {"b": 2}, principal=ADMIN).open_tasks
    assert c.element_id == "Task_c"
    assert engine.runtime.get_instance(instance.id, principal=ADMIN).instance.variables == {"a": 1, "b": 2}


def test_the_instance_record_holds_every_column_but_the_state() -> None:
    columns = {c.name for c in ProcessInstanceRow.__table__.c} - {"state"}
    assert {f.name for f in dataclasses.fields(InstanceRecord)} == columns


def test_an_ended_instance_leaves_the_cache_to_running_ones(engine, deployed) -> None:
    """Nothing works on an ended instance again: its tree is not kept (a cache full of ended
    instances would push out the running ones); reading it afterwards reads its stored state."""
    deployed("three_steps")
    cached = engine.runtime._instances._workflows._entries
    instance = engine.runtime.start_process_instance_by_key("three_steps", principal=ADMIN)
    task = _open_task(engine, instance.id)[0]
    for data in ({"a": 1}, {"b": 2}):
        (task,) = engine.tasks.complete(task.id, data, principal=ADMIN).open_tasks
        assert instance.id in cached
    done = engine.tasks.complete(task.id, {"c": 3}, principal=ADMIN)
    assert done.instance.status == "completed" and instance.id not in cached
    read = engine.runtime.get_instance(instance.id, principal=ADMIN)
    assert read.instance.variables == {"a": 1, "b": 2, "c": 3} and instance.id not in cached
