"""Hostile requests, refused at the door before any route reads them:

- a body larger than its limit answers 413: a Content-Length over the limit is refused without reading
  a byte, and a body sent without one (chunked) is counted as it streams and refused as soon as it
  passes the limit. JSON (and every other non-multipart body) may be `JSON_BODY_BYTES`; a multipart
  upload `settings.max_upload_bytes`, all its files and part headers together;
- a JSON body nested deeper than `MAX_JSON_DEPTH` answers 422 (no form needs more; deeper documents
  are how recursion limits are reached);
- a NUL character in the URL (path or query) or in a JSON string answers 422: no name, key or text
  of ours contains one, and PostgreSQL cannot store or even compare text that does;
- a lone UTF-16 surrogate (`"\\udfff"`) in a JSON key or string answers 422 naming its path: it is
  not text, and once stored every answer that shows it would fail (engine/jsontext.py);
- NaN or Infinity (which are not JSON, though Python's parser reads them) answers 422 naming its
  path: PostgreSQL cannot store them.

Every refusal uses the API's one error shape (api/errors.py).
"""

import json
import math
import re

from fastapi import FastAPI
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_body
from engine.config import Settings
from engine.errors import Problem
from engine.jsontext import SURROGATE_ESCAPE, json_depth, lone_surrogate_path

MIB = 1024 * 1024
JSON_BODY_BYTES = 1 * MIB
MAX_JSON_DEPTH = 32
_HTTP1 = ("1.1", "1.0")

_NUL_ESCAPE = re.compile(rb"(?<!\\)(?:\\\\)*+\\u0000")


class BodyTooLarge(Exception):
    pass


def is_json(content_type: bytes | None) -> bool:
    """Bodies FastAPI may parse as JSON (application/json, application/*+json), and bodies without a
    content type, to be safe."""
    if not content_type:
        return True
    media = content_type.split(b";", 1)[0].strip().lower()
    return media == b"application/json" or (media.startswith(b"application/") and media.endswith(b"+json"))


class RequestLimits:
    """ASGI middleware enforcing the limits above on every HTTP request."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        json_bytes: int = JSON_BODY_BYTES,
        multipart_bytes: int,
        max_json_depth: int = MAX_JSON_DEPTH,
    ) -> None:
        self.app = app
        self.json_bytes = json_bytes
        self.multipart_bytes = multipart_bytes
        self.max_json_depth = max_json_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _has_nul(scope):
            await _refuse(scope, send, 422, "invalid_input", "the URL contains a NUL character")
            return
        # one pass over the headers (ASGI names are lower case), no Headers object: this runs on every request
        content_type = declared = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
            elif name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = True
        if not chunked and (declared == b"0" or (declared is None and scope.get("http_version") in _HTTP1)):
            # no body (HTTP/1 has none without a length or chunks): nothing to check, nothing to wrap
            await self.app(scope, receive, send)
            return

        multipart = content_type is not None and content_type.lower().startswith(b"multipart/")
        limit = self.multipart_bytes if multipart else self.json_bytes
        if declared is not None:
            if not declared.strip().isdigit():
                await _refuse(scope, send, 400, "bad_request", "the Content-Length is not a number")
                return
            if int(declared) > limit:
                await _refuse(scope, send, 413, "payload_too_large", _too_large(limit))
                return

        if not multipart and is_json(content_type):
            try:
                body, more = await _read_body(receive, limit)
            except BodyTooLarge:
                await _refuse(scope, send, 413, "payload_too_large", _too_large(limit))
                return
            problem = self._json_problem(body)
            if problem is not None:
                await _refuse(scope, send, 422, "invalid_input", *problem)
                return
            await self.app(scope, _replay(body, more, receive), send)
            return
        await self._stream(scope, receive, send, limit, _too_large(limit))

    def _json_problem(self, body: bytes) -> tuple[str, str | None] | None:
        """(message, field path) of what makes the body unacceptable, or None."""
        # cheap C-level scans first: a body with few brackets cannot be deep, one without "\u0000" has
        # no NUL, one without "\ud" (any case) no surrogate
        if (
            body.count(b"[") + body.count(b"{") > self.max_json_depth
            and json_depth(body) > self.max_json_depth
        ):
            return f"the JSON body is nested more than {self.max_json_depth} levels deep", None
        if b"\\u0000" in body and _NUL_ESCAPE.search(body):
            return "the JSON body contains a NUL character (\\u0000)", None
        if (b"\\ud" in body or b"\\uD" in body) and SURROGATE_ESCAPE.search(body):
            return _surrogate_problem(body)
        if b"NaN" in body or b"Infinity" in body:
            return _non_finite_problem(body)
        return None

    async def _stream(self, scope: Scope, receive: Receive, send: Send, limit: int, too_large: str) -> None:
        """Pass the body on as it arrives, counting; past the limit the route's reading fails, and
        whatever the route would answer then is replaced by the 413."""
        received = 0
        exceeded = False
        started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge(too_large)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if exceeded and not started:
                return  # swallow the route's own answer to the broken read; the 413 follows
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counting_receive, guarded_send)
        except BodyTooLarge:
            pass
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await _refuse(scope, send, 413, "payload_too_large", too_large)


async def _read_body(receive: Receive, limit: int) -> tuple[bytes, list[Message]]:
    """The whole body, refusing it once it passes `limit`; and any non-body message met (a disconnect)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), [message]
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks), []


def _replay(body: bytes, more: list[Message], receive: Receive) -> Receive:
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}, *more]

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


class _NonFinite(Exception):
    pass


def _refuse_constant(name: str) -> float:
    raise _NonFinite(name)


def _non_finite_problem(body: bytes) -> tuple[str, str | None] | None:
    """NaN and Infinity are not JSON (Python's parser takes them); PostgreSQL cannot store them."""
    try:
        json.loads(body, parse_constant=_refuse_constant)
    except _NonFinite as exc:
        path = _constant_path(json.loads(body), str(exc))
        where = f" at {path}" if path else ""
        return f"the JSON body contains {exc}{where}: not a JSON number", path or None
    except ValueError:
        return None  # not JSON: the route's own parsing answers that
    return None


def _constant_path(value: object, name: str, path: str = "") -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        found = _constant_path(item, name, f"{path}.{key}" if path else str(key))
        if found is not None:
            return found
    return None


def _surrogate_problem(body: bytes) -> tuple[str, str | None] | None:
    """Surrogate escapes are fine in pairs (an emoji); a lone one is refused, naming where it is."""
    try:
        path = lone_surrogate_path(json.loads(body))
    except ValueError:
        return None  # not JSON: the route's own parsing answers that
    if path is None:
        return None
    where = f" at {path}" if path else ""
    return f"the JSON body contains a lone UTF-16 surrogate{where}: it is not text", path or None


def _has_nul(scope: Scope) -> bool:
    raw_path = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string", b"")
    # a NUL in the decoded URL is a raw NUL or the escape %00 (no other escape decodes to one)
    return b"\x00" in raw_path or b"%00" in raw_path or b"\x00" in query or b"%00" in query


def _too_large(limit: int) -> str:
    return f"the request body is larger than {limit} bytes"


async def _refuse(
    scope: Scope, send: Send, status: int, kind: str, message: str, path: str | None = None
) -> None:
    body = error_body(kind, message, [Problem(message, path=path)] if status == 422 else None)
    # the connection is not reused after a refused body: the client may still be sending it
    headers = {"Connection": "close"} if status == 413 else None
    await JSONResponse(body, status_code=status, headers=headers)(scope, _no_body, send)


async def _no_body() -> Message:
    return {"type": "http.disconnect"}


def install(app: FastAPI, settings: Settings) -> None:
    """Refuse hostile requests (see the module's docstring) before any route or body parser runs."""
    app.add_middleware(
        RequestLimits,
        json_bytes=JSON_BODY_BYTES,
        multipart_bytes=settings.max_upload_bytes,
        max_json_depth=MAX_JSON_DEPTH,
    )
