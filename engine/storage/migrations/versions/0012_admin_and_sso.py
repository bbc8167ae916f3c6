"""admin pages and single sign-on: users can be linked to an OpenID Connect account, API keys record
when they were last used, and started sign-ons wait in sso_login for their callback

Revision ID: 0012
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import engine.storage.tables

revision: str = "0012"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Columns are added in place (a batch copy of app_user would trip the foreign keys pointing at it);
    # SQLite adds a nullable column without copying the table.
    op.add_column(
        "app_user", sa.Column("external_id", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True)
    )
    op.create_index(op.f("ix_app_user_external_id"), "app_user", ["external_id"], unique=True)
    op.add_column(
        "api_token",
        sa.Column("last_used_at", engine.storage.tables.UTCDateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "sso_login",
        sa.Column("state_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("nonce", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("code_verifier", sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
        sa.Column("next_url", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_at", engine.storage.tables.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state_hash"),
    )
    op.create_index(op.f("ix_sso_login_created_at"), "sso_login", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_sso_login_created_at"), table_name="sso_login")
    op.drop_table("sso_login")
    op.drop_column("api_token", "last_used_at")
    op.drop_index(op.f("ix_app_user_external_id"), table_name="app_user")
    op.drop_column("app_user", "external_id")
