"""The unit of work: one session, one transaction, rolled back unless committed.
This is the only place in the code base that commits."""

import threading
from collections.abc import Callable
from contextlib import nullcontext
from datetime import datetime
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from engine.errors import ConcurrentUpdate
from engine.storage.db import is_sqlite, reader, writer

T = TypeVar("T")


class UnitOfWork:
    def __init__(self, session: Session, jobs_scheduled: Callable[[datetime], None] | None = None) -> None:
        self.session = session
        self._before_commit: list[Callable[[], None]] = []
        self._after_commit: list[Callable[[], None]] = []
        #: after commit, tells this process's job workers the earliest due time of the jobs the
        #: transaction scheduled (engine/jobs/queue.py)
        self.jobs_scheduled = jobs_scheduled or _nobody

    def before_commit(self, hook: Callable[[], None]) -> None:
        """Run `hook` inside the transaction, just before it commits (never when it rolls back)."""
        self._before_commit.append(hook)

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run `hook` once the transaction has committed (never when it rolls back)."""
        self._after_commit.append(hook)


class Transactions:
    """Runs a function inside a unit of work: commit on return, roll back on any exception."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._writer = writer(engine)
        self._reader = reader(engine)
        # SQLite has one writer at a time. Threads of this process queue here and are woken as soon
        # as the writer before them commits; SQLite's own busy handler would sleep in steps of up to
        # 100 ms (its timeout still covers other processes).
        self._one_writer = threading.RLock() if is_sqlite(engine) else nullcontext()
        #: the job workers of this process, told when a committed transaction scheduled a job
        self.job_listeners: list[Callable[[datetime], None]] = []

    def write(self, fn: Callable[[UnitOfWork], T]) -> T:
        with self._one_writer:
            return self._run(self._writer, fn, commit=True)

    def read(self, fn: Callable[[UnitOfWork], T]) -> T:
        return self._run(self._reader, fn, commit=False)

    def _run(self, bind: sa.Engine, fn: Callable[[UnitOfWork], T], *, commit: bool) -> T:
        with Session(bind, expire_on_commit=False) as session:
            uow = UnitOfWork(session, self._jobs_scheduled)
            session.info["uow"] = uow
            try:
                result = fn(uow)
                if commit:
                    for hook in uow._before_commit:
                        hook()
                    session.commit()
                else:
                    session.rollback()
            except OperationalError as exc:
                session.rollback()
                if _is_lock_conflict(exc):
                    raise ConcurrentUpdate("the instance is busy; try again") from exc
                raise
            except BaseException:
                session.rollback()
                raise
        for hook in uow._after_commit:
            hook()
        return result

    def _jobs_scheduled(self, due_at: datetime) -> None:
        for listener in list(self.job_listeners):
            listener(due_at)


def _nobody(due_at: datetime) -> None:
    pass


def before_commit(session: Session, hook: Callable[[], None]) -> None:
    """Run `hook` inside the transaction of the unit of work that owns `session`, just before it commits."""
    session.info["uow"].before_commit(hook)


def after_commit(session: Session, hook: Callable[[], None]) -> None:
    """Run `hook` once the unit of work that owns `session` has committed."""
    session.info["uow"].after_commit(hook)


def _is_lock_conflict(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "database is locked" in text or "deadlock detected" in text or "could not serialize" in text
