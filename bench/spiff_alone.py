"""SpiffWorkflow alone, in-process: what a completion costs with nothing of ours around it but the
serializer and the sandboxed script engine (wired as `engine.engine.build_engine` wires them).

`restore=True` is the issue's reference: restore the state, set the form data on the READY task and run
it, run the engine steps, save the state. `restore=False` keeps the workflow in memory between
completions, as the server's workflow cache does; the state is still saved every time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import sqlalchemy as sa
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from bench.common import build, three_task_data
from engine.bpmn.parser import load_specs
from engine.bpmn.runner import Runner
from engine.bpmn.sandbox import SandboxLimits, make_script_engine
from engine.bpmn.serializer import SpecCache, WorkflowStore
from engine.storage.tables import ProcessDefinitionRow

#: The next completion: the READY task to run and the form data to set on it; None when done.
NextStep = Callable[[BpmnWorkflow], tuple[Task, dict] | None]


@dataclass
class Run:
    seconds: list[float]  # per completion
    state_bytes: int  # the last saved state
    cpu_ms_per_completion: float


class SpiffAlone:
    """One deployed process (the newest version of `key` in the database at `url`), run without opsflow."""

    def __init__(self, url: str, key: str) -> None:
        engine = build(url)
        try:
            with engine.db.connect() as conn:
                row = conn.execute(
                    sa.select(ProcessDefinitionRow)
                    .where(ProcessDefinitionRow.key == key)
                    .order_by(ProcessDefinitionRow.version.desc())
                    .limit(1)
                ).one()
        finally:
            engine.close()
        self._definition_id = row.id
        specs = SpecCache(lambda _id: load_specs(row.bpmn_xml, row.resource_name, row.key))
        self.store = WorkflowStore(specs)
        self.runner = Runner(make_script_engine(SandboxLimits()), compaction=False)  # the library as it is

    def run(
        self,
        variables: dict,
        next_step: NextStep,
        *,
        restore: bool = True,
        clock: Callable[[], float] = time.perf_counter,
    ) -> Run:
        """`clock` times each completion (time.thread_time: its CPU time)."""
        workflow = self.runner.attach(self.store.new_workflow(self._definition_id))
        self.runner.start(workflow, variables)
        state = self.store.dump(workflow)
        seconds, cpu = [], 0.0
        while (step := next_step(workflow)) is not None:
            task_id, data = step[0].id, step[1]
            c0, t0 = time.thread_time(), clock()
            if restore:
                workflow = self.runner.attach(self.store.load(state))
            task = workflow.get_task_from_id(task_id)
            task.data.update(data)
            task.run()
            incident = self.runner.advance(workflow)
            state = self.store.dump(workflow)
            seconds.append(clock() - t0)
            cpu += time.thread_time() - c0
            if incident:
                raise RuntimeError(f"incident in the SpiffWorkflow-alone run: {incident}")
        if not workflow.is_completed():
            raise RuntimeError(f"the SpiffWorkflow-alone run stopped after {len(seconds)} completions")
        return Run(seconds, len(state), cpu * 1000 / max(1, len(seconds)))


def ready(workflow: BpmnWorkflow) -> list[Task]:
    return workflow.get_tasks(state=TaskState.READY, manual=True)


def every_ready_task(data: Callable[[Task], dict]) -> NextStep:
    """Complete whichever user task is READY first, with `data(task)`."""

    def next_step(workflow: BpmnWorkflow) -> tuple[Task, dict] | None:
        tasks = ready(workflow)
        return (tasks[0], data(tasks[0])) if tasks else None

    return next_step


def three_tasks() -> NextStep:
    return every_ready_task(lambda task: three_task_data(task.task_spec.name))


def journey(steps: list[tuple[str, str, dict]]) -> NextStep:
    """Complete the tasks named by (element id, role, form data), in order (the handbook journey)."""
    remaining: Iterator[tuple[str, str, dict]] = iter(steps)

    def next_step(workflow: BpmnWorkflow) -> tuple[Task, dict] | None:
        step = next(remaining, None)
        if step is None:
            return None
        element_id, _, data = step
        # by BPMN id: a multi-instance's READY instances have specs of their own (one per member)
        task = next((t for t in ready(workflow) if t.task_spec.bpmn_id == element_id), None)
        if task is None:
            raise RuntimeError(f"{element_id} is not READY in the SpiffWorkflow-alone run")
        return task, data

    return next_step
