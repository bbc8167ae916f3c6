"""Webhooks reach public addresses only (unless the operator names a network of their own): a URL that
leads into the server's own network, in any spelling, is refused when it is saved and again at every
delivery, and the delivery log never shows what a receiver answered."""

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from engine.storage.db import make_engine
from engine.storage.tables import WebhookSubscriptionRow
from engine.webhook_targets import RefusedTarget, TargetPolicy
from tests.integration.receiver import Receiver
from tests.security.conftest import World

HOOKS = "/api/v1/webhooks"
INSIDE = [
    "http://localhost/x",
    "http://LOCALHOST./x",
    "http://app.localhost:8080/x",
    "http://127.0.0.1/x",
    "http://127.1/x",
    "http://2130706433/x",  # 127.0.0.1 as one number
    "http://0x7f.1/x",
    "http://0x7f000001/x",
    "http://0177.0.0.1/x",  # octal
    "http://[::1]/x",
    "http://[::ffff:127.0.0.1]/x",
    "http://[::ffff:7f00:1]/x",
    "http://0.0.0.0/x",
    "http://10.1.2.3/x",
    "http://172.16.0.1/x",
    "http://192.168.1.1/x",
    "http://100.64.0.1/x",  # carrier-grade NAT
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata, link-local
    "http://[fe80::1%25eth0]/x",
    "http://[fd00::1]/x",
    "http://224.0.0.1/x",
    "https://user:pw@127.0.0.1:8443/x",
]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.mark.parametrize("url", INSIDE)
def test_a_webhook_into_the_servers_own_network_is_refused_with_422(world: World, url: str) -> None:
    response = world.api.client.post(
        HOOKS,
        json={"url": url, "event_types": ["*"]},
        headers={"Authorization": f"Bearer {world.api.tokens['ada']}"},
    )
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem["path"] == "url" and "OPSFLOW_WEBHOOK_ALLOWED_NETWORKS" in problem["message"]


def test_a_webhook_cannot_be_moved_into_the_servers_own_network_either(world: World) -> None:
    hook = world.api.call(
        "ada", "POST", HOOKS, 201, json={"url": "https://93.184.215.14/x", "event_types": ["*"]}
    )
    answer = world.api.call("ada", "PATCH", f"{HOOKS}/{hook['id']}", 422, json={"url": "http://0x7f.1/"})
    assert answer["problems"][0]["path"] == "url"
    assert world.api.call("ada", "GET", f"{HOOKS}/{hook['id']}")["url"] == "https://93.184.215.14/x"
    world.api.call("ada", "DELETE", f"{HOOKS}/{hook['id']}", 204)


def test_a_delivery_is_checked_again_and_never_reaches_an_address_now_refused(
    world: World, receiver: Receiver
) -> None:
    """A subscription whose name now leads inside (a DNS change; or saved before this rule) is stopped
    at delivery: the receiver gets nothing and the log says why."""
    hook = world.api.call(
        "ada", "POST", HOOKS, 201, json={"url": "https://93.184.215.14/x", "event_types": ["*"]}
    )
    db = make_engine(world.settings.database_url)
    with db.begin() as conn:  # the name now resolves to the receiver on loopback
        conn.execute(
            sa.update(WebhookSubscriptionRow)
            .where(WebhookSubscriptionRow.id == hook["id"])
            .values(url=receiver.url)
        )
    db.dispose()
    world.api.start("lei", {}, process_key="approval")
    world.engine.jobs.run_due_jobs()
    assert receiver.requests == []
    [attempt, *_] = world.api.call("ada", "GET", f"{HOOKS}/{hook['id']}/deliveries")["items"]
    assert attempt["status_code"] is None and attempt["error"].startswith("refused: 127.0.0.1 is 127.0.0.1")
    world.api.call("ada", "DELETE", f"{HOOKS}/{hook['id']}", 204)


def test_a_named_network_is_reachable_and_nothing_else_inside_is() -> None:
    policy = TargetPolicy(["127.0.0.0/8"])
    assert policy.resolve("http://127.0.0.1:9000/hook").url == "http://127.0.0.1:9000/hook"
    assert policy.resolve("http://0x7f.1/hook").address.compressed == "127.0.0.1"
    for url in ("http://10.0.0.1/", "http://[::1]/", "http://169.254.169.254/"):
        with pytest.raises(RefusedTarget):
            policy.resolve(url)


def test_the_delivery_goes_to_the_checked_address_with_the_name_kept_for_the_receiver() -> None:
    target = TargetPolicy(["127.0.0.0/8", "::1/128"]).resolve("https://u:p@127.1:8443/hook?x=1")
    assert (target.url, target.host) == ("https://u:p@127.0.0.1:8443/hook?x=1", "127.1")
    assert TargetPolicy(["::1/128"]).resolve("http://[::1]:81/h").url == "http://[::1]:81/h"


@pytest.mark.parametrize("url", ["http://0x7f.1/send?key=k", "http://169.254.169.254/x", "http://[::1]/x"])
@pytest.mark.parametrize("kind", ["wecom", "dingtalk", "feishu"])
def test_a_chat_robot_url_into_the_servers_own_network_is_refused_like_a_webhook(
    world: World, kind: str, url: str
) -> None:
    secrets = {"url": url} if kind == "wecom" else {"url": url, "secret": "signing-secret-0123456789"}
    answer = world.api.call(
        "ada",
        "POST",
        "/api/v1/notification-channels",
        422,
        json={"name": f"robot {kind}", "kind": kind, "settings": {}, "secrets": secrets},
    )
    [problem] = answer["problems"]
    assert problem["path"] == "secrets.url" and "OPSFLOW_WEBHOOK_ALLOWED_NETWORKS" in problem["message"]
