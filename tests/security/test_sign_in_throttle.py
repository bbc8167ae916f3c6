"""Wrong passwords slow down the address they come from, not the person whose name they guess: after
five from one address that address is refused (429) for that name, while the owner, signing in from
anywhere else, still gets in. Over a real server behind a proxy (X-Forwarded-For from loopback, which
uvicorn trusts), on SQLite and PostgreSQL: the failures are counted in the database."""

from collections.abc import Iterator

import httpx
import pytest

from api.main import create_app
from engine.config import Settings
from engine.engine import ProcessEngine
from tests.helpers.server import live_server

ATTACKER, OWNER, ELSEWHERE = "203.0.113.5", "198.51.100.7", "192.0.2.44"
PASSWORD = "right-password"


@pytest.fixture
def server(engine: ProcessEngine, settings: Settings) -> Iterator[httpx.Client]:
    engine.identity.create_user("mei", ["data"], password=PASSWORD)
    engine.identity.create_user("ada", ["admin"])
    with (
        live_server(create_app(settings, engine=engine)) as url,
        httpx.Client(base_url=url, timeout=30) as client,
    ):
        yield client


def sign_in(client: httpx.Client, address: str, password: str) -> httpx.Response:
    return client.post(
        "/api/v1/session", json={"name": "mei", "password": password}, headers={"X-Forwarded-For": address}
    )


def test_guessing_at_a_name_does_not_lock_its_owner_out(server: httpx.Client) -> None:
    for _ in range(5):
        assert sign_in(server, ATTACKER, "guess").status_code == 401
    refused = sign_in(server, ATTACKER, PASSWORD)
    assert refused.status_code == 429 and refused.json()["error"] == "too_many_attempts"
    assert refused.headers["Retry-After"] == "900"

    owner = sign_in(server, OWNER, PASSWORD)
    assert owner.status_code == 200 and owner.json()["token"]
    assert sign_in(server, ELSEWHERE, "typo").status_code == 401  # a slip elsewhere is just a 401


def test_the_audit_log_shows_each_failure_with_its_address(
    server: httpx.Client, engine: ProcessEngine
) -> None:
    for address in (ATTACKER, ATTACKER, OWNER):
        assert sign_in(server, address, "guess").status_code == 401
    admin = {"Authorization": f"Bearer {engine.identity.issue_token('ada')}"}
    log = server.get("/api/v1/audit", params={"type": "sign_in_failed", "actor": "mei"}, headers=admin).json()
    assert sorted(e["details"]["client"] for e in log["items"]) == [OWNER, ATTACKER, ATTACKER]


def test_the_throttle_counts_per_name_from_one_address(server: httpx.Client, engine: ProcessEngine) -> None:
    engine.identity.create_user("mo", ["data"], password=PASSWORD)
    for _ in range(5):
        assert sign_in(server, ATTACKER, "guess").status_code == 401
    other = server.post(
        "/api/v1/session", json={"name": "mo", "password": PASSWORD}, headers={"X-Forwarded-For": ATTACKER}
    )
    assert other.status_code == 200  # the same address, another name: not refused
