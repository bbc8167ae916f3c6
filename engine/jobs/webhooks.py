"""Webhook jobs: one per event and subscription that wants it, queued by `engine.events.record` in
the transaction of the change it reports (`jobs_for`), or again on an admin's request (`redeliver`);
each sent after commit by `WebhookSender`, one signed HTTP POST per attempt, outside any transaction.

The request
    POST <subscription url>
    Content-Type: application/json
    X-Opsflow-Event: <event type, e.g. task.created>
    X-Opsflow-Delivery: <event id; the same on every retry and redelivery of the event>
    X-Opsflow-Timestamp: <unix seconds when this attempt was signed>
    X-Opsflow-Signature: sha256=<hex>

    body: the event as compact JSON (UTF-8): {"id", "type", "occurred_at", "actor", "instance_id",
    "task_id", "element_id", "data"}

The signature is HMAC-SHA256, keyed with the subscription's secret (its UTF-8 bytes), over the bytes

    <X-Opsflow-Timestamp> + "." + <raw request body>

in lower-case hex. A receiver recomputes it over the body exactly as received (before parsing it),
compares in constant time, and rejects a timestamp too far from its own clock (five minutes, say):
a captured request cannot be replayed later, and its body cannot be changed. Deliveries are at least
once, so receivers drop an X-Opsflow-Delivery they have already processed.

Outcome: a 2xx answer within the timeout is delivered; any other status, a timeout or a connection
error raises, so the job executor retries with backoff (and gives up after its maximum attempts,
leaving the job as failed). Every attempt is written to the delivery log in its own short
transaction, with the status code but never the receiver's answer (it is not ours to show, and an
internal service's page would be shown to whoever reads the log). A job for a subscription that was
deactivated or deleted meanwhile is dropped quietly.

Before each attempt the URL's name is resolved and checked (engine/webhook_targets.py), and the POST
goes to that checked address directly (no proxy from the environment), with the name as Host header
and TLS server name.
"""

import hashlib
import hmac
import json
import logging
import time
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlmodel import Session, func, select

from engine.jobs import queue
from engine.storage.tables import JobRow, WebhookDeliveryRow, WebhookSubscriptionRow, utcnow
from engine.storage.uow import Transactions, UnitOfWork
from engine.webhook_targets import RefusedTarget, TargetPolicy

log = logging.getLogger("opsflow.webhooks")

KIND = "webhook"
#: Retries with exponential backoff span about two hours of a receiver being down.
MAX_ATTEMPTS = 20
TIMEOUT_SECONDS = 5.0
USER_AGENT = "opsflow-webhooks/0.1"


def job_id(event_id: str, subscription_id: str) -> str:
    """The job of one event for one subscription."""
    return f"{KIND}:{event_id}:{subscription_id}"


def jobs_for(event: dict[str, Any], subscription_ids: list[str], at: datetime) -> list[dict[str, Any]]:
    """The jobs of an event for the subscriptions that want it (engine.events.record inserts them
    with the transaction's other jobs, through engine.jobs.queue)."""
    return [
        {
            "id": job_id(event["id"], subscription_id),
            "kind": KIND,
            "instance_id": event["instance_id"],
            "due_at": at,
            "created_at": at,
            "attempts": 0,
            "payload": {"subscription_id": subscription_id, "event": event, "max_attempts": MAX_ATTEMPTS},
        }
        for subscription_id in subscription_ids
    ]


def redeliver(
    session: Session, subscription_id: str, event: dict[str, Any], queued: JobRow | None
) -> datetime:
    """Send `event` to the subscription again, due now: a job still queued for it (waiting for a retry,
    or given up on) is made due with a fresh count of attempts, so it is never queued twice.
    Returns when it is due."""
    now = utcnow()
    if queued is not None:
        queued.due_at, queued.attempts, queued.failed_at, queued.last_error = now, 0, None, None
        session.add(queued)
        queue.scheduled(session, now)
        return now
    queue.add(
        session,
        [
            {
                "id": job_id(event["id"], subscription_id),
                "kind": KIND,
                "instance_id": event.get("instance_id"),
                "task_id": event.get("task_id"),
                "due_at": now,
                "created_at": now,
                "attempts": 0,
                "payload": {"subscription_id": subscription_id, "event": event, "redelivery": True},
            }
        ],
    )
    return now


def drop_queued(session: Session, subscription_id: str) -> None:
    """A deleted subscription's queued events go with it."""
    job = queue.JOB.c
    session.execute(queue.JOB.delete().where(job.kind == KIND, job.id.like(job_id("%", subscription_id))))


class DeliveryFailed(Exception):
    """The receiver did not take the event (non-2xx, timeout, connection error): retry later."""


def encode(event: dict) -> bytes:
    return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Opsflow-Signature value: sha256=<hex HMAC-SHA256 of b"<timestamp>." + body>."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def signed_headers(secret: str, event: dict, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Opsflow-Event": str(event.get("type", "")),
        "X-Opsflow-Delivery": str(event["id"]),
        "X-Opsflow-Timestamp": str(timestamp),
        "X-Opsflow-Signature": signature(secret, str(timestamp), body),
    }


class WebhookSender:
    """The outside-transaction handler of "webhook" jobs (register with `register_outside`)."""

    def __init__(self, tx: Transactions, *, targets: TargetPolicy, timeout: float = TIMEOUT_SECONDS) -> None:
        self._tx = tx
        self._targets = targets
        self._timeout = timeout

    def __call__(self, job: JobRow) -> None:
        payload = job.payload or {}
        subscription_id, event = payload["subscription_id"], payload["event"]
        target = self._tx.read(lambda uow: _target(uow, subscription_id))
        if target is None:
            log.info("dropping event %s: webhook %s is inactive or deleted", event.get("id"), subscription_id)
            return
        url, secret = target
        body = encode(event)
        headers = signed_headers(secret, event, body, int(time.time()))
        status, error = self._post(url, body, headers)
        attempt = self._tx.write(lambda uow: _log_attempt(uow, subscription_id, event, status, error))
        if error is not None and attempt is not None:
            raise DeliveryFailed(f"webhook {subscription_id} event {event['id']} attempt {attempt}: {error}")

    def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str | None]:
        """(status code or None, error or None); never raises for what the receiver does."""
        try:
            target = self._targets.resolve(url)
        except RefusedTarget as exc:
            return None, f"refused: {exc}"[:2000]
        headers = {**headers, "Host": urlsplit(url).netloc.rsplit("@", 1)[-1]}
        try:
            with (
                httpx.Client(timeout=self._timeout, follow_redirects=False, trust_env=False) as client,
                client.stream(
                    "POST",
                    target.url,
                    content=body,
                    headers=headers,
                    extensions={"sni_hostname": target.host},
                ) as response,
            ):
                if response.is_success:
                    return response.status_code, None
                return response.status_code, f"HTTP {response.status_code} {response.reason_phrase}".strip()
        except httpx.HTTPError as exc:
            return None, f"{type(exc).__name__}: {exc}"[:2000]


def _target(uow: UnitOfWork, subscription_id: str) -> tuple[str, str] | None:
    row = uow.session.get(WebhookSubscriptionRow, subscription_id)
    if row is None or not row.active:
        return None
    return row.url, row.secret


def _log_attempt(
    uow: UnitOfWork, subscription_id: str, event: dict, status: int | None, error: str | None
) -> int | None:
    """Writes the attempt (numbered per event and subscription, counting redeliveries) and returns its
    number; None when the subscription was deleted meanwhile."""
    session = uow.session
    if session.get(WebhookSubscriptionRow, subscription_id) is None:
        return None
    previous = session.exec(
        select(func.count()).where(
            WebhookDeliveryRow.subscription_id == subscription_id, WebhookDeliveryRow.event_id == event["id"]
        )
    ).one()
    session.add(
        WebhookDeliveryRow(
            subscription_id=subscription_id,
            event_id=event["id"],
            event_type=str(event.get("type", ""))[:40],
            attempt=previous + 1,
            status_code=status,
            error=error,
            delivered=error is None,
            at=utcnow(),
            event=event,
        )
    )
    return previous + 1
