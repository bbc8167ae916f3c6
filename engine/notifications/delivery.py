"""Sends queued notifications: the handler of "notify_send" jobs, run outside any transaction.

One job per notification. A run claims its notification (and, for a chat robot, up to
`model.MAX_BATCH` other queued ones of the same robot: one chat message tells several things) in a
short transaction, sends with no transaction open, then records the outcome in the channel's
delivery log in a second one. Claims are taken with the channel's row locked, so that two workers
neither batch the same notification nor together pass the robot's rate limit (messages in the last
minute, counting those being sent). A job that must wait (quiet hours, the rate limit, another
worker's claim) is moved to when it may go on; a failed send raises, so the executor retries with
backoff, and after `model.MAX_ATTEMPTS` the notification is marked failed.

Delivery is at least once: if a worker dies between sending and recording, the claim expires and the
notification is sent again. The e-mail's Message-ID is the notification's own, so mail systems drop
such a copy; chat platforms have no such key.
"""

import logging
import smtplib
import ssl
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import httpx
import sqlalchemy as sa
from sqlmodel import col, func, select

from engine.notifications import messages, model, platforms
from engine.notifications.preferences import preference
from engine.storage.tables import (
    JobRow,
    NotificationChannelRow,
    NotificationDeliveryRow,
    NotificationRow,
    utcnow,
)
from engine.storage.uow import Transactions, UnitOfWork
from engine.types import JsonObject
from engine.webhook_targets import RefusedTarget, TargetPolicy

log = logging.getLogger("opsflow.notifications")

TIMEOUT_SECONDS = 10.0
USER_AGENT = "opsflow-notifications/0.1"
_WINDOW = timedelta(minutes=1)
_DONE = {"sent", "failed", "dropped"}


class DeliveryFailed(Exception):
    """The SMTP server or chat platform did not take the message: retry later."""


@dataclass(frozen=True)
class Outgoing:
    """One claimed batch: what to send, where."""

    channel_id: str
    kind: str
    settings: JsonObject
    secrets: JsonObject
    batch_id: str
    notifications: list[JsonObject]  # id, recipient, address, language, timezone, facts


class Sender:
    def __init__(
        self,
        tx: Transactions,
        *,
        targets: TargetPolicy,
        claim_seconds: float = 60,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self._tx = tx
        self._targets = targets
        self._claim = timedelta(seconds=claim_seconds)
        self._timeout = timeout

    def __call__(self, job: JobRow) -> None:
        notification_id = (job.payload or {})["notification_id"]
        outgoing = self._tx.write(lambda uow: self._claim_batch(uow, job, notification_id))
        if outgoing is None:
            return
        status, error = self._send(outgoing)
        self._tx.write(lambda uow: _settle(uow, outgoing, status, error))
        if error is not None:
            raise DeliveryFailed(f"notification {notification_id} on channel {outgoing.channel_id}: {error}")

    # --- claiming ---------------------------------------------------------------------------------

    def _claim_batch(self, uow: UnitOfWork, job: JobRow, notification_id: str) -> Outgoing | None:
        session, now = uow.session, utcnow()
        row = session.get(NotificationRow, notification_id)
        if row is None or row.status in _DONE:
            return None
        channel = session.get(NotificationChannelRow, row.channel_id, with_for_update=True)
        if channel is None or not channel.active:
            row.status, row.last_error = "dropped", "the channel was switched off or removed"
            session.add(row)
            return None
        if row.due_at > now:  # quiet hours
            _later(uow, job, row.due_at)
            return None
        if row.status == "sending" and row.claimed_until and row.claimed_until > now:
            _later(uow, job, row.claimed_until + timedelta(seconds=1))  # in another worker's batch
            return None
        ids = [row.id]
        if channel.kind in model.ROBOTS:
            free_at = _rate_limited(uow, channel, now)
            if free_at is not None:
                _later(uow, job, free_at)
                return None
            ids += list(
                session.exec(
                    select(NotificationRow.id)
                    .where(
                        NotificationRow.channel_id == channel.id,
                        NotificationRow.id != row.id,
                        _claimable(now),
                    )
                    .order_by(col(NotificationRow.created_at), col(NotificationRow.id))
                    .limit(model.MAX_BATCH - 1)
                ).all()
            )
        batch_id = str(uuid.uuid4())
        session.execute(
            sa.update(NotificationRow)
            .where(col(NotificationRow.id).in_(ids))
            .values(status="sending", batch_id=batch_id, claimed_until=now + self._claim)
        )
        rows = session.exec(
            select(NotificationRow)
            .where(col(NotificationRow.id).in_(ids))
            .order_by(col(NotificationRow.created_at))
        ).all()
        batch = [
            {
                "id": r.id,
                "recipient": r.recipient,
                "address": r.address,
                "language": r.language,
                "timezone": preference(session, r.recipient).timezone if r.address else None,
                "facts": r.facts,
            }
            for r in rows
        ]
        return Outgoing(
            channel.id, channel.kind, dict(channel.settings), dict(channel.secrets), batch_id, batch
        )

    # --- sending ----------------------------------------------------------------------------------

    def _send(self, out: Outgoing) -> tuple[int | None, str | None]:
        """(status code, error or None); never raises for what the other side does."""
        if out.kind == model.SMTP:
            return self._send_email(out)
        return self._post_robot(out)

    def _send_email(self, out: Outgoing) -> tuple[int | None, str | None]:
        (item,) = out.notifications
        notice = messages.render(
            item["facts"], item["language"], timezone=item["timezone"] or "Asia/Shanghai"
        )
        message = platforms.email(
            notice, sender=out.settings["sender"], to=item["address"], message_id=f"<{item['id']}@opsflow>"
        )
        host, port, security = out.settings["host"], out.settings["port"], out.settings["security"]
        try:
            if security == "tls":
                client: smtplib.SMTP = smtplib.SMTP_SSL(
                    host, port, timeout=self._timeout, context=ssl.create_default_context()
                )
            else:
                client = smtplib.SMTP(host, port, timeout=self._timeout)
            with client:
                if security == "starttls":
                    client.starttls(context=ssl.create_default_context())
                if out.settings.get("username"):
                    client.login(out.settings["username"], out.secrets.get("password", ""))
                refused = client.send_message(message)
            if refused:
                return None, f"refused recipients: {', '.join(refused)}"
            return 250, None
        except (smtplib.SMTPException, OSError) as exc:
            return getattr(exc, "smtp_code", None), f"{type(exc).__name__}: {exc}"[:2000]

    def _post_robot(self, out: Outgoing) -> tuple[int | None, str | None]:
        language = out.settings.get("language", "zh")
        timezone = out.settings.get("timezone", "Asia/Shanghai")
        notices = [
            messages.render(n["facts"], language, timezone=timezone, group=True) for n in out.notifications
        ]
        request = platforms.robot_request(
            out.kind,
            out.secrets["url"],
            out.secrets.get("secret"),
            out.settings.get("style", "text"),
            notices,
            now_ms=int(time.time() * 1000),
        )
        try:  # the name is resolved and checked again now, and the POST goes to the checked address
            target = self._targets.resolve(request.url)
        except RefusedTarget as exc:
            return None, f"refused: {exc}"[:2000]
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": USER_AGENT,
            "Host": urlsplit(request.url).netloc.rsplit("@", 1)[-1],
        }
        try:
            with httpx.Client(timeout=self._timeout, follow_redirects=False, trust_env=False) as client:
                response = client.post(
                    target.url,
                    content=request.content(),
                    headers=headers,
                    extensions={"sni_hostname": target.host},
                )
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:2000]
        if not response.is_success:
            return response.status_code, f"HTTP {response.status_code}: {response.text[:200]}"
        try:
            answer = response.json()
        except ValueError:
            answer = None
        return response.status_code, platforms.accepted(out.kind, answer)


def _rate_limited(uow: UnitOfWork, channel: NotificationChannelRow, now: datetime) -> datetime | None:
    """When the robot may send again, or None if it may send now: the messages of the last minute
    (logged, and being sent) are at its limit."""
    session = uow.session
    limit = channel.settings.get("rate_per_minute", model.DEFAULT_RATE_PER_MINUTE)
    sent, oldest = session.exec(
        select(func.count(), func.min(NotificationDeliveryRow.at)).where(
            NotificationDeliveryRow.channel_id == channel.id, NotificationDeliveryRow.at > now - _WINDOW
        )
    ).one()
    sending = session.exec(
        select(func.count(sa.distinct(col(NotificationRow.batch_id)))).where(
            NotificationRow.channel_id == channel.id,
            NotificationRow.status == "sending",
            col(NotificationRow.claimed_until) > now,
        )
    ).one()
    if sent + sending < limit:
        return None
    return oldest + _WINDOW if oldest is not None and sending == 0 else now + timedelta(seconds=1)


def _claimable(now: datetime) -> sa.ColumnElement[bool]:
    stale = sa.and_(col(NotificationRow.status) == "sending", col(NotificationRow.claimed_until) <= now)
    return sa.and_(sa.or_(col(NotificationRow.status) == "queued", stale), col(NotificationRow.due_at) <= now)


def _later(uow: UnitOfWork, job: JobRow, at: datetime) -> None:
    """Move the job to `at`. Releasing the claim keeps the executor from deleting it as done."""
    uow.session.execute(
        sa.update(JobRow)
        .where(col(JobRow.id) == job.id, col(JobRow.lock_owner) == job.lock_owner)
        .values(due_at=at, lock_owner=None, lock_expires_at=None)
    )


def _settle(uow: UnitOfWork, out: Outgoing, status: int | None, error: str | None) -> None:
    session, now = uow.session, utcnow()
    if session.get(NotificationChannelRow, out.channel_id) is None:
        return  # removed meanwhile, with its log
    session.add(
        NotificationDeliveryRow(
            channel_id=out.channel_id,
            batch_id=out.batch_id,
            notification_count=len(out.notifications),
            recipients=sorted({n["recipient"] for n in out.notifications}),
            status_code=status,
            error=error,
            delivered=error is None,
            at=now,
        )
    )
    rows = session.exec(
        select(NotificationRow).where(
            NotificationRow.batch_id == out.batch_id, NotificationRow.status == "sending"
        )
    ).all()
    for row in rows:
        row.claimed_until = None
        if error is None:
            row.status, row.sent_at = "sent", now
        else:
            row.attempts += 1
            row.last_error = error
            row.status = "failed" if row.attempts >= model.MAX_ATTEMPTS else "queued"
        session.add(row)
    if error is not None:
        log.warning("channel %s batch %s not delivered: %s", out.channel_id, out.batch_id, error)
