"""1. Sequential: one client, keep-alive, against a running `opsflow serve` (SQLite, one process).

N instances of the three-user-task process (start > A > B > C > end) and of the handbook process.
Reported: completions per second (completions / time spent in the complete calls), end-to-end
completions per second (including starts and the inbox look-up after each start), p50/p95/p99 of start
and of complete. Also calibration baselines on the same machine (`bench/empty_app.py`): an empty FastAPI
endpoint, the floor of a durable write on the same stack (parse a body, one SQLite write transaction
with a state-sized row, commit), and our /health. And the same completions by SpiffWorkflow alone
in-process (bench/spiff_alone.py), with and without restoring the state each time: the floor plus
SpiffWorkflow's own time is the ceiling any engine on this stack can reach on this machine.

    .venv/bin/python -m bench.sequential [--quick] [--n 300] [--handbook-n 20] [--repeats 3]
"""

from __future__ import annotations

import subprocess
import time

import httpx

from bench.common import (
    PYTHON,
    ROOT,
    THREE,
    Client,
    Server,
    base_args,
    free_port,
    fresh_database,
    latency_summary,
    load_average,
    machine_info,
    median_of,
    prepare,
    print_machine,
    print_table,
    print_targets,
    run_three_tasks,
    target,
    three_task_data,
    write_result,
)
from bench.handbook import JOURNEY, PROCESS, USERS, run_handbook
from bench.spiff_alone import SpiffAlone, journey, three_tasks
from tests.fixtures.handbook_journey import data


def requests_per_second(url: str, seconds: float, body: dict | None = None) -> dict:
    """One keep-alive client hammering `url` for `seconds`: GET, or POST `body` as JSON."""
    lat = []

    def call(http: httpx.Client) -> httpx.Response:
        return http.get(url) if body is None else http.post(url, json=body)

    with httpx.Client() as http:
        for _ in range(50):
            call(http)
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            t0 = time.perf_counter()
            call(http).raise_for_status()
            lat.append(time.perf_counter() - t0)
    return {"rps": round(len(lat) / sum(lat), 1), **latency_summary(lat)}


def baseline(seconds: float) -> dict:
    """The empty endpoint and the durable-write floor (bench/empty_app.py), in one fresh server."""
    port = free_port()
    proc = subprocess.Popen(
        [PYTHON, "-m", "bench.empty_app", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(url + "/empty", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        return {
            "empty": requests_per_second(url + "/empty", seconds),
            "write": requests_per_second(url + "/write", seconds, {"data": three_task_data("Task_A")}),
        }
    finally:
        proc.terminate()
        proc.wait()


def one_run(n: int, handbook_n: int, warmup: int) -> dict:
    users = {"bench": ["leader"], **USERS}
    with fresh_database("sqlite") as db:
        tokens = prepare(db.url, users)
        with Server(db) as server:
            health = requests_per_second(server.url + "/health", 2)
            # three tasks
            client = Client(server.url, tokens["bench"])
            for i in range(warmup):
                run_three_tasks(client, i)
            client.timings.clear()
            cpu0, t0 = server.cpu_seconds(), time.perf_counter()
            done = sum(run_three_tasks(client, i) for i in range(n))
            wall, cpu = time.perf_counter() - t0, server.cpu_seconds() - cpu0
            three = {
                "instances": n,
                "completions": done,
                "completions_per_s": round(done / sum(client.timings["complete"]), 1),
                "e2e_completions_per_s": round(done / wall, 1),
                "server_cpu_ms_per_instance": round(cpu * 1000 / n, 3),
                "start": latency_summary(client.timings["start"]),
                "complete": latency_summary(client.timings["complete"]),
                "inbox": latency_summary(client.timings["inbox"]),
            }
            client.close()
            # handbook
            clients = {name: Client(server.url, tokens[name]) for name in USERS}
            for i in range(max(1, warmup // 10)):
                run_handbook(clients, -1 - i)
            for c in clients.values():
                c.timings.clear()
            cpu0, t0 = server.cpu_seconds(), time.perf_counter()
            done = sum(run_handbook(clients, i) for i in range(handbook_n))
            wall, cpu = time.perf_counter() - t0, server.cpu_seconds() - cpu0
            completes = [t for c in clients.values() for t in c.timings.get("complete", [])]
            starts = [t for c in clients.values() for t in c.timings.get("start", [])]
            handbook = {
                "instances": handbook_n,
                "completions": done,
                "completions_per_s": round(done / sum(completes), 1),
                "e2e_completions_per_s": round(done / wall, 1),
                "server_cpu_ms_per_instance": round(cpu * 1000 / handbook_n, 3),
                "start": latency_summary(starts),
                "complete": latency_summary(completes),
            }
            for c in clients.values():
                c.close()
        return {
            "health": health,
            "three_tasks": three,
            "handbook": handbook,
            "spiff_alone": spiff_alone(db.url, n, handbook_n),
            "loadavg_after": load_average(),
        }


def spiff_alone(url: str, n: int, handbook_n: int) -> dict:
    """The same completions by SpiffWorkflow alone in this process (bench/spiff_alone.py): restoring the
    state every time (the issue's reference), and keeping the workflow in memory (as our cache does)."""
    cases = {
        "three_tasks": (SpiffAlone(url, THREE), {}, three_tasks, n),
        "handbook": (SpiffAlone(url, PROCESS), data("start_trigger"), lambda: journey(JOURNEY), handbook_n),
    }
    out: dict = {}
    for name, (alone, variables, steps, count) in cases.items():
        for restore in (True, False):
            seconds = [
                t for _ in range(count) for t in alone.run(variables, steps(), restore=restore).seconds
            ]
            out.setdefault(name, {})["restore" if restore else "in_memory"] = {
                "completions_per_s": round(len(seconds) / sum(seconds), 1),
                **latency_summary(seconds),
            }
    return out


def main() -> None:
    parser = base_args(__doc__)
    parser.add_argument("--n", type=int, default=None, help="three-task instances per run")
    parser.add_argument("--handbook-n", type=int, default=None, help="handbook instances per run")
    args = parser.parse_args()
    n = args.n or (20 if args.quick else 300)
    handbook_n = args.handbook_n or (2 if args.quick else 15)
    repeats = args.repeats or (1 if args.quick else 3)
    warmup = 5 if args.quick else 20
    info = machine_info()
    print_machine(info)
    print(
        f"sequential: {n} three-task instances and {handbook_n} handbook instances "
        f"({len(JOURNEY)} completions each) per run, {repeats} run(s), SQLite, one server process"
    )

    base_runs = [baseline(1 if args.quick else 3) for _ in range(repeats)]
    runs = []
    for r in range(repeats):
        run = one_run(n, handbook_n, warmup)
        runs.append(run)
        print(
            f"  run {r + 1}: three-task {run['three_tasks']['completions_per_s']}/s "
            f"(p50 {run['three_tasks']['complete']['p50_ms']} ms), "
            f"handbook {run['handbook']['completions_per_s']}/s "
            f"(p50 {run['handbook']['complete']['p50_ms']} ms)"
        )
    med = median_of(runs)
    base = median_of(base_runs)
    med["empty_fastapi"], med["durable_write_floor"] = base["empty"], base["write"]

    print()
    rows = [
        [label, f"{m['rps']} req/s", "", m["p50_ms"], m["p95_ms"], "", ""]
        for label, m in (
            ("empty FastAPI endpoint (GET)", med["empty_fastapi"]),
            ("durable write floor (POST)", med["durable_write_floor"]),
            ("opsflow GET /health", med["health"]),
        )
    ]
    for key, label in (("three_tasks", "three-task"), ("handbook", "handbook")):
        for mode, how in (("restore", "restore + run + save"), ("in_memory", "run + save")):
            m = med["spiff_alone"][key][mode]
            rows.append(
                [
                    f"SpiffWorkflow alone, {label}: {how}",
                    f"{m['completions_per_s']} /s",
                    "",
                    m["p50_ms"],
                    m["p95_ms"],
                    "",
                    "",
                ]
            )
    for key, label in (("three_tasks", "three-task process"), ("handbook", "handbook process")):
        m = med[key]
        rows.append(
            [
                label,
                f"{m['completions_per_s']} /s",
                f"{m['e2e_completions_per_s']} /s",
                m["complete"]["p50_ms"],
                m["complete"]["p95_ms"],
                m["start"]["p50_ms"],
                m["start"]["p95_ms"],
            ]
        )
    print_table(
        [
            "workload",
            "completions (or req)",
            "end-to-end",
            "complete p50 ms",
            "complete p95 ms",
            "start p50 ms",
            "start p95 ms",
        ],
        rows,
    )
    # Means, as completions/s are: completions / time spent in the complete calls.
    floor = med["durable_write_floor"]["mean_ms"]
    for key, label in (("three_tasks", "three-task"), ("handbook", "handbook")):
        alone = med["spiff_alone"][key]["in_memory"]["mean_ms"]
        ceiling = med[key]["ceiling_completions_per_s"] = round(1000 / (floor + alone), 1)
        # Ours as a share of the ceiling: both measured in the same run, so it moves less with the machine.
        share = med[key]["share_of_ceiling"] = round(med[key]["completions_per_s"] / ceiling, 3)
        print(
            f"\n{label}: the durable-write floor ({floor} ms) + SpiffWorkflow alone in memory ({alone} ms), "
            f"means: a ceiling of {ceiling} completions/s on this machine; opsflow reaches {share:.0%} of it",
            end="",
        )
    print()
    print(
        f"\nserver CPU per instance (start + inbox look-up + completions): three-task "
        f"{med['three_tasks']['server_cpu_ms_per_instance']} ms, handbook "
        f"{med['handbook']['server_cpu_ms_per_instance']} ms; load average after: {load_average()}"
    )

    targets = [
        target(
            "three-task sequential completions/s", med["three_tasks"]["completions_per_s"], ">=", 500, "/s"
        ),
        target("three-task p50 complete", med["three_tasks"]["complete"]["p50_ms"], "<", 2, "ms"),
        target("handbook sequential completions/s", med["handbook"]["completions_per_s"], ">=", 300, "/s"),
    ]
    print_targets(targets)
    write_result(
        "sequential",
        {
            "benchmark": "sequential",
            "machine": info,
            "parameters": {
                "three_task_instances": n,
                "handbook_instances": handbook_n,
                "repeats": repeats,
                "warmup_instances": warmup,
                "database": "sqlite",
                "server_processes": 1,
            },
            "median": med,
            "runs": runs,
            "baseline_runs": base_runs,
            "targets": targets,
        },
    )


if __name__ == "__main__":
    main()
