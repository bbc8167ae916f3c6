"""Shared pieces of the benchmarks: machine info, statistics, fresh databases, a real `opsflow serve`
subprocess, an HTTP client, and the JSON result files."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PROCESSES = BENCH / "processes"
RESULTS = BENCH / "results"
PYTHON = sys.executable
PG_ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")

# --- machine and statistics -----------------------------------------------------------------------


def machine_info() -> dict:
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem_total = None
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_total = int(line.split()[1]) // 1024
    versions = {}
    for dist in ("spiffworkflow", "fastapi", "uvicorn", "sqlalchemy", "sqlmodel", "httpx", "psycopg"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions[dist] = version(dist)
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model or platform.processor(),
        "mem_total_mb": mem_total,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "packages": versions,
        "loadavg_at_start": load_average(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def load_average() -> list[float]:
    """1, 5 and 15 minute load averages: other work on the machine shows here (2 cores: 2.0 is full)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def print_machine(info: dict) -> None:
    print(
        f"machine: {info['nproc']} cores, {info['cpu_model']}, {info['mem_total_mb']} MB, "
        f"Python {info['python']}, SpiffWorkflow {info['packages'].get('spiffworkflow')}, "
        f"load average {info['loadavg_at_start']}"
    )


def pct(values: list[float], p: float) -> float:
    """The p-th percentile (0-100), linear interpolation; values need not be sorted."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def latency_summary(seconds: list[float]) -> dict:
    """p50/p95/p99/mean in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(pct(ms, 50), 3),
        "p95_ms": round(pct(ms, 95), 3),
        "p99_ms": round(pct(ms, 99), 3),
        "mean_ms": round(statistics.fmean(ms), 3) if ms else None,
    }


def median_of(runs: list[dict]) -> dict:
    """Key-wise median of a list of flat (or nested) dicts of numbers."""
    out: dict = {}
    for key in runs[0]:
        values = [r[key] for r in runs if key in r]
        if isinstance(values[0], dict):
            out[key] = median_of(values)
        elif isinstance(values[0], (int, float)) and not isinstance(values[0], bool):
            clean = [v for v in values if v is not None and v == v]
            out[key] = round(statistics.median(clean), 3) if clean else None
        else:
            out[key] = values[0]
    return out


def target(name: str, value: float | None, op: str, limit: float, unit: str = "") -> dict:
    ok = value is not None and (value >= limit if op == ">=" else value < limit)
    return {"target": name, "value": value, "op": op, "limit": limit, "unit": unit, "pass": ok}


def print_targets(targets: list[dict]) -> None:
    if not targets:
        return
    print("\ntargets:")
    for t in targets:
        mark = "PASS" if t["pass"] else "MISS"
        print(
            f"  [{mark}] {t['target']}: {t['value']} {t['unit']} (target {t['op']} {t['limit']} {t['unit']})"
        )


def print_table(headers: list[str], rows: list[list]) -> None:
    cells = [[str(h) for h in headers]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, r in enumerate(cells):
        print(
            "  ".join(
                c.rjust(w) if n and i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))
            )
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))


def write_result(name: str, result: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(f"\nwrote {path.relative_to(ROOT)}")
    return path


def base_args(description: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke check")
    parser.add_argument("--repeats", type=int, default=None, help="repeated runs (the median is reported)")
    return parser


# --- databases -----------------------------------------------------------------------------------


@dataclass
class Database:
    kind: str  # sqlite | postgres
    url: str
    tmpdir: Path
    schema: str | None = None


@contextlib.contextmanager
def fresh_database(kind: str = "sqlite") -> Iterator[Database]:
    """A new empty SQLite file in a temp dir, or a new PostgreSQL schema (dropped afterwards)."""
    tmpdir = Path(tempfile.mkdtemp(prefix="opsflow-bench-"))
    try:
        if kind == "sqlite":
            yield Database(kind, f"sqlite:///{tmpdir / 'bench.db'}", tmpdir)
        elif kind == "postgres":
            import psycopg

            schema = f"bench_{secrets.token_hex(4)}"
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f"CREATE SCHEMA {schema}")
            try:
                yield Database(kind, f"{PG_ADMIN_URL}?options=-csearch_path%3D{schema}", tmpdir, schema)
            finally:
                with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                    conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        else:
            raise ValueError(kind)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
        return True
    except Exception:
        return False


def build(url: str):
    """The engine facade on `url` (creates the schema when the database is empty)."""
    from engine.config import Settings
    from engine.engine import build_engine

    return build_engine(Settings(database_url=url))


def prepare(url: str, users: dict[str, list[str]], *, handbook: bool = True) -> dict[str, str]:
    """Deploy the bench processes (and the handbook), create users; returns name -> bearer token."""
    from engine.seed import collect_files, deploy_handbook

    engine = build(url)
    try:
        engine.repository.deploy(collect_files([PROCESSES]), name="bench", actor="bench")
        if handbook:
            deploy_handbook(engine, actor="bench")
        tokens = {}
        for name, roles in users.items():
            engine.identity.create_user(name, roles, exist_ok=True)
            tokens[name] = engine.identity.issue_token(name, label="bench")
        return tokens
    finally:
        engine.close()


# --- the server under test -----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`opsflow serve` as a subprocess on a free port; its output goes to a log file."""

    def __init__(self, db: Database, *, extra_env: dict | None = None, wrap: list[str] | None = None) -> None:
        self.db = db
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = db.tmpdir / f"serve-{self.port}.log"
        env = {**os.environ, "OPSFLOW_DATABASE_URL": db.url, **(extra_env or {})}
        cmd = [
            *(wrap or []),
            PYTHON,
            "-m",
            "api.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
        ]
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        self._cmd, self._env, self._upgraded = cmd, env, False
        self._wait_ready()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log = self.log_path.read_text()
                if "opsflow db upgrade" in log and not self._upgraded:
                    # the code moved on (a new migration) since this benchmark created its database
                    self._upgraded = True
                    self._log.close()
                    subprocess.run(
                        [PYTHON, "-m", "api.cli", "db", "upgrade"], cwd=ROOT, env=self._env, check=True
                    )
                    self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
                    self.proc = subprocess.Popen(
                        self._cmd, cwd=ROOT, env=self._env, stdout=self._log, stderr=subprocess.STDOUT
                    )
                    continue
                raise RuntimeError(f"opsflow serve exited: {log[-3000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("opsflow serve did not become ready")

    def server_pid(self) -> int:
        """The pid of the Python process that serves (the child when wrapped, e.g. by py-spy)."""
        try:
            import psutil

            proc = psutil.Process(self.proc.pid)
            for p in [proc, *proc.children(recursive=True)]:
                if "api.cli" in " ".join(p.cmdline()):
                    return p.pid
        except Exception:
            pass
        return self.proc.pid

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far (all its threads)."""
        import psutil

        t = psutil.Process(self.server_pid()).cpu_times()
        return t.user + t.system

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.server_pid()}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
        return kb / 1024

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


# --- the client ----------------------------------------------------------------------------------


class HttpError(Exception):
    pass


@dataclass
class Client:
    """One keep-alive connection acting as one user."""

    base_url: str
    token: str
    timings: dict[str, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.http = httpx.Client(
            base_url=self.base_url, headers={"Authorization": f"Bearer {self.token}"}, timeout=60
        )

    def close(self) -> None:
        self.http.close()

    def call(self, label: str | None, method: str, path: str, **kwargs) -> dict:
        t0 = time.perf_counter()
        r = self.http.request(method, path, **kwargs)
        dt = time.perf_counter() - t0
        if r.status_code >= 300:
            raise HttpError(f"{method} {path}: {r.status_code} {r.text[:500]}")
        if label:
            self.timings.setdefault(label, []).append(dt)
        return r.json() if r.content else {}

    def start(
        self,
        process_key: str,
        variables: dict | None = None,
        business_key: str | None = None,
        label: str | None = "start",
    ) -> dict:
        body: dict = {"process_key": process_key, "variables": variables or {}}
        if business_key:
            body["business_key"] = business_key
        return self.call(label, "POST", "/api/v1/process-instances", json=body)

    def inbox(self, label: str | None = "inbox", **params) -> dict:
        return self.call(label, "GET", "/api/v1/tasks", params=params)

    def complete(self, task_id: str, data: dict, label: str | None = "complete") -> dict:
        return self.call(label, "POST", f"/api/v1/tasks/{task_id}/complete", json={"data": data})

    def claim(self, task_id: str, label: str | None = "claim") -> dict:
        return self.call(label, "POST", f"/api/v1/tasks/{task_id}/claim")


# --- the bench processes' form data ---------------------------------------------------------------

THREE = "bench_three_tasks"
LOOP = "bench_loop"


def three_task_data(element_id: str, i: int = 0) -> dict:
    k = element_id.removeprefix("Task_").lower()
    return {f"note_{k}": f"step {k} of instance {i}", f"amount_{k}": 100 + i % 1000, f"ok_{k}": True}


def run_three_tasks(client: Client, i: int = 0) -> int:
    """Start one three-task instance and complete A, B, C; returns the completions done."""
    instance = client.start(THREE)
    tasks = client.inbox(label="inbox", scope="offered", instance=instance["id"])["items"]
    done = 0
    while tasks:
        task = tasks[0]
        detail = client.complete(task["id"], three_task_data(task["element_id"], i))
        done += 1
        tasks = detail["open_tasks"]
    return done
