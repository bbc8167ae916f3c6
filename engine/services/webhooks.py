"""Webhook subscriptions: which URL gets which domain events, signed with which secret; the delivery
log; and redelivery on request. Admins only.

The events themselves are queued by `engine.events.record` as webhook jobs in the transaction of the
change they report; `engine.jobs.webhooks` holds those jobs (scheduling, redelivery, sending): it
sends them after commit and writes one delivery log row per attempt, with the event body, so that an
event can be sent again later."""

import secrets
import uuid
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa
from sqlmodel import Session, func, select

from engine import events, permissions
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from engine.jobs import webhooks as webhook_jobs
from engine.limits import ALL_EVENT_TYPES, MAX_WEBHOOK_URL_LENGTH, WEBHOOK_SECRET_LENGTHS, known_event_types
from engine.storage.tables import JobRow, WebhookDeliveryRow, WebhookSubscriptionRow, utcnow
from engine.storage.uow import Transactions, UnitOfWork
from engine.views import CreatedWebhookView, DeliveryView, Page, Principal, RedeliveryView, WebhookView
from engine.webhook_targets import RefusedTarget, TargetPolicy


class WebhookService:
    def __init__(self, tx: Transactions, targets: TargetPolicy) -> None:
        self._tx = tx
        self._targets = targets

    def create(
        self, url: str, event_types: list[str], *, principal: Principal, secret: str | None = None
    ) -> CreatedWebhookView:
        """Subscribe `url` to `event_types`. Without a secret one is generated; either way the secret
        is in this answer only."""
        _require_admin(principal)
        url, types = _check_url(url, self._targets), _check_types(event_types)
        if secret is None:
            secret = "whsec_" + secrets.token_urlsafe(32)
        elif not WEBHOOK_SECRET_LENGTHS[0] <= len(secret) <= WEBHOOK_SECRET_LENGTHS[1]:
            shortest, longest = WEBHOOK_SECRET_LENGTHS
            problem = Problem(f"a secret is {shortest}-{longest} characters", path="secret")
            raise InvalidInput("the secret is not valid", [problem])

        def create(uow: UnitOfWork) -> CreatedWebhookView:
            row = WebhookSubscriptionRow(
                id=str(uuid.uuid4()),
                url=url,
                event_types=types,
                secret=secret,
                active=True,
                created_by=principal.name,
                created_at=utcnow(),
            )
            uow.session.add(row)
            events.record(
                uow.session,
                events.WEBHOOK_CREATED,
                actor=principal.name,
                details={"webhook_id": row.id, "url": _redacted(url), "event_types": types},
            )
            return CreatedWebhookView(**_view(row).__dict__, secret=secret)

        return self._tx.write(create)

    def list_webhooks(self, *, principal: Principal) -> list[WebhookView]:
        _require_admin(principal)

        def read(uow: UnitOfWork) -> list[WebhookView]:
            rows = uow.session.exec(
                select(WebhookSubscriptionRow).order_by(
                    WebhookSubscriptionRow.created_at, WebhookSubscriptionRow.id
                )
            ).all()
            return [_view(r) for r in rows]

        return self._tx.read(read)

    def get(self, webhook_id: str, *, principal: Principal) -> WebhookView:
        _require_admin(principal)
        return self._tx.read(lambda uow: _view(_find(uow.session, webhook_id)))

    def update(
        self,
        webhook_id: str,
        *,
        principal: Principal,
        url: str | None = None,
        event_types: list[str] | None = None,
        active: bool | None = None,
    ) -> WebhookView:
        """Change what is given. Deactivating stops deliveries at once: queued events for an inactive
        subscription are dropped when they come due."""
        _require_admin(principal)
        changes: dict = {}
        if url is not None:
            changes["url"] = _check_url(url, self._targets)
        if event_types is not None:
            changes["event_types"] = _check_types(event_types)
        if active is not None:
            changes["active"] = active

        def update(uow: UnitOfWork) -> WebhookView:
            row = _find(uow.session, webhook_id, lock=True)
            changed = {k: v for k, v in changes.items() if getattr(row, k) != v}
            if changed:
                for key, value in changed.items():
                    setattr(row, key, value)
                uow.session.add(row)
                if "url" in changed:
                    changed["url"] = _redacted(changed["url"])
                events.record(
                    uow.session,
                    events.WEBHOOK_UPDATED,
                    actor=principal.name,
                    details={"webhook_id": row.id, "changes": changed},
                )
            return _view(row)

        return self._tx.write(update)

    def delete(self, webhook_id: str, *, principal: Principal) -> None:
        """Remove the subscription, its delivery log and its queued deliveries."""
        _require_admin(principal)

        def delete(uow: UnitOfWork) -> None:
            session = uow.session
            row = _find(session, webhook_id, lock=True)
            webhook_jobs.drop_queued(session, row.id)
            session.execute(sa.delete(WebhookDeliveryRow).where(WebhookDeliveryRow.subscription_id == row.id))
            events.record(
                session,
                events.WEBHOOK_DELETED,
                actor=principal.name,
                details={"webhook_id": row.id, "url": _redacted(row.url), "event_types": row.event_types},
            )
            session.delete(row)

        self._tx.write(delete)

    def deliveries(
        self,
        webhook_id: str,
        *,
        principal: Principal,
        event_id: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> Page[DeliveryView]:
        """The delivery log, newest attempt first."""
        _require_admin(principal)
        if offset < 0 or not 1 <= limit <= 500:
            raise InvalidInput("offset is 0 or more and limit 1-500")

        def read(uow: UnitOfWork) -> Page[DeliveryView]:
            session = uow.session
            _find(session, webhook_id)
            q = select(WebhookDeliveryRow).where(WebhookDeliveryRow.subscription_id == webhook_id)
            if event_id is not None:
                q = q.where(WebhookDeliveryRow.event_id == event_id)
            total = session.exec(select(func.count()).select_from(q.subquery())).one()
            rows = session.exec(q.order_by(WebhookDeliveryRow.id.desc()).offset(offset).limit(limit)).all()
            return Page([_delivery_view(r) for r in rows], total, offset, limit)

        return self._tx.read(read)

    def redeliver(self, webhook_id: str, event_id: str, *, principal: Principal) -> RedeliveryView:
        """Queue the event for this subscription again, with the same event id, due now. The body is
        the one kept in the delivery log (or in the queued job when no attempt was made yet). When
        the event is still queued (waiting for a retry, or given up on) it is made due now with a fresh
        count of attempts instead, so that it is never queued twice."""
        _require_admin(principal)

        def redeliver(uow: UnitOfWork) -> RedeliveryView:
            session = uow.session
            row = _find(session, webhook_id, lock=True)  # one redelivery request at a time
            job = session.get(JobRow, webhook_jobs.job_id(event_id, row.id))
            if job is not None:
                event = (job.payload or {}).get("event") or {}
            else:
                event = _logged_event(session, row.id, event_id)
            if not row.active:
                raise Conflict("the webhook is inactive; activate it before asking for a redelivery")
            now = webhook_jobs.redeliver(session, row.id, event, job)
            events.record(
                session,
                events.WEBHOOK_REDELIVERY_REQUESTED,
                actor=principal.name,
                details={"webhook_id": row.id, "event_id": event_id, "event_type": event.get("type")},
            )
            return RedeliveryView(row.id, event_id, event.get("type", ""), now)

        return self._tx.write(redeliver)


def _require_admin(principal: Principal) -> None:
    if not permissions.can_manage_webhooks(principal):
        raise Forbidden("only admins manage webhooks")


def _find(session: Session, webhook_id: str, *, lock: bool = False) -> WebhookSubscriptionRow:
    row = session.get(WebhookSubscriptionRow, webhook_id, with_for_update=True if lock else None)
    if row is None:
        raise NotFound(f"webhook {webhook_id} not found")
    return row


def _logged_event(session: Session, subscription_id: str, event_id: str) -> dict:
    event = session.exec(
        select(WebhookDeliveryRow.event)
        .where(
            WebhookDeliveryRow.subscription_id == subscription_id,
            WebhookDeliveryRow.event_id == event_id,
            WebhookDeliveryRow.event.is_not(None),
        )
        .order_by(WebhookDeliveryRow.id.desc())
        .limit(1)
    ).first()
    if not event:
        raise NotFound(f"event {event_id} was never sent to webhook {subscription_id}")
    return event


def _check_url(url: str, targets: TargetPolicy) -> str:
    url = url.strip()
    try:
        parts = urlsplit(url)
        ok = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is not a number, a malformed IPv6 address
        ok = False
    if not ok or len(url) > MAX_WEBHOOK_URL_LENGTH:
        expected = f"an absolute http(s):// URL of at most {MAX_WEBHOOK_URL_LENGTH} characters"
        raise InvalidInput("the webhook URL is not valid", [Problem(expected, path="url")])
    try:
        targets.check_url(url)
    except RefusedTarget as exc:
        raise InvalidInput("the webhook URL is not allowed", [Problem(str(exc), path="url")]) from None
    return url


def _check_types(types: list[str]) -> list[str]:
    known = known_event_types()
    if not types:
        raise InvalidInput(
            "the event types are not valid", [Problem("name at least one event type", path="event_types")]
        )
    problems = [
        Problem(f"unknown event type {t!r}; one of {', '.join(known)}, or * for all", path=f"event_types.{i}")
        for i, t in enumerate(types)
        if t != ALL_EVENT_TYPES and t not in known
    ]
    if problems:
        raise InvalidInput("the event types are not valid", problems)
    if ALL_EVENT_TYPES in types:
        return [ALL_EVENT_TYPES]
    return list(dict.fromkeys(types))


def _redacted(url: str) -> str:
    """The URL without a password, for the audit log."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def _view(row: WebhookSubscriptionRow) -> WebhookView:
    return WebhookView(row.id, row.url, list(row.event_types), row.active, row.created_by, row.created_at)


def _delivery_view(row: WebhookDeliveryRow) -> DeliveryView:
    return DeliveryView(
        row.id,
        row.subscription_id,
        row.event_id,
        row.event_type,
        row.attempt,
        row.status_code,
        row.error,
        row.delivered,
        row.at,
    )
