"""Profile what a benchmark measures, to find where the time goes.

  server mode (default): py-spy samples the real `opsflow serve` process (all threads, idle frames
  dropped) while a workload runs; prints the share of samples per frame, inclusive and self, and
  writes the collapsed stacks to bench/results/profile-<workload>.collapsed (load it into speedscope
  or flamegraph.pl).
  --pyinstrument: the same workload through the engine facade in-process under pyinstrument (text tree
  written to bench/results/profile-<workload>-pyinstrument.txt).

Workloads: three_tasks (sequential completions), handbook, inbox (100,000 open tasks, the four inbox
queries), growth (the loop process at n=300).

    .venv/bin/python -m bench.profile three_tasks [--pyinstrument] [--n 300]
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import random
import subprocess
import sys
import time
from pathlib import Path

from bench.common import LOOP, RESULTS, THREE, Client, Server, build, fresh_database, prepare, three_task_data

PY_SPY = str(Path(sys.executable).parent / "py-spy")


def workload_http(name: str, server: Server, tokens: dict, n: int) -> None:
    if name == "three_tasks":
        from bench.common import run_three_tasks

        c = Client(server.url, tokens["bench"])
        for i in range(n):
            run_three_tasks(c, i)
    elif name == "handbook":
        from bench.handbook import USERS, run_handbook

        clients = {u: Client(server.url, tokens[u]) for u in USERS}
        for i in range(max(1, n // 30)):
            run_handbook(clients, i)
    elif name == "inbox":
        from bench.inbox import QUERIES

        users = sorted(t for t in tokens if t.startswith("u"))
        rnd = random.Random(3)
        clients = {u: Client(server.url, tokens[u]) for u in rnd.sample(users, 20)}
        for _ in range(max(1, n // 100)):
            for c in clients.values():
                for params in QUERIES.values():
                    c.inbox(label=None, **params)
    elif name == "growth":
        from bench.growth import http_run

        http_run(server, tokens["bench"], 300)


def setup(name: str, db) -> dict:
    from bench.handbook import USERS

    users = {"bench": ["leader"], **USERS}
    if name == "inbox":
        from bench.inbox import populate
        from bench.inbox import users as inbox_users

        tokens = prepare(db.url, {**users, **inbox_users()})
        populate(db.url, 100_000)
        return tokens
    return prepare(db.url, users)


def _function(frame: str) -> str:
    """`name (path:line)` -> `name (path)`: samples of one function on different lines count together."""
    head, sep, tail = frame.rpartition(":")
    return f"{head})" if sep and tail.rstrip(")").isdigit() else frame


def summarize(collapsed: Path, top: int = 40) -> str:
    inclusive: collections.Counter = collections.Counter()
    self_time: collections.Counter = collections.Counter()
    total = 0
    pending = ""
    for line in collapsed.read_text().splitlines():
        # py-spy writes the source text of generated functions (SQLAlchemy's) as frame names, and
        # those may hold newlines: a sample ends only at a line ending in its count.
        stack, _, count = (pending + line).rpartition(" ")
        if not count.isdigit():
            pending += line + " "
            continue
        pending = ""
        if not stack:
            continue
        n = int(count)
        frames = stack.split(";")
        if frames and frames[0].startswith(("process ", "thread ")):
            frames = [f for f in frames if not f.startswith(("process ", "thread "))]
        frames = [_function(f) for f in frames]
        total += n
        for f in set(frames):
            inclusive[f] += n
        if frames:
            self_time[frames[-1]] += n
    out = [f"{total} samples (active threads only)", "", "inclusive (our code: engine/, api/):"]
    ours = [
        (f, c)
        for f, c in inclusive.most_common()
        if "/engine/" in f or "/api/" in f or "(engine/" in f or "(api/" in f
    ]
    for f, c in ours[:top]:
        out.append(f"  {100 * c / total:5.1f}%  {f}")
    out += ["", "inclusive (all):"]
    for f, c in inclusive.most_common(top):
        out.append(f"  {100 * c / total:5.1f}%  {f}")
    out += ["", "self:"]
    for f, c in self_time.most_common(top):
        out.append(f"  {100 * c / total:5.1f}%  {f}")
    return "\n".join(out)


def server_profile(name: str, n: int, rate: int) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"profile-{name}.collapsed"
    with fresh_database("sqlite") as db:
        tokens = setup(name, db)
        with Server(db) as server:
            workload_http(name, server, tokens, max(5, n // 10))  # warm-up
            spy = subprocess.Popen(
                [
                    PY_SPY,
                    "record",
                    "--pid",
                    str(server.server_pid()),
                    "--rate",
                    str(rate),
                    "--format",
                    "raw",
                    "--output",
                    str(out),
                    "--nonblocking",
                    "--threads",
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            time.sleep(1.5)
            t0 = time.perf_counter()
            workload_http(name, server, tokens, n)
            print(f"workload {name} took {time.perf_counter() - t0:.1f} s under py-spy")
            spy.send_signal(2)
            _, err = spy.communicate(timeout=60)
            if not out.exists():
                raise RuntimeError(f"py-spy wrote nothing: {err.decode()[-2000:]}")
    text = summarize(out)
    (RESULTS / f"profile-{name}.txt").write_text(text + "\n")
    print(text)
    print(f"\nwrote {out} and {out.with_suffix('.txt')}")


def pyinstrument_profile(name: str, n: int) -> None:
    from pyinstrument import Profiler

    with fresh_database("sqlite") as db:
        tokens = setup(name, db)
        engine = build(db.url)
        principal = engine.identity.authenticate(tokens["bench"])

        def run_handbook(count: int) -> None:
            from bench.handbook import JOURNEY, PROCESS, TEAM, data, pick

            people = {name: engine.identity.authenticate(tokens[name]) for name in TEAM.values()}
            for _ in range(count):
                inst = engine.runtime.start_process_instance_by_key(
                    PROCESS, principal=people["lei"], variables=data("start_trigger")
                )
                tasks = engine.tasks.inbox(
                    principal=people["lei"], scope="offered", instance_id=inst.id
                ).items
                for element_id, role, form_data in JOURNEY:
                    task = pick([dataclasses.asdict(t) for t in tasks], element_id, TEAM[role])
                    tasks = engine.tasks.complete(
                        task["id"], form_data, principal=people[TEAM[role]]
                    ).open_tasks

        def run(count: int) -> None:
            if name == "handbook":
                return run_handbook(max(1, count // 30))
            for i in range(count):
                if name == "growth":
                    inst = engine.runtime.start_process_instance_by_key(
                        LOOP, principal=principal, variables={"n": 300}
                    )
                else:
                    inst = engine.runtime.start_process_instance_by_key(THREE, principal=principal)
                tasks = engine.tasks.inbox(principal=principal, scope="offered", instance_id=inst.id).items
                while tasks:
                    t = tasks[0]
                    data = {"note": "x"} if name == "growth" else three_task_data(t.element_id, i)
                    tasks = engine.tasks.complete(t.id, data, principal=principal).open_tasks

        run(1 if name == "growth" else 3)
        profiler = Profiler(interval=0.001)
        profiler.start()
        run(1 if name == "growth" else n)
        profiler.stop()
        engine.close()
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    path = RESULTS / f"profile-{name}-pyinstrument.txt"
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(text[:12000])
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("workload", choices=["three_tasks", "handbook", "inbox", "growth"])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--rate", type=int, default=1000, help="py-spy samples per second")
    parser.add_argument("--pyinstrument", action="store_true")
    args = parser.parse_args()
    if args.pyinstrument:
        pyinstrument_profile(args.workload, args.n)
    else:
        server_profile(args.workload, args.n, args.rate)


if __name__ == "__main__":
    main()
