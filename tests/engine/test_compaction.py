"""An instance that loops keeps a live state of about the same size however long it runs: its finished
rounds are cut from SpiffWorkflow's task tree and counted (engine/bpmn/compaction.py). What the engine
shows and does is the same as if every round were still there: the diagram's counts, the outcome, going
back to a recent step, migrating to a version that renamed a step that ran; read from the database
by another server too."""

import json
from collections import Counter

import pytest
import sqlalchemy as sa

from engine.bpmn.trail import Compacted
from engine.engine import ProcessEngine, build_engine
from engine.errors import Conflict
from engine.storage.tables import ProcessInstanceRow
from tests.engine.conftest import ADMIN, DATA

ROUNDS = 40
INSTANCE = ProcessInstanceRow.__table__


def run_rounds(engine: ProcessEngine, instance_id: str, rounds: int) -> None:
    """Complete Prepare if it is open, then `rounds` rounds of Step and Check."""
    tasks = engine.runtime.get_instance(instance_id, principal=ADMIN).open_tasks
    if tasks and tasks[0].element_id == "Task_prepare":
        tasks = engine.tasks.complete(tasks[0].id, {}, principal=ADMIN).open_tasks
    for _ in range(rounds * 2):
        if not tasks:
            return
        tasks = engine.tasks.complete(tasks[0].id, {}, principal=ADMIN).open_tasks


def tasks_in_state(engine: ProcessEngine, instance_id: str) -> int:
    with engine.db.connect() as conn:
        state = conn.execute(sa.select(INSTANCE.c.state).where(INSTANCE.c.id == instance_id)).scalar_one()
    saved = json.loads(state)
    return len(saved["tasks"]) + sum(len(s["tasks"]) for s in saved["subprocesses"].values())


def expected_path(rounds: int, *, ended: bool) -> tuple[dict[str, int], dict[str, int]]:
    each = (
        "Task_step",
        "Fork",
        "Task_check",
        "Sub_note",
        "Sub_start",
        "Script_note",
        "Sub_end",
        "Join",
        "Script_count",
    )
    elements = {"StartEvent_1": 1, "Task_prepare": 1, **dict.fromkeys(each, rounds), "Gateway_more": rounds}
    flows = {
        "Flow_start": 1,
        "Flow_prepared": 1,
        **dict.fromkeys(("Flow_fork", "Flow_check", "Flow_sub", "Flow_s1", "Flow_s2"), rounds),
        **dict.fromkeys(("Flow_check_join", "Flow_sub_join", "Flow_count", "Flow_more"), rounds),
        "Flow_again": rounds - 1 if ended else rounds,
    }
    if ended:
        elements["EndEvent_done"] = 1
        flows["Flow_done"] = 1
    return elements, flows


@pytest.fixture
def looping(engine: ProcessEngine, deployed) -> str:
    deployed("long_loop")
    instance = engine.runtime.start_process_instance_by_key(
        "long_loop", principal=ADMIN, variables={"counter": 0, "rounds": 10_000}
    )
    run_rounds(engine, instance.id, ROUNDS)
    return instance.id


def test_a_long_loop_keeps_its_state_small_and_its_path_whole(engine: ProcessEngine, looping: str) -> None:
    sizes = []  # the tasks in the saved state after each round from the 41st to the 80th
    for _ in range(ROUNDS):
        run_rounds(engine, looping, 1)
        sizes.append(tasks_in_state(engine, looping))
    # A round is about 12 tasks: 80 rounds would be about 960. The state stops growing.
    assert max(sizes[ROUNDS // 2 :]) <= max(sizes[: ROUNDS // 2]) < 300

    detail = engine.runtime.get_instance(looping, principal=ADMIN)
    elements, flows = expected_path(2 * ROUNDS, ended=False)  # and the next round's step is open
    assert detail.path.elements == elements
    assert detail.path.flows == flows
    assert [t.element_id for t in detail.path.tokens] == ["Task_step"]

    other = build_engine(engine.settings.model_copy(update={"workflow_cache_size": 0}))
    try:  # another server reads the compacted state from the database: the same path
        assert other.runtime.get_instance(looping, principal=ADMIN).path == detail.path
    finally:
        other.close()


def test_the_outcome_and_the_counts_of_a_long_loop_that_ends(engine: ProcessEngine, looping: str) -> None:
    engine.console.set_variables(looping, {"rounds": ROUNDS + 1}, principal=ADMIN, reason="one more round")
    run_rounds(engine, looping, 1)
    detail = engine.runtime.get_instance(looping, principal=ADMIN)
    assert detail.instance.status == "completed"
    assert detail.instance.outcome == "done"
    elements, flows = expected_path(ROUNDS + 1, ended=True)
    assert detail.path.elements == elements
    assert detail.path.flows == flows


def test_a_recent_step_can_be_gone_back_to_one_cut_from_the_tree_cannot(
    engine: ProcessEngine, looping: str
) -> None:
    engine.console.move_token(looping, principal=ADMIN, back_to="Task_check", reason="check again")
    detail = engine.runtime.get_instance(looping, principal=ADMIN)
    assert sorted(t.element_id for t in detail.open_tasks) == ["Task_check"]

    with pytest.raises(Conflict, match="too far back"):
        engine.console.move_token(looping, principal=ADMIN, back_to="Task_prepare", reason="from the start")


def test_a_compacted_instance_migrates_with_its_counts_under_the_new_ids(
    engine: ProcessEngine, looping: str
) -> None:
    renamed = (DATA / "long_loop.bpmn").read_text().replace("Task_prepare", "Task_ready")
    engine.repository.deploy([("long_loop.bpmn", renamed.encode())], actor="test")

    (check,) = engine.migrations.check("long_loop", 2, principal=ADMIN)
    assert "Task_prepare ran and no longer exists (map it to its new id)" in check.reasons

    engine.migrations.migrate(
        looping, 2, principal=ADMIN, mapping={"Task_prepare": "Task_ready"}, reason="renamed"
    )
    path = engine.runtime.get_instance(looping, principal=ADMIN).path
    assert path.elements["Task_ready"] == 1 and "Task_prepare" not in path.elements
    assert path.flows["Flow_prepared"] == 1


def test_counts_of_two_steps_merged_into_one_by_a_migration_add_up() -> None:
    cut = Compacted(
        elements=Counter({"Task_a": 2, "Task_b": 3}),
        flows=Counter({("Start", "Task_a"): 2, ("Start", "Task_b"): 3}),
        last_completed={"Task_a": 10.0, "Task_b": 20.0},
    )
    cut.rename({"Task_a": "Task_ab", "Task_b": "Task_ab"})
    assert cut.elements == {"Task_ab": 5}
    assert cut.flows == {("Start", "Task_ab"): 5}
    assert cut.last_completed == {"Task_ab": 20.0}
    assert Compacted.from_json(cut.to_json()) == cut  # as the state stores it
