"""The audit log over HTTP: admins read every event, filtered by instance, actor, type and time, paged
with the total, newest first or oldest first; everyone else is refused; reading it changes nothing."""

from datetime import UTC, datetime, timedelta

import pytest

from tests.fixtures.handbook_data import VALID
from tests.helpers.api import Api


def audit(api: Api, expect: int = 200, user: str | None = "ada", **params: object) -> dict:
    return api.call(user, "GET", "/api/v1/audit", expect, params=params)


@pytest.fixture
def story(api: Api) -> dict[str, str]:
    """lei starts two instances and claims the first one's task; dana gets created by ada."""
    first = api.start("lei", VALID["start_trigger"], business_key="AUD-1")["id"]
    second = api.start("lei", VALID["start_trigger"], business_key="AUD-2")["id"]
    api.claim("lei", api.task_named("lei", "Task_locate_problem", first)["id"])
    api.call("ada", "POST", "/api/v1/users", 201, json={"name": "newbie", "groups": ["data"]})
    return {"first": first, "second": second}


def test_only_admins_read_the_audit_log(api: Api) -> None:
    for user in ("lei", "dana", "eric", "sara", "dora"):
        assert audit(api, 403, user=user)["error"] == "forbidden"
    assert audit(api, 401, user=None)["error"] == "unauthenticated"


def test_every_event_is_listed_newest_first_with_the_total(api: Api, story: dict[str, str]) -> None:
    page = audit(api, limit=500)
    ids = [e["id"] for e in page["items"]]
    assert ids == sorted(ids, reverse=True)
    assert page["total"] == len(ids) and page["offset"] == 0 and page["limit"] == 500
    newest = page["items"][0]
    assert newest["type"] == "user_created" and newest["actor"] == "ada"
    assert newest["details"] == {"user": "newbie", "groups": ["data"]}
    deployed = [e for e in page["items"] if e["type"] == "definition_deployed"]
    assert "ops_optimization" in [e["details"]["key"] for e in deployed]  # by `opsflow`, the seed
    assert {e["actor"] for e in deployed} == {"opsflow"}
    assert {"id", "at", "type", "actor", "instance_id", "task_id", "element_id", "details"} == newest.keys()


def test_sort_by_id_lists_the_oldest_first(api: Api, story: dict[str, str]) -> None:
    oldest_first = audit(api, sort="id", limit=500)["items"]
    assert [e["id"] for e in oldest_first] == sorted(e["id"] for e in oldest_first)
    assert oldest_first == list(reversed(audit(api, limit=500)["items"]))


def test_filters_narrow_the_events_and_the_total(api: Api, story: dict[str, str]) -> None:
    first = audit(api, instance=story["first"], sort="id")
    assert [e["type"] for e in first["items"]] == ["instance_started", "task_created", "task_claimed"]
    assert first["total"] == 3 and {e["instance_id"] for e in first["items"]} == {story["first"]}

    by_lei = audit(api, actor="lei", limit=500)["items"]
    assert by_lei and {e["actor"] for e in by_lei} == {"lei"}
    started = audit(api, type="instance_started")
    assert started["total"] == 2 and {e["instance_id"] for e in started["items"]} == set(story.values())
    both = audit(api, actor="lei", type="task_claimed", instance=story["first"])
    assert both["total"] == 1 and both["items"][0]["task_id"]
    assert audit(api, actor="nobody")["total"] == 0


def test_since_keeps_the_events_at_or_after_a_moment(api: Api, story: dict[str, str]) -> None:
    everything = audit(api, sort="id", limit=500)["items"]
    claimed = next(e for e in everything if e["type"] == "task_claimed")
    since = audit(api, since=claimed["at"], sort="id", limit=500)["items"]
    assert since[0]["at"] >= claimed["at"] and claimed in since
    assert all(e["at"] >= claimed["at"] for e in since)
    assert audit(api, since=(datetime.now(UTC) + timedelta(minutes=1)).isoformat())["total"] == 0
    naive_past = (datetime.now(UTC) - timedelta(days=1)).replace(tzinfo=None).isoformat()
    assert audit(api, since=naive_past)["total"] == len(everything)  # a time without a zone is UTC
    assert audit(api, since="0001-01-01T00:00:00+05:00")["total"] == len(everything)  # before year 1 in UTC
    assert audit(api, since="9999-12-31T23:59:59-05:00")["total"] == 0  # after year 9999 in UTC


def test_pages_add_up_to_the_whole_log(api: Api, story: dict[str, str]) -> None:
    whole = audit(api, limit=500)
    pages, offset = [], 0
    while offset < whole["total"]:
        page = audit(api, offset=offset, limit=3)
        assert page["total"] == whole["total"] and len(page["items"]) <= 3
        pages += page["items"]
        offset += 3
    assert pages == whole["items"]
    assert audit(api, offset=whole["total"])["items"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 501},
        {"offset": -1},
        {"offset": 2**31},
        {"sort": "newest"},
        {"since": "yesterday"},
        {"actor": "x" * 65},
        {"limit": "many"},
    ],
)
def test_bad_filters_and_paging_are_refused_with_422(api: Api, params: dict) -> None:
    assert audit(api, 422, **params)["error"] == "invalid_input"


def test_reading_the_audit_log_writes_nothing(api: Api, story: dict[str, str]) -> None:
    before = audit(api, limit=500)
    for _ in range(3):
        audit(api, actor="lei")
    assert audit(api, limit=500) == before
