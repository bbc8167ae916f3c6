"""Every incident can be retried to completion, stays until its own task no longer fails, and names
its cause."""

from datetime import UTC, datetime, timedelta

import time_machine

from engine.engine import ProcessEngine
from tests.bpmn_foreign.conftest import complete, deploy, instance, open_tasks, start
from tests.helpers.api import Api


def retry(api: Api, instance_id: str, **variables: object) -> dict:
    return api.call(
        "ada", "POST", f"/api/v1/process-instances/{instance_id}/retry", json={"variables": variables}
    )


def elements(api: Api, instance_id: str) -> list[str]:
    return [t["element_id"] for t in open_tasks(api, instance_id)]


def test_a_loop_whose_condition_failed_goes_on_looping_after_a_retry(api: Api) -> None:
    deploy(api, "loop_condition.bpmn")
    started = start(api, "loop_condition", counter=0)
    incident = instance(api, started["id"])["incident"]
    assert (
        incident["element_id"] == "count" and "NameError: name 'limit' is not defined" in incident["message"]
    )
    retry(api, started["id"], limit=3)
    after = instance(api, started["id"])
    assert after["incident"] is None and after["variables"]["counter"] == 3
    assert elements(api, started["id"]) == ["after"]


def test_a_timer_whose_date_failed_waits_for_the_retried_date(api: Api, engine: ProcessEngine) -> None:
    deploy(api, "timer_from_variable.bpmn")
    with time_machine.travel(datetime(2026, 12, 1, 9, tzinfo=UTC), tick=False) as clock:
        started = start(api, "timer_from_variable")
        assert instance(api, started["id"])["incident"]["element_id"] == "until"
        retry(api, started["id"], due="2026-12-02T09:00:00+00:00")
        assert instance(api, started["id"])["incident"] is None
        assert elements(api, started["id"]) == []
        clock.shift(timedelta(days=1, seconds=1))
        assert engine.jobs.run_due_jobs() == 1
        assert elements(api, started["id"]) == ["after"]


def test_completing_a_task_of_another_branch_leaves_the_incident_and_a_retry_ends_the_instance(
    api: Api,
) -> None:
    deploy(api, "two_branches.bpmn")
    started = start(api, "two_branches")
    incident = instance(api, started["id"])["incident"]
    assert incident == {"element_id": "compute", "message": "NameError: name 'price' is not defined."}
    [review] = open_tasks(api, started["id"])
    complete(api, review)
    assert instance(api, started["id"])["incident"] == incident
    still = retry(api, started["id"], price=5)
    assert "quantity" in still["incident"]["message"]
    retry(api, started["id"], quantity=2)
    done = instance(api, started["id"])
    assert done["status"] == "completed" and done["incident"] is None and done["variables"]["total"] == 10


def test_a_multi_instance_missing_its_collection_runs_once_it_is_given(api: Api) -> None:
    deploy(api, "collection.bpmn")
    started = start(api, "per_item")
    assert instance(api, started["id"])["incident"]["element_id"] == "check_item"
    retry(api, started["id"], items=["x", "y"])
    assert instance(api, started["id"])["incident"] is None
    assert elements(api, started["id"]) == ["check_item", "check_item"]
