"""The Idempotency-Key header, as pure ASGI middleware in front of every route (/api/v1, /engine-rest).

A POST, PUT, PATCH or DELETE that sends `Idempotency-Key` with a valid bearer token is run at most once
per key and principal: the first answer (status, body, content type) is kept and replayed to a retry
with the same key, method, path and body (with `Idempotent-Replayed: true`). The same key with another
request is 409, and so is a retry while the first request still runs (with Retry-After). Answers that
may change on a retry are not kept, and the key is free again: 5xx, 408, 429, and any answer carrying
Retry-After. An answer marked `Cache-Control: no-store` (it holds a secret) is not kept either, but the
key stays used: a retry gets 409 instead of running twice. Requests without a token, or with an invalid
one, pass untouched (the route answers 401). The middleware's own refusals keep their status codes
(409, 422) and come in the API's error shape: Camunda's `{type, message, code}` under /engine-rest.
"""

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.camunda.errors import INVALID_REQUEST, REST_EXCEPTION, exception_body
from api.camunda.errors import PREFIX as CAMUNDA_PREFIX
from api.errors import error_body
from engine.errors import OpsflowError, Problem, Unauthenticated
from engine.limits import MAX_IDEMPOTENCY_KEY_LENGTH
from engine.views import StoredAnswer

log = logging.getLogger("opsflow.api.idempotency")

HEADER = b"idempotency-key"
METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Sign-in and sign-out: their answers are tokens and cookies, never kept.
SKIPPED_PATHS = frozenset({"/api/v1/session", "/web/session"})
TRANSIENT = frozenset({408, 429})

T = TypeVar("T")


class IdempotencyMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in METHODS
            or scope["path"] in SKIPPED_PATHS
            or not _sends_key(scope["headers"])
        ):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        key, token = headers.get(HEADER), _bearer(headers.get(b"authorization"))
        if key is None or token is None:
            await self.app(scope, receive, send)
            return
        engine = scope["app"].state.engine
        principal = engine.identity.cached_principal(token)  # checked moments ago: no thread hand-off
        if principal is None:
            try:
                principal = await _thread(engine.identity.authenticate, token)
            except Unauthenticated:
                await self.app(scope, receive, send)  # the route answers 401
                return
        if not key.strip() or len(key) > MAX_IDEMPOTENCY_KEY_LENGTH:
            problem = Problem(f"1-{MAX_IDEMPOTENCY_KEY_LENGTH} characters", path="Idempotency-Key")
            await _error(
                scope,
                receive,
                send,
                422,
                "invalid_input",
                "the Idempotency-Key is not valid",
                problems=[problem],
            )
            return

        body = await _read_body(receive)
        if body is None:
            return  # the client left before sending its body
        fingerprint = _fingerprint(scope, body)
        owner = principal.user_id
        try:
            claim = await _thread(engine.idempotency.claim, owner, key, fingerprint)
        except OpsflowError as exc:
            await _error(scope, receive, send, 409, "conflict", exc.message, retry=True)
            return
        if claim.outcome == "mismatch":
            message = "this Idempotency-Key was already used for a different request (method, path or body)"
            await _error(scope, receive, send, 409, "conflict", message)
            return
        if claim.outcome == "in_progress":
            message = "a request with this Idempotency-Key is still in progress; retry later"
            await _error(scope, receive, send, 409, "conflict", message, retry=True)
            return
        if claim.outcome == "replay":
            await _replay(claim.answer, scope, receive, send)
            return

        recorder = _Recorder(send)
        try:
            await self.app(scope, _replaying(body, receive), recorder.send)
        finally:
            with anyio.CancelScope(shield=True):
                await _settle(engine.idempotency, owner, key, recorder.answer())


class _Recorder:
    """Passes the answer through to the client, keeping a copy."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self.status: int | None = None
        self.headers: dict[bytes, bytes] = {}
        self.chunks: list[bytes] = []
        self.complete = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.lower(): v for k, v in message.get("headers", [])}
        elif message["type"] == "http.response.body":
            self.chunks.append(message.get("body", b""))
            self.complete = not message.get("more_body", False)
        await self._send(message)

    def answer(self) -> StoredAnswer | None:
        """What to keep: None to release the key (no complete answer, or one a retry may change)."""
        if self.status is None or not self.complete:
            return None
        if self.status >= 500 or self.status in TRANSIENT or b"retry-after" in self.headers:
            return None
        content_type = self.headers.get(b"content-type", b"").decode("latin-1") or None
        if b"no-store" in self.headers.get(b"cache-control", b"").lower():
            return StoredAnswer(self.status, None, None)
        try:
            body = b"".join(self.chunks).decode("utf-8")
        except UnicodeDecodeError:
            log.warning("not keeping a binary answer for an Idempotency-Key (status %s)", self.status)
            return None
        if "\x00" in body:  # PostgreSQL text cannot hold it
            return None
        return StoredAnswer(self.status, body, content_type)


async def _settle(service: Any, owner: str, key: str, answer: StoredAnswer | None) -> None:
    try:
        if answer is None:
            await _thread(service.release, owner, key)
        else:
            await _thread(service.store, owner, key, answer)
    except Exception:
        log.exception("could not settle Idempotency-Key %r", key)
        if answer is not None:
            try:
                await _thread(service.release, owner, key)
            except Exception:
                log.exception("could not release Idempotency-Key %r", key)


async def _replay(answer: StoredAnswer | None, scope: Scope, receive: Receive, send: Send) -> None:
    assert answer is not None
    if answer.body is None:
        message = (
            f"a request with this Idempotency-Key already succeeded ({answer.status_code}); "
            "its answer held a secret and was not kept"
        )
        await _error(scope, receive, send, 409, "conflict", message)
        return
    headers = {"idempotent-replayed": "true"}
    if answer.content_type:
        headers["content-type"] = answer.content_type
    await Response(answer.body.encode("utf-8"), status_code=answer.status_code, headers=headers)(
        scope, receive, send
    )


async def _error(
    scope: Scope,
    receive: Receive,
    send: Send,
    status: int,
    kind: str,
    message: str,
    *,
    problems: list[Problem] | None = None,
    retry: bool = False,
) -> None:
    headers = {"Retry-After": "1"} if retry else None
    if scope["path"] == CAMUNDA_PREFIX or scope["path"].startswith(CAMUNDA_PREFIX + "/"):
        type_ = INVALID_REQUEST if kind == "invalid_input" else REST_EXCEPTION
        details = [f"{p.path}: {p.message}" for p in problems or []]
        body = exception_body(type_, "; ".join([message, *details]))
    else:
        body = error_body(kind, message, problems)
    await JSONResponse(body, status_code=status, headers=headers)(scope, receive, send)


async def _read_body(receive: Receive) -> bytes | None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A receive that hands the buffered body to the app, then waits for the client as usual."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


def _fingerprint(scope: Scope, body: bytes) -> str:
    head = json.dumps([scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1")])
    return hashlib.sha256(head.encode() + b"\n" + body).hexdigest()


def _sends_key(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether the request sends an Idempotency-Key. Most do not: find out before decoding any header
    (ASGI header names are lower case)."""
    return any(name == HEADER for name, _ in headers)


def _headers(scope: Scope) -> dict[bytes, str]:
    return {k.lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


async def _thread(fn: Callable[..., T], *args: Any) -> T:
    return await anyio.to_thread.run_sync(fn, *args)
