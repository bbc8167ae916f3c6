"""What the admin pages read: an API key's last use, and the audit log between two moments."""

from datetime import UTC, datetime, timedelta

from tests.helpers.api import Api


def test_an_api_key_shows_when_it_was_last_used(api: Api) -> None:
    body = {"name": "monitor", "system": "monitoring", "scopes": ["instances:read"]}
    created = api.call("ada", "POST", "/api/v1/api-keys", 201, json=body)
    assert created["last_used_at"] is None
    assert api.call("ada", "GET", "/api/v1/api-keys")[0]["last_used_at"] is None

    before = datetime.now(UTC)
    headers = {"Authorization": f"Bearer {created['key']}"}
    api.call(None, "GET", "/api/v1/process-instances", 200, headers=headers)
    used = datetime.fromisoformat(api.call("ada", "GET", "/api/v1/api-keys")[0]["last_used_at"])
    assert before - timedelta(seconds=1) <= used <= datetime.now(UTC)


def test_the_audit_log_is_read_between_two_moments(api: Api) -> None:
    api.call("ada", "POST", "/api/v1/users", 201, json={"name": "early", "groups": ["data"]})
    middle = datetime.now(UTC)
    api.call("ada", "POST", "/api/v1/users", 201, json={"name": "late", "groups": ["data"]})

    def created(**params: object) -> list[str]:
        page = api.call(
            "ada", "GET", "/api/v1/audit", params={"type": "user_created", "actor": "ada", **params}
        )
        return [e["details"]["user"] for e in page["items"]]

    assert created(until=middle.isoformat()) == ["early"]
    assert created(since=middle.isoformat()) == ["late"]
    assert created(since=middle.isoformat(), until=middle.isoformat()) == []


def test_an_unreadable_moment_is_a_422_naming_the_parameter(api: Api) -> None:
    body = api.call("ada", "GET", "/api/v1/audit", 422, params={"until": "yesterday"})
    assert body["problems"][0]["path"] == "query.until"
