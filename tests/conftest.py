"""Fixtures shared by every test. Storage is a parameter: each storage-dependent test runs on a
SQLite file and on PostgreSQL (OPSFLOW_TEST_POSTGRES_URL, default the local server's `test` database)."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import SQLModel

from api.main import create_app
from engine.config import Settings
from engine.engine import ProcessEngine, build_engine
from engine.seed import DEMO_USERS, deploy_handbook
from engine.storage import schema
from engine.storage.db import make_engine
from tests.helpers.api import Api

POSTGRES_URL = os.environ.get("OPSFLOW_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


#: marker -> what a test module's source uses when it belongs to that slow group
SLOW_GROUPS = {
    "browser": ("from playwright",),
    "servers": ("tests.helpers.processes", "tests.helpers.server", "live_server"),
    "fuzz": ("import hypothesis", "from hypothesis", "schemathesis"),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks each test with the slow groups its module belongs to (see pyproject's markers)."""
    groups_of: dict[Path, list[str]] = {}
    for item in items:
        path = item.path
        if path not in groups_of:
            source = path.read_text(encoding="utf-8")
            in_browser = "browser" in path.parts
            groups_of[path] = [
                marker
                for marker, signs in SLOW_GROUPS.items()
                if any(sign in source for sign in signs) or (marker == "browser" and in_browser)
            ]
        for marker in groups_of[path]:
            item.add_marker(marker)


def _postgres_available() -> str | None:
    try:
        db = make_engine(POSTGRES_URL)
        with db.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        db.dispose()
        return None
    except Exception as exc:
        return str(exc).splitlines()[0]


@pytest.fixture(scope="session")
def _database_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """One migrated database per storage kind for the whole run; tests empty it before use."""
    urls = {"sqlite": f"sqlite:///{tmp_path_factory.mktemp('db') / 'opsflow.db'}"}
    pg_schema = f"opsflow_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    problem = _postgres_available()
    if problem is None:
        admin = make_engine(POSTGRES_URL)
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{pg_schema}"'))
        sep = "&" if "?" in POSTGRES_URL else "?"
        urls["postgresql"] = f"{POSTGRES_URL}{sep}options=-csearch_path%3D{pg_schema}"
    else:
        urls["postgresql_problem"] = problem
    for kind in ("sqlite", "postgresql"):
        if kind in urls:
            db = make_engine(urls[kind])
            schema.upgrade(db)
            db.dispose()
    yield urls
    if problem is None:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{pg_schema}" CASCADE'))
        admin.dispose()


def empty_database(kind: str, urls: dict[str, str]) -> str:
    """The migrated database of a kind, emptied. Without PostgreSQL a test fails under CI (it never
    skips silently there) and is skipped, with the reason, on a developer's machine."""
    if kind not in urls:
        message = f"PostgreSQL is not reachable at {POSTGRES_URL}: {urls['postgresql_problem']}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    _empty(urls[kind])
    return urls[kind]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, _database_urls: dict[str, str]) -> str:
    """An empty, migrated database of each kind."""
    return empty_database(request.param, _database_urls)


def _empty(url: str) -> None:
    db = make_engine(url)
    with db.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.execute(table.delete())
    db.dispose()


@pytest.fixture
def settings(db_url: str) -> Settings:
    return Settings(database_url=db_url)


@pytest.fixture
def engine(settings: Settings) -> Iterator[ProcessEngine]:
    eng = build_engine(settings)
    yield eng
    eng.close()


@pytest.fixture
def handbook(engine: ProcessEngine) -> ProcessEngine:
    """The engine with the handbook deployed and the demo users created."""
    deploy_handbook(engine)
    for name, roles in DEMO_USERS.items():
        engine.identity.create_user(name, roles)
    return engine


@pytest.fixture
def api(handbook: ProcessEngine, settings: Settings) -> Iterator[Api]:
    """An HTTP client on a fresh app, with a token per demo user."""
    tokens = {name: handbook.identity.issue_token(name) for name in DEMO_USERS}
    client = TestClient(create_app(settings))
    client.__enter__()
    api = Api(client, tokens, app_factory=lambda: create_app(settings))
    yield api
    api.client.__exit__(None, None, None)


@pytest.fixture
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
