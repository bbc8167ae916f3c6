"""Scripts and expressions that could hold a process run in sandbox worker processes, where they can
be stopped by force.

The sandbox's ticks stop Python-level loops, but one C-level call (comparing two deeply nested
lists, `list(zip(*[range(10**6)] * 25))`) never ticks. So the work goes to a pool of worker
processes: each worker caps its own address space (RLIMIT_AS) and CPU time (RLIMIT_CPU, a backstop),
and the parent watches the worker's CPU time (and a wall-clock bound) and kills it on overrun, then
starts a new one. The caller gets a ScriptLimitError either way; the server thread waiting for it is
only blocked until the limit, and other threads go on meanwhile.

Messages are pickled. What a worker sends back is unpickled with an allow-list of classes: a script
that escaped its sandbox still could not make the server run anything.
"""

import builtins
import contextlib
import io
import logging
import math
import os
import pickle
import queue
import resource
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, TypeAlias

from engine.types import JsonObject

#: What the parent asks a worker: ("execute" | "evaluate", source, context, external names).
Request: TypeAlias = tuple[str, str, JsonObject, JsonObject | None]
#: A worker's answer: ("ok" | "error" | "stopped", value or exception, context after, error line).
Reply: TypeAlias = tuple[str, Any, JsonObject | None, int | None]

log = logging.getLogger("opsflow.sandbox")

#: how long a worker may take in wall-clock time, as a multiple of its CPU limit: a busy machine
#: slows it down, but a worker sleeping in a C call (a lock, a pipe) is stopped too
WALL_FACTOR = 3.0
WALL_MARGIN_SECONDS = 2.0
#: CPU beyond the limit before the parent kills: the worker's ticks stop loops at the limit; the kill
#: is for one call that never returns
CPU_GRACE_SECONDS = 0.1
#: CPU for the bounded work around a run (reading the data in, checking what the script left, sending
#: it back), which the data size limits; the limit itself holds between the worker's "run" and "ran"
HANDLING_SECONDS = 2.0
_POLL_SECONDS = 0.02
WORKER_NICENESS = 5
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class IsolationError(Exception):
    """The pool could not run the work (a worker died without an answer for another reason)."""


@dataclass(frozen=True)
class Stopped:
    """Why the parent stopped a worker; turned into a ScriptLimitError by the sandbox."""

    message: str


# -- the worker side --------------------------------------------------------------------------------


def _cap_memory(growth_mb: int | None) -> None:
    if growth_mb is None:
        return
    try:
        with open("/proc/self/statm", "rb") as f:
            size = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return
    limit = size + growth_mb * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))


def _cap_cpu(seconds: float) -> None:
    """RLIMIT_CPU counts the whole process's life: set it, per job, a little above what this job may
    use. The parent normally stops the worker first; this holds if the parent cannot."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = math.ceil(usage.ru_utime + usage.ru_stime + seconds) + 2
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _error_line(exc: BaseException, filename: str) -> int | None:
    tb, line = exc.__traceback__, None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _portable(exc: BaseException) -> BaseException:
    """The exception without its traceback, as something the parent's allow-list unpickles."""
    try:
        copy: BaseException = pickle.loads(pickle.dumps(exc))
        if type(copy).__module__ in ("builtins", "engine.bpmn.sandbox"):
            copy.__traceback__ = None
            copy.__context__ = copy.__cause__ = None
            return copy
    except Exception:
        pass
    return RuntimeError(f"{type(exc).__name__}: {exc}")


def main(fd: int) -> None:
    """The worker process's entry point: its end of the socket pair, then the limits over it."""
    conn = Connection(fd)
    with contextlib.suppress(OSError):  # a designer's code yields the CPU to the server's requests
        os.nice(WORKER_NICENESS)
    serve(conn, conn.recv())


def serve(conn: Connection, limits: Any) -> None:
    """The worker's loop: one request at a time, until the parent closes the pipe."""
    from engine.bpmn.sandbox import SCRIPT_FILENAME, SandboxedEnvironment

    environment = SandboxedEnvironment(limits, isolated=False)
    environment.on_phase = lambda name: conn.send_bytes(name.encode())
    _cap_memory(limits.max_memory_growth_mb)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            kind, source, context, external = conn.recv()
        except (EOFError, OSError):
            return
        _cap_cpu(limits.cpu_seconds)
        exit_after = False
        try:
            if kind == "execute":
                value = environment.execute(source, context, external)
            else:
                value = environment.evaluate(source, context, external)
            reply: Reply = ("ok", value, context, None)
        except MemoryError:
            reply, exit_after = ("stopped", Stopped(_memory_message(limits, kind)), None, None), True
        except BaseException as exc:  # the script's own errors and the sandbox's: all go back
            reply = ("error", _portable(exc), context, _error_line(exc, SCRIPT_FILENAME))
        try:
            conn.send(reply)
        except Exception as exc:  # a value that does not pickle: the data check should have said so
            conn.send(("error", TypeError(f"the result cannot be handed on: {exc}"), None, None))
        if exit_after:  # after a MemoryError the heap may be in any state: start afresh
            return


def _memory_message(limits: Any, kind: str) -> str:
    what = "script" if kind == "execute" else "expression"
    return f"the {what} used more than {limits.max_memory_growth_mb} MB of memory (memory limit)"


# -- the parent side --------------------------------------------------------------------------------

#: What a worker's answer may contain besides plain containers and scalars.
_ALLOWED = {
    ("datetime", "datetime"), ("datetime", "date"), ("datetime", "time"), ("datetime", "timedelta"),
    ("datetime", "timezone"), ("decimal", "Decimal"), ("engine.bpmn.sandbox", "SandboxError"),
    ("engine.bpmn.sandbox", "ScriptPolicyError"), ("engine.bpmn.sandbox", "ScriptLimitError"),
    ("engine.bpmn.isolation", "Stopped"), ("builtins", "set"), ("builtins", "frozenset"),
    ("builtins", "complex"), ("builtins", "bytearray"), ("builtins", "range"), ("builtins", "slice"),
}  # fmt: skip


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        exception = module == "builtins" and isinstance(getattr(builtins, name, None), type)
        exception = exception and issubclass(getattr(builtins, name), BaseException)
        if (module, name) not in _ALLOWED and not exception:
            raise pickle.UnpicklingError(f"a sandbox worker sent {module}.{name}")
        return super().find_class(module, name)


def _cpu_seconds(pid: int) -> float | None:
    """A process's user + system CPU time, read from /proc (Linux); None elsewhere."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS
    except (OSError, ValueError, IndexError):
        return None


_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _worker_environment(path: str) -> dict[str, str]:
    """Only what an interpreter needs: the worker runs a designer's code, and the server's
    environment holds its database URL and secrets."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "LC_ALL", "TZ", "HOME")}
    return {**keep, "PYTHONPATH": path, "PYTHONDONTWRITEBYTECODE": "1"}


class _Worker:
    """A fresh interpreter (never a fork of a threaded server), talking over a socket pair."""

    def __init__(self, limits: Any) -> None:
        ours, theirs = socket.socketpair()
        path = os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH")) if p)
        code = f"from engine.bpmn.isolation import main; main({theirs.fileno()})"
        self.process = subprocess.Popen(
            [sys.executable, "-c", code],
            pass_fds=(theirs.fileno(),),
            env=_worker_environment(path),
            stdin=subprocess.DEVNULL,
            close_fds=True,
        )
        theirs.close()
        self.conn = Connection(ours.detach())
        self.conn.send(limits)
        try:
            if not self.conn.poll(60):
                raise EOFError
            self.conn.recv()
        except (EOFError, OSError):
            self.kill()
            raise IsolationError("a sandbox worker did not start") from None

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        try:
            self.process.kill()
            self.process.wait(5)
        except Exception:  # already gone
            pass
        self.conn.close()

    def exitcode(self) -> int | None:
        try:
            return self.process.wait(1)
        except subprocess.TimeoutExpired:
            return None


class SandboxPool:
    """A few worker processes for one set of limits, started when first needed and replaced when one
    is stopped. Thread-safe: a caller waits for a free worker."""

    def __init__(self, limits: Any, size: int = 2) -> None:
        self.limits = limits
        self.size = max(1, size)
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._started = 0
        self._lock = threading.Lock()
        self._live: set[_Worker] = set()  # for cpu_seconds()

    def cpu_seconds(self) -> float:
        """CPU time the live workers have used (for benchmarks: it is not this process's own)."""
        with self._lock:
            workers = list(self._live)
        return sum(_cpu_seconds(w.process.pid) or 0.0 for w in workers)

    def _new_worker(self) -> "_Worker":
        worker = _Worker(self.limits)
        with self._lock:
            self._live.add(worker)
        return worker

    def run(self, kind: str, source: str, context: JsonObject, external: JsonObject | None) -> Reply:
        """("ok" | "error" | "stopped", value, context after, error line)."""
        worker = self._take()
        try:
            reply = self._ask(worker, (kind, source, context, external))
        except BaseException:
            self._replace(worker)
            raise
        if reply[0] == "stopped" or not worker.alive():
            self._replace(worker)
        else:
            self._idle.put(worker)
        return reply

    def _take(self) -> _Worker:
        while True:
            with self._lock:
                try:
                    return self._idle.get_nowait()
                except queue.Empty:
                    pass
                start = self._started < self.size
                if start:
                    self._started += 1
            if start:
                try:
                    return self._new_worker()
                except BaseException:
                    with self._lock:
                        self._started -= 1
                    raise
            try:  # all busy: wait for one, and look again now and then (one may have died)
                return self._idle.get(timeout=0.5)
            except queue.Empty:
                continue

    def _replace(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._started -= 1
            self._live.discard(worker)
        # Whoever waits for a worker starts a new one: wake one waiter by handing it a fresh worker.
        if not self._idle.empty():
            return
        try:
            fresh = self._new_worker()
        except Exception:
            log.exception("could not start a sandbox worker")
            return
        with self._lock:
            self._started += 1
        self._idle.put(fresh)

    def _ask(self, worker: _Worker, request: Request) -> Reply:
        """Send the request and wait for the answer, watching the worker's CPU time: between its
        "run" and "ran" messages the limit holds; around them, HANDLING_SECONDS for the data."""
        what = "script" if request[0] == "execute" else "expression"
        worker.conn.send(request)
        pid, cpu_limit = worker.process.pid, self.limits.cpu_seconds
        wall_limit = cpu_limit * WALL_FACTOR + WALL_MARGIN_SECONDS + HANDLING_SECONDS
        started, phase = time.monotonic(), "handling"
        phase_cpu = _cpu_seconds(pid) or 0.0
        handling = 0.0  # CPU spent outside the run so far
        while True:
            if worker.conn.poll(_POLL_SECONDS):
                try:
                    data = worker.conn.recv_bytes()
                except (EOFError, OSError):
                    return ("stopped", Stopped(_memory_or_exit(self.limits, what, worker)), None, None)
                if data in (b"run", b"ran"):
                    now_cpu = _cpu_seconds(pid) or 0.0
                    if phase == "handling":
                        handling += now_cpu - phase_cpu
                    phase, phase_cpu = ("running" if data == b"run" else "handling"), now_cpu
                    continue
                reply: Reply = _Unpickler(io.BytesIO(data)).load()
                return reply
            used = (_cpu_seconds(pid) or 0.0) - phase_cpu
            if phase == "running":
                overrun = used > cpu_limit + CPU_GRACE_SECONDS
            else:
                overrun = handling + used > HANDLING_SECONDS
            overrun = overrun or time.monotonic() - started > wall_limit
            if overrun or not worker.alive():
                alive = worker.alive()
                worker.kill()
                if not alive and not (phase == "running" and used > cpu_limit):
                    return ("stopped", Stopped(_memory_or_exit(self.limits, what, worker)), None, None)
                return ("stopped", Stopped(_cpu_message(what, cpu_limit)), None, None)

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().kill()
            except queue.Empty:
                return


def _memory_or_exit(limits: Any, what: str, worker: _Worker) -> str:
    code = worker.exitcode()
    if code == -24:  # SIGXCPU: RLIMIT_CPU
        return _cpu_message(what, limits.cpu_seconds)
    memory = limits.max_memory_growth_mb
    return f"the {what} ended its sandbox worker (exit {code}): it used more than {memory} MB of memory?"


def _cpu_message(what: str, seconds: float) -> str:
    return f"the {what} exceeded {seconds:g} s CPU (it ran longer than its limit)"


_pools: dict[tuple[Any, int], SandboxPool] = {}
_pools_lock = threading.Lock()


def pool_for(limits: Any, size: int = 2) -> SandboxPool:
    """One pool per set of limits in this process: engines built with the same settings share it."""
    key = (limits, size)
    with _pools_lock:
        if key not in _pools:
            _pools[key] = SandboxPool(limits, size)
        return _pools[key]
