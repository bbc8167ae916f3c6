"""E-mail notifications end to end: an SMTP channel over the API, people's addresses and languages,
events from a real handbook instance, sent to a real SMTP server on a loopback port."""

from datetime import UTC, datetime, timedelta

import time_machine

from engine.engine import ProcessEngine
from tests.fixtures.handbook_data import due_at
from tests.fixtures.handbook_journey import STAGE_1
from tests.helpers.api import Api
from tests.notifications.conftest import BASE_URL, CHANNELS, drain, email_channel, set_preferences
from tests.notifications.platforms import Mailbox, text_of


def start(api: Api, business_key: str = "OPT-7") -> dict:
    from tests.fixtures.handbook_journey import data

    return api.start("lei", data("start_trigger"), business_key=business_key)


def walk(api: Api, instance_id: str, steps: list) -> None:
    """Each step's task done by the team's person for its role (lei, dana, ...)."""
    from tests.fixtures.handbook_journey import TEAM

    for element_id, role, form_data in steps:
        task = api.task_named(TEAM[role], element_id, instance_id)
        api.complete(TEAM[role], task["id"], form_data)


def test_a_task_offered_to_someone_reaches_their_inbox_in_their_language_with_what_and_where(
    api: Api, engine: ProcessEngine, mailbox: Mailbox
) -> None:
    channel = email_channel(api, mailbox)
    set_preferences(api, "lei", language="en")
    set_preferences(api, "dana", language="zh")
    instance = start(api)
    drain(engine)

    [mail] = mailbox.wait_for(1)
    task = api.task_named("lei", "Task_locate_problem", instance["id"])
    assert mail["To"] == "lei@example.com" and mail["From"] == "opsflow@example.com"
    assert mail["Subject"] == "New task for you: Locate the problem"
    body = text_of(mail)
    assert "Instance: OPT-7 · 提升用户注册转化率" in body
    assert "Process: Operations optimization" in body
    assert f"Open the task: {BASE_URL}/tasks/{task['id']}" in body
    assert mail["Message-ID"].startswith("<") and mail["Message-ID"].endswith("@opsflow>")
    assert mailbox.envelopes == [("opsflow@example.com", ["lei@example.com"])]

    # Through stage 1 to the diagnosis: dana's first task has a due date, and she reads Chinese.
    walk(api, instance["id"], STAGE_1)
    drain(engine)
    [to_dana] = mailbox.to("dana@example.com")
    assert to_dana["Subject"] == "任务已指派给你：数据收集与清洗"  # the team's one data member
    body = text_of(to_dana)
    assert "实例: OPT-7 · 提升用户注册转化率" in body
    assert (
        f"截止: {due_at('diagnosis'):%Y-%m-%d} 08:00 (Asia/Shanghai)" in body
    )  # the milestone, end of day UTC
    collect = api.task_named("dana", "Task_collect_data", instance["id"])
    assert f"{BASE_URL}/tasks/{collect['id']}" in body

    # Each message went once, and the channel's log says so.
    drain(engine)
    subjects = [m["Subject"] for m in mailbox.messages]
    assert len(subjects) == len(set(m["Message-ID"] for m in mailbox.messages))
    log = api.call("ada", "GET", f"{CHANNELS}/{channel['id']}/deliveries")
    assert log["total"] == len(mailbox.messages) and all(d["delivered"] for d in log["items"])
    sent = api.call("ada", "GET", f"{CHANNELS}/{channel['id']}/notifications", params={"status": "sent"})
    assert sent["total"] == len(mailbox.messages)


def test_people_without_an_address_or_who_opted_out_of_an_event_get_no_email(
    api: Api, engine: ProcessEngine, mailbox: Mailbox
) -> None:
    email_channel(api, mailbox)
    set_preferences(api, "lei", event_types=["instance_completed"])
    instance = start(api)
    drain(engine)
    assert mailbox.messages == []

    task = api.task_named("lei", "Task_locate_problem", instance["id"])
    api.complete("lei", task["id"], {**_locate(), "problem_type": "short_term"})  # ends the instance
    drain(engine)
    [mail] = mailbox.wait_for(1)
    assert mail["Subject"] == "流程已完成：OPT-7 · 提升用户注册转化率"
    assert "结果: keep_observing" in text_of(mail)
    assert f"{BASE_URL}/instances/{instance['id']}" in text_of(mail)


def test_a_designer_can_switch_a_process_s_notifications_off(
    api: Api, engine: ProcessEngine, mailbox: Mailbox
) -> None:
    email_channel(api, mailbox)
    set_preferences(api, "lei")
    path = "/api/v1/process-notifications/ops_optimization"
    assert api.call("dora", "GET", path)["customized"] is False
    api.call("lei", "PUT", path, 403, json={"event_types": []})
    api.call("dora", "PUT", path, 422, json={"event_types": ["task_created"]})
    assert api.call("dora", "PUT", path, json={"event_types": ["incident"]})["event_types"] == ["incident"]
    start(api)
    drain(engine)
    assert mailbox.messages == []


def test_an_email_during_quiet_hours_waits_until_they_end(
    api: Api, engine: ProcessEngine, mailbox: Mailbox
) -> None:
    email_channel(api, mailbox)
    set_preferences(api, "lei", quiet_start="22:00", quiet_end="07:30", timezone="Asia/Shanghai")
    late_evening = datetime(2026, 12, 2, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai
    with time_machine.travel(late_evening, tick=False) as clock:
        start(api)
        drain(engine)
        assert mailbox.messages == []
        clock.move_to(datetime(2026, 12, 2, 23, 29, tzinfo=UTC))  # 07:29 in Shanghai
        drain(engine)
        assert mailbox.messages == []
        clock.move_to(datetime(2026, 12, 2, 23, 31, tzinfo=UTC))
        drain(engine)
    [mail] = mailbox.wait_for(1)
    assert mail["Subject"] == "新任务待处理：问题初步定位"


def test_a_server_that_refuses_is_retried_with_backoff_and_the_mail_arrives_once(
    api: Api, engine: ProcessEngine
) -> None:
    box = Mailbox(user="opsflow", password="smtp-pass-123")  # down: nothing listens yet
    channel = email_channel(api, box)
    set_preferences(api, "lei")
    with time_machine.travel(datetime.now(UTC), tick=False) as clock:
        start(api)
        drain(engine)
        log = api.call("ada", "GET", f"{CHANNELS}/{channel['id']}/deliveries")
        assert log["total"] == 1 and log["items"][0]["delivered"] is False
        assert "Connection" in log["items"][0]["error"] or "refused" in log["items"][0]["error"]
        box.start()
        try:
            clock.shift(timedelta(minutes=11))
            drain(engine)
            box.wait_for(1)
            clock.shift(timedelta(minutes=11))
            drain(engine)
            assert len(box.messages) == 1
        finally:
            box.stop()
    log = api.call("ada", "GET", f"{CHANNELS}/{channel['id']}/deliveries")
    assert [d["delivered"] for d in log["items"]] == [True, False]


def test_wrong_smtp_credentials_are_logged_as_a_failed_delivery(
    api: Api, engine: ProcessEngine, mailbox: Mailbox
) -> None:
    channel = email_channel(api, mailbox, secrets={"password": "not-the-password"})
    set_preferences(api, "lei")
    start(api)
    drain(engine)
    assert mailbox.messages == []
    [attempt] = api.call("ada", "GET", f"{CHANNELS}/{channel['id']}/deliveries")["items"]
    assert attempt["delivered"] is False and "535" in attempt["error"]
    [queued] = api.call("ada", "GET", f"{CHANNELS}/{channel['id']}/notifications")["items"]
    assert queued["status"] == "queued" and queued["attempts"] == 1 and queued["recipient"] == "lei"


def _locate() -> dict:
    from tests.fixtures.handbook_data import VALID

    return dict(VALID["locate_problem"])
