"""A real `opsflow serve` refuses oversized request heads before any application code runs: a 60 KB
URL answers 414, a 1 MB header or 10,000 headers 431, and ordinary requests still work."""

import contextlib
import socket
from collections.abc import Iterator

import pytest

from api.http_limits import MAX_HEADER_BYTES, MAX_HEADERS, MAX_URL_BYTES
from tests.conftest import empty_database
from tests.helpers.processes import opsflow, stop, wait_healthy
from tests.helpers.server import free_port


@pytest.fixture(scope="module")
def server(_database_urls: dict[str, str]) -> Iterator[tuple[str, int]]:
    port = free_port()
    url = empty_database("sqlite", _database_urls)
    process = opsflow("serve", "--port", str(port), database_url=url, OPSFLOW_RUN_WORKER="0")
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process, timeout=120)  # a busy machine starts slowly
        yield "127.0.0.1", port
    finally:
        stop(process)


def exchange(server: tuple[str, int], head: bytes) -> tuple[int, bytes]:
    """Send a request head (as much of it as the server takes) and read the answer's status and body."""
    with socket.create_connection(server, timeout=10) as conn:
        # the server may answer and close before taking it all; its answer is still there to read
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.sendall(head)
        answer = b""
        try:
            while chunk := conn.recv(65536):
                answer += chunk
                if b"\r\n\r\n" in answer and b"connection: close" not in answer.lower():
                    break
        except ConnectionResetError:
            pass
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


def request(path: str = "/health", headers: list[tuple[str, str]] = ()) -> bytes:
    lines = [
        f"GET {path} HTTP/1.1",
        "Host: localhost",
        "Connection: close",
        *(f"{n}: {v}" for n, v in headers),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def test_a_60_kb_url_is_refused_with_414(server: tuple[str, int]) -> None:
    status, body = exchange(server, request("/health?q=" + "a" * 60_000))
    assert status == 414 and b"URL is longer" in body


def test_a_one_megabyte_header_is_refused_with_431(server: tuple[str, int]) -> None:
    status, body = exchange(server, request(headers=[("X-Big", "b" * 1024 * 1024)]))
    assert status == 431 and b"larger than" in body


def test_ten_thousand_headers_are_refused_with_431(server: tuple[str, int]) -> None:
    status, body = exchange(server, request(headers=[(f"X-H{i}", "v") for i in range(10_000)]))
    assert status == 431 and b"header fields" in body


def test_an_endless_header_line_is_cut_off_without_waiting_for_its_end(server: tuple[str, int]) -> None:
    head = b"GET /health HTTP/1.1\r\nHost: localhost\r\nX-Endless: " + b"e" * (
        MAX_HEADER_BYTES + MAX_URL_BYTES + 4096
    )
    assert exchange(server, head)[0] == 431  # no blank line: the head never ends, the server stops it


def test_requests_within_the_limits_are_answered(server: tuple[str, int]) -> None:
    near = [(f"X-H{i}", "v" * 100) for i in range(MAX_HEADERS - 5)]
    assert exchange(server, request("/health?q=" + "a" * (MAX_URL_BYTES - 100), near)) == (
        200,
        b'{"status":"ok"}',
    )
    status, body = exchange(server, request())
    assert (status, body) == (200, b'{"status":"ok"}')
