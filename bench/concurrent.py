"""2. Concurrent: 4 and 16 clients (threads, one keep-alive connection and one user each), each running
three-task instances back to back (start, look up the first task, complete A, B, C) for a fixed time.
On SQLite and on PostgreSQL, with one and with two `opsflow serve` processes (clients split between
them). Reported: completions per second over the wall time, p50/p95/p99 of complete and start, errors.

The clients run on the same 2-core machine as the server(s) and take their share of the CPU.

    .venv/bin/python -m bench.concurrent [--quick] [--seconds 10] [--db sqlite,postgres] [--servers 1,2]
"""

from __future__ import annotations

import contextlib
import threading
import time

from bench.common import (
    THREE,
    Client,
    HttpError,
    Server,
    base_args,
    fresh_database,
    latency_summary,
    load_average,
    machine_info,
    median_of,
    postgres_available,
    prepare,
    print_machine,
    print_table,
    print_targets,
    three_task_data,
    write_result,
)

MAX_CLIENTS = 16


def worker(client: Client, stop: threading.Event, out: dict, n: int) -> None:
    done = errors = 0
    i = 0
    while not stop.is_set():
        i += 1
        try:
            instance = client.start(THREE)
            tasks = client.inbox(scope="offered", instance=instance["id"])["items"]
            while tasks and not stop.is_set():
                task = tasks[0]
                detail = client.complete(task["id"], three_task_data(task["element_id"], n * 100000 + i))
                done += 1
                tasks = detail["open_tasks"]
        except HttpError as exc:
            errors += 1
            out.setdefault("error_samples", []).append(str(exc)[:200])
    out["done"], out["errors"] = done, errors


def load(servers: list[Server], tokens: dict[str, str], clients: int, seconds: float) -> dict:
    names = sorted(tokens)[:clients]
    cs = [Client(servers[i % len(servers)].url, tokens[name]) for i, name in enumerate(names)]
    # warm up: every connection once
    for c in cs:
        c.start(THREE, label=None)
        c.timings.clear()
    stop = threading.Event()
    outs = [{} for _ in cs]
    threads = [
        threading.Thread(target=worker, args=(c, stop, o, n))
        for n, (c, o) in enumerate(zip(cs, outs, strict=True))
    ]
    cpu0 = sum(s.cpu_seconds() for s in servers)
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    cpu = sum(s.cpu_seconds() for s in servers) - cpu0
    completes = [t for c in cs for t in c.timings.get("complete", [])]
    starts = [t for c in cs for t in c.timings.get("start", [])]
    for c in cs:
        c.close()
    done = sum(o["done"] for o in outs)
    return {
        "clients": clients,
        "completions": done,
        "completions_per_s": round(done / wall, 1),
        "errors": sum(o["errors"] for o in outs),
        "server_cpu_ms_per_completion": round(cpu * 1000 / max(done, 1), 3),
        "loadavg_after": load_average(),
        "error_samples": [s for o in outs for s in o.get("error_samples", [])][:5],
        "complete": latency_summary(completes),
        "start": latency_summary(starts),
    }


def one_run(kind: str, n_servers: int, client_counts: list[int], seconds: float) -> dict:
    users = {f"bench{i:02d}": ["leader"] for i in range(MAX_CLIENTS)}
    with fresh_database(kind) as db:
        tokens = prepare(db.url, users, handbook=False)
        with contextlib.ExitStack() as stack:
            servers = [stack.enter_context(Server(db)) for _ in range(n_servers)]
            return {str(c): load(servers, tokens, c, seconds) for c in client_counts}


def main() -> None:
    parser = base_args(__doc__)
    parser.add_argument("--seconds", type=float, default=None, help="load time per measurement")
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--servers", default="1,2")
    parser.add_argument("--clients", default="4,16")
    args = parser.parse_args()
    seconds = args.seconds or (2 if args.quick else 8)
    repeats = args.repeats or (1 if args.quick else 3)
    kinds = [k for k in args.db.split(",") if k]
    if "postgres" in kinds and not postgres_available():
        print("PostgreSQL is not reachable: skipping it")
        kinds.remove("postgres")
    server_counts = [int(s) for s in args.servers.split(",")]
    client_counts = [int(c) for c in args.clients.split(",")]
    info = machine_info()
    print_machine(info)
    print(f"concurrent: {seconds:g} s per measurement, {repeats} run(s) each, three-task process")

    results, rows = {}, []
    for kind in kinds:
        for n_servers in server_counts:
            runs = []
            for r in range(repeats):
                run = one_run(kind, n_servers, client_counts, seconds)
                runs.append(run)
                print(
                    f"  {kind} x{n_servers} run {r + 1}: "
                    + ", ".join(
                        f"{c} clients {run[str(c)]['completions_per_s']}/s ({run[str(c)]['errors']} errors)"
                        for c in client_counts
                    )
                )
            med = median_of(runs)
            key = f"{kind}/{n_servers}"
            results[key] = {"median": med, "runs": runs}
            for c in client_counts:
                m = med[str(c)]
                rows.append(
                    [
                        kind,
                        n_servers,
                        c,
                        m["completions_per_s"],
                        m["complete"]["p50_ms"],
                        m["complete"]["p95_ms"],
                        m["complete"]["p99_ms"],
                        m["start"]["p50_ms"],
                        m["start"]["p95_ms"],
                        m["server_cpu_ms_per_completion"],
                        m["errors"],
                    ]
                )
    print()
    print_table(
        [
            "database",
            "servers",
            "clients",
            "completions/s",
            "complete p50 ms",
            "p95 ms",
            "p99 ms",
            "start p50 ms",
            "start p95 ms",
            "server CPU ms/compl",
            "errors",
        ],
        rows,
    )
    print_targets([])
    write_result(
        "concurrent",
        {
            "benchmark": "concurrent",
            "machine": info,
            "parameters": {
                "seconds": seconds,
                "repeats": repeats,
                "databases": kinds,
                "server_processes": server_counts,
                "clients": client_counts,
            },
            "results": results,
            "targets": [],
        },
    )


if __name__ == "__main__":
    main()
