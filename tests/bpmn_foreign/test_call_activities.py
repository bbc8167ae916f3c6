"""Call activities call processes of other files of the deployment, and processes deployed before
(the latest version, or the one their binding names); a process that calls itself ends."""

import pytest

from tests.bpmn_foreign.conftest import complete, deploy, instance, open_tasks, problems_of, start
from tests.helpers.api import Api


@pytest.fixture
def db_url(request: pytest.FixtureRequest, _database_urls: dict[str, str]) -> str:
    from tests.conftest import empty_database

    return empty_database(request.param, _database_urls)


pytestmark = pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)


def called_answer(api: Api, key: str, **variables: object) -> str:
    started = start(api, key, n=2, **variables)
    [check] = open_tasks(api, started["id"])
    assert check["element_id"] == "check"
    return api.instance("ada", started["id"])["instance"]["variables"]["answer"]


def test_a_call_activity_calls_a_process_of_another_file_of_the_same_deployment(api: Api) -> None:
    deploy(api, "caller.bpmn", "callee.bpmn")
    started = start(api, "caller", n=21)
    [check] = open_tasks(api, started["id"])
    assert instance(api, started["id"])["variables"]["doubled"] == 42
    complete(api, check)
    assert instance(api, started["id"])["status"] == "completed"


def test_a_call_activity_calls_the_latest_version_deployed_before(api: Api) -> None:
    deploy(api, "callee.bpmn")
    deploy(api, "callee_v2.bpmn")
    deploy(api, "caller.bpmn")
    assert called_answer(api, "caller") == "two"


def test_a_call_activity_bound_to_a_version_or_version_tag_calls_that_one(api: Api) -> None:
    deploy(api, "callee.bpmn")
    deploy(api, "callee_v2.bpmn")
    deploy(api, "caller_pinned.bpmn", "caller_tagged.bpmn")
    assert called_answer(api, "caller_v1") == "one"
    assert called_answer(api, "caller_tag") == "one"


def test_a_call_activity_whose_process_is_nowhere_is_refused_where_it_is(api: Api) -> None:
    [problem] = problems_of(deploy(api, "caller_missing.bpmn", expect=422))
    assert problem["element_id"] == "call" and problem["line"] == 6
    assert (
        "calls process 'nowhere', which is neither in this deployment nor deployed before"
        in problem["message"]
    )


def test_a_process_calling_itself_on_every_path_is_refused(api: Api) -> None:
    [problem] = problems_of(deploy(api, "recursive.bpmn", expect=422))
    assert problem["element_id"] == "again" and "it would never end" in problem["message"]


def test_a_process_calling_itself_ends_when_its_condition_says_or_stops_with_an_incident(api: Api) -> None:
    deploy(api, "recursive_guarded.bpmn")
    assert instance(api, start(api, "countdown", n=0)["id"])["status"] == "completed"
    runaway = instance(api, start(api, "countdown", n=1)["id"])  # n never decreases
    assert runaway["status"] == "running"
    assert runaway["incident"]["element_id"] == "d_call"
    assert "nest deeper than" in runaway["incident"]["message"]
