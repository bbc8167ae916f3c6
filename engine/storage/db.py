"""Database engines. Every dialect difference lives here."""

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

WRITE_OPTION = "opsflow_write"
#: SQLite's own checkpoint on commit is only the safety net: the worker checkpoints about once a second
#: (see checkpoint), so a request rarely pays for copying the WAL back at its commit.
SQLITE_AUTOCHECKPOINT_PAGES = 10_000
#: A pooled PostgreSQL connection is pinged before use only once it has sat idle this long, as HikariCP
#: does: a connection the server dropped while it was idle (a restart, an idle timeout) is replaced before
#: a transaction uses it, and a busy server does not pay a round trip per transaction for it.
PING_AFTER_IDLE_SECONDS = 0.5


def normalize_url(url: str) -> str:
    """Accept plain postgresql:// URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str) -> sa.Engine:
    url = normalize_url(url)
    if url.startswith("sqlite"):
        return _sqlite_engine(url)
    return _postgres_engine(url)


def writer(engine: sa.Engine) -> sa.Engine:
    """The same pool, marked so that transactions on SQLite take the write lock up front."""
    return engine.execution_options(**{WRITE_OPTION: True})


def reader(engine: sa.Engine) -> sa.Engine:
    """The same pool, for transactions that only read. On PostgreSQL each statement runs on its own
    (autocommit): no BEGIN and ROLLBACK round trips, and under READ COMMITTED, PostgreSQL's default,
    each statement of a transaction sees its own snapshot anyway. A write there would commit at once,
    so it is refused. SQLite keeps its transaction: in-process, it costs no round trip, and it gives the
    statements of a read one snapshot."""
    if engine.dialect.name != "postgresql":
        return engine
    autocommit = engine.execution_options(isolation_level="AUTOCOMMIT")
    event.listen(autocommit, "before_cursor_execute", _refuse_writes)
    return autocommit


def _refuse_writes(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        raise ReadOnlyTransaction(f"a read-only transaction tried to write: {statement[:80]}")


class ReadOnlyTransaction(RuntimeError):
    """A programming error: a function run by Transactions.read wrote to the database."""


def _postgres_engine(url: str) -> sa.Engine:
    engine = sa.create_engine(url, pool_size=10, max_overflow=20)

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")  # None: a new connection
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            # The pool discards this connection and checks out another (a new one if need be).
            raise sa.exc.DisconnectionError("the pooled connection was closed by the server") from exc

    return engine


def _sqlite_engine(url: str) -> sa.Engine:
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see the "begin" hook).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute(f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT_PAGES}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # BEGIN IMMEDIATE serializes writers at the start, so a read-then-write transaction never
        # fails halfway with "database is locked"; readers stay concurrent under WAL.
        immediate = conn.get_execution_options().get(WRITE_OPTION)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def checkpoint(engine: sa.Engine) -> None:
    """Copy SQLite's write-ahead log back into the database file, off the request path. PASSIVE never
    waits for readers or writers; it runs outside any transaction (a raw, autocommit connection)."""
    if not is_sqlite(engine):
        return
    conn = engine.raw_connection()
    try:
        if conn.driver_connection is not None:  # None only once the connection is closed
            conn.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        conn.close()


def batched(conn: sa.Connection) -> AbstractContextManager[object]:
    """Statements executed inside go to the database together (PostgreSQL's pipeline mode: one round
    trip until a result is read, then one more at the end), for a run of writes none of which needs an
    answer before the next. A statement's error is raised when the batch is sent, at the latest on
    leaving the block, and rowcounts are not known inside it. On SQLite (in-process): as they come."""
    if conn.dialect.name != "postgresql":
        return nullcontext()
    return _pipeline(conn)


@contextmanager
def _pipeline(conn: sa.Connection) -> Iterator[None]:
    import psycopg

    try:
        with conn.connection.driver_connection.pipeline():  # type: ignore[union-attr]
            yield
    except psycopg.Error as exc:
        # An error that arrives with the final sync comes from the driver, not from a statement
        # SQLAlchemy executed: give it SQLAlchemy's type (IntegrityError...), as any other would have.
        raise sa.exc.DBAPIError.instance(None, None, exc, psycopg.Error, dialect=conn.dialect) from exc


def is_sqlite(engine: sa.Engine) -> bool:
    return engine.dialect.name == "sqlite"


def add_to(conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]], sums: tuple[str, ...]) -> None:
    """Insert the rows, or add their `sums` columns to those of the rows already there with the same
    primary key (INSERT ... ON CONFLICT DO UPDATE on both databases). Each key at most once in `rows`."""
    if not rows:
        return
    key = (conn.dialect.name, table.name, sums)
    statement = _ADD_TO.get(key)
    if statement is None:  # built once per table: a completion adds to its step counts every time
        insert: Any
        if conn.dialect.name == "sqlite":
            from sqlalchemy.dialects.sqlite import insert
        else:
            from sqlalchemy.dialects.postgresql import insert
        plain = insert(table)
        statement = _ADD_TO[key] = plain.on_conflict_do_update(
            index_elements=[c.name for c in table.primary_key.columns],
            set_={name: table.c[name] + plain.excluded[name] for name in sums},
        )
    conn.execute(statement, rows)


_ADD_TO: dict[tuple[str, str, tuple[str, ...]], Any] = {}
