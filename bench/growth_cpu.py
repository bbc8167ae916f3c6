"""Cost growth measured in CPU time, which other load on a shared machine disturbs far less than wall
time: the loop process at n = 10, 100, 300, completed in this process through the engine facade
(`engine.tasks.complete`, SQLite) and by SpiffWorkflow alone with the workflow kept in memory (as the
server's workflow cache keeps it), interleaved instance by instance. Each completion's thread CPU time
(`time.thread_time`) is taken; per size the first and last tenth are reported, and our overhead =
opsflow - SpiffWorkflow alone. Run it in two checkouts to compare them.

    PYTHONPATH=$PWD .venv/bin/python -m bench.growth_cpu [--sizes 10,100,300] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

from bench.common import (
    LOOP,
    build,
    fresh_database,
    machine_info,
    prepare,
    print_machine,
    print_table,
    write_result,
)
from bench.growth import STEP_DATA
from bench.spiff_alone import SpiffAlone, every_ready_task


def opsflow_steps(engine, principal, n: int) -> list[float]:
    instance = engine.runtime.start_process_instance_by_key(LOOP, principal=principal, variables={"n": n})
    tasks = engine.tasks.inbox(principal=principal, scope="offered", instance_id=instance.id).items
    cpu = []
    while tasks:
        c0 = time.thread_time()
        tasks = engine.tasks.complete(tasks[0].id, dict(STEP_DATA), principal=principal).open_tasks
        cpu.append(time.thread_time() - c0)
    return cpu


def spiff_steps(alone: SpiffAlone, n: int) -> list[float]:
    step = every_ready_task(lambda _task: STEP_DATA)
    return alone.run({"n": n}, step, restore=False, clock=time.thread_time).seconds


def summary(steps: list[float]) -> dict:
    ms = [s * 1000 for s in steps]
    tenth = max(1, len(ms) // 10)
    return {
        "mean_ms": round(statistics.fmean(ms), 3),
        "first_tenth_ms": round(statistics.fmean(ms[:tenth]), 3),
        "last_tenth_ms": round(statistics.fmean(ms[-tenth:]), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10,100,300")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    info = machine_info()
    print_machine(info)
    results, rows = {}, []
    with fresh_database("sqlite") as db:
        tokens = prepare(db.url, {"bench": ["leader"]}, handbook=False)
        engine = build(db.url)
        try:
            principal = engine.identity.authenticate(tokens["bench"])
            alone = SpiffAlone(db.url, LOOP)
            opsflow_steps(engine, principal, 5)
            spiff_steps(alone, 5)
            ours: dict = {n: [] for n in sizes}
            spiff: dict = {n: [] for n in sizes}
            for _ in range(args.repeats):
                for n in sizes:
                    ours[n].append(opsflow_steps(engine, principal, n))
                    spiff[n].append(spiff_steps(alone, n))
        finally:
            engine.close()
    for n in sizes:
        o = summary([statistics.median(s) for s in zip(*ours[n], strict=True)])
        s = summary([statistics.median(s) for s in zip(*spiff[n], strict=True)])
        overhead = {k: round(o[k] - s[k], 3) for k in o}
        results[str(n)] = {"opsflow_cpu": o, "spiff_in_memory": s, "overhead": overhead}
        rows.append(
            [
                n,
                o["first_tenth_ms"],
                s["first_tenth_ms"],
                overhead["first_tenth_ms"],
                o["last_tenth_ms"],
                s["last_tenth_ms"],
                overhead["last_tenth_ms"],
            ]
        )
    print_table(
        [
            "n",
            "opsflow first 10% ms",
            "spiff first 10%",
            "overhead first 10%",
            "opsflow last 10%",
            "spiff last 10%",
            "overhead last 10%",
        ],
        rows,
    )
    print(
        "(opsflow: thread CPU per completion in-process; spiff: SpiffWorkflow alone in memory, same thread)"
    )
    write_result("growth_cpu", {"benchmark": "growth_cpu", "machine": info, "results": results})


if __name__ == "__main__":
    main()
