"""Notification channels, configured by admins: the SMTP server people's e-mail goes through, and
chat groups' robots. Secrets (the SMTP password, a robot's URL, which holds its key, and its signing
secret) are stored but never shown back: views say only which are set."""

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from engine import permissions
from engine.errors import Forbidden, InvalidInput, NotFound, Problem
from engine.notifications import model
from engine.storage.tables import (
    JobRow,
    NotificationChannelRow,
    NotificationDeliveryRow,
    NotificationRow,
    utcnow,
)
from engine.storage.uow import Transactions, UnitOfWork
from engine.types import JsonObject
from engine.views import Page, Principal
from engine.webhook_targets import RefusedTarget, TargetPolicy

MAX_URL_LENGTH = 2000


@dataclass(frozen=True)
class ChannelView:
    id: str
    name: str
    kind: str
    settings: JsonObject
    url: str | None  # a robot's URL with its key masked
    secrets_set: list[str]
    event_types: list[str]
    active: bool
    created_by: str | None
    created_at: datetime


@dataclass(frozen=True)
class ChannelDeliveryView:
    """One message sent on a channel: `notification_count` notifications in one e-mail or chat message."""

    id: int
    batch_id: str
    notification_count: int
    recipients: list[str]
    status_code: int | None
    error: str | None
    delivered: bool
    at: datetime


@dataclass(frozen=True)
class NotificationView:
    id: str
    channel_id: str
    recipient: str
    event_type: str
    instance_id: str | None
    task_id: str | None
    status: str
    attempts: int
    last_error: str | None
    created_at: datetime
    due_at: datetime
    sent_at: datetime | None


class ChannelService:
    def __init__(self, tx: Transactions, targets: TargetPolicy) -> None:
        self._tx = tx
        self._targets = targets  # a robot's URL may lead where webhooks may (engine/webhook_targets.py)

    def create(
        self,
        *,
        name: str,
        kind: str,
        settings: JsonObject,
        secrets: JsonObject,
        event_types: list[str] | None,
        active: bool,
        principal: Principal,
    ) -> ChannelView:
        _require_admin(principal)
        if kind not in model.KINDS:
            raise InvalidInput(
                "unknown channel kind", [Problem(f"one of {', '.join(model.KINDS)}", path="kind")]
            )
        clean_settings = check_settings(kind, settings)
        given = {k: v for k, v in secrets.items() if v is not None}
        clean_secrets = check_secrets(kind, given, self._targets)
        types = check_event_types(event_types if event_types is not None else list(model.EVENT_TYPES))
        row = NotificationChannelRow(
            id=str(uuid.uuid4()),
            name=_check_name(name),
            kind=kind,
            settings=clean_settings,
            secrets=clean_secrets,
            event_types=types,
            active=active,
            created_by=principal.name,
            created_at=utcnow(),
        )

        def create(uow: UnitOfWork) -> ChannelView:
            uow.session.add(row)
            return channel_view(row)

        return self._tx.write(create)

    def list_channels(self, *, principal: Principal) -> list[ChannelView]:
        _require_admin(principal)

        def read(uow: UnitOfWork) -> list[ChannelView]:
            rows = uow.session.exec(
                select(NotificationChannelRow).order_by(
                    col(NotificationChannelRow.created_at), col(NotificationChannelRow.id)
                )
            ).all()
            return [channel_view(r) for r in rows]

        return self._tx.read(read)

    def get(self, channel_id: str, *, principal: Principal) -> ChannelView:
        _require_admin(principal)
        return self._tx.read(lambda uow: channel_view(_find(uow.session, channel_id)))

    def update(
        self,
        channel_id: str,
        *,
        principal: Principal,
        name: str | None = None,
        settings: JsonObject | None = None,
        secrets: JsonObject | None = None,
        event_types: list[str] | None = None,
        active: bool | None = None,
    ) -> ChannelView:
        """Change what is given. Settings and secrets are merged into what is stored (a secret set
        to null is removed), so an admin never has to type a secret again to change a port."""
        _require_admin(principal)

        def update(uow: UnitOfWork) -> ChannelView:
            row = _find(uow.session, channel_id, lock=True)
            if name is not None:
                row.name = _check_name(name)
            if settings is not None:
                row.settings = check_settings(row.kind, {**row.settings, **settings})
            if secrets is not None:
                merged = {**row.secrets, **secrets}
                clean = {k: v for k, v in merged.items() if v is not None}
                row.secrets = check_secrets(row.kind, clean, self._targets)
            if event_types is not None:
                row.event_types = check_event_types(event_types)
            if active is not None:
                row.active = active
            uow.session.add(row)
            return channel_view(row)

        return self._tx.write(update)

    def delete(self, channel_id: str, *, principal: Principal) -> None:
        """Remove the channel with its queued notifications and its delivery log."""
        _require_admin(principal)

        def delete(uow: UnitOfWork) -> None:
            session = uow.session
            row = _find(session, channel_id, lock=True)
            queued = select(sa.literal(model.JOB_SEND + ":") + NotificationRow.id).where(
                NotificationRow.channel_id == row.id
            )
            session.execute(
                sa.delete(JobRow).where(col(JobRow.kind) == model.JOB_SEND, col(JobRow.id).in_(queued))
            )
            session.execute(sa.delete(NotificationRow).where(col(NotificationRow.channel_id) == row.id))
            session.execute(
                sa.delete(NotificationDeliveryRow).where(col(NotificationDeliveryRow.channel_id) == row.id)
            )
            session.delete(row)

        self._tx.write(delete)

    def deliveries(
        self, channel_id: str, *, principal: Principal, offset: int = 0, limit: int = 50
    ) -> Page[ChannelDeliveryView]:
        """The channel's delivery log, newest first."""
        _require_admin(principal)

        def read(uow: UnitOfWork) -> Page[ChannelDeliveryView]:
            session = uow.session
            _find(session, channel_id)
            q = select(NotificationDeliveryRow).where(NotificationDeliveryRow.channel_id == channel_id)
            total = session.exec(select(func.count()).select_from(q.subquery())).one()
            rows = session.exec(
                q.order_by(col(NotificationDeliveryRow.id).desc()).offset(offset).limit(limit)
            ).all()
            return Page([_delivery_view(r) for r in rows], total, offset, limit)

        return self._tx.read(read)

    def notifications(
        self,
        channel_id: str,
        *,
        principal: Principal,
        status: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> Page[NotificationView]:
        """The channel's notifications (queued, sending, sent, failed, dropped), newest first."""
        _require_admin(principal)

        def read(uow: UnitOfWork) -> Page[NotificationView]:
            session = uow.session
            _find(session, channel_id)
            q = select(NotificationRow).where(NotificationRow.channel_id == channel_id)
            if status is not None:
                q = q.where(NotificationRow.status == status)
            total = session.exec(select(func.count()).select_from(q.subquery())).one()
            rows = session.exec(
                q.order_by(col(NotificationRow.created_at).desc(), col(NotificationRow.id))
                .offset(offset)
                .limit(limit)
            ).all()
            return Page([notification_view(r) for r in rows], total, offset, limit)

        return self._tx.read(read)


# --- checks ---------------------------------------------------------------------------------------


def check_settings(kind: str, settings: JsonObject) -> JsonObject:
    problems: list[Problem] = []
    clean: dict[str, Any] = {}
    if kind == model.SMTP:
        host = settings.get("host")
        if not isinstance(host, str) or not host.strip() or len(host) > 255:
            problems.append(Problem("the SMTP server's host name", path="settings.host"))
        else:
            clean["host"] = host.strip()
        security = settings.get("security", "starttls")
        if security not in model.SMTP_SECURITY:
            problems.append(Problem(f"one of {', '.join(model.SMTP_SECURITY)}", path="settings.security"))
        clean["security"] = security
        port = settings.get("port", {"tls": 465, "starttls": 587}.get(security, 25))
        if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
            problems.append(Problem("a port number 1-65535", path="settings.port"))
        clean["port"] = port
        sender = settings.get("sender")
        if not isinstance(sender, str) or "@" not in sender or len(sender) > 320:
            problems.append(Problem("the From address, e.g. opsflow@example.com", path="settings.sender"))
        clean["sender"] = sender
        username = settings.get("username")
        if username is not None and (not isinstance(username, str) or len(username) > 320):
            problems.append(Problem("the SMTP user name", path="settings.username"))
        clean["username"] = username or None
    else:
        language = settings.get("language", "zh")
        if language not in model.LANGUAGES:
            problems.append(Problem("zh or en", path="settings.language"))
        style = settings.get("style", model.STYLES[kind][1])
        if style not in model.STYLES[kind]:
            problems.append(Problem(f"one of {', '.join(model.STYLES[kind])}", path="settings.style"))
        rate = settings.get("rate_per_minute", model.DEFAULT_RATE_PER_MINUTE)
        if not isinstance(rate, int) or isinstance(rate, bool) or not 1 <= rate <= 100:
            problems.append(Problem("messages a minute, 1-100", path="settings.rate_per_minute"))
        timezone = settings.get("timezone", "Asia/Shanghai")
        if not _is_timezone(timezone):
            problems.append(Problem("an IANA time zone such as Asia/Shanghai", path="settings.timezone"))
        clean.update(language=language, style=style, rate_per_minute=rate, timezone=timezone)
    unknown = set(settings) - set(clean)
    problems += [Problem(f"not a setting of a {kind} channel", path=f"settings.{k}") for k in sorted(unknown)]
    if problems:
        raise InvalidInput("the channel's settings are not valid", problems)
    return clean


def check_secrets(kind: str, secrets: JsonObject, targets: TargetPolicy) -> JsonObject:
    allowed = {"password"} if kind == model.SMTP else {"url", "secret"} if kind != model.WECOM else {"url"}
    problems = [
        Problem(f"not a secret of a {kind} channel", path=f"secrets.{k}")
        for k in sorted(set(secrets) - allowed)
    ]
    for key, value in secrets.items():
        if not isinstance(value, str) or not value or len(value) > MAX_URL_LENGTH:
            problems.append(Problem(f"a text of 1-{MAX_URL_LENGTH} characters", path=f"secrets.{key}"))
    if kind in model.ROBOTS:
        url = secrets.get("url")
        if not isinstance(url, str) or not _is_http_url(url):
            problems.append(Problem("the robot's webhook URL (http:// or https://)", path="secrets.url"))
        else:
            try:
                targets.check_url(url)
            except RefusedTarget as refused:
                problems.append(Problem(str(refused), path="secrets.url"))
    if problems:
        raise InvalidInput("the channel's secrets are not valid", problems)
    return dict(secrets)


def check_event_types(types: list[str]) -> list[str]:
    problems = [
        Problem(f"unknown event type {t!r}; one of {', '.join(model.EVENT_TYPES)}", path=f"event_types.{i}")
        for i, t in enumerate(types)
        if t not in model.EVENT_TYPES
    ]
    if problems:
        raise InvalidInput("the event types are not valid", problems)
    return list(dict.fromkeys(types))


def _check_name(name: str) -> str:
    if not name.strip() or len(name) > 100:
        raise InvalidInput("the name is not valid", [Problem("1-100 characters", path="name")])
    return name.strip()


def _is_http_url(url: str) -> bool:
    try:
        parts = urlsplit(url.strip())
        return parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:
        return False


def _is_timezone(name: object) -> bool:
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(str(name))
        return isinstance(name, str)
    except Exception:
        return False


def masked_url(url: str | None) -> str | None:
    """The robot URL without what makes it a key: query values and a Feishu hook id are masked."""
    if not url:
        return None
    parts = urlsplit(url)
    query = "&".join(f"{p.split('=', 1)[0]}=***" for p in parts.query.split("&") if p)
    path = parts.path
    if "/hook/" in path:
        path = path.rsplit("/", 1)[0] + "/***"
    host = parts.hostname or ""  # a stored robot URL has one: it was checked when saved
    return urlunsplit(
        parts._replace(netloc=host + (f":{parts.port}" if parts.port else ""), path=path, query=query)
    )


# --- helpers --------------------------------------------------------------------------------------


def _require_admin(principal: Principal) -> None:
    if not permissions.can_manage_notifications(principal):
        raise Forbidden("only admins manage notification channels")


def _find(session: Session, channel_id: str, *, lock: bool = False) -> NotificationChannelRow:
    row = session.get(NotificationChannelRow, channel_id, with_for_update=True if lock else None)
    if row is None:
        raise NotFound(f"notification channel {channel_id} not found")
    return row


def channel_view(row: NotificationChannelRow) -> ChannelView:
    return ChannelView(
        row.id,
        row.name,
        row.kind,
        dict(row.settings),
        masked_url(row.secrets.get("url")),
        sorted(row.secrets),
        list(row.event_types),
        row.active,
        row.created_by,
        row.created_at,
    )


def notification_view(row: NotificationRow) -> NotificationView:
    return NotificationView(
        row.id,
        row.channel_id,
        row.recipient,
        row.event_type,
        row.instance_id,
        row.task_id,
        row.status,
        row.attempts,
        row.last_error,
        row.created_at,
        row.due_at,
        row.sent_at,
    )


def _delivery_view(row: NotificationDeliveryRow) -> ChannelDeliveryView:
    assert row.id is not None  # a row read back: the database numbered it
    return ChannelDeliveryView(
        row.id,
        row.batch_id,
        row.notification_count,
        list(row.recipients),
        row.status_code,
        row.error,
        row.delivered,
        row.at,
    )
