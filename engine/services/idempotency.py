"""Idempotency keys: the first answer to a state-changing request, replayed when it is retried.

A key belongs to one principal. The first request claims it by inserting its row (status_code None) in a
transaction of its own, before it runs: the primary key lets exactly one request win, on every database.
The winner stores its answer afterwards, or releases the claim when it failed (5xx) so a retry can run.
Rows expire after `ttl` (24 h): an expired key is a new key, and expired rows are deleted before a claim
(at most once a minute per process). A claim still unanswered after `stale_after` (a minute by
default) is taken to be abandoned (its server died) and may be claimed again.
"""

import logging
import time
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select
from sqlmodel.sql.expression import SelectOfScalar

from engine.errors import ConcurrentUpdate, InvalidInput, Problem
from engine.limits import MAX_IDEMPOTENCY_KEY_LENGTH
from engine.storage.tables import IdempotencyRow, utcnow
from engine.storage.uow import Transactions, UnitOfWork
from engine.views import Claim, StoredAnswer

MAX_CONTENT_TYPE_LENGTH = 100  # IdempotencyRow.content_type
TTL = timedelta(hours=24)
STALE_AFTER = timedelta(minutes=1)
CLEANUP_EVERY = timedelta(minutes=1)

log = logging.getLogger("opsflow.idempotency")


def check_key(key: str) -> None:
    if not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
        raise InvalidInput(
            "the Idempotency-Key is not valid",
            [Problem(f"1-{MAX_IDEMPOTENCY_KEY_LENGTH} characters", path="Idempotency-Key")],
        )


class IdempotencyService:
    def __init__(
        self,
        tx: Transactions,
        *,
        ttl: timedelta = TTL,
        stale_after: timedelta = STALE_AFTER,
        cleanup_every: timedelta = CLEANUP_EVERY,
    ) -> None:
        self._tx = tx
        self._ttl = ttl
        self._stale_after = stale_after
        self._cleanup_every = cleanup_every.total_seconds()
        self._last_cleanup = float("-inf")

    def claim(self, principal: str, key: str, request_hash: str) -> Claim:
        """Claim `key` for the request whose fingerprint is `request_hash`, or say why not."""
        check_key(key)
        self._clean_up()

        def insert(uow: UnitOfWork) -> None:
            row = IdempotencyRow(principal=principal, key=key, request_hash=request_hash, created_at=utcnow())
            uow.session.add(row)
            uow.session.flush()

        def existing(uow: UnitOfWork) -> Claim | None:
            session = uow.session
            row = session.exec(_select(principal, key).with_for_update()).first()
            if row is None:
                return None  # released since: claim it again
            now = utcnow()
            if row.created_at < now - self._ttl:  # expired, not yet cleaned up: a new key
                row.request_hash, row.created_at = request_hash, now
                row.status_code = row.response_body = row.content_type = None
                session.add(row)
                return Claim("claimed")
            if row.request_hash != request_hash:
                return Claim("mismatch")
            if row.status_code is None:
                if row.created_at < now - self._stale_after:  # its server died: take it over
                    row.created_at = now
                    session.add(row)
                    return Claim("claimed")
                return Claim("in_progress")
            return Claim("replay", StoredAnswer(row.status_code, row.response_body, row.content_type))

        for _ in range(3):
            try:
                self._tx.write(insert)
            except IntegrityError:
                found = self._tx.write(existing)  # the key is taken: by whom, and for what?
                if found is None:
                    continue
                return found
            return Claim("claimed")
        raise ConcurrentUpdate("the Idempotency-Key is busy; try again")

    def _clean_up(self) -> None:
        """Delete expired keys, at most once every `cleanup_every` in this process; never fails a claim."""
        if time.monotonic() - self._last_cleanup < self._cleanup_every:
            return
        self._last_cleanup = time.monotonic()
        cutoff = utcnow() - self._ttl
        try:
            self._tx.write(
                lambda uow: uow.session.execute(
                    sa.delete(IdempotencyRow).where(IdempotencyRow.created_at < cutoff)
                )
            )
        except Exception:
            log.warning("could not delete expired idempotency keys", exc_info=True)

    def store(self, principal: str, key: str, answer: StoredAnswer) -> None:
        """Keep the answer of a claimed key, to be replayed."""

        def save(uow: UnitOfWork) -> None:
            row = uow.session.exec(_select(principal, key).with_for_update()).first()
            if row is None:
                return
            row.status_code = answer.status_code
            row.response_body = answer.body
            row.content_type = (answer.content_type or None) and answer.content_type[:MAX_CONTENT_TYPE_LENGTH]
            uow.session.add(row)

        self._tx.write(save)

    def release(self, principal: str, key: str) -> None:
        """Give a claimed key up (the request failed): the next request with it runs."""

        def delete(uow: UnitOfWork) -> None:
            uow.session.execute(
                sa.delete(IdempotencyRow).where(
                    IdempotencyRow.principal == principal,
                    IdempotencyRow.key == key,
                    IdempotencyRow.status_code.is_(None),
                )
            )

        self._tx.write(delete)


def _select(principal: str, key: str) -> SelectOfScalar[IdempotencyRow]:
    return select(IdempotencyRow).where(IdempotencyRow.principal == principal, IdempotencyRow.key == key)
