"""The deadline path by e-mail (the reminder to the task's holder, then the escalation to the leader),
the daily digest for people who choose it, and incidents for the admins."""

from datetime import UTC, date, datetime, time, timedelta

import time_machine

from engine.engine import ProcessEngine
from tests.fixtures.handbook_data import KICKOFF_DAY, MILESTONES, due_at
from tests.fixtures.handbook_journey import STAGE_1, TEAM, data
from tests.helpers.api import Api
from tests.notifications.conftest import drain, email_channel, set_preferences
from tests.notifications.platforms import Mailbox, text_of

DIAGNOSIS_DUE = due_at("diagnosis")  # the end (UTC) of the diagnosis milestone's day
DIAGNOSIS_DAY = date.fromisoformat(MILESTONES["diagnosis"])


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), UTC)


def to_diagnosis(api: Api) -> str:
    instance = api.start("lei", data("start_trigger"), business_key="OPT-5")
    for element_id, role, form_data in STAGE_1:
        task = api.task_named(TEAM[role], element_id, instance["id"])
        api.complete(TEAM[role], task["id"], form_data)
    return instance["id"]


def subjects(mailbox: Mailbox, address: str) -> list[str]:
    return [m["Subject"] for m in mailbox.to(address)]


def test_an_overdue_task_reminds_its_holder_then_escalates_to_the_leader(
    api: Api, engine: ProcessEngine, mailbox: Mailbox
) -> None:
    email_channel(api, mailbox)
    set_preferences(api, "dana", language="en")
    set_preferences(api, "lei", language="zh")
    with time_machine.travel(at(KICKOFF_DAY + timedelta(days=1), 2), tick=False) as clock:
        api.reissue_tokens(engine)
        to_diagnosis(api)
        drain(engine)
        # the team names dana alone for the data role: the task is hers without a claim
        assert subjects(mailbox, "dana@example.com") == ["Task assigned to you: Collect and clean data"]

        clock.move_to(DIAGNOSIS_DUE + timedelta(minutes=1))
        drain(engine)
        assert subjects(mailbox, "dana@example.com")[-1] == "Task overdue: Collect and clean data"
        assert f"Due: {DIAGNOSIS_DUE:%Y-%m-%d} 08:00 (Asia/Shanghai)" in text_of(
            mailbox.to("dana@example.com")[-1]
        )
        before = len(mailbox.to("lei@example.com"))

        clock.move_to(DIAGNOSIS_DUE + timedelta(days=1, minutes=2))  # after the grace period, P1D
        drain(engine)
    [escalated] = mailbox.to("lei@example.com")[before:]
    assert escalated["Subject"] == "逾期任务已升级至组长：数据收集与清洗"
    assert "实例: OPT-5 · 提升用户注册转化率" in text_of(escalated)
    # the reminder went to the holder only, once
    assert subjects(mailbox, "dana@example.com").count("Task overdue: Collect and clean data") == 1


def test_a_person_who_chose_the_digest_gets_one_email_a_day_with_open_and_overdue_tasks(
    api: Api, engine: ProcessEngine, mailbox: Mailbox
) -> None:
    email_channel(api, mailbox)
    with time_machine.travel(at(DIAGNOSIS_DAY - timedelta(days=1), 2), tick=False) as clock:
        api.reissue_tokens(engine)
        prefs = set_preferences(api, "dana", language="en", digest=True, digest_at="09:00")
        assert prefs["digest"] is True
        instance_id = to_diagnosis(api)
        drain(engine)
        assert mailbox.to("dana@example.com") == []  # no per-event mail in digest mode

        clock.move_to(at(DIAGNOSIS_DAY, 1, 1))  # 09:01 in Shanghai
        drain(engine)
        [first] = mailbox.to("dana@example.com")
        assert first["Subject"] == "Your daily digest: 1 open tasks, 0 overdue"
        collect = api.task_named("dana", "Task_collect_data", instance_id)
        assert f"/tasks/{collect['id']}" in text_of(first)
        assert "Collect and clean data: OPT-5 · 提升用户注册转化率" in text_of(first)
        drain(engine)
        assert len(mailbox.to("dana@example.com")) == 1  # once that day

        clock.move_to(at(DIAGNOSIS_DAY + timedelta(days=1), 1, 1))  # the next morning: now overdue
        drain(engine)
    second = mailbox.to("dana@example.com")[1]
    assert second["Subject"] == "Your daily digest: 1 open tasks, 1 overdue"
    assert "overdue" in text_of(second)
    assert len(mailbox.to("dana@example.com")) == 2


def test_preferences_are_each_person_s_own_and_bad_values_say_where(api: Api) -> None:
    path = "/api/v1/notification-preferences/me"
    assert api.call("eric", "GET", path) == {
        "user": "eric", "email": None, "language": "zh",
        "event_types": ["task_offered", "task_assigned", "task_overdue", "task_escalated",
                        "instance_completed", "incident"],
        "timezone": "Asia/Shanghai", "quiet_start": None, "quiet_end": None,
        "digest": False, "digest_at": "09:00",
    }  # fmt: skip
    api.call(
        "eric",
        "PATCH",
        path,
        json={"email": "eric@example.com", "quiet_start": "22:00", "quiet_end": "07:00"},
    )
    assert api.call("eric", "GET", path)["email"] == "eric@example.com"
    assert api.call("sara", "GET", path)["email"] is None
    bad = api.call(
        "eric", "PATCH", path, 422,
        json={"email": "not-an-address", "language": "fr", "quiet_start": "25:00",
              "timezone": "Mars/Olympus"},
    )  # fmt: skip
    assert {p["path"] for p in bad["problems"]} == {"email", "language", "quiet_start", "timezone"}
    assert api.call("eric", "PATCH", path, json={"quiet_start": None})["quiet_end"] is None


def test_an_incident_tells_the_admins_what_failed_and_where(
    api: Api, engine: ProcessEngine, mailbox: Mailbox
) -> None:
    from tests.engine.conftest import DATA

    engine.repository.deploy([("deep_loop.bpmn", (DATA / "deep_loop.bpmn").read_bytes())], actor="test")
    email_channel(api, mailbox)
    set_preferences(api, "ada", language="en")
    set_preferences(api, "lei")
    instance = api.start("lei", {"limit": 3}, process_key="deep_loop", business_key="LOOP-1")  # no counter
    drain(engine)
    [mail] = mailbox.to("ada@example.com")
    assert mail["Subject"].startswith("Incident, an admin is needed: LOOP-1")
    body = text_of(mail)
    assert "Problem: " in body and "counter" in body
    assert f"/instances/{instance['id']}" in body
    assert mailbox.to("lei@example.com") == []  # incidents are for admins
