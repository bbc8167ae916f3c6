"""migration batches: running instances moving to another version of their process, a few per job run

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import engine.storage.tables

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "migration_batch",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("process_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("target_definition_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("target_version", sa.Integer(), nullable=False),
        sa.Column("mapping", sa.JSON(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("started_by", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", engine.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", engine.storage.tables.UTCDateTime(timezone=True), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("pending", sa.JSON(), nullable=False),
        sa.Column("migrated", sa.JSON(), nullable=False),
        sa.Column("skipped", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["target_definition_id"], ["process_definition.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_migration_batch_created_at"), "migration_batch", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_migration_batch_created_at"), table_name="migration_batch")
    op.drop_table("migration_batch")
