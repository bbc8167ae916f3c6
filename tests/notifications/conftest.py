from collections.abc import Iterator

import pytest

from engine.config import Settings
from engine.engine import ProcessEngine
from tests.helpers.api import Api
from tests.notifications.platforms import Mailbox, Robot

BASE_URL = "https://ops.example.com"
LOOPBACK = ["127.0.0.0/8"]
CHANNELS = "/api/v1/notification-channels"
EMAILS = {"lei": "lei@example.com", "dana": "dana@example.com", "eric": "eric@example.com",
          "sara": "sara@example.com", "ada": "ada@example.com"}  # fmt: skip


@pytest.fixture
def settings(db_url: str) -> Settings:
    """No worker inside the app: tests run the jobs themselves (or start a worker where they say so). The
    robots listen on loopback, which a robot URL may name only when the operator allows its network."""
    return Settings(
        database_url=db_url, run_worker=False, public_base_url=BASE_URL, webhook_allowed_networks=LOOPBACK
    )


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox(user="opsflow", password="smtp-pass-123").start()
    yield box
    box.stop()


@pytest.fixture
def robots() -> Iterator[dict[str, Robot]]:
    found = {
        "wecom": Robot("wecom").start(),
        "dingtalk": Robot("dingtalk", secret="SECdingtalk-signing-secret-0123456789").start(),
        "feishu": Robot("feishu", secret="feishu-signing-secret-abcdef").start(),
    }
    yield found
    for robot in found.values():
        robot.stop()


def email_channel(api: Api, mailbox: Mailbox, **extra: object) -> dict:
    body = {
        "name": "Company mail",
        "kind": "smtp",
        "settings": {"host": "127.0.0.1", "port": mailbox.port, "security": "none",
                     "sender": "opsflow@example.com", "username": "opsflow"},
        "secrets": {"password": "smtp-pass-123"},
        **extra,
    }  # fmt: skip
    return api.call("ada", "POST", CHANNELS, 201, json=body)


def robot_channel(api: Api, robot: Robot, style: str | None = None, **settings: object) -> dict:
    secrets = {"url": robot.url, **({"secret": robot.secret} if robot.secret else {})}
    if style:
        settings["style"] = style
    body = {"name": f"{robot.kind} group", "kind": robot.kind, "settings": settings, "secrets": secrets}
    return api.call("ada", "POST", CHANNELS, 201, json=body)


def set_preferences(api: Api, user: str, **prefs: object) -> dict:
    prefs.setdefault("email", EMAILS.get(user))
    return api.call(user, "PATCH", "/api/v1/notification-preferences/me", json=prefs)


def drain(engine: ProcessEngine, rounds: int = 50) -> None:
    """Run due jobs until none is left due now (fan-out, then sending)."""
    for _ in range(rounds):
        if engine.jobs.run_due_jobs() == 0:
            return
    raise AssertionError("jobs kept coming")
