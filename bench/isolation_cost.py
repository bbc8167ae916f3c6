"""What running scripts in sandbox worker processes costs per completion (issue 12; the issue 20
target is at most 0.3 ms of CPU per completion for a process without scripts).

Two small processes, in-process through the engine facade on SQLite: three user tasks and a gateway
condition, without and with one script task. CPU per completion counts this process and, where the
code has them, its sandbox workers (a script's CPU is spent there). Run it in each checkout to
compare before and after:

    PYTHONPATH=$PWD .venv/bin/python -m bench.isolation_cost [--completions 300]
"""

import argparse
import time

from bench.common import fresh_database
from engine.config import Settings
from engine.engine import build_engine
from engine.views import Principal

LEADER = Principal("lei", "lei", frozenset({"leader"}))

PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="Defs" targetNamespace="http://example.com">
  <bpmn:process id="KEY" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1"><bpmn:lane id="Lane_leader" name="组长 (leader)">
      <bpmn:flowNodeRef>Start_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_1</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>Script_1</bpmn:flowNodeRef><bpmn:flowNodeRef>Gateway_1</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>Task_2</bpmn:flowNodeRef><bpmn:flowNodeRef>Task_3</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>End_1</bpmn:flowNodeRef></bpmn:lane></bpmn:laneSet>
    <bpmn:startEvent id="Start_1" />
    <bpmn:userTask id="Task_1" name="one" />
    STEP
    <bpmn:exclusiveGateway id="Gateway_1" default="F_no" />
    <bpmn:userTask id="Task_2" name="two" />
    <bpmn:userTask id="Task_3" name="three" />
    <bpmn:endEvent id="End_1" />
    <bpmn:sequenceFlow id="F1" sourceRef="Start_1" targetRef="Task_1" />
    FLOWS
    <bpmn:sequenceFlow id="F_yes" sourceRef="Gateway_1" targetRef="Task_2">
      <bpmn:conditionExpression>amount &gt; 10 and approved</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="F_no" sourceRef="Gateway_1" targetRef="Task_2" />
    <bpmn:sequenceFlow id="F3" sourceRef="Task_2" targetRef="Task_3" />
    <bpmn:sequenceFlow id="F4" sourceRef="Task_3" targetRef="End_1" />
  </bpmn:process>
</bpmn:definitions>
"""
WITHOUT_SCRIPT = ("", '<bpmn:sequenceFlow id="F2" sourceRef="Task_1" targetRef="Gateway_1" />')
WITH_SCRIPT = (
    '<bpmn:scriptTask id="Script_1" scriptFormat="python"><bpmn:script>total = amount * 2\n'
    "label = f'{total} units'</bpmn:script></bpmn:scriptTask>",
    '<bpmn:sequenceFlow id="F2" sourceRef="Task_1" targetRef="Script_1" />'
    '<bpmn:sequenceFlow id="F2b" sourceRef="Script_1" targetRef="Gateway_1" />',
)


def bpmn(key: str, variant: tuple[str, str]) -> bytes:
    return PROCESS.replace("KEY", key).replace("STEP", variant[0]).replace("FLOWS", variant[1]).encode()


def sandbox_cpu(engine) -> float:
    """CPU seconds of the engine's sandbox workers (0 where scripts run in this process)."""
    environment = engine.runtime._instances.runner.script_engine.environment
    if not getattr(environment, "isolated", False):
        return 0.0
    from engine.bpmn.isolation import pool_for

    return pool_for(environment.limits, environment._workers).cpu_seconds()


def measure(engine, key: str, completions: int) -> tuple[float, float]:
    """(CPU ms, wall ms) per completion over instances of `key`, after a warm-up."""

    def journey() -> None:
        instance = engine.runtime.start_process_instance_by_key(
            key, principal=LEADER, variables={"amount": 12, "approved": True}
        )
        tasks = engine.tasks.inbox(principal=LEADER, scope="offered", instance_id=instance.id).items
        while tasks:
            tasks = engine.tasks.complete(tasks[0].id, {}, principal=LEADER).open_tasks

    for _ in range(5):
        journey()
    instances = max(1, completions // 3)
    cpu, sandbox, wall = time.process_time(), sandbox_cpu(engine), time.perf_counter()
    for _ in range(instances):
        journey()
    cpu = time.process_time() - cpu + sandbox_cpu(engine) - sandbox
    wall = time.perf_counter() - wall
    # a journey is one start and three completions: the start is counted as a fourth step
    steps = instances * 4
    return cpu / steps * 1000, wall / steps * 1000


def sandbox_calls(calls: int = 2000) -> None:
    """One script and one condition, run `calls` times here and through the sandbox workers: the
    isolation's own cost per call, without the rest of a completion's noise."""
    from engine.bpmn.isolation import pool_for
    from engine.bpmn.sandbox import SandboxedEnvironment, SandboxLimits

    limits = SandboxLimits()
    data = {"amount": 12, "approved": True, "items": list(range(20)), "note": "x" * 200}
    for isolated in (False, True):
        environment = SandboxedEnvironment(limits, isolated=isolated)
        script, condition = environment.execute, environment.evaluate
        for source, run in (
            ("total = amount * 2", lambda s, script=script: script(s, dict(data))),
            ("amount > 10 and approved", lambda s, condition=condition: condition(s, data)),
        ):
            run(source)
            cpu, workers, wall = time.process_time(), pool_for(limits).cpu_seconds(), time.perf_counter()
            for _ in range(calls):
                run(source)
            cpu = time.process_time() - cpu + pool_for(limits).cpu_seconds() - workers
            wall = time.perf_counter() - wall
            where = "worker" if isolated and source.startswith("total") else "in-process"
            print(f"  {source!r:28} isolated={isolated!s:5} ({where}): CPU {cpu / calls * 1e6:.0f} us, "
                  f"wall {wall / calls * 1e6:.0f} us per call")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--completions", type=int, default=300)
    args = parser.parse_args()
    with fresh_database("sqlite") as db:
        engine = build_engine(Settings(database_url=db.url, run_worker=False))
        engine.identity.create_user("lei", ["leader"])
        engine.repository.deploy(
            [("plain.bpmn", bpmn("plain", WITHOUT_SCRIPT)), ("scripted.bpmn", bpmn("scripted", WITH_SCRIPT))],
            actor="bench",
        )
        isolated = getattr(engine.runtime._instances.runner.script_engine.environment, "isolated", False)
        print(f"scripts in sandbox worker processes: {'yes' if isolated else 'no'}")
        for key, label in (("plain", "without scripts"), ("scripted", "with one script")):
            cpu, wall = measure(engine, key, args.completions)
            print(f"{label:16}: CPU {cpu:.3f} ms per step (workers included), wall {wall:.3f} ms")
        engine.close()
    if isolated:
        print("sandbox calls alone:")
        sandbox_calls()


if __name__ == "__main__":
    main()
