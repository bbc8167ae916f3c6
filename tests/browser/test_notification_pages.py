"""The notification pages in Chromium: an admin adds a chat robot and reads its delivery log; a person
sets their own address and language; the next task reaches both, through the server's own worker."""

import re

import pytest

from engine.config import Settings
from tests.fixtures.handbook_journey import data
from tests.notifications.platforms import Mailbox, Robot, text_of

pytestmark = pytest.mark.browser


@pytest.fixture
def settings(db_url: str) -> Settings:
    """The robot of these tests listens on loopback, which a robot URL may name only when allowed."""
    return Settings(database_url=db_url, webhook_allowed_networks=["127.0.0.0/8"])


@pytest.fixture
def robot() -> object:
    found = Robot("dingtalk", secret="SECpage-test-secret-0123456789").start()
    yield found
    found.stop()


@pytest.fixture
def mailbox() -> object:
    box = Mailbox().start()
    yield box
    box.stop()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_admin_adds_a_robot_and_a_person_their_address_and_both_are_told(
    sign_in, rest, shot, robot, mailbox, lang
) -> None:
    admin = sign_in("ada", lang=lang)
    base = admin.url.split("/inbox")[0]
    admin.goto(f"{base}/admin/notifications")
    admin.wait_for_selector("#channels-empty:not([hidden])")
    assert admin.inner_text("h1") == ("通知渠道" if lang == "zh" else "Notification channels")
    admin.select_option("#c-kind", "dingtalk")
    assert admin.is_hidden("#c-host") and admin.is_visible("#c-secret")
    admin.fill("#c-name", "运营群" if lang == "zh" else "Ops group")
    admin.fill("#c-url", robot.url)
    admin.fill("#c-secret", robot.secret)
    admin.select_option("#c-language", lang)
    admin.click("#channel-form button[type=submit]")
    row = admin.wait_for_selector("#channel-rows tr")
    assert robot.secret not in row.inner_text() and robot.token not in row.inner_text()
    assert "access_token=***" in row.inner_text() and "secret, url" in row.inner_text()
    shot(admin, "channel-added")

    # An SMTP channel, through the API this time: the page lists it too.
    smtp = {"host": "127.0.0.1", "port": mailbox.port, "security": "none", "sender": "ops@example.com"}
    rest.call(
        "ada",
        "POST",
        "/api/v1/notification-channels",
        201,
        json={"name": "mail", "kind": "smtp", "settings": smtp},
    )

    person = sign_in("lei", lang=lang)
    person.goto(f"{base}/preferences")
    person.wait_for_selector("#p-events input[value=task_offered]")
    person.fill("#p-email", "not-an-address")
    person.click("#prefs-form button[type=submit]")
    assert "email" in person.wait_for_selector("#prefs-message.alert-error").inner_text()
    person.fill("#p-email", "lei@example.com")
    person.select_option("#p-language", "en")
    person.uncheck("#p-events input[value=incident]")
    person.click("#prefs-form button[type=submit]")
    person.wait_for_selector("#prefs-message.alert-success")
    shot(person, "preferences")
    saved = rest.call("lei", "GET", "/api/v1/notification-preferences/me")
    assert saved["email"] == "lei@example.com" and "incident" not in saved["event_types"]

    start = {"process_key": "ops_optimization", "business_key": "OPT-WEB", "variables": data("start_trigger")}
    rest.call("lei", "POST", "/api/v1/process-instances", 201, json=start)
    [mail] = mailbox.wait_for(1)
    assert mail["Subject"] == "New task for you: Locate the problem" and "OPT-WEB" in text_of(mail)
    [posted] = robot.wait_for(1)
    assert robot.refused == [] and "OPT-WEB" in posted["markdown"]["text"]

    admin.click("#channel-rows tr >> nth=0 >> [data-action=log]")  # the robot, the first channel
    delivered = admin.wait_for_selector("#log-rows tr[data-delivered=true]")
    assert re.search("已送达" if lang == "zh" else "delivered", delivered.inner_text())
    shot(admin, "delivery-log")
