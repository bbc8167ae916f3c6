"""5. Memory: the RSS of the `opsflow serve` process (VmRSS of /proc/<pid>/status) with 10,000 running
instances of the three-task process, all started over HTTP by 4 client threads. RSS is read when the
server is idle after start-up, after the instances were started, and after a round of inbox reads
(every page of a leader's offered tasks) and 200 completions.

    .venv/bin/python -m bench.memory [--quick] [--instances 10000] [--repeats 3]
"""

from __future__ import annotations

import threading
import time

from bench.common import (
    THREE,
    Client,
    Server,
    base_args,
    fresh_database,
    machine_info,
    median_of,
    prepare,
    print_machine,
    print_table,
    print_targets,
    target,
    three_task_data,
    write_result,
)

THREADS = 4
LIMIT_MB = 300


def one_run(n: int, completions: int) -> dict:
    users = {f"lead{i}": ["leader"] for i in range(THREADS)}
    with fresh_database("sqlite") as db:
        tokens = prepare(db.url, users, handbook=False)
        with Server(db) as server:
            time.sleep(1)
            idle = server.rss_mb()
            clients = [Client(server.url, tokens[name]) for name in sorted(tokens)]
            t0 = time.perf_counter()

            def start_many(c: Client, count: int) -> None:
                for _ in range(count):
                    c.start(THREE, label=None)

            threads = [
                threading.Thread(target=start_many, args=(c, n // THREADS + (k < n % THREADS)))
                for k, c in enumerate(clients)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            start_seconds = time.perf_counter() - t0
            after_start = server.rss_mb()
            c = clients[0]
            offset, seen, total = 0, 0, None
            while total is None or offset < total:
                page = c.inbox(label=None, scope="offered", limit=500, offset=offset)
                total, offset = page["total"], offset + 500
                seen += len(page["items"])
            for page_offset in range(0, min(total, completions), 50):
                items = c.inbox(label=None, scope="offered", limit=50, offset=page_offset)["items"]
                for task in items[: completions - page_offset]:
                    c.complete(task["id"], three_task_data(task["element_id"]), label=None)
            for _ in range(20):
                c.inbox(label=None, scope="all")
                c.inbox(label=None, scope="mine")
            final = server.rss_mb()
            for cl in clients:
                cl.close()
            return {
                "instances": n,
                "offered_total": total,
                "rss_idle_mb": round(idle, 1),
                "rss_after_start_mb": round(after_start, 1),
                "rss_final_mb": round(final, 1),
                "start_seconds": round(start_seconds, 1),
                "starts_per_s": round(n / start_seconds, 1),
            }


def main() -> None:
    parser = base_args(__doc__)
    parser.add_argument("--instances", type=int, default=None)
    args = parser.parse_args()
    n = args.instances or (1000 if args.quick else 10_000)
    repeats = args.repeats or (1 if args.quick else 3)
    completions = 50 if args.quick else 200
    info = machine_info()
    print_machine(info)
    print(
        f"memory: {n} running three-task instances started over HTTP ({THREADS} clients), "
        f"{repeats} run(s), SQLite, one server process"
    )
    runs = []
    for r in range(repeats):
        runs.append(one_run(n, completions))
        print(f"  run {r + 1}: {runs[-1]}")
    med = median_of(runs)
    print()
    print_table(
        ["instances", "RSS idle MB", "RSS after starts MB", "RSS final MB", "starts/s (4 clients)"],
        [[n, med["rss_idle_mb"], med["rss_after_start_mb"], med["rss_final_mb"], med["starts_per_s"]]],
    )
    targets = [target(f"server RSS with {n} running instances", med["rss_final_mb"], "<", LIMIT_MB, "MB")]
    print_targets(targets)
    write_result(
        "memory",
        {
            "benchmark": "memory",
            "machine": info,
            "parameters": {
                "instances": n,
                "client_threads": THREADS,
                "completions": completions,
                "repeats": repeats,
                "database": "sqlite",
                "server_processes": 1,
            },
            "median": med,
            "runs": runs,
            "targets": targets,
        },
    )


if __name__ == "__main__":
    main()
