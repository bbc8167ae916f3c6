"""the "offered to me" inbox reads an index of task_candidate: open, created_at and process_key copied
from the task

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import engine.storage.tables

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("task_candidate", schema=None) as batch_op:
        batch_op.add_column(sa.Column("open", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(
            sa.Column("created_at", engine.storage.tables.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("process_key", sa.String(length=200), nullable=True))
    op.execute(
        "UPDATE task_candidate SET"
        " open = (SELECT open_task.assignee IS NULL FROM open_task WHERE open_task.id = task_candidate.task_id),"
        " created_at = (SELECT open_task.created_at FROM open_task WHERE open_task.id = task_candidate.task_id),"
        " process_key = (SELECT open_task.process_key FROM open_task WHERE open_task.id = task_candidate.task_id)"
    )
    with op.batch_alter_table("task_candidate", schema=None) as batch_op:
        batch_op.create_index("ix_task_candidate_offer", ["kind", "value", "open", "created_at", "task_id"])
        batch_op.create_index(
            "ix_task_candidate_offer_process",
            ["kind", "value", "open", "process_key", "created_at", "task_id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("task_candidate", schema=None) as batch_op:
        batch_op.drop_index("ix_task_candidate_offer_process")
        batch_op.drop_index("ix_task_candidate_offer")
        batch_op.drop_column("process_key")
        batch_op.drop_column("created_at")
        batch_op.drop_column("open")
