"""3. Inbox at scale: 100,000 open tasks over 20,000 instances and 200 users, bulk-inserted as index rows
(process_instance, open_task, task_candidate, instance_member) in one transaction; the inbox never
deserializes a workflow, so the instance state is a placeholder. Then `opsflow serve` is started and
the HTTP inbox queries are timed for a sample of users, with their totals:

  mine              GET /api/v1/tasks?scope=mine
  offered+filter    GET /api/v1/tasks?scope=offered&process=ops_optimization
  offered           GET /api/v1/tasks?scope=offered
  all               GET /api/v1/tasks            (the default: mine + offered)
  offered+overdue   GET /api/v1/tasks?scope=offered&overdue=true
  all+stage         GET /api/v1/tasks?stage=diagnosis
  all by due date   GET /api/v1/tasks?sort=due   (tasks without a due date last)

The data: 200 users, 50 per lane role; 5 open tasks per instance, one role each (cycling through the
four lanes); half the instances have a team naming one user per role (their tasks are offered to that
user by name), the others offer tasks to the whole role; 30% of the tasks are claimed by a user of
their role; 20% have a due date. 60% of the instances are of ops_optimization, 20% of each bench process.
So a user has ~150 tasks in `mine` and ~8,900 in `offered`.

    .venv/bin/python -m bench.inbox [--quick] [--tasks 100000] [--db sqlite,postgres]
"""

from __future__ import annotations

import random
import time
import uuid
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from bench.common import (
    Client,
    Server,
    base_args,
    build,
    fresh_database,
    latency_summary,
    machine_info,
    median_of,
    postgres_available,
    prepare,
    print_machine,
    print_table,
    print_targets,
    target,
    write_result,
)
from engine.policy import TeamMember

ROLES = ("leader", "data", "execution", "support")
N_USERS = 200
TASKS_PER_INSTANCE = 5
FILTER_PROCESS = "ops_optimization"
QUERIES = {
    "mine": {"scope": "mine"},
    "offered+filter": {"scope": "offered", "process": FILTER_PROCESS},
    "offered": {"scope": "offered"},
    "all": {},
    "offered+overdue": {"scope": "offered", "overdue": "true"},
    "all+stage": {"stage": "diagnosis"},
    "all by due date": {"sort": "due"},
}
TARGET_MS = 10


def engine_args(params: dict) -> dict:
    """The keyword arguments of engine.tasks.inbox for the HTTP query parameters of QUERIES."""
    return {
        "scope": params.get("scope", "all"),
        "process_key": params.get("process"),
        "overdue": params["overdue"] == "true" if "overdue" in params else None,
        "sort": params.get("sort", "created"),
        "stage": params.get("stage"),
    }


def users() -> dict[str, list[str]]:
    return {f"u{i:03d}": [ROLES[i % 4]] for i in range(N_USERS)}


def populate(url: str, n_tasks: int, seed: int = 7) -> dict:
    """Bulk-insert the index rows; returns counts and the time it took."""
    from engine.storage.tables import (
        InstanceMemberRow,
        OpenTaskRow,
        ProcessDefinitionRow,
        ProcessInstanceRow,
        TaskCandidateRow,
    )

    rnd = random.Random(seed)
    by_role = {r: [n for n, roles in users().items() if roles[0] == r] for r in ROLES}
    engine = build(url)
    try:
        with engine.db.connect() as conn:
            defs = dict(conn.execute(sa.select(ProcessDefinitionRow.key, ProcessDefinitionRow.id)).all())
        keys = [FILTER_PROCESS] * 3 + ["bench_three_tasks", "bench_loop"]
        now = datetime.now(UTC)
        n_instances = n_tasks // TASKS_PER_INSTANCE
        instances, members, tasks, candidates = [], [], [], []
        for i in range(n_instances):
            iid = str(uuid.uuid4())
            key = keys[i % len(keys)]
            started = now - timedelta(minutes=n_instances - i)
            team = [TeamMember(user=rnd.choice(by_role[r]), role=r, duty="") for r in ROLES] if i % 2 else []
            bk = f"BK-{i:06d}"
            instances.append(
                {
                    "id": iid,
                    "definition_id": defs[key],
                    "process_key": key,
                    "business_key": bk,
                    "status": "running",
                    "outcome": None,
                    "state": "{}",
                    "serializer_version": "bench",
                    "version": 1,
                    "variables": {"title": f"instance {i}"},
                    "team": team,
                    "incident": None,
                    "started_by": by_role["leader"][i % len(by_role["leader"])],
                    "started_at": started,
                    "ended_at": None,
                }
            )
            members += [{"instance_id": iid, "user_name": m.user, "role": m.role} for m in team]
            named = {m.role: m.user for m in team}
            for j in range(TASKS_PER_INSTANCE):
                role = ROLES[(i + j) % 4]
                tid = str(uuid.uuid4())
                claimed = rnd.random() < 0.3
                assignee = (named.get(role) or rnd.choice(by_role[role])) if claimed else None
                created = started + timedelta(seconds=j)
                tasks.append(
                    {
                        "id": tid,
                        "instance_id": iid,
                        "process_key": key,
                        "business_key": bk,
                        "element_id": f"Task_{j}",
                        "name": f"Task {j}",
                        "role": role,
                        "stage": ("kickoff", "diagnosis", "design", "execution", "evaluation")[j],
                        "form_key": None,
                        "assignee": assignee,
                        "draft": None,
                        "created_at": created,
                        "claimed_at": created + timedelta(seconds=30) if claimed else None,
                        "due_at": created + timedelta(days=rnd.randint(-5, 10))
                        if rnd.random() < 0.2
                        else None,
                    }
                )
                # the offer index columns, as the engine writes them (TaskCandidateRow.of)
                task = tasks[-1]
                offer = {
                    "task_id": tid,
                    "open": assignee is None,
                    "created_at": created,
                    "process_key": key,
                    "due_at": task["due_at"],
                    "stage": task["stage"],
                }
                if role in named:
                    candidates.append({**offer, "kind": "user", "value": named[role]})
                else:
                    candidates.append({**offer, "kind": "group", "value": role})
        t0 = time.perf_counter()
        with engine.db.begin() as conn:
            for table, rows in (
                (ProcessInstanceRow.__table__, instances),
                (InstanceMemberRow.__table__, members),
                (OpenTaskRow.__table__, tasks),
                (TaskCandidateRow.__table__, candidates),
            ):
                for k in range(0, len(rows), 5000):
                    conn.execute(sa.insert(table), rows[k : k + 5000])
        if engine.db.dialect.name == "postgresql":
            # What autovacuum does soon after a bulk load (PostgreSQL 13+ also vacuums after inserts): the
            # statistics, and the visibility map that lets the counts read the indexes alone.
            with engine.db.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
                    "VACUUM (ANALYZE) process_instance, instance_member, open_task, task_candidate"
                )
        return {
            "instances": len(instances),
            "open_tasks": len(tasks),
            "candidates": len(candidates),
            "members": len(members),
            "insert_seconds": round(time.perf_counter() - t0, 2),
        }
    finally:
        engine.close()


def measure(server: Server, tokens: dict[str, str], sample: list[str], rounds: int) -> dict:
    clients = {name: Client(server.url, tokens[name]) for name in sample}
    for c in clients.values():  # warm-up: connections, caches
        for params in QUERIES.values():
            c.inbox(label=None, **params)
    timings: dict[str, list[float]] = {q: [] for q in QUERIES}
    totals: dict[str, list[int]] = {q: [] for q in QUERIES}
    for _ in range(rounds):
        for c in clients.values():
            for q, params in QUERIES.items():
                t0 = time.perf_counter()
                page = c.inbox(label=None, **params)
                timings[q].append(time.perf_counter() - t0)
                totals[q].append(page["total"])
    for c in clients.values():
        c.close()
    return {
        q: {
            **latency_summary(timings[q]),
            "median_total": sorted(totals[q])[len(totals[q]) // 2],
            "max_total": max(totals[q]),
        }
        for q in QUERIES
    }


def measure_in_process(url: str, sample: list[str], tokens: dict[str, str], rounds: int) -> dict:
    """The same queries through the engine facade (no HTTP): what the SQL and mapping cost."""
    engine = build(url)
    try:
        principals = {n: engine.identity.authenticate(tokens[n]) for n in sample}
        args = {q: engine_args(p) for q, p in QUERIES.items()}
        for p in principals.values():
            for a in args.values():
                engine.tasks.inbox(principal=p, **a)
        timings: dict[str, list[float]] = {q: [] for q in QUERIES}
        for _ in range(rounds):
            for p in principals.values():
                for q, a in args.items():
                    t0 = time.perf_counter()
                    engine.tasks.inbox(principal=p, **a)
                    timings[q].append(time.perf_counter() - t0)
        return {q: latency_summary(v) for q, v in timings.items()}
    finally:
        engine.close()


def main() -> None:
    parser = base_args(__doc__)
    parser.add_argument("--tasks", type=int, default=None, help="open tasks (5 per instance)")
    parser.add_argument("--db", default="sqlite,postgres")
    parser.add_argument("--sample", type=int, default=20, help="users whose inboxes are timed")
    args = parser.parse_args()
    n_tasks = args.tasks or (10_000 if args.quick else 100_000)
    repeats = args.repeats or (1 if args.quick else 3)
    rounds = 2 if args.quick else 5
    kinds = [k for k in args.db.split(",") if k]
    if "postgres" in kinds and not postgres_available():
        print("PostgreSQL is not reachable: skipping it")
        kinds.remove("postgres")
    info = machine_info()
    print_machine(info)
    print(
        f"inbox: {n_tasks} open tasks over {n_tasks // TASKS_PER_INSTANCE} instances, {N_USERS} users; "
        f"{args.sample} users x {len(QUERIES)} queries x {rounds} rounds per run, {repeats} run(s)"
    )
    rnd = random.Random(1)
    sample = sorted(rnd.sample(sorted(users()), args.sample))
    results, rows, targets = {}, [], []
    for kind in kinds:
        with fresh_database(kind) as db:
            tokens = prepare(db.url, users())
            data = populate(db.url, n_tasks)
            print(
                f"  {kind}: inserted {data['open_tasks']} open tasks, {data['candidates']} candidates, "
                f"{data['instances']} instances in {data['insert_seconds']} s"
            )
            runs = []
            for r in range(repeats):
                with Server(db) as server:
                    runs.append(measure(server, tokens, sample, rounds))
                print(
                    f"  {kind} run {r + 1}: "
                    + ", ".join(f"{q} p95 {v['p95_ms']} ms" for q, v in runs[-1].items())
                )
            in_process = measure_in_process(db.url, sample, tokens, rounds)
        med = median_of(runs)
        results[kind] = {"data": data, "median": med, "in_process_median": in_process, "runs": runs}
        for q, v in med.items():
            rows.append(
                [
                    kind,
                    q,
                    v["p50_ms"],
                    v["p95_ms"],
                    v["p99_ms"],
                    in_process[q]["p50_ms"],
                    in_process[q]["p95_ms"],
                    v["median_total"],
                    v["max_total"],
                ]
            )
            if kind == "sqlite":
                targets.append(
                    target(
                        f"inbox {q} p95 at {n_tasks} open tasks (SQLite)", v["p95_ms"], "<", TARGET_MS, "ms"
                    )
                )
    print()
    print_table(
        [
            "database",
            "query",
            "HTTP p50 ms",
            "p95 ms",
            "p99 ms",
            "in-process p50 ms",
            "p95 ms",
            "median total",
            "max total",
        ],
        rows,
    )
    print_targets(targets)
    write_result(
        "inbox",
        {
            "benchmark": "inbox",
            "machine": info,
            "parameters": {
                "open_tasks": n_tasks,
                "instances": n_tasks // TASKS_PER_INSTANCE,
                "users": N_USERS,
                "sampled_users": args.sample,
                "rounds": rounds,
                "repeats": repeats,
                "queries": QUERIES,
                "databases": kinds,
            },
            "results": results,
            "targets": targets,
        },
    )


if __name__ == "__main__":
    main()
