"""Several server and worker processes on one database: nothing lost, nothing done twice."""

import threading
from pathlib import Path

import httpx
import pytest

from engine.engine import ProcessEngine
from tests.engine.conftest import ADMIN
from tests.helpers.processes import opsflow, servers, stop

INSTANCES = 12


@pytest.fixture
def prepared(engine: ProcessEngine) -> dict[str, str]:
    engine.repository.deploy(
        [("timers_fast.bpmn", (Path(__file__).parent / "timers_fast.bpmn").read_bytes())]
    )
    tokens = {}
    for name in ("dana", "dan"):
        engine.identity.create_user(name, ["data"])
        tokens[name] = engine.identity.issue_token(name)
    for i in range(INSTANCES):
        engine.runtime.start_process_instance_by_key("timers_fast", principal=ADMIN, business_key=f"MP-{i}")
    return tokens


def work_through(base: str, token: str, failures: list[str], codes: list[int]) -> None:
    """Keep claiming and completing whatever is offered until nothing is left for a while."""
    headers = {"Authorization": f"Bearer {token}"}
    idle = 0
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        while idle < 40:
            items = client.get("/api/v1/tasks", params={"scope": "offered", "limit": 5}).json()["items"]
            if not items:
                idle += 1
                threading.Event().wait(0.1)
                continue
            idle = 0
            for task in items:
                claim = client.post(f"/api/v1/tasks/{task['id']}/claim")
                if claim.status_code == 409:
                    continue  # the other client was quicker
                if claim.status_code != 200:
                    failures.append(f"claim {claim.status_code} {claim.text}")
                    continue
                done = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"data": {}})
                codes.append(done.status_code)
                if done.status_code != 200:
                    failures.append(f"complete {done.status_code} {done.text}")


def test_two_servers_and_two_workers_on_one_database_finish_every_instance_exactly_once(
    db_url: str, engine: ProcessEngine, prepared: dict[str, str]
) -> None:
    workers = [opsflow("worker", database_url=db_url) for _ in range(2)]
    try:
        with servers(db_url, 2) as running:
            failures: list[str] = []
            codes: list[int] = []
            clients = [
                threading.Thread(target=work_through, args=(base, prepared[user], failures, codes))
                for (base, _), user in zip(running, ("dana", "dan"), strict=True)
            ]
            for c in clients:
                c.start()
            for c in clients:
                c.join(timeout=240)
    finally:
        for w in workers:
            stop(w)
    assert failures == []
    assert codes.count(200) == INSTANCES * 2  # report and check, in every instance
    page = engine.runtime.list_instances(principal=ADMIN, process_key="timers_fast", limit=100)
    assert [i.status for i in page.items] == ["completed"] * INSTANCES
    for instance in page.items:
        history = engine.runtime.get_instance(instance.id, principal=ADMIN).history
        completed = [h.element_id for h in history if h.type == "task_completed"]
        created = [h.element_id for h in history if h.type == "task_created"]
        assert sorted(completed) == ["Task_check", "Task_report"], "a task was done twice or not at all"
        assert created.count("Task_check") == 1, "the timer fired more than once"
