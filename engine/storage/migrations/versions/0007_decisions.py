"""decisions: DMN decision definitions (versioned per decision id) and their evaluation history

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import engine.storage.tables

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "decision_definition",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("resource_name", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("dmn_xml", sa.Text(), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("hit_policy", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("deployment_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("deployed_at", engine.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["deployment_id"], ["deployment.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key", "version"),
    )
    op.create_index(op.f("ix_decision_definition_key"), "decision_definition", ["key"], unique=False)
    op.create_table(
        "decision_evaluation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", engine.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decision_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("decision_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("decision_version", sa.Integer(), nullable=False),
        sa.Column("instance_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("task_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
        sa.Column("element_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("actor", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("matched_rules", sa.JSON(), nullable=False),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["decision_id"], ["decision_definition.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_decision_evaluation_decision_key"), "decision_evaluation", ["decision_key"])
    op.create_index(op.f("ix_decision_evaluation_instance_id"), "decision_evaluation", ["instance_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_decision_evaluation_instance_id"), table_name="decision_evaluation")
    op.drop_index(op.f("ix_decision_evaluation_decision_key"), table_name="decision_evaluation")
    op.drop_table("decision_evaluation")
    op.drop_index(op.f("ix_decision_definition_key"), table_name="decision_definition")
    op.drop_table("decision_definition")
