"""The open-task index (open_task and task_candidate) holds exactly the instance's open user tasks as
each completion leaves them: the next task in the same lane, in another lane, two at once after a
split, one after a join. (A completion gives the row of the task it closes to the task it opens.)"""

from typing import Any

import sqlalchemy as sa

from engine.engine import ProcessEngine
from engine.storage.tables import OpenTaskRow, TaskCandidateRow
from engine.views import Principal
from tests.engine.conftest import ADMIN

LEI = Principal("lei", "lei", frozenset({"leader"}))
DANA = Principal("dana", "dana", frozenset({"data"}))


def index_of(engine: ProcessEngine, instance_id: str) -> dict[str, Any]:
    """element id -> the task's row and its candidates, as stored."""
    task, candidate = OpenTaskRow.__table__, TaskCandidateRow.__table__
    with engine.db.connect() as conn:
        tasks = conn.execute(sa.select(task).where(task.c.instance_id == instance_id)).mappings().all()
        found = {}
        for row in tasks:
            of_task = sa.select(candidate).where(candidate.c.task_id == row["id"])
            offers = conn.execute(of_task).mappings().all()
            found[row["element_id"]] = {
                "assignee": row["assignee"],
                "offers": sorted((o["kind"], o["value"], o["open"]) for o in offers),
                "copied": {(o["created_at"], o["process_key"], o["due_at"], o["stage"]) for o in offers},
                "own": (row["created_at"], row["process_key"], row["due_at"], row["stage"]),
            }
    return found


def open_ids(engine: ProcessEngine, instance_id: str) -> dict[str, str]:
    return {t.element_id: t.id for t in engine.runtime.get_instance(instance_id, principal=ADMIN).open_tasks}


def test_each_completion_leaves_the_index_holding_exactly_the_open_tasks(
    engine: ProcessEngine, deployed
) -> None:
    deployed("handoffs")
    for name, roles in (("lei", ["leader"]), ("dana", ["data"])):
        engine.identity.create_user(name, roles)
    instance = engine.runtime.start_process_instance_by_key("handoffs", principal=ADMIN).id

    def complete(element_id: str, who: Principal, *, claim: bool = False) -> dict[str, Any]:
        task_id = open_ids(engine, instance)[element_id]
        if claim:
            engine.tasks.claim(task_id, principal=who)
        engine.tasks.complete(task_id, {}, principal=who)
        index = index_of(engine, instance)
        assert set(index) == set(open_ids(engine, instance))  # one row per open task, no other
        for entry in index.values():  # the offers carry what the "offered to me" inbox reads of the task
            assert entry["copied"] == {entry["own"]}
        return index

    first = index_of(engine, instance)
    assert first["Task_a"]["offers"] == [("group", "leader", True)]
    after_a = complete("Task_a", LEI, claim=True)  # claimed (its offer closed), then done: B is open
    assert after_a == {"Task_b": after_a["Task_b"]}
    assert after_a["Task_b"]["assignee"] is None
    assert after_a["Task_b"]["offers"] == [("group", "leader", True)]
    assert after_a["Task_b"]["own"][0] > first["Task_a"]["own"][0]  # B's own creation time
    after_b = complete("Task_b", LEI)  # to another lane
    assert set(after_b) == {"Task_c"} and after_b["Task_c"]["offers"] == [("group", "data", True)]
    after_c = complete("Task_c", DANA)  # one task closes, two open
    assert after_c["Task_d"]["offers"] == [("group", "leader", True)]
    assert after_c["Task_e"]["offers"] == [("group", "data", True)]
    after_e = complete("Task_e", DANA, claim=True)  # one of two closes: the other stays as it was
    assert after_e == {"Task_d": after_c["Task_d"]}
    after_d = complete("Task_d", LEI)  # the join: F opens
    assert set(after_d) == {"Task_f"} and after_d["Task_f"]["offers"] == [("group", "leader", True)]
    assert complete("Task_f", LEI) == {}
    offered = engine.tasks.inbox(principal=LEI, scope="offered")
    assert offered.total == 0
