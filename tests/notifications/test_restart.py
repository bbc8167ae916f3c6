"""A worker process killed in the middle of sending, and another started after it: every notification
arrives, and none twice. Real `opsflow worker` processes, a real SMTP server and a real robot endpoint
on loopback ports."""

import re
import time
from collections import Counter

from sqlmodel import Session, select

from engine.config import Settings
from engine.notifications import model
from engine.storage.db import make_engine
from engine.storage.tables import JobRow
from tests.fixtures.handbook_journey import data
from tests.helpers.api import Api
from tests.helpers.processes import opsflow, stop
from tests.notifications.conftest import BASE_URL, email_channel, robot_channel, set_preferences
from tests.notifications.platforms import Mailbox, Robot, text_of

KEYS = [f"OPT-{n:02d}" for n in range(1, 9)]


def keys_in(texts: list[str]) -> Counter:
    return Counter(key for text in texts for key in re.findall(r"OPT-\d\d", text))


def outbox_drained(settings: Settings, timeout: float = 60) -> None:
    db = make_engine(settings.database_url)
    try:
        deadline = time.monotonic() + timeout
        while True:
            with Session(db) as session:
                left = session.exec(select(JobRow).where(JobRow.kind.in_(("notify", model.JOB_SEND)))).all()
            if not left:
                return
            assert time.monotonic() < deadline, f"notifications still queued: {left}"
            time.sleep(0.05)
    finally:
        db.dispose()


def test_a_worker_killed_mid_delivery_loses_and_doubles_nothing(
    api: Api, settings: Settings, robots: dict[str, Robot]
) -> None:
    mailbox = Mailbox(hold_at=3).start()  # the third e-mail is held in the middle of its sending
    try:
        email_channel(api, mailbox, settings={"host": "127.0.0.1", "port": mailbox.port, "security": "none",
                                              "sender": "opsflow@example.com"}, secrets={})  # fmt: skip
        robot = robots["wecom"]
        robot_channel(api, robot, "markdown")
        set_preferences(api, "lei")
        for key in KEYS:  # committed while no worker runs: eight notify jobs wait in the outbox
            api.start("lei", data("start_trigger"), business_key=key)

        env = {"OPSFLOW_JOB_LOCK_SECONDS": "2", "OPSFLOW_WORKER_POLL_SECONDS": "0.05",
               "OPSFLOW_PUBLIC_BASE_URL": BASE_URL,
               "OPSFLOW_WEBHOOK_ALLOWED_NETWORKS": '["127.0.0.0/8"]',  # the robots listen on loopback
               # One job at a time, so that the kill lands in the held e-mail with nothing else in flight.
               # With several job threads, whatever else was in flight at the kill (a robot post the
               # platform accepted before it was recorded) is sent again after the restart: at least once,
               # as chat platforms take no idempotency key.
               "OPSFLOW_JOB_THREADS": "1"}  # fmt: skip
        worker = opsflow("worker", database_url=settings.database_url, **env)
        try:
            assert mailbox.holding.wait(60), "the worker never got to the third e-mail"
        finally:
            worker.kill()  # SIGKILL mid-conversation: no clean-up, its claims stay behind it
            worker.wait()
        mailbox.released.set()
        assert len(mailbox.messages) == 2

        restarted = opsflow("worker", database_url=settings.database_url, **env)
        try:
            mailbox.wait_for(len(KEYS), timeout=60)
            deadline = time.monotonic() + 30
            while sum(keys_in([str(m) for m in robot.messages]).values()) < len(KEYS):
                assert time.monotonic() < deadline, f"robot got {keys_in([str(m) for m in robot.messages])}"
                time.sleep(0.05)
            outbox_drained(settings)  # a duplicate could only come from a job still queued: none is left
            assert restarted.poll() is None
        finally:
            stop(restarted)
    finally:
        mailbox.stop()

    mailed = keys_in([text_of(m) for m in mailbox.messages])
    assert mailed == Counter(KEYS) and len(mailbox.messages) == len(KEYS)
    assert {m["To"] for m in mailbox.messages} == {"lei@example.com"}
    posted = keys_in([m["markdown"]["content"] for m in robot.messages])
    assert posted == Counter(KEYS) and robot.refused == [], robot.messages
