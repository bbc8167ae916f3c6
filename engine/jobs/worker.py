"""The worker loop: runs due jobs, sleeps until the next one is due (at most `poll` seconds), and
wakes early when this process commits a job due before then (`wake`, called after such a commit:
engine/jobs/queue.py).

With several threads, jobs run side by side: a job that takes its full script limit (or its
webhook's timeout) does not hold the timers of other instances behind it. One job per instance
runs at a time."""

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

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
        threads: int = 1,
        listen: Callable[[Callable[[datetime], None]], Callable[[], None]] | None = None,
    ) -> None:
        """`listen(job_scheduled)`: while started, tell this worker of the jobs this process
        schedules (JobExecutor.listen); returns what stops it."""
        self.executor = executor
        self.poll = poll
        self.threads = threads
        self._running: dict[str, str | None] = {}  # job id -> instance id, while a thread runs it
        self._running_lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._maintenance = maintenance  # e.g. the SQLite checkpoint
        self._maintenance_every = maintenance_every
        self._maintained_at = 0.0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listen = listen
        self._unlisten: Callable[[], None] | None = None

    def wake(self) -> None:
        """Look for due jobs now rather than at the end of the current wait."""
        self._wake.set()

    def job_scheduled(self, due_at: datetime) -> None:
        """A transaction of this process committed a job due at `due_at`: wake for it unless the
        poll comes first."""
        if due_at <= utcnow() + timedelta(seconds=self.poll):
            self.wake()

    def run_forever(self) -> None:
        while not self._stop.is_set():
            try:
                claimed = None
                if self.threads > 1:
                    claimed = self._dispatch()
                else:
                    while self.executor.run_due_jobs() and not self._stop.is_set():
                        pass
                next_due = self.executor.next_due()
                if claimed == 0 and next_due is not None and next_due <= utcnow():
                    next_due = None  # due, but every thread is busy (or it is a busy instance's): wait
                self._maintain()
            except Exception:  # the database may be briefly unreachable: keep going
                log.exception("worker loop error")
                next_due = None
            wait = self.poll
            if next_due is not None:
                wait = max(0.0, min(wait, (next_due - utcnow()).total_seconds()))
            self._wake.wait(wait)
            self._wake.clear()

    def _dispatch(self) -> int:
        """Claim as many due jobs as there are free threads and hand them over; never waits.
        Returns how many it claimed."""
        with self._running_lock:
            free = self.threads - len(self._running)
            busy = frozenset(i for i in self._running.values() if i is not None)
        if free <= 0:
            return 0
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="opsflow-job")
        claimed = self.executor.claim(utcnow(), limit=free, busy=busy)
        for job_id, expires, instance_id in claimed:
            with self._running_lock:
                self._running[job_id] = instance_id
            self._pool.submit(self._run_one, job_id, expires)
        return len(claimed)

    def _run_one(self, job_id: str, expires: datetime) -> None:
        try:
            self.executor.run_claimed(job_id, expires)
        except Exception:
            log.exception("job %s", job_id)
        finally:
            with self._running_lock:
                self._running.pop(job_id, None)
            self._wake.set()  # a thread is free: claim again at once

    def _maintain(self) -> None:
        now = time.monotonic()
        if self._maintenance is not None and now - self._maintained_at >= self._maintenance_every:
            self._maintained_at = now
            self._maintenance()

    def start(self) -> "Worker":
        if self._listen is not None:
            self._unlisten = self._listen(self.job_scheduled)
        self._thread = threading.Thread(target=self.run_forever, name="opsflow-worker", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10) -> None:
        if self._unlisten is not None:
            self._unlisten()
            self._unlisten = None
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
