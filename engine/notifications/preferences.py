"""What is sent: per person (their own address, language, events, quiet hours, daily digest) and
per process (a designer's choice of which events notify at all)."""

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col

from engine import permissions
from engine.errors import Forbidden, InvalidInput, Problem
from engine.notifications import model
from engine.notifications.channels import check_event_types
from engine.storage.tables import JobRow, NotificationPreferenceRow, ProcessNotificationRow, utcnow
from engine.storage.uow import Transactions, UnitOfWork
from engine.types import JsonObject
from engine.views import Principal

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


@dataclass(frozen=True)
class PreferenceView:
    user: str
    email: str | None
    language: str
    event_types: list[str]
    timezone: str
    quiet_start: str | None
    quiet_end: str | None
    digest: bool
    digest_at: str


@dataclass(frozen=True)
class ProcessNotificationView:
    process_key: str
    event_types: list[str]
    customized: bool  # False: no designer setting, every event notifies


def defaults(user: str) -> NotificationPreferenceRow:
    return NotificationPreferenceRow(
        user_name=user, language="zh", event_types=list(model.EVENT_TYPES), timezone="Asia/Shanghai",
        digest=False, digest_at="09:00", updated_at=utcnow(),
    )  # fmt: skip


class PreferenceService:
    def __init__(self, tx: Transactions) -> None:
        self._tx = tx

    def mine(self, *, principal: Principal) -> PreferenceView:
        return self._tx.read(lambda uow: preference_view(preference(uow.session, principal.name)))

    def set_mine(self, *, principal: Principal, **changes: object) -> PreferenceView:
        """Change the given fields (a field given as None is cleared where it may be)."""
        checked = _check(changes)

        def save(uow: UnitOfWork) -> PreferenceView:
            session = uow.session
            row = session.get(NotificationPreferenceRow, principal.name, with_for_update=True)
            row = row or defaults(principal.name)
            for key, value in checked.items():
                setattr(row, key, value)
            if row.quiet_start is None or row.quiet_end is None:
                row.quiet_start = row.quiet_end = None
            row.updated_at = utcnow()
            session.add(row)
            schedule_digest(session, row)
            return preference_view(row)

        return self._tx.write(save)

    def process_settings(self, process_key: str, *, principal: Principal) -> ProcessNotificationView:
        def read(uow: UnitOfWork) -> ProcessNotificationView:
            row = uow.session.get(ProcessNotificationRow, process_key)
            if row is None:
                return ProcessNotificationView(process_key, list(model.EVENT_TYPES), False)
            return ProcessNotificationView(process_key, list(row.event_types), True)

        return self._tx.read(read)

    def set_process_settings(
        self, process_key: str, event_types: list[str], *, principal: Principal
    ) -> ProcessNotificationView:
        """Which events of the process notify anyone (an empty list: none)."""
        if not permissions.can_set_process_notifications(principal):
            raise Forbidden("only designers and admins choose what a process notifies")
        types = check_event_types(event_types)

        def save(uow: UnitOfWork) -> ProcessNotificationView:
            row = uow.session.get(ProcessNotificationRow, process_key, with_for_update=True)
            row = row or ProcessNotificationRow(process_key=process_key)
            row.event_types, row.updated_by, row.updated_at = types, principal.name, utcnow()
            uow.session.add(row)
            return ProcessNotificationView(process_key, types, True)

        return self._tx.write(save)


def preference(session: Session, user: str) -> NotificationPreferenceRow:
    return session.get(NotificationPreferenceRow, user) or defaults(user)


def preference_view(row: NotificationPreferenceRow) -> PreferenceView:
    return PreferenceView(
        row.user_name, row.email, row.language, list(row.event_types), row.timezone,
        row.quiet_start, row.quiet_end, row.digest, row.digest_at,
    )  # fmt: skip


def quiet_until(row: NotificationPreferenceRow, now: datetime) -> datetime | None:
    """When the person's quiet hours end, if `now` is inside them (they may span midnight)."""
    if not row.quiet_start or not row.quiet_end:
        return None
    zone = ZoneInfo(row.timezone)
    local = now.astimezone(zone)
    start, end = _clock(row.quiet_start), _clock(row.quiet_end)
    at = local.time()
    inside = start <= at < end if start <= end else (at >= start or at < end)
    if not inside:
        return None
    end_day = local.date() if at < end else local.date() + timedelta(days=1)
    return datetime.combine(end_day, end, zone)


def next_digest(row: NotificationPreferenceRow, now: datetime) -> datetime:
    """The next time, after `now`, the person's digest is due (their clock)."""
    zone = ZoneInfo(row.timezone)
    local = now.astimezone(zone)
    due = datetime.combine(local.date(), _clock(row.digest_at), zone)
    return (
        due
        if due > local
        else datetime.combine(local.date() + timedelta(days=1), _clock(row.digest_at), zone)
    )


def schedule_digest(session: Session, row: NotificationPreferenceRow) -> None:
    """One digest job per person who chose the digest, due at their next digest time."""
    job_id = f"{model.JOB_DIGEST}:{row.user_name}"
    session.execute(sa.delete(JobRow).where(col(JobRow.id) == job_id))
    if row.digest:
        now = utcnow()
        session.add(
            JobRow(
                id=job_id, kind=model.JOB_DIGEST, due_at=next_digest(row, now), created_at=now,
                payload={"user": row.user_name},
            )
        )  # fmt: skip


def _check(changes: JsonObject) -> JsonObject:
    problems: list[Problem] = []
    clean = dict(changes)
    email = changes.get("email")
    if email is not None and (not isinstance(email, str) or not _EMAIL.match(email) or len(email) > 320):
        problems.append(Problem("an e-mail address such as lei@example.com", path="email"))
    if "language" in changes and changes["language"] not in model.LANGUAGES:
        problems.append(Problem("zh or en", path="language"))
    if changes.get("event_types") is not None:
        try:
            clean["event_types"] = check_event_types(list(changes["event_types"]))
        except InvalidInput as exc:
            problems += exc.problems
    if "timezone" in changes:
        try:
            ZoneInfo(str(changes["timezone"]))
        except Exception:
            problems.append(Problem("an IANA time zone such as Asia/Shanghai", path="timezone"))
    for key in ("quiet_start", "quiet_end", "digest_at"):
        value = changes.get(key)
        if value is not None and (not isinstance(value, str) or not _CLOCK.match(value)):
            problems.append(Problem("a time of day, HH:MM (24 hours)", path=key))
    for key in ("language", "event_types", "timezone", "digest", "digest_at"):
        if key in clean and clean[key] is None:
            problems.append(Problem("may not be empty", path=key))
    if problems:
        raise InvalidInput("the notification preferences are not valid", problems)
    return clean


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
