"""Limits on the request line and headers, enforced by the HTTP parser of `opsflow serve` before any
application code runs (uvicorn's httptools protocol has none of its own):

- a URL (path and query) longer than MAX_URL_BYTES answers 414;
- more than MAX_HEADERS header fields, or more than MAX_HEADER_BYTES of them, answers 431;
- a request head still unfinished after MAX_HEAD_BYTES (one endless header line, say) answers 431
  as soon as that much has arrived, so no more of it is buffered.

Each refusal closes the connection. Bodies are limited later, by api/limits.py.
"""

import http

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_URL_BYTES = 8 * 1024
MAX_HEADERS = 100
MAX_HEADER_BYTES = 32 * 1024
MAX_HEAD_BYTES = MAX_URL_BYTES + MAX_HEADER_BYTES + 1024  # the request line's and header lines' syntax


class _Refused(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with the limits above."""

    _refusal: _Refused | None = None
    _in_head = True
    _head_bytes = 0
    _header_bytes = 0

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            self._head_bytes += len(data)
        super().data_received(data)
        if self._in_head and self._head_bytes > MAX_HEAD_BYTES and not self.transport.is_closing():
            self._refuse(_Refused(431, f"the request head is larger than {MAX_HEAD_BYTES} bytes"))

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        if len(self.url) > MAX_URL_BYTES:
            self._stop(414, f"the URL is longer than {MAX_URL_BYTES} bytes")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value)
        if len(self.headers) >= MAX_HEADERS:
            self._stop(431, f"the request has more than {MAX_HEADERS} header fields")
        if self._header_bytes > MAX_HEADER_BYTES:
            self._stop(431, f"the request's header fields are larger than {MAX_HEADER_BYTES} bytes")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head, self._head_bytes = False, 0
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head = True
        super().on_message_complete()

    def _stop(self, status: int, message: str) -> None:
        """Stop parsing (from a parser callback): the parser error this raises makes uvicorn call
        send_400_response, which answers with this refusal instead."""
        self._refusal = _Refused(status, message)
        raise self._refusal

    def send_400_response(self, msg: str) -> None:
        if self._refusal is None:
            super().send_400_response(msg)
        else:
            self._refuse(self._refusal)

    def _refuse(self, error: _Refused) -> None:
        body = f'{{"error":"request_too_large","message":"{error}","problems":[]}}'.encode()
        reason = http.HTTPStatus(error.status).phrase.encode()
        self.transport.write(
            b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n%s" % (error.status, reason, len(body), body)
        )
        self.transport.close()
