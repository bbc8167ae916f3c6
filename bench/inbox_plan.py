"""Why the inbox at scale is slow: the SQL statements `engine.tasks.inbox` runs for each query of
bench.inbox (captured in-process), each statement's time (median of repeats) and its query plan, on the
same 100,000 open tasks. With --try-indexes it then adds candidate indexes (to this throw-away
database only) and times the same statements again, to show what an index change would buy.

    .venv/bin/python -m bench.inbox_plan [--tasks 100000] [--db sqlite] [--try-indexes]
"""

from __future__ import annotations

import argparse
import statistics
import time

from sqlalchemy import event

from bench.common import build, fresh_database, machine_info, prepare, print_machine, write_result
from bench.inbox import QUERIES, engine_args, populate, users

# Indexes worth trying (SQLite and PostgreSQL syntax alike).
CANDIDATE_INDEXES = [
    "CREATE INDEX bench_ix_cand_kind_value_task ON task_candidate (kind, value, task_id)",
    "CREATE INDEX bench_ix_open_unclaimed_created ON open_task (created_at, id) WHERE assignee IS NULL",
    "CREATE INDEX bench_ix_open_assignee_created ON open_task (assignee, created_at, id)",
    "CREATE INDEX bench_ix_open_process_created ON open_task (process_key, created_at, id)"
    " WHERE assignee IS NULL",
]


def capture(engine, principal, params: dict) -> list[tuple[str, tuple]]:
    seen: list[tuple[str, tuple]] = []

    def grab(conn, cursor, statement, parameters, context, executemany) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine.db, "before_cursor_execute", grab)
    try:
        engine.tasks.inbox(principal=principal, **engine_args(params))
    finally:
        event.remove(engine.db, "before_cursor_execute", grab)
    return seen


def time_statement(engine, statement: str, parameters, repeats: int) -> float:
    times = []
    with engine.db.connect() as conn:
        raw = conn.connection.dbapi_connection
        for _ in range(repeats):
            cur = raw.cursor()
            t0 = time.perf_counter()
            cur.execute(statement, parameters)
            cur.fetchall()
            times.append(time.perf_counter() - t0)
            cur.close()
    return statistics.median(times) * 1000


def plan(engine, statement: str, parameters) -> list[str]:
    with engine.db.connect() as conn:
        raw = conn.connection.dbapi_connection
        cur = raw.cursor()
        if engine.db.dialect.name == "sqlite":
            cur.execute("EXPLAIN QUERY PLAN " + statement, parameters)
            rows = [f"{'  ' * 0}{r[-1]}" for r in cur.fetchall()]
        else:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS OFF) " + statement, parameters)
            rows = [r[0] for r in cur.fetchall()]
        cur.close()
    return rows


def analyse(engine, principal, repeats: int) -> dict:
    out = {}
    for q, params in QUERIES.items():
        stmts = capture(engine, principal, params)
        entries = []
        for statement, parameters in stmts:
            entries.append(
                {
                    "sql": " ".join(statement.split()),
                    "parameters": list(parameters),
                    "ms": round(time_statement(engine, statement, parameters, repeats), 3),
                    "plan": plan(engine, statement, parameters),
                }
            )
        out[q] = entries
    return out


def show(title: str, result: dict) -> None:
    print(f"\n##### {title}")
    for q, entries in result.items():
        print(f"\n=== {q}: {len(entries)} SELECTs, {sum(e['ms'] for e in entries):.2f} ms in the database")
        for e in entries:
            print(f"--- {e['ms']:.2f} ms: {e['sql'][:400]}{' ...' if len(e['sql']) > 400 else ''}")
            for line in e["plan"]:
                print(f"      {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--db", default="sqlite", choices=["sqlite", "postgres"])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--user", default="u001", help="whose inbox (u001 holds the data role)")
    parser.add_argument("--try-indexes", action="store_true")
    args = parser.parse_args()
    info = machine_info()
    print_machine(info)
    with fresh_database(args.db) as db:
        tokens = prepare(db.url, users())
        populate(db.url, args.tasks)
        engine = build(db.url)
        try:
            principal = engine.identity.authenticate(tokens[args.user])
            print(f"{args.user}: groups {sorted(principal.groups)}, {args.tasks} open tasks, {args.db}")
            before = analyse(engine, principal, args.repeats)
            show("as deployed", before)
            result = {
                "benchmark": "inbox_plan",
                "machine": info,
                "parameters": {"open_tasks": args.tasks, "db": args.db, "user": args.user},
                "as_deployed": before,
            }
            if args.try_indexes:
                with engine.db.begin() as conn:
                    for ddl in CANDIDATE_INDEXES:
                        conn.exec_driver_sql(ddl)
                    conn.exec_driver_sql("ANALYZE")
                after = analyse(engine, principal, args.repeats)
                show("with the candidate indexes (+ ANALYZE)", after)
                result["candidate_indexes"] = CANDIDATE_INDEXES
                result["with_candidate_indexes"] = after
        finally:
            engine.close()
    write_result(f"inbox_plan_{args.db}", result)


if __name__ == "__main__":
    main()
