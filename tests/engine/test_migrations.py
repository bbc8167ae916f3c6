"""Schema changes are migrations: a database at the first schema is refused by `serve` with a clear
message, upgraded by `opsflow db upgrade`, and keeps its data."""

import hashlib
import os
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from engine.config import Settings
from engine.engine import build_engine
from engine.seed import deploy_handbook
from engine.storage import schema
from engine.storage.db import make_engine
from tests.conftest import POSTGRES_URL
from tests.engine.conftest import ADMIN, DATA
from tests.helpers.processes import run


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path, _database_urls: dict) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    if "postgresql" not in _database_urls:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not reachable")
        pytest.skip("PostgreSQL is not reachable")
    name = f"opsflow_migration_{uuid.uuid4().hex[:8]}"
    admin = make_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    yield f"{POSTGRES_URL}?options=-csearch_path%3D{name}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
    admin.dispose()


def opsflow(*args: str, url: str) -> subprocess.CompletedProcess:
    return run(*args, database_url=url)


def test_a_database_at_the_first_schema_is_refused_then_upgraded_with_its_data(empty_database: str) -> None:
    db = make_engine(empty_database)
    schema.upgrade(db, "0001")
    token = "opf_from_the_first_release"
    now = datetime.now(UTC)
    with db.begin() as conn:  # what the first release wrote: a user with a role and a token
        conn.execute(
            sa.text(
                "INSERT INTO app_user (id, name, display_name, created_at) VALUES ('u1', 'lei', 'Lei', :t)"
            ),
            {"t": now},
        )
        conn.execute(sa.text("INSERT INTO user_role (user_id, role) VALUES ('u1', 'leader')"))
        conn.execute(
            sa.text(
                "INSERT INTO api_token (id, user_id, token_hash, label, created_at)"
                " VALUES ('t1', 'u1', :h, '', :t)"
            ),
            {"h": hashlib.sha256(token.encode()).hexdigest(), "t": now},
        )
    db.dispose()

    refused = opsflow("serve", "--port", "1", url=empty_database)
    assert refused.returncode == 1
    assert "run `opsflow db upgrade` first" in refused.stderr
    assert "Traceback" not in refused.stderr

    upgraded = opsflow("db", "upgrade", url=empty_database)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"database schema at {schema.head_revision()}" in upgraded.stdout

    engine = build_engine(Settings(database_url=empty_database))
    try:
        lei = engine.identity.authenticate(token)
        assert lei.name == "lei" and lei.groups == frozenset({"leader"}) and lei.scopes is None
        deploy_handbook(engine)
        started = engine.runtime.start_process_instance_by_key(
            "ops_optimization",
            principal=lei,
            variables={"trigger": "user_feedback", "title": "迁移之后", "description": "升级后的第一次优化"},
        )
        assert engine.tasks.inbox(principal=lei, instance_id=started.id).total == 1
    finally:
        engine.close()


def test_upgrading_copies_each_open_tasks_due_date_and_stage_to_its_offers(empty_database: str) -> None:
    """0004 backfills task_candidate.due_at and stage, which the "offered to me" inbox reads."""
    engine = build_engine(Settings(database_url=empty_database))
    try:
        engine.repository.deploy([("due_steps.bpmn", (DATA / "due_steps.bpmn").read_bytes())], actor="test")
        for due in ("2020-01-01T00:00:00+00:00", None):
            engine.runtime.start_process_instance_by_key("due_steps", principal=ADMIN, variables={"due": due})
    finally:
        engine.close()
    db = make_engine(empty_database)
    schema.downgrade(db, "0003")  # back to the schema before 0004: the columns are gone
    schema.upgrade(db)
    with db.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT t.due_at IS NULL, t.due_at = c.due_at, c.due_at IS NULL, c.stage"
                " FROM task_candidate c JOIN open_task t ON t.id = c.task_id ORDER BY 1"
            )
        ).all()
    db.dispose()
    assert [(bool(r[0]), r[1] if r[1] is None else bool(r[1]), bool(r[2]), r[3]) for r in rows] == [
        (False, True, False, "first"),
        (True, None, True, "first"),
    ]


def test_upgrading_keeps_every_users_roles_as_memberships_of_groups_and_offers_to_roles_as_offers_to_groups(
    empty_database: str,
) -> None:
    """0005: groups are data. Each role a user held is a membership of the group of that name; an open
    task offered to a role is offered to that group; downgrading gives the roles back."""
    engine = build_engine(Settings(database_url=empty_database))
    try:
        deploy_handbook(engine)
        engine.identity.create_user("lei", ["leader"])
        engine.identity.create_user("dana", ["data", "support"])
        lei_token = engine.identity.issue_token("lei")
        lei = engine.identity.authenticate(lei_token)
        started = engine.runtime.start_process_instance_by_key(
            "ops_optimization",
            principal=lei,
            variables={"trigger": "user_feedback", "title": "升级", "description": "组迁移之前"},
        )
    finally:
        engine.close()
    db = make_engine(empty_database)
    before_groups = ScriptDirectory.from_config(schema._config()).get_revision("0005").down_revision
    schema.downgrade(db, before_groups)  # back to the schema of fixed roles, data and all
    with db.connect() as conn:
        roles = conn.execute(
            sa.text(
                "SELECT u.name, r.role FROM user_role r JOIN app_user u ON u.id = r.user_id ORDER BY 1, 2"
            )
        ).all()
        offers = conn.execute(sa.text("SELECT kind, value FROM task_candidate ORDER BY 1, 2")).all()
    assert [tuple(r) for r in roles] == [("dana", "data"), ("dana", "support"), ("lei", "leader")]
    assert [tuple(o) for o in offers] == [("role", "leader")]  # as the fixed-roles release wrote it
    schema.upgrade(db)
    db.dispose()

    engine = build_engine(Settings(database_url=empty_database))
    try:
        assert engine.identity.authenticate(lei_token).groups == frozenset({"leader"})
        assert engine.identity.get_user("dana").groups == ["data", "support"]
        groups = {g.id: g for g in engine.groups.list_groups()}
        assert {"leader", "data", "execution", "support", "designer", "admin", "integration"} <= groups.keys()
        assert groups["support"].members == ["dana"] and groups["data"].name_zh == "数据组"
        [task] = engine.tasks.inbox(principal=engine.identity.authenticate(lei_token), scope="offered").items
        assert task.instance_id == started.id and task.candidate_groups == ["leader"]
    finally:
        engine.close()


def test_the_migrated_schema_is_the_one_the_tables_describe(db_url: str) -> None:
    """engine/storage/tables.py and the migrations agree (a VARCHAR's length aside on SQLite, which ignores
    it: 0005 does not copy tables there to widen one)."""
    db = make_engine(db_url)
    with db.connect() as conn:
        differences = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
        )
    db.dispose()
    if db_url.startswith("sqlite"):
        differences = [
            d
            for d in differences
            if not (isinstance(d, list) and d[0][0] == "modify_type" and d[0][3] == "role")
        ]
    assert differences == []
