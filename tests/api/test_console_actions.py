"""The operator's console over HTTP, acting on stuck work: an incident's retry runs again whatever
failed (a script, an external task whose retries ran out, a job that gave up)."""

from pathlib import Path

import pytest

from engine.engine import ProcessEngine
from engine.storage.tables import JobRow, utcnow
from tests.fixtures.broken_process import FAILING
from tests.fixtures.handbook_journey import data
from tests.helpers.api import Api

pytestmark = pytest.mark.usefixtures("outsiders")
ENGINE_DATA = Path(__file__).parents[1] / "engine" / "data"
REST = "/engine-rest"


def deploy(api: Api, name: str, content: bytes) -> None:
    api.call("dora", "POST", "/api/v1/deployments", 201, files={"files": (name, content)})


def retry(api: Api, instance_id: str, expect: int = 200, **body: object) -> dict:
    return api.call("ada", "POST", f"/api/v1/process-instances/{instance_id}/retry", expect, json=body)


def fetch(api: Api) -> list[dict]:
    body = {"workerId": "bi-1", "maxTasks": 5, "topics": [{"topicName": "bi-score", "lockDuration": 60_000}]}
    return api.call("ada", "POST", f"{REST}/external-task/fetchAndLock", json=body)


def test_retrying_an_external_task_incident_gives_the_task_back_to_the_workers(api: Api) -> None:
    deploy(api, "external.bpmn", (ENGINE_DATA / "external.bpmn").read_bytes())
    instance_id = api.start("ada", {"metric": "cvr"}, process_key="external")["id"]
    [task] = fetch(api)
    failure = {"workerId": "bi-1", "errorMessage": "BI down", "retries": 0, "retryTimeout": 0}
    api.call("ada", "POST", f"{REST}/external-task/{task['id']}/failure", 204, json=failure)
    assert fetch(api) == []
    detail = api.instance("ada", instance_id)
    assert detail["instance"]["incident"]["element_id"] == "Task_score"
    assert "retry" in detail["actions"] and "retry" not in api.instance("lei", instance_id)["actions"]

    api.call("lei", "POST", f"/api/v1/process-instances/{instance_id}/retry", 403, json={})
    resolved = retry(api, instance_id, variables={"metric": "gmv"})
    assert resolved["incident"] is None
    [again] = fetch(api)  # a worker fetches it again, with the corrected data
    assert again["id"] == task["id"] and again["variables"]["metric"]["value"] == "gmv"
    complete = {"workerId": "bi-1", "variables": {"score": {"value": 0.5, "type": "Double"}}}
    api.call("ada", "POST", f"{REST}/external-task/{task['id']}/complete", 204, json=complete)
    detail = api.instance("ada", instance_id)
    assert [t["element_id"] for t in detail["open_tasks"]] == ["Task_review"]
    [entry] = [h for h in detail["history"] if h["type"] == "incident_retried"]
    assert entry["actor"] == "ada" and entry["details"]["external_tasks"] == [task["id"]]
    assert entry["details"]["variables"] == {"metric": "gmv"}
    retry(api, instance_id, 409)  # nothing left to resolve


def test_retrying_a_script_incident_runs_the_script_again_with_corrected_data(api: Api) -> None:
    deploy(api, "breaks.bpmn", FAILING.replace(b"x = 1 / 0", b"x = 1 / divisor"))
    instance_id = api.start("ada", {"divisor": 0}, process_key="breaks")["id"]
    assert api.instance("ada", instance_id)["instance"]["incident"]["element_id"] == "Script_divide"
    retry(api, instance_id, 200, variables={"divisor": 0})  # still failing: the incident stays
    assert api.instance("ada", instance_id)["instance"]["incident"] is not None
    done = retry(api, instance_id, variables={"divisor": 4})
    assert done["status"] == "completed" and done["variables"]["x"] == 0.25


def test_a_job_that_gave_up_is_the_instance_s_incident_and_a_retry_runs_it_again(
    api: Api, handbook: ProcessEngine
) -> None:
    """A job kind registered by whoever extends the engine; it fails until the outside world is fixed."""
    world = {"up": False, "ran": 0}

    def sync(uow, job) -> None:
        if not world["up"]:
            raise ConnectionError("the CMDB is unreachable")
        world["ran"] += 1

    handbook.jobs.register("cmdb_sync", sync)
    instance_id = api.start("lei", data("start_trigger"))["id"]
    with handbook.db.begin() as conn:
        conn.execute(
            JobRow.__table__.insert(),
            {
                "id": f"cmdb:{instance_id}",
                "kind": "cmdb_sync",
                "instance_id": instance_id,
                "due_at": utcnow(),
                "attempts": 0,
                "payload": {"max_attempts": 1},
                "created_at": utcnow(),
            },
        )
    handbook.jobs.run_due_jobs()
    incident = api.instance("ada", instance_id)["instance"]["incident"]
    assert incident["job_id"] == f"cmdb:{instance_id}" and "CMDB is unreachable" in incident["message"]
    assert handbook.jobs.run_due_jobs() == 0  # given up: not picked up again

    world["up"] = True
    retry(api, instance_id)
    assert handbook.jobs.run_due_jobs() == 1 and world["ran"] == 1
    detail = api.instance("ada", instance_id)
    assert detail["instance"]["incident"] is None
    [entry] = [h for h in detail["history"] if h["type"] == "incident_retried"]
    assert entry["details"]["jobs"] == [f"cmdb:{instance_id}"]
