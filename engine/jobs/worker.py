"""The worker loop: runs due jobs, sleeps until the next one is due (at most `poll` seconds), and
wakes early when this process commits new work."""

import logging
import threading
import time
from collections.abc import Callable

from engine.jobs.executor import JobExecutor
from engine.storage.tables import utcnow

log = logging.getLogger("opsflow.worker")


class Worker:
    def __init__(
        self,
        executor: JobExecutor,
        poll: float = 0.25,
        *,
        maintenance: Callable[[], None] | None = None,
        maintenance_every: float = 1.0,
    ) -> None:
        self.executor = executor
        self.poll = poll
        self._maintenance = maintenance  # e.g. the SQLite checkpoint
        self._maintenance_every = maintenance_every
        self._maintained_at = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        self._wake.set()

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                while self.executor.run_due_jobs() and not self._stop.is_set():
                    pass
                next_due = self.executor.next_due()
                self._maintain()
            except Exception:  # the database may be briefly unreachable: keep going
                log.exception("worker loop error")
                next_due = None
            wait = self.poll
            if next_due is not None:
                wait = max(0.0, min(wait, (next_due - utcnow()).total_seconds()))
            self._wake.wait(wait)
            self._wake.clear()

    def _maintain(self) -> None:
        now = time.monotonic()
        if self._maintenance is not None and now - self._maintained_at >= self._maintenance_every:
            self._maintained_at = now
            self._maintenance()

    def start(self) -> "Worker":
        self._thread = threading.Thread(target=self.run_forever, name="opsflow-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
