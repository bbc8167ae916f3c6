"""people and groups of an organisation: groups are data (app_group) and users belong to any number of
them (membership, which replaces user_role: every role a user held becomes a membership of the group of
that name); the four lanes, designer, admin and integration exist from the start. Users can be disabled.
Open tasks offered to a group say so (task_candidate.kind 'group', was 'role'), name groups of up to 64
characters, and carry Camunda's delegation (owner, delegation)

Revision ID: 0005
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import engine.storage.tables

revision: str = "0005"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The groups of the roles this schema replaces, as they were named then (frozen here: the code's
#: policy may change, a migration must not).
FORMER_ROLES = (
    ("leader", "组长", "Leader"),
    ("data", "数据组", "Data"),
    ("execution", "执行组", "Execution"),
    ("support", "支持组", "Support"),
    ("designer", "流程设计", "Designer"),
    ("admin", "管理员", "Admin"),
    ("integration", "集成账户", "Integration"),
)


def upgrade() -> None:
    group = op.create_table(
        "app_group",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("name_zh", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("name_en", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", engine.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    now = datetime.now(UTC)
    op.bulk_insert(
        group, [{"id": i, "name_zh": zh, "name_en": en, "created_at": now} for i, zh, en in FORMER_ROLES]
    )
    # A role outside the fixed set could not be written, but a database edited by hand keeps its people.
    known = ", ".join(f"'{i}'" for i, _, _ in FORMER_ROLES)
    op.get_bind().execute(
        sa.text(
            "INSERT INTO app_group (id, name_zh, name_en, created_at)"
            f" SELECT DISTINCT role, role, role, :now FROM user_role WHERE role NOT IN ({known})"
        ),
        {"now": now},
    )
    op.create_table(
        "membership",
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("group_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["app_group.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("user_id", "group_id"),
    )
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_membership_group_id"), ["group_id"], unique=False)
    op.execute("INSERT INTO membership (user_id, group_id) SELECT user_id, role FROM user_role")
    op.drop_table("user_role")

    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("disabled_at", engine.storage.tables.UTCDateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("open_task", schema=None) as batch_op:
        batch_op.add_column(sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("delegation", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=True)
        )
    _role_length(32, 64)
    op.execute("UPDATE task_candidate SET kind = 'group' WHERE kind = 'role'")


def downgrade() -> None:
    op.execute("UPDATE task_candidate SET kind = 'role' WHERE kind = 'group'")
    _role_length(64, 32)
    # Plain ALTER TABLE ... DROP COLUMN (SQLite 3.35+): a batch copy of open_task or app_user would drop
    # the table, and with it every row that references it (task_candidate cascades).
    for table, column in (("open_task", "delegation"), ("open_task", "owner"), ("app_user", "disabled_at")):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    op.create_table(
        "user_role",
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"]),
        sa.PrimaryKeyConstraint("user_id", "role"),
    )
    # Roles were the fixed set: memberships of other groups have no role to go back to.
    known = ", ".join(f"'{i}'" for i, _, _ in FORMER_ROLES)
    op.execute(
        f"INSERT INTO user_role (user_id, role) SELECT user_id, group_id FROM membership WHERE group_id IN ({known})"
    )
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_group_id"))
    op.drop_table("membership")
    op.drop_table("app_group")


def _role_length(before: int, after: int) -> None:
    """Group names in open_task.role and instance_member.role. SQLite ignores a VARCHAR's length, and
    its batch mode would copy and drop open_task, whose drop deletes every task_candidate row (ON
    DELETE CASCADE): only the other databases change the type."""
    if op.get_bind().dialect.name == "sqlite":
        return
    for table, nullable in (("open_task", True), ("instance_member", False)):
        op.alter_column(
            table,
            "role",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=before),
            type_=sqlmodel.sql.sqltypes.AutoString(length=after),
            existing_nullable=nullable,
        )
