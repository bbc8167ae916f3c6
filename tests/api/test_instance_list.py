"""The instance list's filters (process, version, status, stage, holder, started between) and the CSV
export of the filtered list, over HTTP."""

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from tests.api.test_handbook_journey import start_handbook
from tests.api.test_instance_console import STAGE_1, run
from tests.fixtures.handbook_data import due_at
from tests.helpers.api import Api

pytestmark = pytest.mark.usefixtures("outsiders")
HANDBOOK = Path(__file__).parents[2] / "processes" / "ops_optimization.bpmn"


def listed(api: Api, user: str = "lei", **filters: object) -> list[str]:
    return [i["id"] for i in api.call(user, "GET", "/api/v1/process-instances", params=filters)["items"]]


def deploy_version_2(api: Api) -> None:
    xml = HANDBOOK.read_bytes().replace("运营优化".encode(), "运营优化 v2".encode(), 1)
    api.call("dora", "POST", "/api/v1/deployments", 201, files={"files": ("ops_optimization.bpmn", xml)})


def test_filters_by_version_stage_holder_and_status(api: Api) -> None:
    at_kickoff = start_handbook(api)  # Task_locate_problem (stage kickoff), offered to the leaders
    in_diagnosis = run(api, STAGE_1)  # Task_collect_data (stage diagnosis), dana's: the team names her
    deploy_version_2(api)
    newer = start_handbook(api)

    assert listed(api, version=2) == [newer]
    assert set(listed(api, version=1)) == {at_kickoff, in_diagnosis}
    assert listed(api, stage="diagnosis") == [in_diagnosis]
    assert set(listed(api, stage="kickoff")) == {at_kickoff, newer}
    assert listed(api, holder="dana") == [in_diagnosis]  # hers
    task = api.task_named("dana", "Task_collect_data", in_diagnosis)
    api.call("dana", "POST", f"/api/v1/tasks/{task['id']}/unclaim")
    assert listed(api, holder="dana") == [in_diagnosis]  # offered to her by name
    assert listed(api, holder="eric") == []
    assert listed(api, status="running", stage="diagnosis", holder="dana", version=1) == [in_diagnosis]
    api.call("lei", "GET", "/api/v1/process-instances", 422, params={"status": "paused"})
    api.call("lei", "GET", "/api/v1/process-instances", 422, params={"version": 0})


def test_filters_by_when_it_was_started(api: Api) -> None:
    with time_machine.travel(datetime(2026, 12, 1, 9, tzinfo=UTC), tick=False):
        december_first = start_handbook(api)
    with time_machine.travel(datetime(2026, 12, 3, 9, tzinfo=UTC), tick=False):
        december_third = start_handbook(api)
    assert listed(api, started_after="2026-12-02") == [december_third]
    assert listed(api, started_before="2026-12-02") == [december_first]
    both = listed(api, started_after="2026-12-01T00:00:00Z", started_before="2026-12-04")
    assert both == [december_third, december_first]  # newest first
    wrong = api.call(
        "lei",
        "GET",
        "/api/v1/process-instances",
        422,
        params={"started_after": "2026-12-04", "started_before": "2026-12-01"},
    )
    assert wrong["problems"][0]["path"] == "started_before"
    api.call("lei", "GET", "/api/v1/process-instances", 422, params={"started_after": "next tuesday"})


def test_the_filtered_list_exports_as_csv(api: Api) -> None:
    in_diagnosis = run(api, STAGE_1)
    start_handbook(api)
    response = api.call("lei", "GET", "/api/v1/process-instances/export", params={"stage": "diagnosis"})
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")  # spreadsheets then read the Chinese
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    [row] = rows
    assert row["id"] == in_diagnosis and row["status"] == "running" and row["version"] == "1"
    assert row["current_steps"].startswith("数据收集与清洗") and row["holders"] == "dana"
    assert row["due"].startswith(due_at("diagnosis").isoformat()[:16])
    everything = api.call("lei", "GET", "/api/v1/process-instances/export")
    assert len(list(csv.DictReader(io.StringIO(everything.content.decode().removeprefix("\ufeff"))))) == 2
    # what a user may not see is not exported either: dan holds a role but is on no team
    nothing = api.call("dan", "GET", "/api/v1/process-instances/export")
    assert len(nothing.content.decode().removeprefix("\ufeff").splitlines()) == 1  # the header only
