"""Timer start events start instances when due: Quartz cron cycles, ISO cycles and dates."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from engine.engine import ProcessEngine
from tests.bpmn_foreign.conftest import DATA, deploy, problems_of
from tests.conftest import empty_database
from tests.helpers.api import Api


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, _database_urls: dict[str, str]) -> str:
    return empty_database(request.param, _database_urls)


def instances_of(api: Api, key: str) -> list[dict]:
    return api.call("ada", "GET", "/api/v1/process-instances", params={"process_key": key})["items"]


def test_a_quartz_cron_cycle_starts_an_instance_every_five_minutes(api: Api, engine: ProcessEngine) -> None:
    with time_machine.travel(datetime(2026, 12, 1, 9, 1, tzinfo=UTC), tick=False) as clock:
        deploy(api, "cron_start.bpmn")
        assert engine.jobs.run_due_jobs() == 0
        clock.move_to(datetime(2026, 12, 1, 9, 5, 1, tzinfo=UTC))
        assert engine.jobs.run_due_jobs() == 1
        [first] = instances_of(api, "every_five")
        assert first["started_by"] == "timer"
        assert [t["element_id"] for t in api.instance("ada", first["id"])["open_tasks"]] == ["look"]
        clock.shift(timedelta(minutes=2))
        assert engine.jobs.run_due_jobs() == 0
        clock.shift(timedelta(minutes=3))
        assert engine.jobs.run_due_jobs() == 1
        assert len(instances_of(api, "every_five")) == 2


def test_a_timer_date_starts_one_instance_when_due(api: Api, engine: ProcessEngine) -> None:
    with time_machine.travel(datetime(2026, 11, 30, 9, 0, tzinfo=UTC), tick=False) as clock:
        deploy(api, "date_start.bpmn")
        clock.move_to(datetime(2026, 12, 1, 9, 0, 1, tzinfo=UTC))
        assert engine.jobs.run_due_jobs() == 1
        clock.shift(timedelta(days=30))
        assert engine.jobs.run_due_jobs() == 0
        assert len(instances_of(api, "once")) == 1


def test_a_new_version_without_the_timer_stops_the_schedule(api: Api, engine: ProcessEngine) -> None:
    with time_machine.travel(datetime(2026, 12, 1, 9, 1, tzinfo=UTC), tick=False) as clock:
        deploy(api, "cron_start.bpmn")
        text = (
            (DATA / "cron_start.bpmn")
            .read_text()
            .replace("0 0/5 * * * ?", "")
            .replace("<bpmn:timerEventDefinition", "<!--")
        )
        text = text.replace("</bpmn:timerEventDefinition>", "-->")
        files = [("files", ("cron_start.bpmn", text.encode()))]
        api.call("dora", "POST", "/api/v1/deployments", 201, files=files)
        clock.shift(timedelta(hours=1))
        assert engine.jobs.run_due_jobs() == 0
        assert instances_of(api, "every_five") == []


def test_a_cron_expression_that_does_not_parse_is_refused(api: Api) -> None:
    text = (DATA / "cron_start.bpmn").read_text()
    files = [("files", ("bad.bpmn", text.replace("0 0/5 * * * ?", "0 0/5 * * * 99").encode()))]
    [problem] = problems_of(api.call("dora", "POST", "/api/v1/deployments", 422, files=files))
    assert problem["element_id"] == "tick" and "not a valid cron expression" in problem["message"]


def test_a_timer_quoted_as_a_python_string_starts_as_the_cycle_it_names(
    api: Api, engine: ProcessEngine
) -> None:
    text = (DATA / "cron_start.bpmn").read_text().replace("0 0/5 * * * ?", '"R2/PT1H"')
    with time_machine.travel(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), tick=False) as clock:
        api.call(
            "dora", "POST", "/api/v1/deployments", 201, files=[("files", ("quoted.bpmn", text.encode()))]
        )
        for _ in range(3):
            clock.shift(timedelta(hours=1, seconds=1))
            engine.jobs.run_due_jobs()
        assert len(instances_of(api, "every_five")) == 2  # R2: twice
