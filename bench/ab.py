"""Two versions of the code side by side: one `opsflow serve` from this checkout and one from another
(--base, e.g. a `git worktree` of main), on the same SQLite database, driven instance by instance in
alternation so that the machine's slow phases hit both alike. Reports, per workload and version, the
mean time per completion (first and last tenth for the loop) and the server CPU per completion.

    .venv/bin/python -m bench.ab --base /path/to/checkout [--loops 10,100,300] [--three 100] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
from pathlib import Path

from bench.common import (
    LOOP,
    ROOT,
    Client,
    Server,
    fresh_database,
    machine_info,
    prepare,
    print_machine,
    print_table,
    run_three_tasks,
    write_result,
)
from bench.growth import STEP_DATA


class ServerAt(Server):
    """`opsflow serve` run from the checkout at `root` (its own code; the venv is this one)."""

    def __init__(self, db, root: Path) -> None:
        self._root = root
        real = subprocess.Popen

        def popen(cmd, **kwargs):  # the same command, started in the other checkout
            return real(cmd, **{**kwargs, "cwd": root, "env": {**kwargs["env"], "PYTHONPATH": str(root)}})

        subprocess.Popen = popen  # type: ignore[assignment]
        try:
            super().__init__(db)
        finally:
            subprocess.Popen = real  # type: ignore[assignment]


def loop_instance(client: Client, server: Server, n: int) -> tuple[list[float], float]:
    client.timings.clear()
    instance = client.start(LOOP, {"n": n}, label=None)
    tasks = client.inbox(label=None, scope="offered", instance=instance["id"])["items"]
    c0 = server.cpu_seconds()
    while tasks:
        tasks = client.complete(tasks[0]["id"], STEP_DATA)["open_tasks"]
    return list(client.timings["complete"]), (server.cpu_seconds() - c0) * 1000 / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", required=True, type=Path)
    parser.add_argument("--loops", default="10,100,300")
    parser.add_argument("--three", type=int, default=100, help="three-task instances per version and repeat")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    info = machine_info()
    print_machine(info)
    sizes = [int(s) for s in args.loops.split(",") if s]
    versions = {"base": args.base.resolve(), "this": ROOT}
    out: dict = {}
    with fresh_database("sqlite") as db:
        tokens = prepare(db.url, {"bench": ["leader"]}, handbook=False)
        servers = {name: ServerAt(db, root) for name, root in versions.items()}
        try:
            clients = {name: Client(s.url, tokens["bench"]) for name, s in servers.items()}
            for name in versions:  # warm-up
                loop_instance(clients[name], servers[name], 5)
                for i in range(5):
                    run_three_tasks(clients[name], i)
            loops = {(name, n): [] for name in versions for n in sizes}
            three = {name: {"times": [], "cpu": 0.0, "done": 0} for name in versions}
            for _ in range(args.repeats):
                for n in sizes:
                    for name in versions:
                        loops[(name, n)].append(loop_instance(clients[name], servers[name], n))
                for i in range(args.three):
                    for name in versions:
                        c, s = clients[name], servers[name]
                        c.timings.clear()
                        c0 = s.cpu_seconds()
                        three[name]["done"] += run_three_tasks(c, i)
                        three[name]["cpu"] += s.cpu_seconds() - c0
                        three[name]["times"] += c.timings["complete"]
        finally:
            for s in servers.values():
                s.stop()
    rows = []
    for n in sizes:
        tenth = max(1, n // 10)
        for name in versions:
            runs = loops[(name, n)]
            steps = [statistics.median(step) * 1000 for step in zip(*(r[0] for r in runs), strict=True)]
            cpu = statistics.median(r[1] for r in runs)
            res = out.setdefault(f"loop_{n}", {})[name] = {
                "mean_ms": round(statistics.fmean(steps), 3),
                "first_tenth_ms": round(statistics.fmean(steps[:tenth]), 3),
                "last_tenth_ms": round(statistics.fmean(steps[-tenth:]), 3),
                "server_cpu_ms_per_completion": round(cpu, 3),
            }
            rows.append([f"loop n={n}", name, *res.values()])
    for name in versions:
        t = three[name]
        ms = sorted(x * 1000 for x in t["times"])
        res = out.setdefault("three_tasks", {})[name] = {
            "mean_ms": round(statistics.fmean(ms), 3),
            "p50_ms": round(statistics.median(ms), 3),
            "server_cpu_ms_per_completion": round(t["cpu"] * 1000 / t["done"], 3),
        }
        rows.append(
            ["three-task", name, res["mean_ms"], res["p50_ms"], "", res["server_cpu_ms_per_completion"]]
        )
    print()
    print_table(
        [
            "workload",
            "version",
            "mean ms",
            "first tenth / p50 ms",
            "last tenth ms",
            "server CPU ms per completion",
        ],
        rows,
    )
    write_result(
        "ab",
        {
            "benchmark": "ab",
            "machine": info,
            "versions": {k: str(v) for k, v in versions.items()},
            "results": out,
        },
    )


if __name__ == "__main__":
    main()
