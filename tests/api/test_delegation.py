"""Delegation as in Camunda: the holder of a task delegates it, the delegate resolves it, and the task
goes back to its holder (now its owner), who completes it. Over the native API and /engine-rest."""

from tests.helpers.api import Api

KICKOFF = {"trigger": "user_feedback", "title": "委托", "description": "请数据组先看一眼"}


def kickoff_held_by_lei(api: Api) -> dict:
    started = api.start("lei", KICKOFF)
    [task] = api.inbox("lei", instance=started["id"])
    api.claim("lei", task["id"])
    return task


def test_the_delegate_resolves_and_the_owner_gets_the_task_back_with_what_was_filled_in(api: Api) -> None:
    task = kickoff_held_by_lei(api)
    delegated = api.call("lei", "POST", f"/api/v1/tasks/{task['id']}/delegate", json={"user": "dana"})
    assert (delegated["assignee"], delegated["owner"], delegated["delegation"]) == ("dana", "lei", "pending")
    assert [t["id"] for t in api.inbox("dana", "mine")] == [task["id"]]
    api.complete("dana", task["id"], {}, expect=409)  # a delegate resolves; the owner completes

    resolved = api.call(
        "dana", "POST", f"/api/v1/tasks/{task['id']}/resolve", json={"data": {"notes": "看过了"}}
    )
    assert (resolved["assignee"], resolved["owner"], resolved["delegation"]) == ("lei", "lei", "resolved")
    detail = api.call("lei", "GET", f"/api/v1/tasks/{task['id']}")
    assert detail["draft"] == {"notes": "看过了"}
    assert api.inbox("dana", "mine") == []
    kinds = [e["type"] for e in api.instance("lei", task["instance_id"])["history"]]
    assert kinds[-2:] == ["task_delegated", "task_resolved"]


def test_only_the_holder_or_the_leader_delegates_and_only_the_delegate_resolves(api: Api) -> None:
    task = kickoff_held_by_lei(api)
    path = f"/api/v1/tasks/{task['id']}"
    api.call("eric", "POST", f"{path}/delegate", 404, json={"user": "eric"})  # no team yet: not his to see
    api.call("lei", "POST", f"{path}/delegate", 422, json={"user": "nobody"})
    api.call("lei", "POST", f"{path}/resolve", 409, json={"data": {}})  # nothing delegated yet
    api.call("lei", "POST", f"{path}/delegate", json={"user": "dana"})
    api.call("lei", "POST", f"{path}/resolve", 403, json={"data": {}})
    api.call("ada", "POST", f"{path}/delegate", json={"user": "eric"})  # handed on: lei stays the owner
    assert api.call("eric", "POST", f"{path}/resolve", json={"data": {}})["assignee"] == "lei"


def test_camunda_clients_delegate_and_resolve(api: Api) -> None:
    task = kickoff_held_by_lei(api)
    rest = f"/engine-rest/task/{task['id']}"
    api.call("lei", "POST", f"{rest}/delegate", 204, json={"userId": "dana"})
    seen = api.call("dana", "GET", rest)
    assert (seen["assignee"], seen["owner"], seen["delegationState"]) == ("dana", "lei", "PENDING")
    api.call(
        "dana",
        "POST",
        f"{rest}/resolve",
        204,
        json={"variables": {"notes": {"value": "ok", "type": "String"}}},
    )
    seen = api.call("lei", "GET", rest)
    assert (seen["assignee"], seen["owner"], seen["delegationState"]) == ("lei", "lei", "RESOLVED")
    assert api.call("lei", "GET", f"/api/v1/tasks/{task['id']}")["draft"] == {"notes": "ok"}
