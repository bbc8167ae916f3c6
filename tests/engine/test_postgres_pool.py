"""PostgreSQL connections: one the server closed while it sat in the pool is replaced before a
transaction uses it; one used moments ago goes straight to work, without a ping round trip."""

import os
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from engine.storage import db as storage
from engine.storage.db import make_engine
from engine.storage.uow import Transactions
from tests.conftest import POSTGRES_URL


@pytest.fixture
def postgres(_database_urls: dict) -> Iterator[sa.Engine]:
    if "postgresql" not in _database_urls:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable")
        pytest.skip("PostgreSQL is not reachable")
    engine = make_engine(POSTGRES_URL)
    yield engine
    engine.dispose()


def backend_pid(tx: Transactions) -> int:
    return tx.read(lambda uow: uow.session.connection().execute(sa.text("SELECT pg_backend_pid()")).scalar())


def test_a_connection_the_server_closed_while_idle_is_replaced(postgres: sa.Engine, monkeypatch) -> None:
    monkeypatch.setattr(storage, "PING_AFTER_IDLE_SECONDS", 0.05)
    tx = Transactions(postgres)
    first = backend_pid(tx)
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:  # as a server restart or an idle timeout would
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first}).scalar()
    admin.dispose()
    time.sleep(0.1)

    assert backend_pid(tx) != first  # answered on a new connection, no error


def test_a_connection_used_moments_ago_is_not_pinged(postgres: sa.Engine, monkeypatch) -> None:
    pings: list[object] = []
    ping = postgres.dialect.do_ping
    monkeypatch.setattr(postgres.dialect, "do_ping", lambda conn: pings.append(conn) or ping(conn))
    monkeypatch.setattr(storage, "PING_AFTER_IDLE_SECONDS", 60)
    tx = Transactions(postgres)
    for _ in range(5):
        backend_pid(tx)
    assert pings == []

    monkeypatch.setattr(storage, "PING_AFTER_IDLE_SECONDS", 0)
    backend_pid(tx)
    assert len(pings) == 1
