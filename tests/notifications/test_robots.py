"""Chat robots end to end: WeCom, DingTalk and Feishu group robots configured over the API, told about
a real handbook instance over real HTTP, each request checked by a stand-in that verifies the
platform's URL, signature and body shape the way the platform documents them."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from engine.config import Settings
from engine.engine import ProcessEngine, build_engine
from tests.fixtures.handbook_journey import data
from tests.helpers.api import Api
from tests.notifications.conftest import BASE_URL, CHANNELS, drain, robot_channel
from tests.notifications.platforms import Robot

STYLES = [("wecom", "text"), ("wecom", "markdown"), ("dingtalk", "text"), ("dingtalk", "markdown"),
          ("feishu", "text"), ("feishu", "card")]  # fmt: skip


def message_text(kind: str, body: dict) -> str:
    """Everything a person in the group reads in the message."""
    if kind == "wecom":
        return body[body["msgtype"]]["content"]
    if kind == "dingtalk":
        part = body[body["msgtype"]]
        return part.get("content") or f"{part['title']}\n{part['text']}"
    if body["msg_type"] == "text":
        return body["content"]["text"]
    card = body["card"]
    texts = [card["header"]["title"]["content"]]
    for element in card["elements"]:
        if element["tag"] == "div":
            texts.append(element["text"]["content"])
        if element["tag"] == "action":
            texts += [f"{b['text']['content']} {b['url']}" for b in element["actions"]]
    return "\n".join(texts)


@pytest.mark.parametrize(("kind", "style"), STYLES)
def test_a_group_robot_posts_the_new_task_signed_in_the_platform_s_format(
    api: Api, engine: ProcessEngine, robots: dict[str, Robot], kind: str, style: str
) -> None:
    robot = robots[kind]
    channel = robot_channel(api, robot, style, language="en")
    assert robot.token not in str(channel)
    assert robot.secret is None or robot.secret not in str(channel)
    instance = api.start("lei", data("start_trigger"), business_key="OPT-9")
    drain(engine)

    [body] = robot.wait_for(1)
    assert robot.refused == []
    key = "msgtype" if kind != "feishu" else "msg_type"
    expected_type = {"card": "interactive"}.get(style, style)
    assert body[key] == expected_type
    if kind == "feishu":
        assert set(body) == {"timestamp", "sign", "msg_type", "card" if style == "card" else "content"}
    task = api.task_named("lei", "Task_locate_problem", instance["id"])
    text = message_text(kind, body)
    assert "New task: Locate the problem" in text
    assert "OPT-9 · 提升用户注册转化率" in text
    assert "lei" in text  # who it is for
    assert f"{BASE_URL}/tasks/{task['id']}" in text
    [logged] = api.call("ada", "GET", f"{CHANNELS}/{channel['id']}/deliveries")["items"]
    assert logged["delivered"] and logged["recipients"] == ["#group"] and logged["status_code"] == 200


def test_a_robot_with_the_wrong_signing_secret_is_refused_and_the_log_says_why(
    api: Api, engine: ProcessEngine, robots: dict[str, Robot]
) -> None:
    robot = robots["dingtalk"]
    channel = api.call(
        "ada", "POST", CHANNELS, 201,
        json={"name": "ding", "kind": "dingtalk",
              "secrets": {"url": robot.url, "secret": "SECnot-the-secret"}},
    )  # fmt: skip
    api.start("lei", data("start_trigger"))
    drain(engine)
    assert robot.messages == [] and robot.refused == ["sign not match"]
    [attempt] = api.call("ada", "GET", f"{CHANNELS}/{channel['id']}/deliveries")["items"]
    assert attempt["delivered"] is False and attempt["error"] == "dingtalk error 310000: sign not match"

    api.call("ada", "PATCH", f"{CHANNELS}/{channel['id']}", json={"secrets": {"secret": robot.secret}})
    with time_machine.travel(datetime.now(UTC) + timedelta(minutes=11), tick=True):
        drain(engine)
    assert len(robot.wait_for(1)) == 1


def test_a_robot_is_checked_again_at_delivery_and_never_reaches_an_address_now_refused(
    api: Api, settings: Settings, robots: dict[str, Robot]
) -> None:
    """Saved while the operator allowed loopback; delivered by a server whose operator no longer does:
    nothing reaches the robot, and the delivery log says why (as for webhooks, engine/webhook_targets.py)."""
    robot = robots["wecom"]
    channel = robot_channel(api, robot)
    api.start("lei", data("start_trigger"))
    stricter = build_engine(settings.model_copy(update={"webhook_allowed_networks": []}))
    try:
        drain(stricter)
    finally:
        stricter.close()
    assert robot.messages == []
    [attempt, *_] = api.call("ada", "GET", f"{CHANNELS}/{channel['id']}/deliveries")["items"]
    assert attempt["delivered"] is False and attempt["error"].startswith("refused: 127.0.0.1 is 127.0.0.1")


def test_a_robot_s_rate_limit_is_kept_by_batching_what_waits_into_one_message(
    api: Api, engine: ProcessEngine, robots: dict[str, Robot]
) -> None:
    robot = robots["wecom"]
    channel = robot_channel(api, robot, "markdown", rate_per_minute=2)
    with time_machine.travel(datetime(2026, 12, 3, 2, 0, tzinfo=UTC), tick=False) as clock:
        for n in range(1, 6):
            api.start("lei", data("start_trigger"), business_key=f"OPT-{n}")
            drain(engine)
        assert len(robot.messages) == 2  # the limit: two a minute; three notifications wait
        clock.shift(timedelta(seconds=61))
        drain(engine)
    bodies = robot.wait_for(3)
    assert len(bodies) == 3 and robot.refused == []
    third = bodies[2]["markdown"]["content"]
    assert all(f"OPT-{n}" in third for n in (3, 4, 5))
    assert "OPT-3" not in bodies[0]["markdown"]["content"] + bodies[1]["markdown"]["content"]
    log = api.call("ada", "GET", f"{CHANNELS}/{channel['id']}/deliveries")["items"]
    assert [d["notification_count"] for d in log] == [3, 1, 1]
    sent = api.call("ada", "GET", f"{CHANNELS}/{channel['id']}/notifications", params={"status": "sent"})
    assert sent["total"] == 5


def test_a_platform_that_fails_is_retried_and_each_notification_posted_once(
    api: Api, engine: ProcessEngine, robots: dict[str, Robot]
) -> None:
    robot = robots["feishu"]
    robot.answers = [500, 503]
    channel = robot_channel(api, robot, "card")
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        api.start("lei", data("start_trigger"), business_key="OPT-1")
        api.start("lei", data("start_trigger"), business_key="OPT-2")
        for _ in range(4):
            drain(engine)
            clock.shift(timedelta(minutes=11))
    [body] = robot.wait_for(1)
    text = message_text("feishu", body)
    assert "OPT-1" in text and "OPT-2" in text
    log = api.call("ada", "GET", f"{CHANNELS}/{channel['id']}/deliveries")["items"]
    assert [d["delivered"] for d in log] == [True, False, False]
    assert log[1]["status_code"] == 503


def test_secrets_are_never_shown_back_and_bad_settings_say_where(api: Api, robots: dict[str, Robot]) -> None:
    robot = robots["feishu"]
    channel = robot_channel(api, robot, "card")
    for shown in (
        channel,
        api.call("ada", "GET", f"{CHANNELS}/{channel['id']}"),
        *api.call("ada", "GET", CHANNELS),
    ):
        assert robot.token not in str(shown) and robot.secret not in str(shown)
        assert shown["secrets_set"] == ["secret", "url"]
        assert shown["url"] == f"http://127.0.0.1:{robot.port}/open-apis/bot/v2/hook/***"
    changed = api.call("ada", "PATCH", f"{CHANNELS}/{channel['id']}", json={"settings": {"language": "en"}})
    assert changed["settings"]["language"] == "en" and changed["secrets_set"] == ["secret", "url"]
    removed = api.call("ada", "PATCH", f"{CHANNELS}/{channel['id']}", json={"secrets": {"secret": None}})
    assert removed["secrets_set"] == ["url"]

    api.call("lei", "GET", CHANNELS, 403)
    api.call("lei", "POST", CHANNELS, 403, json={"name": "x", "kind": "wecom", "secrets": {"url": robot.url}})
    bad = api.call(
        "ada", "POST", CHANNELS, 422,
        json={"name": "x", "kind": "smtp", "settings": {"port": 70000, "security": "ssl"},
              "event_types": ["x"]},
    )  # fmt: skip
    paths = {p["path"] for p in bad["problems"]}
    assert {"settings.host", "settings.port", "settings.security", "settings.sender"} <= paths
    bad = api.call(
        "ada", "POST", CHANNELS, 422, json={"name": "x", "kind": "wecom", "secrets": {"url": "ftp://x"}}
    )
    assert [p["path"] for p in bad["problems"]] == ["secrets.url"]
    assert (
        api.call("ada", "POST", CHANNELS, 422, json={"name": "x", "kind": "sms"})["problems"][0]["path"]
        == "kind"
    )
    api.call("ada", "DELETE", f"{CHANNELS}/{channel['id']}", 204)
    api.call("ada", "GET", f"{CHANNELS}/{channel['id']}", 404)
