"""task history for the analytics: one row per task execution, per-step weekly histograms, the
handbook's goal figures per instance, and the process_instance indexes the period queries read; the
tables filled from the audit log and the instances' data

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import engine.storage.tables

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    string = sqlmodel.sql.sqltypes.AutoString
    moment = engine.storage.tables.UTCDateTime(timezone=True)
    op.create_table(
        "task_history",
        sa.Column("task_id", string(length=36), nullable=False),
        sa.Column("instance_id", string(length=36), nullable=False),
        sa.Column("definition_id", string(length=36), nullable=False),
        sa.Column("element_id", string(length=200), nullable=False),
        sa.Column("nth", sa.Integer(), nullable=False),
        sa.Column("came_from", string(length=200), nullable=True),
        sa.Column("created_at", moment, nullable=True),
        sa.Column("claimed_at", moment, nullable=True),
        sa.Column("claimed_by", string(length=64), nullable=True),
        sa.Column("completed_at", moment, nullable=True),
        sa.Column("completed_by", string(length=64), nullable=True),
        sa.Column("completed_seq", sa.Integer(), nullable=True),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("waiting_seconds", sa.Float(), nullable=True),
        sa.Column("work_seconds", sa.Float(), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("task_id"),
    )
    op.create_index(
        "ix_task_history_instance_element", "task_history", ["instance_id", "element_id", "nth"], unique=False
    )
    op.create_index(
        "ix_task_history_instance_completed", "task_history", ["instance_id", "completed_seq"], unique=False
    )
    op.create_index(
        "ix_task_history_definition_created", "task_history", ["definition_id", "created_at"], unique=False
    )
    op.create_index(
        "ix_task_history_again",
        "task_history",
        ["definition_id", "came_from", "element_id", "instance_id", "created_at"],
        unique=False,
        sqlite_where=sa.text("nth > 1"),
        postgresql_where=sa.text("nth > 1"),
    )
    op.create_table(
        "step_week",
        sa.Column("definition_id", string(length=36), nullable=False),
        sa.Column("element_id", string(length=200), nullable=False),
        sa.Column("measure", string(length=8), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("definition_id", "element_id", "measure", "bucket", "week"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "instance_goal",
        sa.Column("instance_id", string(length=36), nullable=False),
        sa.Column("process_key", string(length=200), nullable=False),
        sa.Column("business_key", string(length=200), nullable=True),
        sa.Column("started_at", moment, nullable=False),
        sa.Column("status", string(length=16), nullable=False),
        sa.Column("metric", sa.Text(), nullable=False),
        sa.Column("unit", sa.Text(), nullable=True),
        sa.Column("baseline", sa.Float(), nullable=True),
        sa.Column("target", sa.Float(), nullable=True),
        sa.Column("before", sa.Float(), nullable=True),
        sa.Column("after", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("instance_id"),
    )
    op.create_index(
        "ix_instance_goal_process_started",
        "instance_goal",
        ["process_key", "started_at", "instance_id"],
        unique=False,
    )
    op.create_index(
        "ix_process_instance_definition_started",
        "process_instance",
        ["definition_id", "started_at"],
        unique=False,
    )
    op.create_index(
        "ix_process_instance_definition_ended",
        "process_instance",
        ["definition_id", "ended_at", "status", "outcome", "started_at"],
        unique=False,
    )
    # The history so far, projected as the engine projects new events and data (an upgraded database
    # shows the figures it showed before), by the engine's own projections.
    from engine import goals, task_history

    task_history.rebuild(op.get_bind())
    goals.rebuild(op.get_bind())


def downgrade() -> None:
    op.drop_index("ix_process_instance_definition_ended", table_name="process_instance")
    op.drop_index("ix_process_instance_definition_started", table_name="process_instance")
    op.drop_index("ix_instance_goal_process_started", table_name="instance_goal")
    op.drop_table("instance_goal")
    op.drop_table("step_week")
    op.drop_index("ix_task_history_again", table_name="task_history")
    op.drop_index("ix_task_history_definition_created", table_name="task_history")
    op.drop_index("ix_task_history_instance_completed", table_name="task_history")
    op.drop_index("ix_task_history_instance_element", table_name="task_history")
    op.drop_table("task_history")
