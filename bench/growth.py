"""4. Cost growth: the loop process (one user task in a loop with a counter, `n` iterations) at
n = 10, 100 and 300. For every completion k = 1..n we time:

  http        POST /api/v1/tasks/{id}/complete against `opsflow serve` (SQLite)
  http cold   the same against a second server with OPSFLOW_WORKFLOW_CACHE_SIZE=0: it reads and
              deserializes the state on every completion, as SpiffWorkflow alone below does (the
              default server keeps the workflows it just saved and skips that step)
  in-process  engine.tasks.complete(...) through the facade (same code, no HTTP), with the number of
              SQL statements it ran and the size of the stored state afterwards
  spiff       SpiffWorkflow alone at the same tree size: WorkflowStore.load (our spec-ref serializer)
              > set the data on the READY task and run() it > refresh_timers + do_engine_steps (with
              our sandboxed script engine) > WorkflowStore.dump
  spiff mem   the same with the workflow kept in memory between completions (no load), as the
              server's workflow cache keeps it: the issue's reference for the overhead

Per size we report the mean time per completion over the instance, over its first tenth and over its
last tenth (where the tree is largest) for each, and our overhead = ours - SpiffWorkflow alone in
memory. Target: overhead < 2 ms at every size, in the first and the last tenth alike.

    .venv/bin/python -m bench.growth [--quick] [--sizes 10,100,300] [--repeats 3]
"""

from __future__ import annotations

import statistics
import time

import sqlalchemy as sa
from sqlalchemy import event

from bench.common import (
    LOOP,
    Client,
    Server,
    base_args,
    build,
    fresh_database,
    machine_info,
    prepare,
    print_machine,
    print_table,
    print_targets,
    target,
    write_result,
)
from bench.spiff_alone import SpiffAlone, every_ready_task

STEP_DATA = {"note": "looped"}
OVERHEAD_LIMIT_MS = 2.0


def per_step_median(runs: list[list[float]]) -> list[float]:
    return [statistics.median(step) for step in zip(*runs, strict=True)]


def summary(steps_s: list[float]) -> dict:
    ms = [s * 1000 for s in steps_s]
    tenth = max(1, len(ms) // 10)
    tail = ms[-tenth:]
    return {
        "mean_ms": round(statistics.fmean(ms), 3),
        "first_tenth_mean_ms": round(statistics.fmean(ms[:tenth]), 3),
        "last_tenth_mean_ms": round(statistics.fmean(tail), 3),
        "first_ms": round(ms[0], 3),
        "last_ms": round(ms[-1], 3),
    }


def http_run(server: Server, token: str, n: int) -> tuple[list[float], float]:
    """Times of the n completions, and the server's CPU ms per completion."""
    client = Client(server.url, token)
    try:
        instance = client.start(LOOP, {"n": n})
        tasks = client.inbox(label=None, scope="offered", instance=instance["id"])["items"]
        cpu0 = server.cpu_seconds()
        while tasks:
            tasks = client.complete(tasks[0]["id"], STEP_DATA)["open_tasks"]
        cpu = server.cpu_seconds() - cpu0
        times = client.timings["complete"]
        if len(times) != n:
            raise RuntimeError(f"expected {n} completions, did {len(times)}")
        return times, cpu * 1000 / n
    finally:
        client.close()


def in_process_run(engine, principal, n: int) -> tuple[list[float], list[int], list[int], float]:
    """Times of the n completions, SQL statements of each, state size after each, CPU ms per completion."""
    from engine.storage.tables import ProcessInstanceRow

    statements = [0]

    def count(*_a, **_k) -> None:
        statements[0] += 1

    event.listen(engine.db, "before_cursor_execute", count)
    try:
        instance = engine.runtime.start_process_instance_by_key(LOOP, principal=principal, variables={"n": n})
        tasks = engine.tasks.inbox(principal=principal, scope="offered", instance_id=instance.id).items
        times, sql, sizes, cpu = [], [], [], 0.0
        while tasks:
            statements[0] = 0
            c0, t0 = time.thread_time(), time.perf_counter()
            detail = engine.tasks.complete(tasks[0].id, dict(STEP_DATA), principal=principal)
            times.append(time.perf_counter() - t0)
            cpu += time.thread_time() - c0
            sql.append(statements[0])
            tasks = detail.open_tasks
            with engine.db.connect() as conn:
                sizes.append(
                    conn.execute(
                        sa.select(sa.func.length(ProcessInstanceRow.state)).where(
                            ProcessInstanceRow.id == instance.id
                        )
                    ).scalar_one()
                )
        if len(times) != n:
            raise RuntimeError(f"expected {n} completions, did {len(times)}")
        return times, sql, sizes, cpu * 1000 / n
    finally:
        event.remove(engine.db, "before_cursor_execute", count)


def spiff_run(url: str, n: int, restore: bool = True) -> tuple[list[float], int, float]:
    """SpiffWorkflow alone (bench/spiff_alone.py), restoring (or keeping in memory) and saving the state
    around every completion."""
    run = SpiffAlone(url, LOOP).run({"n": n}, every_ready_task(lambda _task: STEP_DATA), restore=restore)
    if len(run.seconds) != n:
        raise RuntimeError(f"spiff-only run: {len(run.seconds)} completions of {n}")
    return run.seconds, run.state_bytes, run.cpu_ms_per_completion


def main() -> None:
    parser = base_args(__doc__)
    parser.add_argument("--sizes", default=None, help="loop sizes, e.g. 10,100,300")
    args = parser.parse_args()
    sizes = [int(s) for s in (args.sizes or ("10,50" if args.quick else "10,100,300")).split(",")]
    repeats = args.repeats or (1 if args.quick else 3)
    info = machine_info()
    print_machine(info)
    print(f"growth: loop sizes {sizes}, {repeats} instance(s) per size and path; SQLite, one server process")

    results, rows, targets = {}, [], []
    with fresh_database("sqlite") as db:
        tokens = prepare(db.url, {"bench": ["leader"]}, handbook=False)
        http: dict = {n: [] for n in sizes}
        http_cold: dict = {n: [] for n in sizes}
        inproc: dict = {n: [] for n in sizes}
        spiff: dict = {n: [] for n in sizes}
        spiff_mem: dict = {n: [] for n in sizes}
        engine = build(db.url)
        try:
            with Server(db) as server, Server(db, extra_env={"OPSFLOW_WORKFLOW_CACHE_SIZE": "0"}) as cold:
                principal = engine.identity.authenticate(tokens["bench"])
                http_run(server, tokens["bench"], 5)  # warm-up
                http_run(cold, tokens["bench"], 5)
                in_process_run(engine, principal, 5)
                spiff_run(db.url, 5)
                # interleaved, so that other load on the machine hits the three paths alike
                for _ in range(repeats):
                    for n in sizes:
                        http[n].append(http_run(server, tokens["bench"], n))
                        http_cold[n].append(http_run(cold, tokens["bench"], n))
                        inproc[n].append(in_process_run(engine, principal, n))
                        spiff[n].append(spiff_run(db.url, n))
                        spiff_mem[n].append(spiff_run(db.url, n, restore=False))
        finally:
            engine.close()

    for n in sizes:
        h = per_step_median([r[0] for r in http[n]])
        hc = per_step_median([r[0] for r in http_cold[n]])
        i = per_step_median([r[0] for r in inproc[n]])
        s_restore = per_step_median([r[0] for r in spiff[n]])
        s = per_step_median([r[0] for r in spiff_mem[n]])
        sql = per_step_median([r[1] for r in inproc[n]])
        state_bytes = inproc[n][0][2][-2] if n > 1 else inproc[n][0][2][-1]
        res = {
            "http": summary(h),
            "http_cold": summary(hc),
            "in_process": summary(i),
            "spiff": summary(s),
            "spiff_restore": summary(s_restore),
            "http_server_cpu_ms_per_completion": round(statistics.median(r[1] for r in http[n]), 3),
            "in_process_cpu_ms_per_completion": round(statistics.median(r[3] for r in inproc[n]), 3),
            "spiff_cpu_ms_per_completion": round(statistics.median(r[2] for r in spiff_mem[n]), 3),
            "spiff_restore_cpu_ms_per_completion": round(statistics.median(r[2] for r in spiff[n]), 3),
            "overhead_http_ms": round((statistics.fmean(h) - statistics.fmean(s)) * 1000, 3),
            "overhead_http_cold_ms": round((statistics.fmean(hc) - statistics.fmean(s)) * 1000, 3),
            "overhead_in_process_ms": round((statistics.fmean(i) - statistics.fmean(s)) * 1000, 3),
            "overhead_http_last_tenth_ms": None,
            "overhead_in_process_last_tenth_ms": None,
            "sql_statements_per_completion": {
                "first": sql[0],
                "last": sql[-1],
                "mean": round(statistics.fmean(sql), 1),
            },
            "state_bytes_before_last_completion": state_bytes,
            "spiff_state_bytes_final": spiff[n][0][1],
            "per_step_ms": {
                "http": [round(x * 1000, 3) for x in h],
                "http_cold": [round(x * 1000, 3) for x in hc],
                "in_process": [round(x * 1000, 3) for x in i],
                "spiff": [round(x * 1000, 3) for x in s],
                "spiff_restore": [round(x * 1000, 3) for x in s_restore],
            },
            "runs_mean_ms": {
                "http": [round(statistics.fmean(r[0]) * 1000, 3) for r in http[n]],
                "in_process": [round(statistics.fmean(r[0]) * 1000, 3) for r in inproc[n]],
                "spiff": [round(statistics.fmean(r[0]) * 1000, 3) for r in spiff_mem[n]],
            },
        }
        res["overhead_cpu_http_ms"] = round(
            res["http_server_cpu_ms_per_completion"] - res["spiff_cpu_ms_per_completion"], 3
        )
        res["overhead_http_first_tenth_ms"] = round(
            res["http"]["first_tenth_mean_ms"] - res["spiff"]["first_tenth_mean_ms"], 3
        )
        res["overhead_http_last_tenth_ms"] = round(
            res["http"]["last_tenth_mean_ms"] - res["spiff"]["last_tenth_mean_ms"], 3
        )
        res["overhead_in_process_last_tenth_ms"] = round(
            res["in_process"]["last_tenth_mean_ms"] - res["spiff"]["last_tenth_mean_ms"], 3
        )
        results[str(n)] = res
        rows.append(
            [
                n,
                res["http"]["mean_ms"],
                res["in_process"]["mean_ms"],
                res["spiff"]["mean_ms"],
                res["overhead_http_ms"],
                res["overhead_http_cold_ms"],
                res["overhead_in_process_ms"],
                res["overhead_http_first_tenth_ms"],
                res["http"]["last_tenth_mean_ms"],
                res["spiff"]["last_tenth_mean_ms"],
                res["overhead_http_last_tenth_ms"],
                res["spiff_restore"]["mean_ms"],
                res["http_server_cpu_ms_per_completion"],
                res["spiff_cpu_ms_per_completion"],
                res["overhead_cpu_http_ms"],
                f"{sql[0]}/{sql[-1]}",
                state_bytes,
            ]
        )
        for part in ("first", "last"):
            targets.append(
                target(
                    f"growth n={n}: HTTP time per completion minus SpiffWorkflow's in memory, {part} tenth",
                    res[f"overhead_http_{part}_tenth_ms"],
                    "<",
                    OVERHEAD_LIMIT_MS,
                    "ms",
                )
            )
    print()
    print_table(
        [
            "n",
            "http ms",
            "in-proc ms",
            "spiff ms",
            "overhead http",
            "overhead http cold",
            "overhead in-proc",
            "overhead first 10%",
            "http last 10%",
            "spiff last 10%",
            "overhead last 10%",
            "spiff+load ms",
            "server CPU ms",
            "spiff CPU ms",
            "overhead CPU",
            "SQL first/last",
            "state bytes",
        ],
        rows,
    )
    print(
        "(ms per completion: wall time unless marked CPU; overhead = ours - SpiffWorkflow alone in memory; "
        "cold = a server without the workflow cache; spiff+load = SpiffWorkflow alone restoring the state)"
    )
    print_targets(targets)
    write_result(
        "growth",
        {
            "benchmark": "growth",
            "machine": info,
            "parameters": {
                "sizes": sizes,
                "repeats": repeats,
                "database": "sqlite",
                "server_processes": 1,
                "note": "per-step medians over the repeats, then the mean over the steps",
            },
            "results": results,
            "targets": targets,
        },
    )


if __name__ == "__main__":
    main()
