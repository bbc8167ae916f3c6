"""Sequential completions on PostgreSQL against SQLite, in one run: an `opsflow serve` on each database,
one client, three-task instances alternating between the two instance by instance (so that the
machine's slow phases hit both alike). Reports complete p50/p95 and server CPU per completion on each,
and the ratio of the p50s (target: PostgreSQL within 1.5x of SQLite). PostgreSQL's own CPU is not
included in the server CPU.

    .venv/bin/python -m bench.pg_vs_sqlite [--n 150] [--rounds 3]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics

from bench.common import (
    Client,
    Server,
    fresh_database,
    latency_summary,
    machine_info,
    postgres_available,
    prepare,
    print_machine,
    print_table,
    print_targets,
    run_three_tasks,
    target,
    write_result,
)

RATIO_LIMIT = 1.5


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=150, help="instances per database and round")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not postgres_available():
        raise SystemExit("PostgreSQL is not reachable")
    info = machine_info()
    print_machine(info)
    kinds = ("sqlite", "postgres")
    per_round = []
    with contextlib.ExitStack() as stack:
        servers, clients = {}, {}
        for kind in kinds:
            db = stack.enter_context(fresh_database(kind))
            tokens = prepare(db.url, {"bench": ["leader"]}, handbook=False)
            servers[kind] = stack.enter_context(Server(db))
            clients[kind] = Client(servers[kind].url, tokens["bench"])
            stack.callback(clients[kind].close)
        for i in range(10):  # warm-up
            for kind in kinds:
                run_three_tasks(clients[kind], i)
        for r in range(args.rounds):
            cpu = dict.fromkeys(kinds, 0.0)
            done = dict.fromkeys(kinds, 0)
            for kind in kinds:
                clients[kind].timings.clear()
            for i in range(args.n):
                for kind in kinds:
                    c0 = servers[kind].cpu_seconds()
                    done[kind] += run_three_tasks(clients[kind], i)
                    cpu[kind] += servers[kind].cpu_seconds() - c0
            result = {
                kind: {
                    **latency_summary(clients[kind].timings["complete"]),
                    "server_cpu_ms_per_completion": round(cpu[kind] * 1000 / done[kind], 3),
                }
                for kind in kinds
            }
            result["ratio_p50"] = round(result["postgres"]["p50_ms"] / result["sqlite"]["p50_ms"], 3)
            per_round.append(result)
            print(
                f"  round {r + 1}: complete p50 SQLite {result['sqlite']['p50_ms']} ms, PostgreSQL "
                f"{result['postgres']['p50_ms']} ms, ratio {result['ratio_p50']}",
                flush=True,
            )
    rows = []
    for kind in kinds:
        for key in ("p50_ms", "p95_ms", "server_cpu_ms_per_completion"):
            values = [r[kind][key] for r in per_round]
            rows.append(
                [f"{kind}: {key}", round(statistics.median(values), 3), f"{min(values)} - {max(values)}"]
            )
    ratios = [r["ratio_p50"] for r in per_round]
    rows.append(
        ["ratio of complete p50s", round(statistics.median(ratios), 3), f"{min(ratios)} - {max(ratios)}"]
    )
    print()
    print_table(["figure", f"median of {args.rounds} rounds", "min - max"], rows)
    targets = [target("PostgreSQL complete p50 / SQLite's", statistics.median(ratios), "<", RATIO_LIMIT)]
    print_targets(targets)
    write_result(
        "pg_vs_sqlite",
        {
            "benchmark": "pg_vs_sqlite",
            "machine": info,
            "parameters": vars(args),
            "rounds": per_round,
            "targets": targets,
        },
    )


if __name__ == "__main__":
    main()
