"""SQLite: the worker copies the write-ahead log back into the database file, so that requests
rarely pay for it at their commit."""

import shutil
import sqlite3
import threading
import time
from pathlib import Path

from engine.config import Settings
from engine.engine import build_engine
from engine.jobs.worker import Worker
from engine.storage.db import checkpoint


def _users_in_database_file_alone(db: Path, tmp_path: Path) -> list[str]:
    """What the main file holds without its WAL (a copy, so the live database is untouched)."""
    copy = tmp_path / "copy.db"
    shutil.copyfile(db, copy)
    with sqlite3.connect(copy) as conn:
        return [name for (name,) in conn.execute("SELECT name FROM app_user")]


def test_a_checkpoint_moves_committed_writes_into_the_database_file(tmp_path: Path) -> None:
    db = tmp_path / "opsflow.db"
    engine = build_engine(Settings(database_url=f"sqlite:///{db}"))
    try:
        checkpoint(engine.db)
        engine.identity.create_user("wendy", ["leader"])
        assert "wendy" not in _users_in_database_file_alone(db, tmp_path)  # only in the WAL so far

        checkpoint(engine.db)

        assert "wendy" in _users_in_database_file_alone(db, tmp_path)
    finally:
        engine.close()


def test_the_worker_runs_its_maintenance_about_once_a_second() -> None:
    class NoJobs:
        def run_due_jobs(self) -> int:
            return 0

        def next_due(self) -> None:
            return None

    calls: list[float] = []
    done = threading.Event()

    def maintain() -> None:
        calls.append(time.monotonic())
        if len(calls) == 2:
            done.set()

    worker = Worker(NoJobs(), poll=0.01, maintenance=maintain, maintenance_every=0.2).start()
    try:
        assert done.wait(5)
    finally:
        worker.stop()
    assert calls[1] - calls[0] >= 0.2  # not on every poll
