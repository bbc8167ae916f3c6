"""Schema versions, managed by Alembic migrations (never create_all)."""

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from engine.errors import OpsflowError
from engine.storage.db import writer

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaOutdated(OpsflowError):
    """The database schema is older than this code; run `opsflow db upgrade`."""


def _config(connection: sa.Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    return ScriptDirectory.from_config(_config()).get_current_head() or ""


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    # As a writer (BEGIN IMMEDIATE on SQLite): a migration reads its revision first, and a transaction
    # that began as a reader fails with "database is locked" if a running server writes before it does.
    with writer(engine).begin() as conn:
        command.upgrade(_config(conn), revision)


def downgrade(engine: sa.Engine, revision: str) -> None:
    with writer(engine).begin() as conn:
        command.downgrade(_config(conn), revision)


def ensure_current(engine: sa.Engine) -> None:
    """Create the schema in an empty database; refuse to run on an old one."""
    current = current_revision(engine)
    if current is None and not sa.inspect(engine).get_table_names():
        upgrade(engine)
        return
    if current != head_revision():
        raise SchemaOutdated(
            f"the database schema is at revision {current or 'unknown'} but this opsflow needs "
            f"{head_revision()}; run `opsflow db upgrade` first"
        )
