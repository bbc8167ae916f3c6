"""Writes sent together (engine.storage.db.batched: PostgreSQL's pipeline mode) behave as one by one:
they all land, in order, and a failing one fails the whole transaction, which then leaves nothing."""

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from engine.engine import ProcessEngine
from engine.storage.db import batched
from engine.storage.tables import GroupRow, utcnow
from engine.storage.uow import Transactions, UnitOfWork

GROUP = GroupRow.__table__


def names(engine: ProcessEngine, prefix: str) -> set[str]:
    with engine.db.connect() as conn:
        return set(conn.execute(sa.select(GROUP.c.id).where(GROUP.c.id.like(f"{prefix}%"))).scalars())


def add(uow: UnitOfWork, *groups: str) -> None:
    conn = uow.session.connection()
    with batched(conn):
        for name in groups:
            conn.execute(GROUP.insert().values(id=name, name_en=name, created_at=utcnow()))
        conn.execute(GROUP.update().where(GROUP.c.id == groups[0]).values(name_en="first"))


def test_writes_in_a_batch_all_land_in_order(engine: ProcessEngine) -> None:
    Transactions(engine.db).write(lambda uow: add(uow, "batch-a", "batch-b"))
    assert names(engine, "batch-") == {"batch-a", "batch-b"}
    with engine.db.connect() as conn:
        first = conn.execute(sa.select(GROUP.c.name_en).where(GROUP.c.id == "batch-a")).scalar()
    assert first == "first"  # the update came after the insert it changes


def test_a_failing_write_in_a_batch_fails_the_transaction_and_leaves_nothing(engine: ProcessEngine) -> None:
    with pytest.raises(IntegrityError):
        Transactions(engine.db).write(lambda uow: add(uow, "failed-c", "failed-d", "failed-c"))
    assert names(engine, "failed-") == set()
    Transactions(engine.db).write(lambda uow: add(uow, "failed-e"))  # the connection is fine afterwards
    assert names(engine, "failed-") == {"failed-e"}
