"""the inbox sorts by due date, filters overdue tasks and filters by stage on indexes of task_candidate:
due_at and stage copied from the task; open_task's own stage and due_at indexes go (a planner without
statistics chose the stage index over the assignee's for "my tasks in this stage")

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import engine.storage.tables

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("task_candidate", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("due_at", engine.storage.tables.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("stage", sa.String(length=64), nullable=True))
    op.execute(
        "UPDATE task_candidate SET"
        " due_at = (SELECT open_task.due_at FROM open_task WHERE open_task.id = task_candidate.task_id),"
        " stage = (SELECT open_task.stage FROM open_task WHERE open_task.id = task_candidate.task_id)"
    )
    with op.batch_alter_table("task_candidate", schema=None) as batch_op:
        batch_op.create_index(
            "ix_task_candidate_offer_due", ["kind", "value", "open", "due_at", "task_id", "created_at"]
        )
        batch_op.create_index(
            "ix_task_candidate_offer_stage", ["kind", "value", "open", "stage", "created_at", "task_id"]
        )
    with op.batch_alter_table("open_task", schema=None) as batch_op:
        batch_op.drop_index("ix_open_task_stage")
        batch_op.drop_index("ix_open_task_due_at")


def downgrade() -> None:
    with op.batch_alter_table("open_task", schema=None) as batch_op:
        batch_op.create_index("ix_open_task_due_at", ["due_at"], unique=False)
        batch_op.create_index("ix_open_task_stage", ["stage"], unique=False)
    with op.batch_alter_table("task_candidate", schema=None) as batch_op:
        batch_op.drop_index("ix_task_candidate_offer_stage")
        batch_op.drop_index("ix_task_candidate_offer_due")
        batch_op.drop_column("stage")
        batch_op.drop_column("due_at")
