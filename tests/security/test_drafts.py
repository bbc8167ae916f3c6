"""A draft belongs to the task and to the person who saved it: another candidate of the same task
neither reads it nor overwrites it, and each finds their own again."""

import threading

from tests.security.conftest import World


def task_offered_to_every_leader(world: World) -> str:
    """`approval` (messages.bpmn) once approved waits in Task_after, offered to the leader role: lei and
    lars are both candidates."""
    key = world.unique("DRAFT-")
    instance_id = world.api.start("lei", {}, process_key="approval", business_key=key)["id"]
    world.api.call(
        "ivan", "POST", "/api/v1/messages", json={"name": "approval_decision", "business_key": key}
    )
    task = world.api.task_named("lars", "Task_after", instance_id)
    assert task["assignee"] is None and "leader" in task["candidate_groups"]
    return task["id"]


def save(world: World, user: str, task_id: str, data: dict) -> None:
    world.api.call(user, "PUT", f"/api/v1/tasks/{task_id}/draft", json={"data": data})


def read(world: World, user: str, task_id: str) -> dict:
    return world.api.call(user, "GET", f"/api/v1/tasks/{task_id}")


def test_another_candidate_does_not_see_my_draft(world: World) -> None:
    task_id = task_offered_to_every_leader(world)
    save(world, "lei", task_id, {"note": "lei's half-written note"})
    seen = read(world, "lars", task_id)
    assert seen["draft"] is None and "note" not in seen["data"]
    assert read(world, "lei", task_id)["draft"] == {"note": "lei's half-written note"}


def test_another_candidate_saving_a_draft_does_not_overwrite_mine(world: World) -> None:
    task_id = task_offered_to_every_leader(world)
    save(world, "lei", task_id, {"note": "mine"})
    save(world, "lars", task_id, {"note": "his"})
    assert read(world, "lei", task_id)["draft"] == {"note": "mine"}
    assert read(world, "lars", task_id)["draft"] == {"note": "his"}
    assert read(world, "lei", task_id)["data"]["note"] == "mine"
    save(world, "lei", task_id, {"note": "mine, again"})
    assert read(world, "lars", task_id)["draft"] == {"note": "his"}


def test_drafts_saved_at_the_same_moment_are_both_kept(world: World) -> None:
    task_id = task_offered_to_every_leader(world)
    barrier = threading.Barrier(2)

    def save_at_once(user: str) -> None:
        barrier.wait()
        save(world, user, task_id, {"note": f"{user} at once"})

    threads = [threading.Thread(target=save_at_once, args=(u,)) for u in ("lei", "lars")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert read(world, "lei", task_id)["draft"] == {"note": "lei at once"}
    assert read(world, "lars", task_id)["draft"] == {"note": "lars at once"}


def test_an_admin_looking_at_the_task_does_not_see_the_drafts_either(world: World) -> None:
    task_id = task_offered_to_every_leader(world)
    save(world, "lei", task_id, {"note": "private"})
    assert read(world, "ada", task_id)["draft"] is None
