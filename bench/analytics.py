"""How fast the analytics read: 10,000 finished handbook instances over a year, their history inserted
directly (as the engine writes it: instance_started, then per task task_created / task_claimed /
task_completed, some task_overdue, then instance_completed) and projected into task_history and
step_week as migration 0014 does on an upgraded database, on SQLite and PostgreSQL. Times
`engine.analytics.process` (all its statements) for the whole year and for the last twelve weeks, and
`engine.analytics.handbook_goals`, in-process, median of repeated calls, with each statement's share.

Before/after: the per-step and loop figures are also computed the way they were before 0014, from
audit_event with exact percentiles (bench/analytics_before.py): its time, and how far the histogram
percentiles are from the exact ones (they must stay within one bucket, about 9 %; counts and loops
must be equal).

    .venv/bin/python -m bench.analytics [--instances 10000] [--db sqlite|postgres|both] [--repeats 7]
        [--no-before]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event

from bench import analytics_before
from bench.common import (
    build,
    fresh_database,
    load_average,
    machine_info,
    postgres_available,
    print_machine,
    print_table,
    print_targets,
    target,
    write_result,
)
from engine.engine import ProcessEngine
from engine.views import Percentiles, Principal, ProcessAnalyticsView
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
    from engine import goals, task_history
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
        inserted = time.perf_counter() - t0
        t1 = time.perf_counter()
        with engine.db.begin() as conn:  # what migration 0014 does to the history of an upgraded database
            projected = task_history.rebuild(conn)
            projected["instance_goal"] = goals.rebuild(conn)
        rebuilt = time.perf_counter() - t1
        # Statistics, and on PostgreSQL the visibility map autovacuum keeps for settled tables (what lets
        # the index-only scans skip the table): a database that has run a while, not one just loaded.
        with engine.db.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("ANALYZE" if conn.dialect.name == "sqlite" else "VACUUM ANALYZE"))
    finally:
        engine.close()
    return {
        "instances": n,
        "audit_rows": len(audit),
        **{f"{table}_rows": rows for table, rows in projected.items()},
        "insert_s": round(inserted, 1),
        "rebuild_s": round(rebuilt, 1),
    }


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


PERIODS = {
    "process, whole year": (None, END - timedelta(days=365)),
    "process, last 12 weeks": (1, END - timedelta(weeks=12)),
}


def measure(url: str, repeats: int, before: bool) -> dict:
    engine = build(url)
    statements: list[float] = []
    starts: dict[int, float] = {}

    def before(conn, cursor, statement, parameters, context, executemany) -> None:
        starts[id(cursor)] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append((time.perf_counter() - starts.pop(id(cursor))) * 1000)

    def process(version: int | None, start: datetime) -> Callable[[], ProcessAnalyticsView]:
        return lambda: engine.analytics.process(
            KEY, version=version, period_from=start, period_to=END, principal=ADMIN
        )

    calls = {name: process(version, start) for name, (version, start) in PERIODS.items()}
    calls["handbook goals"] = lambda: engine.analytics.handbook_goals(principal=ADMIN)
    out = {}
    try:
        for name, call in calls.items():
            call()  # warm: caches, the first connection
            runs, cpu, per_statement = [], [], []
            event.listen(engine.db, "before_cursor_execute", before)
            event.listen(engine.db, "after_cursor_execute", after)
            try:
                for _ in range(repeats):
                    statements.clear()
                    t0, c0 = time.perf_counter(), time.process_time()
                    result = call()
                    runs.append((time.perf_counter() - t0) * 1000)
                    cpu.append((time.process_time() - c0) * 1000)
                    per_statement.append(list(statements))
            finally:
                event.remove(engine.db, "before_cursor_execute", before)
                event.remove(engine.db, "after_cursor_execute", after)
            columns = list(zip(*per_statement, strict=False))
            out[name] = {
                "median_ms": round(statistics.median(runs), 1),
                "max_ms": round(max(runs), 1),
                "min_ms": round(min(runs), 1),
                # this process's CPU: all of SQLite's work, the client's share of PostgreSQL's; on a
                # loaded machine (see the load average) the wall times wait for a core, this does not
                "cpu_ms": round(statistics.median(cpu), 1),
                "statements_ms": [round(statistics.median(c), 1) for c in columns],
                "result": _brief(result),
            }
            if before and name in PERIODS:
                out[name].update(_before(engine, *PERIODS[name], result))
    finally:
        engine.close()
    return out


def _before(
    engine: ProcessEngine, version: int | None, start: datetime, after: ProcessAnalyticsView
) -> dict[str, Any]:
    """The per-step and loop figures the old way (once: it takes seconds), and how the new ones compare."""
    t0 = time.perf_counter()
    with engine.db.connect() as conn:
        exact = analytics_before.figures(conn, KEY, version, start, END)
    before_ms = (time.perf_counter() - t0) * 1000
    worst = 0.0
    counts_equal = True
    steps = {s.element_id: s for s in after.steps}
    for element_id, (runs, completed, overdue, *measures) in exact["steps"].items():
        step = steps.get(element_id)
        if step is None or (step.runs, step.completed, step.overdue) != (runs, completed, overdue):
            counts_equal = False
            continue
        for old, new in zip(measures, (step.waiting, step.work, step.duration), strict=True):
            worst = max(worst, _relative_error(old, new))
            counts_equal &= old.count == new.count
    with engine.db.connect() as conn:
        pairs = _rework_pairs(conn, version, start)
    return {
        "before_steps_and_loops_ms": round(before_ms, 1),
        "percentile_max_error_pct": round(worst * 100, 2),
        "counts_equal": counts_equal and set(steps) == set(exact["steps"]),
        "rework_equal": pairs == exact["loops"],
    }


def _rework_pairs(conn: sa.Connection, version: int | None, start: datetime) -> dict[tuple[str, str], int]:
    """The tasks created again, by (element completed before, element), from task_history."""
    from engine.storage.tables import ProcessDefinitionRow, TaskHistoryRow

    d, t = ProcessDefinitionRow.__table__.c, TaskHistoryRow.__table__.c
    ids = sa.select(d.id).where(d.key == KEY, *([d.version == version] if version is not None else []))
    rows = conn.execute(
        sa.select(t.came_from, t.element_id, sa.func.count())
        .where(t.definition_id.in_(ids), t.nth > 1, t.created_at >= start, t.created_at < END)
        .where(t.came_from.is_not(None))
        .group_by(t.came_from, t.element_id)
    )
    return {(source, target): n for source, target, n in rows}


def _relative_error(exact: Percentiles, approx: Percentiles) -> float:
    worst = 0.0
    for a, b in ((exact.p50, approx.p50), (exact.p90, approx.p90), (exact.p95, approx.p95)):
        if a is None or b is None:
            worst = max(worst, 0.0 if a is b else 1.0)
        elif a:
            worst = max(worst, abs(b - a) / a)
    return worst


def _brief(result: object) -> str:
    if isinstance(result, list):
        return f"{len(result)} rows"
    return f"started {result.started}, completed {result.completed}, {len(result.steps)} steps"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instances", type=int, default=10_000)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-before", action="store_true", help="skip the old queries (they take seconds)")
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
            timed = measure(db.url, args.repeats, before=not args.no_before)
        results[kind] = {"data": built, "calls": timed}
        print(
            f"{kind}: {built['instances']} instances, {built['audit_rows']} audit rows inserted in"
            f" {built['insert_s']} s; projected into {built['task_history_rows']} task_history and"
            f" {built['step_week_rows']} step_week rows in {built['rebuild_s']} s"
        )
        for name, figures in timed.items():
            rows.append(
                [
                    kind,
                    name,
                    figures["median_ms"],
                    figures["min_ms"],
                    figures["max_ms"],
                    figures["cpu_ms"],
                    figures["statements_ms"],
                    figures["result"],
                ]
            )
            targets.append(target(f"{kind} {name}", figures["median_ms"], "<", TARGET_MS, "ms"))
    print(f"load average at the end: {load_average()}")
    headers = ["db", "call", "median ms", "min ms", "max ms", "cpu ms", "per statement ms", "result"]
    print_table(headers, rows)
    compared = [
        [
            kind,
            name,
            figures["before_steps_and_loops_ms"],
            figures["median_ms"],
            figures["percentile_max_error_pct"],
            figures["counts_equal"],
            figures["rework_equal"],
        ]
        for kind, result in results.items()
        for name, figures in result["calls"].items()
        if "before_steps_and_loops_ms" in figures
    ]
    if compared:
        print("\nbefore: the per-step and loop queries alone, from audit_event with exact percentiles (once)")
        print("after: the whole call; its percentiles against the exact ones, its counts and rework pairs")
        headers = ["db", "call", "before ms", "after ms", "max % off exact", "counts equal", "rework equal"]
        print_table(headers, compared)
    print_targets(targets)
    write_result(
        "analytics", {"machine": info, "repeats": args.repeats, "results": results, "targets": targets}
    )


if __name__ == "__main__":
    main()
