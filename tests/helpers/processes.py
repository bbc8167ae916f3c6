"""Real `opsflow` processes (serve / worker) on a given database, for multi-process and crash tests."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.helpers.server import free_port

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, database_url: str) -> subprocess.CompletedProcess:
    """`opsflow ARGS...` to its end, as a person at a shell would run it."""
    return subprocess.run(
        [sys.executable, "-m", "api.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={"OPSFLOW_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
    )


def opsflow(*args: str, database_url: str, **env: str) -> subprocess.Popen:
    environment = {**os.environ, "OPSFLOW_DATABASE_URL": database_url, **env}
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", *args],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_healthy(base: str, process: subprocess.Popen, timeout: float = 120) -> None:
    """Generous: on a loaded two-core machine a cold start (imports, migrations) can take tens of seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read().decode()[-2000:]}")
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("server did not become healthy")


@contextmanager
def servers(database_url: str, count: int, **env: str) -> Iterator[list[tuple[str, subprocess.Popen]]]:
    started = []
    try:
        for _ in range(count):
            port = free_port()
            process = opsflow("serve", "--port", str(port), database_url=database_url, **env)
            started.append((f"http://127.0.0.1:{port}", process))
        for base, process in started:
            wait_healthy(base, process)
        yield started
    finally:
        for _, process in started:
            stop(process)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
