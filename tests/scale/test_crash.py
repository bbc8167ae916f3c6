"""A server killed with SIGKILL in the middle of a stream of completions loses nothing it answered,
corrupts nothing, and applies no retried request twice."""

import signal
import threading
import time
from pathlib import Path

import httpx

from engine.engine import ProcessEngine
from tests.engine.conftest import ADMIN
from tests.helpers.processes import opsflow, stop, wait_healthy
from tests.helpers.server import free_port

INSTANCES = 8


def test_a_sigkill_during_a_stream_of_completions_loses_and_duplicates_nothing(
    db_url: str, engine: ProcessEngine
) -> None:
    engine.repository.deploy(
        [("three_steps.bpmn", (Path(__file__).parent / "three_steps.bpmn").read_bytes())]
    )
    engine.identity.create_user("dana", ["data"])
    headers = {"Authorization": f"Bearer {engine.identity.issue_token('dana')}"}
    for i in range(INSTANCES):
        engine.runtime.start_process_instance_by_key("three_steps", principal=ADMIN, business_key=f"K-{i}")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    answered: list[str] = []  # task ids whose completion was answered 2xx
    in_flight: dict[str, str] = {}  # task id -> idempotency key of a request that got no answer
    stale = {"OPSFLOW_IDEMPOTENCY_STALE_SECONDS": "2"}  # a dead server's claims free up quickly
    server = opsflow("serve", "--port", str(port), database_url=db_url, **stale)
    wait_healthy(base, server)
    killed = threading.Event()

    def complete(client: httpx.Client, task_id: str) -> httpx.Response:
        """A careful client: one idempotency key per completion, and it waits when told to."""
        key = f"complete-{task_id}"
        for _ in range(50):
            response = client.post(
                f"/api/v1/tasks/{task_id}/complete", json={"data": {}}, headers={"Idempotency-Key": key}
            )
            if "Retry-After" not in response.headers:
                return response
            time.sleep(float(response.headers["Retry-After"]))
        return response

    with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
        while not killed.is_set():
            tasks = client.get("/api/v1/tasks", params={"limit": 50}).json()["items"]
            assert tasks, "the stream ran dry before the kill"
            for task in tasks:
                if len(answered) == INSTANCES + 3 and not killed.is_set():
                    # kill while the next completion is on its way
                    threading.Timer(0.002, lambda: (server.send_signal(signal.SIGKILL), killed.set())).start()
                try:
                    response = complete(client, task["id"])
                except httpx.TransportError:
                    in_flight[task["id"]] = task["id"]
                    killed.wait(5)
                    break
                if killed.is_set() and response.status_code >= 500:
                    in_flight[task["id"]] = task["id"]
                    break
                assert response.status_code == 200, response.text
                answered.append(task["id"])
    server.wait(10)

    restarted = opsflow("serve", "--port", str(port), database_url=db_url, **stale)
    try:
        wait_healthy(base, restarted)
        with httpx.Client(base_url=base, headers=headers, timeout=10) as client:
            for task_id in in_flight:  # the client retries what got no answer, with the same key
                retry = complete(client, task_id)
                assert retry.status_code in (200, 409), retry.text
            while tasks := client.get("/api/v1/tasks", params={"limit": 50}).json()["items"]:
                for task in tasks:
                    assert complete(client, task["id"]).status_code == 200
    finally:
        stop(restarted)

    page = engine.runtime.list_instances(principal=ADMIN, process_key="three_steps", limit=100)
    assert [i.status for i in page.items] == ["completed"] * INSTANCES, "an instance was lost or corrupted"
    completions = []
    for instance in page.items:
        history = engine.runtime.get_instance(instance.id, principal=ADMIN).history
        done = [h for h in history if h.type == "task_completed"]
        assert [h.element_id for h in done] == ["Task_a", "Task_b", "Task_c"], (
            "a step was applied twice or lost"
        )
        completions += [h.task_id for h in done]
    assert set(answered) <= set(completions), "a completion answered 2xx is missing after the restart"
    assert len(completions) == len(set(completions))
