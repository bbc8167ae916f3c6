"""task_candidate's foreign key to open_task cascades updates: the index row of a task gone is given to
the task that follows it (an UPDATE of its id), and its candidates follow

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-10
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: SQLite's foreign keys have no names: batch mode finds this one by the name the convention gives it.
_NAMING = {"fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s"}
_SQLITE_NAME = "fk_task_candidate_task_id_open_task"


def _replace_foreign_key(onupdate: str | None) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        with op.batch_alter_table("task_candidate", naming_convention=_NAMING, recreate="always") as batch_op:
            batch_op.drop_constraint(_SQLITE_NAME, type_="foreignkey")
            batch_op.create_foreign_key(
                _SQLITE_NAME, "open_task", ["task_id"], ["id"], ondelete="CASCADE", onupdate=onupdate
            )
        return
    [found] = [
        fk["name"]
        for fk in sa.inspect(bind).get_foreign_keys("task_candidate")
        if fk["referred_table"] == "open_task"
    ]
    op.drop_constraint(found, "task_candidate", type_="foreignkey")
    op.create_foreign_key(
        found, "task_candidate", "open_task", ["task_id"], ["id"], ondelete="CASCADE", onupdate=onupdate
    )


def upgrade() -> None:
    _replace_foreign_key("CASCADE")


def downgrade() -> None:
    _replace_foreign_key(None)
