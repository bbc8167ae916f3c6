"""How fast the analytics read: 10,000 finished handbook instances over a year, their history inserted
directly (as the engine writes it: instance_started, then per task task_created / task_claimed /
task_completed, some task_overdue, then instance_completed), on SQLite and PostgreSQL. Times
`engine.analytics.process` (all its statements) for the whole year and for the last twelve weeks, and
`engine.analytics.handbook_goals`, in-process, median of repeated calls, with each statement's share.

    .venv/bin/python -m bench.analytics [--instances 10000] [--db sqlite|postgres|both] [--repeats 7]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import event

from bench.common import (
    build,
    fresh_database,
    machine_info,
    postgres_available,
    print_machine,
    print_table,
    print_targets,
    target,
    write_result,
)
from engine.views import Principal
from tests.fixtures.handbook_journey import DESIGN, DIAGNOSIS, EXECUTION, JOURNEY, STAGE_1, data

ADMIN = Principal("bench", "bench", frozenset({"admin"}))
KEY = "ops_optimization"
END = datetime(2027, 1, 4, tzinfo=UTC)  # a Monday: the year before it holds every instance
STRAIGHT = [
    *STAGE_1,
    *DIAGNOSIS,
    ("Task_review_diagnosis", "leader", {}),
    *DESIGN,
    *EXECUTION,
    ("Task_evaluation_decision", "leader", {}),
    ("Task_roll_out", "execution", {}),
    ("Task_review_standardize", "leader", {}),
]
SENT_BACK = [*STAGE_1, *DIAGNOSIS, ("Task_review_diagnosis", "leader", {}), *STRAIGHT[3:]]
TARGET_MS = 200


def populate(url: str, n: int, seed: int = 11) -> dict:
    """Insert n finished instances and their history; returns row counts and the time it took."""
    from engine.seed import deploy_handbook
    from engine.storage.tables import AuditEventRow, ProcessDefinitionRow, ProcessInstanceRow

    rnd = random.Random(seed)
    engine = build(url)
    t0 = time.perf_counter()
    try:
        deploy_handbook(engine, actor="bench")
        with engine.db.connect() as conn:
            definition_id = conn.execute(
                sa.select(ProcessDefinitionRow.id).where(ProcessDefinitionRow.key == KEY)
            ).scalar_one()
        kickoff, measured = data("kickoff_minutes"), data("measure_effect")
        instances, audit = [], []
        for i in range(n):
            iid = str(uuid.uuid4())
            at = END - timedelta(days=365) + timedelta(minutes=rnd.randrange(0, 365 * 24 * 60 - 60 * 24 * 30))
            started = at
            roll = rnd.random()
            path = JOURNEY if roll < 0.1 else SENT_BACK if roll < 0.3 else STRAIGHT
            audit.append(_event(at, "instance_started", iid, details={"process_key": KEY, "version": 1}))
            for element_id, _, _ in path:
                task_id = str(uuid.uuid4())
                audit.append(_event(at, "task_created", iid, task_id, element_id))
                at += timedelta(minutes=rnd.randrange(5, 24 * 60))
                if rnd.random() < 0.05:
                    audit.append(_event(at, "task_overdue", iid, task_id, element_id))
                audit.append(_event(at, "task_claimed", iid, task_id, element_id))
                at += timedelta(minutes=rnd.randrange(10, 8 * 60))
                audit.append(_event(at, "task_completed", iid, task_id, element_id))
            audit.append(_event(at, "instance_completed", iid, details={"outcome": "optimized"}))
            after = round(rnd.uniform(14, 24), 1)
            instances.append(
                {
                    "id": iid,
                    "definition_id": definition_id,
                    "process_key": KEY,
                    "business_key": f"OPT-{i:05d}",
                    "status": "completed",
                    "outcome": "optimized",
                    "state": "{}",
                    "serializer_version": "bench",
                    "version": 1,
                    "variables": {"goal": kickoff["goal"], **measured, "after": after},
                    "team": [],
                    "incident": None,
                    "started_by": "lei",
                    "started_at": started,
                    "ended_at": at,
                }
            )
        with engine.db.begin() as conn:
            conn.execute(ProcessInstanceRow.__table__.insert(), instances)
            for chunk in range(0, len(audit), 50_000):
                conn.execute(AuditEventRow.__table__.insert(), audit[chunk : chunk + 50_000])
        with engine.db.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
    finally:
        engine.close()
    return {"instances": n, "audit_rows": len(audit), "insert_s": round(time.perf_counter() - t0, 1)}


def _event(
    at: datetime,
    type: str,
    instance_id: str,
    task_id: str | None = None,
    element_id: str | None = None,
    details: dict | None = None,
) -> dict:
    return {
        "at": at,
        "type": type,
        "actor": "bench",
        "instance_id": instance_id,
        "task_id": task_id,
        "element_id": element_id,
        "details": details,
    }


def measure(url: str, repeats: int) -> dict:
    engine = build(url)
    statements: list[float] = []
    starts: dict[int, float] = {}

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        starts[id(cursor)] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append((time.perf_counter() - starts.pop(id(cursor))) * 1000)

    calls = {
        "process, whole year": lambda: engine.analytics.process(
            KEY, version=None, period_from=END - timedelta(days=365), period_to=END, principal=ADMIN
        ),
        "process, last 12 weeks": lambda: engine.analytics.process(
            KEY, version=1, period_from=END - timedelta(weeks=12), period_to=END, principal=ADMIN
        ),
        "handbook goals": lambda: engine.analytics.handbook_goals(principal=ADMIN),
    }
    out = {}
    try:
        for name, call in calls.items():
            call()  # warm: caches, the first connection
            runs, per_statement = [], []
            event.listen(engine.db, "before_cursor_execute", before)
            event.listen(engine.db, "after_cursor_execute", after)
            try:
                for _ in range(repeats):
                    statements.clear()
                    t0 = time.perf_counter()
                    result = call()
                    runs.append((time.perf_counter() - t0) * 1000)
                    per_statement.append(list(statements))
            finally:
                event.remove(engine.db, "before_cursor_execute", before)
                event.remove(engine.db, "after_cursor_execute", after)
            columns = list(zip(*per_statement, strict=False))
            out[name] = {
                "median_ms": round(statistics.median(runs), 1),
                "max_ms": round(max(runs), 1),
                "statements_ms": [round(statistics.median(c), 1) for c in columns],
                "result": _brief(result),
            }
    finally:
        engine.close()
    return out


def _brief(result: object) -> str:
    if isinstance(result, list):
        return f"{len(result)} rows"
    return f"started {result.started}, completed {result.completed}, {len(result.steps)} steps"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    info = machine_info()
    print_machine(info)
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    if "postgres" in kinds and not postgres_available():
        print("PostgreSQL is not reachable: skipped")
        kinds.remove("postgres")
    results, rows, targets = {}, [], []
    for kind in kinds:
        with fresh_database(kind) as db:
            built = populate(db.url, args.instances)
            timed = measure(db.url, args.repeats)
        results[kind] = {"data": built, "calls": timed}
        print(
            f"{kind}: {built['instances']} instances, {built['audit_rows']} audit rows, {built['insert_s']} s"
        )
        for name, figures in timed.items():
            rows.append(
                [
                    kind,
                    name,
                    figures["median_ms"],
                    figures["max_ms"],
                    figures["statements_ms"],
                    figures["result"],
                ]
            )
            targets.append(target(f"{kind} {name}", figures["median_ms"], "<", TARGET_MS, "ms"))
    print_table(["db", "call", "median ms", "max ms", "per statement ms", "result"], rows)
    print_targets(targets)
    write_result(
        "analytics", {"machine": info, "repeats": args.repeats, "results": results, "targets": targets}
    )


if __name__ == "__main__":
    main()
