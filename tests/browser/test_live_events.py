"""The live-update stream (/web/events): a cookie set from the bearer token, and only events about
instances the user may see."""

import json
import time

import httpx
import pytest

from tests.fixtures.handbook_data import VALID

pytestmark = pytest.mark.browser


def stream_session(server: str, rest, user: str) -> httpx.Client:
    rest.call(user, "GET", "/api/v1/me")  # signs in
    client = httpx.Client(base_url=server, timeout=10)
    r = client.post("/web/session", headers={"Authorization": f"Bearer {rest.tokens[user]}"})
    assert r.status_code == 204
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/web/events" in cookie
    return client


def read_events(client: httpx.Client, user: str, after: int, seconds: float) -> list[dict]:
    events, kind = [], None
    deadline = time.monotonic() + seconds
    timeout = httpx.Timeout(10, read=seconds)  # nothing to read for that long: the stream has said all
    params = {"user": user, "after": after}
    with client.stream("GET", "/web/events", params=params, timeout=timeout) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        try:
            for line in response.iter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind != "ready":
                    events.append(json.loads(line[6:]))
                if time.monotonic() > deadline or any(e["type"] == "task_created" for e in events):
                    break
        except httpx.ReadTimeout:
            pass
    return events


def test_the_stream_sends_only_events_of_instances_the_user_may_see(server: str, rest) -> None:
    lei, dora = stream_session(server, rest, "lei"), stream_session(server, rest, "dora")
    instance = rest.call(
        "lei",
        "POST",
        "/api/v1/process-instances",
        201,
        json={"process_key": "ops_optimization", "variables": VALID["start_trigger"]},
    )
    seen = read_events(lei, "lei", 0, seconds=5)
    assert {"instance_started", "task_created"} <= {e["type"] for e in seen}
    assert {e["instance_id"] for e in seen} == {instance["id"]}
    assert read_events(dora, "dora", 0, seconds=1.2) == []  # a designer is on no team and offered nothing
    lei.close()
    dora.close()


def test_the_stream_needs_its_cookie(server: str) -> None:
    r = httpx.get(f"{server}/web/events", params={"user": "lei"})
    assert r.status_code == 401
