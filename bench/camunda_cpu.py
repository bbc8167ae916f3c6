"""Server CPU per completion: the Camunda 7 REST layer (/engine-rest) against the native API, for the
same work, measured in interleaved rounds on one `opsflow serve` (SQLite).

Per three-task instance, each side does what its client needs to:

  native        POST /api/v1/process-instances, GET /api/v1/tasks?instance= (once), then per task
                POST .../claim and POST .../complete (whose answer names the next open task)
  engine-rest   POST /engine-rest/process-definition/key/{key}/start, then per task
                GET /engine-rest/task?processInstanceId= (find), POST .../claim, POST .../complete
                (typed variables; a Camunda client finds the next task with another query)

The server's CPU time (user + system, psutil) is read around every call and summed per call type;
the figure is server CPU per completion, whole flow and per call. With --profile, py-spy samples the
server during one more engine-rest round (bench/results/profile-camunda.txt).

    .venv/bin/python -m bench.camunda_cpu [--quick] [--rounds 5] [--n 40] [--profile]
"""

from __future__ import annotations

import statistics
import subprocess
import time
from collections import defaultdict

from bench.common import (
    RESULTS,
    THREE,
    Client,
    Server,
    base_args,
    fresh_database,
    machine_info,
    prepare,
    print_machine,
    print_table,
    print_targets,
    target,
    three_task_data,
    write_result,
)
from bench.profile import PY_SPY, summarize

REST = "/engine-rest"
RATIO_LIMIT = 1.3


def typed(data: dict) -> dict:
    names = {bool: "Boolean", int: "Integer", str: "String"}
    return {k: {"value": v, "type": names[type(v)]} for k, v in data.items()}


class Metered:
    """Calls through `client`, adding the server's CPU seconds of each to `cpu[label]`."""

    def __init__(self, client: Client, server: Server, cpu: dict[str, float]) -> None:
        self.client, self.server, self.cpu = client, server, cpu

    def __call__(self, label: str, method: str, path: str, **kwargs) -> dict | list:
        c0 = self.server.cpu_seconds()
        out = self.client.call(label, method, path, **kwargs)
        self.cpu[label] += self.server.cpu_seconds() - c0
        return out


def native_instance(call: Metered, i: int) -> int:
    instance = call(
        "start", "POST", "/api/v1/process-instances", json={"process_key": THREE, "variables": {}}
    )
    tasks = call("find", "GET", "/api/v1/tasks", params={"scope": "offered", "instance": instance["id"]})[
        "items"
    ]
    done = 0
    while tasks:
        task = tasks[0]
        call("claim", "POST", f"/api/v1/tasks/{task['id']}/claim")
        body = {"data": three_task_data(task["element_id"], i)}
        tasks = call("complete", "POST", f"/api/v1/tasks/{task['id']}/complete", json=body)["open_tasks"]
        done += 1
    return done


def rest_instance(call: Metered, i: int) -> int:
    instance = call("start", "POST", f"{REST}/process-definition/key/{THREE}/start", json={"variables": {}})
    done = 0
    while True:
        tasks = call("find", "GET", f"{REST}/task", params={"processInstanceId": instance["id"]})
        if not tasks:
            return done
        task = tasks[0]
        call("claim", "POST", f"{REST}/task/{task['id']}/claim", json={"userId": "bench"})
        body = {"variables": typed(three_task_data(task["taskDefinitionKey"], i))}
        call("complete", "POST", f"{REST}/task/{task['id']}/complete", json=body)
        done += 1


def main() -> None:
    parser = base_args(__doc__)
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--n", type=int, default=None, help="instances per side and round")
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the server during an engine-rest round"
    )
    args = parser.parse_args()
    rounds = args.rounds or args.repeats or (2 if args.quick else 5)
    n = args.n or (10 if args.quick else 40)
    info = machine_info()
    print_machine(info)
    print(
        f"camunda_cpu: {rounds} interleaved rounds of {n} three-task instances per side; SQLite, one server"
    )
    per_round = []
    with fresh_database("sqlite") as db:
        tokens = prepare(db.url, {"bench": ["leader"]}, handbook=False)
        with Server(db) as server:
            client = Client(server.url, tokens["bench"])
            warm: dict[str, float] = defaultdict(float)
            for i in range(3):
                native_instance(Metered(client, server, warm), i)
                rest_instance(Metered(client, server, warm), i)
            for r in range(rounds):
                cpu = {side: defaultdict(float) for side in ("native", "rest")}
                done = {"native": 0, "rest": 0}
                for i in range(n):  # instance by instance, alternating sides
                    done["native"] += native_instance(Metered(client, server, cpu["native"]), i)
                    done["rest"] += rest_instance(Metered(client, server, cpu["rest"]), i)
                result = {}
                for side in ("native", "rest"):
                    result[side] = {
                        "cpu_ms_per_completion": round(sum(cpu[side].values()) * 1000 / done[side], 3),
                        **{
                            f"{label}_cpu_ms_per_completion": round(v * 1000 / done[side], 3)
                            for label, v in cpu[side].items()
                        },
                    }
                result["ratio"] = round(
                    result["rest"]["cpu_ms_per_completion"] / result["native"]["cpu_ms_per_completion"], 3
                )
                per_round.append(result)
                native_ms, rest_ms = (result[side]["cpu_ms_per_completion"] for side in ("native", "rest"))
                print(
                    f"  round {r + 1}: server CPU per completion native {native_ms} ms, "
                    f"/engine-rest {rest_ms} ms, ratio {result['ratio']}",
                    flush=True,
                )
            if args.profile:
                profile(server, client)
            client.close()

    labels = ["start", "find", "claim", "complete"]
    rows = []
    for side in ("native", "rest"):
        for key in ["cpu_ms_per_completion", *(f"{label}_cpu_ms_per_completion" for label in labels)]:
            values = [r[side][key] for r in per_round]
            rows.append(
                [f"{side}: {key}", round(statistics.median(values), 3), f"{min(values)} - {max(values)}"]
            )
    ratios = [r["ratio"] for r in per_round]
    rows.append(
        ["ratio /engine-rest : native", round(statistics.median(ratios), 3), f"{min(ratios)} - {max(ratios)}"]
    )
    print()
    print_table(["server CPU ms per completion", f"median of {rounds} rounds", "min - max"], rows)
    targets = [
        target("/engine-rest server CPU per completion / native", statistics.median(ratios), "<", RATIO_LIMIT)
    ]
    print_targets(targets)
    write_result(
        "camunda_cpu",
        {
            "benchmark": "camunda_cpu",
            "machine": info,
            "parameters": {"rounds": rounds, "instances_per_round": n, "database": "sqlite"},
            "rounds": per_round,
            "targets": targets,
        },
    )


def profile(server: Server, client: Client) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "profile-camunda.collapsed"
    spy = subprocess.Popen(
        [
            PY_SPY,
            "record",
            "--pid",
            str(server.server_pid()),
            "--rate",
            "1000",
            "--format",
            "raw",
            "--output",
            str(out),
            "--nonblocking",
            "--threads",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    time.sleep(1.5)
    sink: dict[str, float] = defaultdict(float)
    for i in range(60):
        rest_instance(Metered(client, server, sink), i)
    spy.send_signal(2)
    spy.communicate(timeout=60)
    text = summarize(out, top=60)
    (RESULTS / "profile-camunda.txt").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
