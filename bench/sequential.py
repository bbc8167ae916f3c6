"""1. Sequential: one client, keep-alive, against a running `opsflow serve` (SQLite, one process), with
the ceiling measured in the same rounds.

Three servers-or-paths run side by side for the whole benchmark and are measured INTERLEAVED, in rounds,
so that the machine's slow phases hit them alike:

  floor    `bench/empty_app.py POST /write`: the least any durable change on this stack costs (parse a
           completion-sized body, one SQLite write transaction with a state-sized row, commit), called
           by the same client class (`bench.common.Client`, httpx keep-alive, a bearer header) with the
           same body a three-task completion sends
  spiff    the same completions by SpiffWorkflow alone in this process, workflow kept in memory as our
           cache keeps it (`bench/spiff_alone.py`); restoring the state each time is reported too
  opsflow  N three-task instances (start > A > B > C > end) and H handbook journeys over HTTP

Per round: the ceiling = floor + SpiffWorkflow alone (in memory), and opsflow's share of it, both from
p50s (complete p50 against floor p50 + SpiffWorkflow p50) and from means (completions/s = completions /
time inside the complete calls). The spread over rounds (median, min-max) is printed: a share is a ratio
measured within one round, so it moves far less than the absolute figures on a shared machine.

    .venv/bin/python -m bench.sequential [--quick] [--rounds 7] [--n 60] [--handbook-n 2]
"""

from __future__ import annotations

import http.client
import json
import statistics
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

SHARE_TARGET = 0.6


class FloorServer:
    """bench/empty_app.py in a subprocess: GET /empty and the durable-write floor POST /write."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(
            [PYTHON, "-m", "bench.empty_app", str(self.port)],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(300):
            try:
                httpx.get(self.url + "/empty", timeout=1)
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("bench.empty_app did not start")

    def __enter__(self) -> FloorServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.proc.terminate()
        self.proc.wait()


def floor_calls(client: Client | LightClient, label: str, count: int) -> None:
    """`count` durable-write floor requests, each with the body a three-task completion sends."""
    body = {"data": three_task_data("Task_A")}
    if isinstance(client, LightClient):
        client.reconnect(body)  # its connection may have idled past the server's keep-alive
    for _ in range(count):
        if isinstance(client, LightClient):
            client.post(label, "/write", body)
        else:
            client.call(label, "POST", "/write", json=body)


class LightClient:
    """A keep-alive client with next to no cost of its own (http.client): how the issue measured the
    floor. Used for the floor only, to show how far a floor measured by another client moves the share
    (httpx itself takes about as long as the floor's server side on this machine)."""

    def __init__(self, url: str) -> None:
        self.conn = http.client.HTTPConnection(url.removeprefix("http://"))
        self.timings: dict[str, list[float]] = {}

    def reconnect(self, body: dict) -> None:
        """A fresh connection, and one request on it that is not timed."""
        self.conn.close()
        self.post("reconnect", "/write", body)
        self.timings.pop("reconnect")

    def post(self, label: str, path: str, body: dict) -> None:
        payload = json.dumps(body).encode()
        t0 = time.perf_counter()
        self.conn.request("POST", path, payload, {"Content-Type": "application/json"})
        response = self.conn.getresponse()
        response.read()
        self.timings.setdefault(label, []).append(time.perf_counter() - t0)
        if response.status != 200:
            raise RuntimeError(f"POST {path}: {response.status}")


def spiff_instance(alone: SpiffAlone, variables: dict, steps, timings: list[float], restore: bool) -> None:
    timings.extend(alone.run(variables, steps, restore=restore).seconds)


def share(floor: list[float], alone: list[float], ours: list[float]) -> dict:
    """The ceiling and our share of it, from p50s and from means (seconds in, ms out)."""
    f, a, o = (latency_summary(x) for x in (floor, alone, ours))
    ceiling_p50 = f["p50_ms"] + a["p50_ms"]
    ceiling_mean = f["mean_ms"] + a["mean_ms"]
    return {
        "floor_p50_ms": f["p50_ms"],
        "alone_p50_ms": a["p50_ms"],
        "complete_p50_ms": o["p50_ms"],
        "ceiling_p50_ms": round(ceiling_p50, 3),
        "share_p50": round(ceiling_p50 / o["p50_ms"], 3),
        "completions_per_s": round(1000 / o["mean_ms"], 1),
        "ceiling_completions_per_s": round(1000 / ceiling_mean, 1),
        "share_mean": round(ceiling_mean / o["mean_ms"], 3),
    }


def spread(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 3), "min": min(values), "max": max(values)}


def main() -> None:
    parser = base_args(__doc__)
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds")
    parser.add_argument("--n", type=int, default=None, help="three-task instances per round")
    parser.add_argument("--handbook-n", type=int, default=None, help="handbook instances per round")
    args = parser.parse_args()
    rounds = args.rounds or args.repeats or (3 if args.quick else 7)
    n = args.n or (15 if args.quick else 60)
    handbook_n = args.handbook_n or (1 if args.quick else 2)
    info = machine_info()
    print_machine(info)
    print(
        f"sequential: {rounds} rounds, interleaved instance by instance: the floor (one POST /write per "
        "completion), SpiffWorkflow alone, "
        f"{n} three-task instances and {handbook_n} handbook instances ({len(JOURNEY)} completions each) "
        f"over HTTP; SQLite, one server process"
    )
    users = {"bench": ["leader"], **USERS}
    per_round: list[dict] = []
    with fresh_database("sqlite") as db:
        tokens = prepare(db.url, users)
        alone = {"three_tasks": SpiffAlone(db.url, THREE), "handbook": SpiffAlone(db.url, PROCESS)}
        with Server(db) as server, FloorServer() as floor_server:
            floor_client = Client(floor_server.url, tokens["bench"])
            light = LightClient(floor_server.url)
            client = Client(server.url, tokens["bench"])
            clients = {name: Client(server.url, tokens[name]) for name in USERS}
            # warm-up: every path once
            floor_calls(floor_client, "warm-up", 50)
            floor_calls(light, "warm-up", 50)
            spiff_instance(alone["three_tasks"], {}, three_tasks(), [], False)
            spiff_instance(alone["handbook"], data("start_trigger"), journey(JOURNEY), [], False)
            for i in range(5):
                run_three_tasks(client, i)
            run_handbook(clients, -1)
            for r in range(rounds):
                for c in (floor_client, light, client, *clients.values()):
                    c.timings.clear()
                spiff: dict[str, list[float]] = {"three_tasks": [], "three_tasks_restore": [], "handbook": []}
                # Interleaved instance by instance: as many floor requests as the instance has completions,
                # the same instance by SpiffWorkflow alone, then over HTTP.
                done, wall, cpu = 0, 0.0, 0.0
                for i in range(n):
                    floor_calls(floor_client, "floor_three", 3)
                    spiff_instance(alone["three_tasks"], {}, three_tasks(), spiff["three_tasks"], False)
                    if i % 5 == 0:
                        spiff_instance(
                            alone["three_tasks"], {}, three_tasks(), spiff["three_tasks_restore"], True
                        )
                    cpu0, t0 = server.cpu_seconds(), time.perf_counter()
                    done += run_three_tasks(client, r * n + i)
                    wall, cpu = wall + time.perf_counter() - t0, cpu + server.cpu_seconds() - cpu0
                    if (
                        i % 10 == 9 or i == n - 1
                    ):  # in blocks: alternating two connections request by request slows both
                        floor_calls(light, "floor_three_light", 30)
                hb_done, hb_cpu = 0, 0.0
                for i in range(handbook_n):
                    floor_calls(floor_client, "floor_handbook", len(JOURNEY))
                    spiff_instance(
                        alone["handbook"], data("start_trigger"), journey(JOURNEY), spiff["handbook"], False
                    )
                    cpu0 = server.cpu_seconds()
                    hb_done += run_handbook(clients, r * handbook_n + i)
                    hb_cpu += server.cpu_seconds() - cpu0
                for _ in range(50):
                    floor_client.call("empty", "GET", "/empty")
                floor = floor_client.timings["floor_three"]
                hb_floor = floor_client.timings["floor_handbook"]
                hb_completes = [t for c in clients.values() for t in c.timings.get("complete", [])]
                result = {
                    "floor": latency_summary(floor + hb_floor),
                    "empty": latency_summary(floor_client.timings["empty"]),
                    "spiff_alone": {k: latency_summary(v) for k, v in spiff.items()},
                    "three_tasks": {
                        **share(floor, spiff["three_tasks"], client.timings["complete"]),
                        "completions": done,
                        "e2e_completions_per_s": round(done / wall, 1),
                        "server_cpu_ms_per_completion": round(cpu * 1000 / done, 3),
                        "complete": latency_summary(client.timings["complete"]),
                        # the way: the floor by a light client, opsflow by httpx
                        "share_p50_light_floor": share(
                            light.timings["floor_three_light"],
                            spiff["three_tasks"],
                            client.timings["complete"],
                        )["share_p50"],
                        "floor_light_p50_ms": latency_summary(light.timings["floor_three_light"])["p50_ms"],
                        "start": latency_summary(client.timings["start"]),
                    },
                    "handbook": {
                        **share(hb_floor, spiff["handbook"], hb_completes),
                        "completions": hb_done,
                        "server_cpu_ms_per_completion": round(hb_cpu * 1000 / hb_done, 3),
                        "complete": latency_summary(hb_completes),
                    },
                    "loadavg": load_average(),
                }
                per_round.append(result)
                t3, hb = result["three_tasks"], result["handbook"]
                print(
                    f"  round {r + 1}: floor p50 {t3['floor_p50_ms']} ms | three-task p50 "
                    f"{t3['complete_p50_ms']} ms, ceiling {t3['ceiling_p50_ms']} ms, share "
                    f"{t3['share_p50']:.0%} (means {t3['share_mean']:.0%}) | handbook p50 "
                    f"{hb['complete_p50_ms']} ms, ceiling {hb['ceiling_p50_ms']} ms, share "
                    f"{hb['share_p50']:.0%} (means {hb['share_mean']:.0%}) | floor by a light client "
                    f"{t3['floor_light_p50_ms']} ms, three-task share then {t3['share_p50_light_floor']:.0%} "
                    f"| load {result['loadavg'][0]}",
                    flush=True,
                )
            for c in (floor_client, client, *clients.values()):
                c.close()
            light.conn.close()

    summary: dict = {}
    for key in ("three_tasks", "handbook"):
        summary[key] = {
            field: spread([r[key][field] for r in per_round])
            for field in (
                "share_p50",
                "share_p50_light_floor",
                "floor_light_p50_ms",
                "share_mean",
                "complete_p50_ms",
                "ceiling_p50_ms",
                "floor_p50_ms",
                "alone_p50_ms",
                "completions_per_s",
                "ceiling_completions_per_s",
                "server_cpu_ms_per_completion",
            )
            if field in per_round[0][key]
        }
    summary["empty_p50_ms"] = spread([r["empty"]["p50_ms"] for r in per_round])
    summary["spiff_three_tasks_restore_p50_ms"] = spread(
        [r["spiff_alone"]["three_tasks_restore"]["p50_ms"] for r in per_round]
    )
    print()
    rows = []
    for key, label in (("three_tasks", "three-task"), ("handbook", "handbook")):
        s = summary[key]
        for field, what in (
            ("share_p50", "share of the ceiling (p50s)"),
            ("share_mean", "share of the ceiling (means)"),
            ("share_p50_light_floor", "share, the floor by a light client (the issue's way)"),
            ("floor_light_p50_ms", "floor p50 ms by a light client"),
            ("complete_p50_ms", "complete p50 ms"),
            ("ceiling_p50_ms", "ceiling: floor p50 + SpiffWorkflow p50, ms"),
            ("floor_p50_ms", "floor p50 ms"),
            ("alone_p50_ms", "SpiffWorkflow alone in memory p50 ms"),
            ("completions_per_s", "completions/s (in the complete calls)"),
            ("ceiling_completions_per_s", "ceiling completions/s (means)"),
            ("server_cpu_ms_per_completion", "server CPU ms per completion"),
        ):
            if field not in s:
                continue
            v = s[field]
            rows.append([f"{label}: {what}", v["median"], f"{v['min']} - {v['max']}"])
    print_table(["figure", f"median of {rounds} rounds", "min - max"], rows)
    print(f"\nload average after: {load_average()}")
    targets = [
        target(
            "three-task complete p50 share of the ceiling",
            summary["three_tasks"]["share_p50"]["median"],
            ">=",
            SHARE_TARGET,
        ),
        target(
            "handbook complete p50 share of the ceiling",
            summary["handbook"]["share_p50"]["median"],
            ">=",
            SHARE_TARGET,
        ),
    ]
    print_targets(targets)
    write_result(
        "sequential",
        {
            "benchmark": "sequential",
            "machine": info,
            "parameters": {
                "rounds": rounds,
                "three_task_instances_per_round": n,
                "handbook_instances_per_round": handbook_n,
                "database": "sqlite",
                "server_processes": 1,
            },
            "summary": summary,
            "rounds": per_round,
            "targets": targets,
        },
    )


if __name__ == "__main__":
    main()
