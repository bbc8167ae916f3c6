"""A read (Transactions.read) leaves nothing behind: on PostgreSQL it runs without a transaction
(autocommit: no BEGIN/ROLLBACK round trips) and a write there is refused before it reaches the database;
on SQLite the read's transaction is rolled back."""

import pytest
import sqlalchemy as sa

from engine.engine import ProcessEngine
from engine.storage.db import ReadOnlyTransaction
from engine.storage.tables import GroupRow, utcnow
from engine.storage.uow import Transactions, UnitOfWork

GROUP = GroupRow.__table__


def write_a_group(uow: UnitOfWork) -> None:
    uow.session.connection().execute(GROUP.insert().values(id="read-only", name_en="x", created_at=utcnow()))


def test_a_read_that_writes_leaves_nothing(engine: ProcessEngine) -> None:
    tx = Transactions(engine.db)
    if engine.db.dialect.name == "postgresql":
        with pytest.raises(ReadOnlyTransaction, match="tried to write"):
            tx.read(write_a_group)
    else:
        tx.read(write_a_group)
    with engine.db.connect() as conn:
        assert conn.execute(sa.select(GROUP.c.id).where(GROUP.c.id == "read-only")).first() is None


def test_a_read_sees_what_was_committed_before_it(engine: ProcessEngine) -> None:
    tx = Transactions(engine.db)
    tx.write(
        lambda uow: uow.session.connection().execute(
            GROUP.insert().values(id="seen", name_en="x", created_at=utcnow())
        )
    )
    found = tx.read(
        lambda uow: (
            uow.session.connection().execute(sa.select(GROUP.c.id).where(GROUP.c.id == "seen")).scalar()
        )
    )
    assert found == "seen"
