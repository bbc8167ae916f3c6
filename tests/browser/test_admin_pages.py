"""The admin pages in Chromium: ada (admin) manages users, groups, API keys, webhooks and reads the
audit log, in Chinese and in English; anyone else sees no link to them and no data in them."""

import re
import time

import httpx
import pytest
from playwright.sync_api import expect

from engine.config import Settings
from tests.fixtures.handbook_data import VALID
from tests.integration.receiver import Receiver

pytestmark = pytest.mark.browser


@pytest.fixture
def settings(db_url: str) -> Settings:
    """The webhook receiver of these tests listens on loopback, which webhooks may reach only when allowed."""
    return Settings(database_url=db_url, webhook_allowed_networks=["127.0.0.0/8"])


def start(rest: object) -> str:
    body = {"process_key": "ops_optimization", "variables": VALID["start_trigger"]}
    return rest.call("lei", "POST", "/api/v1/process-instances", 201, json=body)["id"]


def open_admin(page: object, tab: str) -> None:
    page.click("#main-nav a[data-nav=admin]")
    page.wait_for_url(re.compile(r"/admin/users"))
    if tab != "users":
        page.click(f".admin-tabs a[data-admin-page={tab}]")
        page.wait_for_url(re.compile(f"/admin/{tab}"))
    expect(page.locator("#admin-content")).to_be_visible()


def test_an_admin_creates_disables_enables_a_user_and_resets_a_password(sign_in, rest, server, shot) -> None:
    ada = sign_in("ada")
    open_admin(ada, "users")
    expect(ada.locator("h1")).to_have_text("用户管理")
    expect(ada.locator('#user-rows tr[data-user="dana"]')).to_contain_text("数据组")

    ada.fill("#user-name", "nina")
    ada.fill("#user-display", "Nina")
    ada.fill("#user-password", "nina-password-1")
    ada.check('#user-groups input[value="data"]')
    ada.click("#user-form button[type=submit]")
    row = ada.locator('#user-rows tr[data-user="nina"]')
    expect(row).to_contain_text("Nina")
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "active")
    shot(ada, "01-user-created")

    nina = httpx.Client(base_url=server, timeout=30)
    token = nina.post("/api/v1/session", json={"name": "nina", "password": "nina-password-1"}).json()["token"]
    assert nina.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200

    row.locator("[data-action=disable]").click()
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "disabled")
    expect(ada.locator("#admin-status")).to_contain_text("已停用 nina")
    assert nina.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    refused = nina.post("/api/v1/session", json={"name": "nina", "password": "nina-password-1"})
    assert refused.status_code == 401
    shot(ada, "02-user-disabled")

    row.locator("[data-action=enable]").click()
    expect(row.locator("[data-status]")).to_have_attribute("data-status", "active")
    row.locator("[data-action=reset-password]").click()
    expect(ada.locator("#user-secret")).to_be_visible()
    new_password = ada.locator("#user-secret-value").inner_text().strip()
    assert len(new_password) == 16
    old = nina.post("/api/v1/session", json={"name": "nina", "password": "nina-password-1"})
    assert old.status_code == 401
    assert nina.post("/api/v1/session", json={"name": "nina", "password": new_password}).status_code == 200
    expect(ada.locator('#user-rows tr[data-user="ada"] [data-action=disable]')).to_have_count(0)
    shot(ada, "03-password-reset")
    nina.close()

    # her groups: data and support now
    row.locator("[data-action=edit-groups]").click()
    expect(ada.locator("#groups-editor")).to_be_visible()
    expect(ada.locator('#edit-groups input[value="data"]')).to_be_checked()
    ada.check('#edit-groups input[value="support"]')
    ada.click("#groups-form button[type=submit]")
    expect(row.locator("[data-field=groups]")).to_have_text("数据组, 支持组")
    assert rest.call("ada", "GET", "/api/v1/users/nina")["groups"] == ["data", "support"]
    shot(ada, "04-groups-changed")


def test_an_admin_creates_a_group_and_fills_it(sign_in, rest, shot) -> None:
    ada = sign_in("ada", lang="en")
    open_admin(ada, "groups")
    expect(ada.locator("h1")).to_have_text("Groups")
    expect(ada.locator('#group-rows tr[data-group="data"] [data-member="dana"]')).to_be_visible()

    ada.fill("#group-id", "accounting")
    ada.fill("#group-name-zh", "会计")
    ada.fill("#group-name-en", "Accounting")
    ada.click("#group-form button[type=submit]")
    row = ada.locator('#group-rows tr[data-group="accounting"]')
    expect(row).to_contain_text("Accounting")
    expect(row.locator("[data-field=members]")).to_have_text("No members")
    for name in ("eric", "sara"):
        row.locator("[data-field=new-member]").select_option(name)
        row.locator("[data-action=add-member]").click()
        expect(row.locator(f'[data-member="{name}"]')).to_be_visible()
    assert rest.call("eric", "GET", "/api/v1/me")["groups"] == ["accounting", "execution"]
    shot(ada, "01-group-filled")

    row.locator('[data-member="sara"] [data-action=remove-member]').click()
    expect(row.locator('[data-member="sara"]')).to_have_count(0)
    assert rest.call("ada", "GET", "/api/v1/groups/accounting")["members"] == ["eric"]

    ada.locator('#group-rows tr[data-group="leader"] [data-action=delete]').click()
    expect(ada.locator("#admin-status")).to_contain_text("cannot be deleted")
    row.locator("[data-action=delete]").click()
    expect(row).to_have_count(0)
    ada.click("#lang-switch")  # the names follow the language
    expect(ada.locator('#group-rows tr[data-group="data"] td').first).to_have_text("数据组")
    shot(ada, "02-group-deleted")


def test_an_admin_creates_an_api_key_sees_its_last_use_and_revokes_it(sign_in, server, shot) -> None:
    ada = sign_in("ada", lang="en")
    open_admin(ada, "api-keys")
    expect(ada.locator("h1")).to_have_text("API keys")
    ada.fill("#key-name", "Monitoring")
    ada.fill("#key-system", "monitoring")
    ada.check('#key-scopes input[value="instances:read"]')
    ada.click("#key-form button[type=submit]")
    expect(ada.locator("#key-secret")).to_be_visible()
    key = ada.locator("#key-secret-value").inner_text().strip()
    assert key.startswith("opf_key_")
    row = ada.locator('#key-rows tr[data-key-name="Monitoring"]')
    expect(row.locator("[data-field=last_used]")).to_have_text("never")
    expect(row).to_contain_text("instances:read")
    shot(ada, "01-key-created")

    headers = {"Authorization": f"Bearer {key}"}
    assert httpx.get(f"{server}/api/v1/process-instances", headers=headers).status_code == 200
    ada.reload()
    expect(row.locator("[data-field=last_used]")).not_to_have_text("never")
    expect(ada.locator("#key-secret")).to_be_hidden()  # shown once: not after a reload

    row.locator("[data-action=revoke]").click()
    expect(row.locator("[data-field=status]")).to_have_text("Revoked")
    assert httpx.get(f"{server}/api/v1/process-instances", headers=headers).status_code == 401
    shot(ada, "02-key-revoked")


def test_an_admin_subscribes_a_webhook_reads_its_deliveries_and_redelivers(sign_in, rest, shot) -> None:
    receiver = Receiver().start()
    try:
        ada = sign_in("ada")
        open_admin(ada, "webhooks")
        ada.fill("#hook-url", receiver.url)
        ada.check('#hook-types input[value="instance.started"]')
        ada.click("#hook-form button[type=submit]")
        expect(ada.locator("#hook-secret-value")).to_contain_text("whsec_")
        row = ada.locator(f'#hook-rows tr[data-url="{receiver.url}"]')
        expect(row.locator("[data-field=status]")).to_have_text("投递中")

        start(rest)
        deadline = time.monotonic() + 20
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [r.event["type"] for r in receiver.received] == ["instance.started"]

        row.locator("[data-action=deliveries]").click()
        first = ada.locator("#delivery-rows tr[data-attempt='1']")
        expect(first).to_have_attribute("data-delivered", "true")
        expect(first).to_contain_text("instance.started")
        shot(ada, "01-deliveries")

        first.locator("[data-action=redeliver]").click()
        expect(ada.locator("#admin-status")).to_contain_text("已安排重新投递")
        deadline = time.monotonic() + 20
        while len(receiver.received) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        first_sent, second_sent = receiver.received[:2]
        assert first_sent.delivery == second_sent.delivery  # the same event id, sent again
        row.locator("[data-action=deliveries]").click()
        expect(ada.locator("#delivery-rows tr")).to_have_count(2)

        row.locator("[data-action=pause]").click()
        expect(row.locator("[data-field=status]")).to_have_text("已暂停")
        shot(ada, "02-paused")
    finally:
        receiver.stop()


def test_an_admin_filters_and_pages_the_audit_log(sign_in, rest, shot) -> None:
    for i in range(55):
        rest.call("ada", "POST", "/api/v1/users", 201, json={"name": f"temp{i:02d}", "groups": ["support"]})
    ada = sign_in("ada", lang="en")
    open_admin(ada, "audit")
    ada.fill("#f-actor", "ada")
    ada.fill("#f-type", "user_created")
    expect(ada.locator("#audit-page")).to_have_text("1–50 of 55")
    expect(ada.locator("#audit-rows tr").first).to_contain_text("temp54")
    shot(ada, "01-first-page")
    ada.click("#audit-next")
    expect(ada.locator("#audit-page")).to_have_text("51–55 of 55")
    expect(ada.locator("#audit-rows tr")).to_have_count(5)
    expect(ada.locator("#audit-rows tr").last).to_contain_text("temp00")
    expect(ada.locator("#audit-next")).to_be_disabled()

    ada.fill("#f-until", "2000-01-01T00:00")  # nothing happened before 2000
    expect(ada.locator("#audit-empty")).to_be_visible()
    expect(ada.locator("#audit-page")).to_have_text("0–0 of 0")
    ada.fill("#f-until", "")
    ada.fill("#f-type", "")
    ada.fill("#f-actor", "lei")
    instance_id = start(rest)
    ada.fill("#f-instance", instance_id)
    expect(ada.locator('#audit-rows tr[data-type="instance_started"]')).to_have_count(1)
    shot(ada, "02-filtered")


def test_only_admins_see_the_admin_link_and_pages(sign_in, rest, server, shot) -> None:
    dana = sign_in("dana")
    expect(dana.locator("#main-nav")).to_be_visible()
    expect(dana.locator("#main-nav a[data-nav=admin]")).to_be_hidden()
    for page in ("users", "groups", "api-keys", "webhooks", "audit"):
        dana.goto(f"{server}/admin/{page}")
        expect(dana.locator("#admin-forbidden")).to_be_visible()
        expect(dana.locator("#admin-content")).to_be_hidden()
    shot(dana, "01-forbidden")
    for path in ("/api/v1/api-keys", "/api/v1/webhooks", "/api/v1/audit"):
        assert rest.call("dana", "GET", path, 403)["error"] == "forbidden"
    ada = sign_in("ada")
    expect(ada.locator("#main-nav a[data-nav=admin]")).to_be_visible()
