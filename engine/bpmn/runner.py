"""Everything the engine does to a SpiffWorkflow workflow: start, complete a task, cancel, and read
back the facts the index tables hold."""

import copy
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow as BpmnWorkflow  # re-exported: the engine names it through here
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import StandardLoopTask
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.catalog import Catalog
from engine.bpmn.compaction import compact
from engine.bpmn.specs import ExternalTask
from engine.bpmn.trail import OPEN_STATES as OPEN_STATES  # re-exported
from engine.bpmn.trail import compacted
from engine.errors import Conflict, InvalidInput, NotFound
from engine.types import JsonObject


@dataclass(frozen=True)
class ReadyTask:
    """A READY task that waits for someone outside the engine: a person (user task) or a worker
    (external task)."""

    id: str
    element_id: str
    name: str
    #: the task's own data: a multi-instance's element variable (`camunda:elementVariable`) is there
    #: only, and its assignment expressions read it
    data: JsonObject = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Incident:
    element_id: str | None
    message: str

    def as_dict(self) -> dict[str, str | None]:
        return {"element_id": self.element_id, "message": self.message}


class Runner:
    def __init__(self, script_engine: PythonScriptEngine, *, compaction: bool = True) -> None:
        self.script_engine = script_engine
        #: cut a loop's finished rounds while the engine steps run, once the tree is deep (off: the
        #: benchmark's SpiffWorkflow-alone reference)
        self.compaction = compaction

    def attach(self, workflow: BpmnWorkflow) -> BpmnWorkflow:
        workflow.script_engine = self.script_engine  # not serialized: set after every load
        return workflow

    def start(
        self, workflow: BpmnWorkflow, variables: JsonObject, *, by_message: bool = False
    ) -> Incident | None:
        workflow.task_tree.data.update(variables)  # the root task's data is inherited by every task
        if by_message:  # as in Camunda, a message starts at its message start event, never at a none start
            for task in workflow.get_tasks():
                definition = getattr(task.task_spec, "event_definition", None)
                if isinstance(task.task_spec, StartEvent) and isinstance(definition, NoneEventDefinition):
                    task.cancel()
        return self.advance(workflow)

    def advance(self, workflow: BpmnWorkflow) -> Incident | None:
        """Run every automatic step until the workflow waits for people, messages or timers.
        A failing script or condition leaves its task in ERROR: the incident is returned, not raised."""
        for attempt in (1, 2):  # a second pass only when one left an automatic task READY
            try:
                workflow.refresh_timers()
                workflow.do_engine_steps(did_complete_task=self._compaction_for(workflow))
            except WorkflowTaskException as exc:
                return failed(exc)
            except SpiffWorkflowException as exc:
                return Incident(None, _message(exc))
            if attempt == 1 and beyond_reach(workflow) is None:
                return None
        return beyond_reach(workflow)

    def _compaction_for(self, workflow: BpmnWorkflow) -> Callable[[Task], None] | None:
        """An automatic loop (scripts and gateways only) runs all its rounds in one step: before its
        tree grows deeper than SpiffWorkflow's iterators follow, its finished rounds are cut
        (engine/bpmn/compaction.py; what `Instances.save` does between steps)."""
        if not self.compaction:
            return None

        next_try = DEEP_IN_A_STEP

        def after_each_task(_task: Task) -> None:
            nonlocal next_try
            if len(workflow.tasks) > next_try:
                cut = compact(workflow)  # nothing cut (a live branch near the root): try again later
                next_try = DEEP_IN_A_STEP if cut else len(workflow.tasks) + DEEP_IN_A_STEP // 4

        return after_each_task

    def complete_user_task(self, workflow: BpmnWorkflow, task_id: str, data: JsonObject) -> Incident | None:
        task = ready_user_task(workflow, task_id)
        task.data.update(data)
        try:
            task.run()
        except WorkflowTaskException as exc:
            return failed(exc)
        return self.advance(workflow)

    def complete_external_task(
        self, workflow: BpmnWorkflow, task_id: str, data: JsonObject
    ) -> Incident | None:
        task = find_task(workflow, task_id)
        if task.state != TaskState.READY or not isinstance(task.task_spec, ExternalTask):
            raise Conflict(f"external task {task_id} is not open")
        task.data.update(data)
        task.run()
        return self.advance(workflow)

    def retry_failed(self, workflow: BpmnWorkflow, variables: JsonObject) -> Incident | None:
        """Run the tasks that failed (ERROR) again, with `variables` merged into their data, then go on.
        With none failed (a user task whose assignment could not be resolved), `variables` go to the
        open user tasks, whose assignment is resolved again when the instance is saved."""
        in_error = [t for t in all_tasks(workflow) if t.state == TaskState.ERROR]
        if not in_error:
            set_open_data(workflow, variables)
        for task in in_error:
            try:
                retry(task, variables)
            except WorkflowTaskException as exc:
                return failed(exc)
        return self.advance(workflow)

    def cancel(self, workflow: BpmnWorkflow) -> None:
        workflow.cancel()


# --- incidents ------------------------------------------------------------------------------------

#: Internal data of a task that failed while SpiffWorkflow updated it (a timer's date, a loop's
#: condition): the state to go back to on retry. SpiffWorkflow itself leaves such tasks as they
#: were (FUTURE, STARTED), so nothing would ever run them again.
_FAILED_IN_STATE = "opsflow_failed_in_state"


def failed(exc: WorkflowTaskException) -> Incident:
    """The incident for a task's failure; the task is left in ERROR, where retry_failed finds it."""
    task = exc.task
    if task is not None and task.state != TaskState.ERROR:
        task._set_internal_data(**{_FAILED_IN_STATE: int(task.state)})
        task._set_state(TaskState.ERROR)
    return Incident(task.task_spec.bpmn_id if task else None, _message(exc))


def retry(task: Task, variables: JsonObject) -> None:
    """Run a failed task again with `variables` merged into its data: a task that failed while being
    updated is updated again from where it was (it takes its parent's data then, so they go there too)."""
    task.data.update(variables)
    state = task.internal_data.pop(_FAILED_IN_STATE, None)
    if state is None:
        task.run()
        return
    spec = task.task_spec
    task._set_state(state)
    if isinstance(spec, StandardLoopTask) and state == TaskState.STARTED:
        # it failed testing its condition after an iteration: test again and go on from there
        if spec.loop_complete(task):
            task._set_state(TaskState.READY)
        else:
            spec.create_child(task)
        return
    if task.parent is not None:
        task.parent.data.update(variables)
    spec._update(task)


def has_failed_task(workflow: BpmnWorkflow, live: list[Task] | None = None) -> bool:
    """`live`, where given, is open_tasks(workflow) of the workflow as it is now (saves a pass)."""
    return any(t.state == TaskState.ERROR for t in (all_tasks(workflow) if live is None else live))


def find_task(workflow: BpmnWorkflow, task_id: str) -> Task:
    try:
        task = workflow.get_task_from_id(UUID(task_id))
    except (ValueError, KeyError, TypeError):
        task = None
    if task is None:
        raise NotFound(f"task {task_id} not found")
    return task


def ready_user_task(workflow: BpmnWorkflow, task_id: str) -> Task:
    task = find_task(workflow, task_id)
    # SpiffWorkflow itself would happily re-run a completed task: the state guard is ours.
    if task.state != TaskState.READY or not task.task_spec.manual:
        raise Conflict(f"task {task_id} is not open (it is {TaskState.get_name(task.state).lower()})")
    return task


def all_tasks(workflow: BpmnWorkflow) -> Iterator[Task]:
    """Every task of the instance, its subprocesses' too, in one flat pass. SpiffWorkflow's own
    iterators stop at depth 1000, which a long loop reaches; this never misses a task."""
    yield from workflow.tasks.values()
    for subprocess in workflow.subprocesses.values():
        yield from subprocess.tasks.values()


#: SpiffWorkflow's task iterators (TaskIterator, BpmnTaskIterator) stop descending at this depth.
ITERATOR_MAX_DEPTH = 1000
#: a tree this big is compacted while the engine steps run (well before the iterators' depth limit;
#: below it, a step runs exactly as SpiffWorkflow alone would run it)
DEEP_IN_A_STEP = 600


def task_count(workflow: BpmnWorkflow) -> int:
    return len(workflow.tasks) + sum(len(s.tasks) for s in workflow.subprocesses.values())


def open_tasks(workflow: BpmnWorkflow) -> list[Task]:
    """The tasks not yet settled (READY, WAITING, STARTED, ERROR), in all_tasks order: one pass over the
    whole tree, which every fact below can then read instead of walking it again."""
    return [t for t in all_tasks(workflow) if t._state in OPEN_STATES]


def beyond_reach(workflow: BpmnWorkflow) -> Incident | None:
    """An automatic task left READY after the engine steps ran: SpiffWorkflow could not see it (the
    task tree grew deeper than its iterators go). An incident, rather than a silent stop or end."""
    if task_count(workflow) < ITERATOR_MAX_DEPTH:
        return None  # an iterator's depth never exceeds the tasks it has expanded: it saw every task
    for task in all_tasks(workflow):
        if task.state == TaskState.READY and not task.task_spec.manual:
            return Incident(
                task.task_spec.bpmn_id,
                "the instance's task tree is deeper than SpiffWorkflow can follow (a loop ran too many "
                "times); model the repetition as a multi-instance or a subprocess",
            )
    return None


def is_finished(workflow: BpmnWorkflow, live: list[Task] | None = None) -> bool:
    """Completed, and nothing anywhere still open (is_completed alone stops at depth 1000)."""
    # The flat pass first: it is cheap, and it settles every running instance without the walk.
    if live is None:
        live = open_tasks(workflow)
    return not live and workflow.is_completed()


def ready_user_tasks(workflow: BpmnWorkflow, live: list[Task] | None = None) -> list[ReadyTask]:
    return [
        ReadyTask(str(t.id), t.task_spec.bpmn_id, t.task_spec.bpmn_name or t.task_spec.bpmn_id, t.data)
        for t in (all_tasks(workflow) if live is None else live)
        if t.state == TaskState.READY and t.task_spec.manual and not isinstance(t.task_spec, ExternalTask)
    ]


def ready_external_tasks(workflow: BpmnWorkflow, live: list[Task] | None = None) -> list[ReadyTask]:
    return [
        ReadyTask(str(t.id), t.task_spec.bpmn_id, t.task_spec.bpmn_name or t.task_spec.bpmn_id)
        for t in (all_tasks(workflow) if live is None else live)
        if t.state == TaskState.READY and isinstance(t.task_spec, ExternalTask)
    ]


def throw_bpmn_error(workflow: BpmnWorkflow, task_id: str, code: str, message: str, data: JsonObject) -> bool:
    """Raise a BPMN error on an external task: an error boundary event on it (matching the code, or
    catching all) takes over. False when nothing catches it."""
    task = find_task(workflow, task_id)
    for boundary in workflow.get_tasks(state=TaskState.WAITING):
        definition = getattr(boundary.task_spec, "event_definition", None)
        if not isinstance(definition, ErrorEventDefinition) or definition.code not in (None, code):
            continue
        if boundary.parent is not task.parent:
            continue  # a boundary event of another task
        task.data.update(data)
        boundary.data.update({**data, "error_code": code, "error_message": message})
        # The boundary's own definition: events match by definition class, name and code.
        workflow.send_event(BpmnEvent(definition, {**data, "error_code": code, "error_message": message}))
        return True
    return False


def reached_outcome(workflow: BpmnWorkflow, catalog: Catalog) -> str | None:
    """The `outcome` property of the last end event reached that has one."""
    reached = [  # (when, element id); a called process's end events count too
        (t.last_state_change, t.task_spec.bpmn_id)
        for t in all_tasks(workflow)
        if t.state == TaskState.COMPLETED and catalog.of(t.task_spec.bpmn_id or "").outcome
    ]
    cut = compacted(workflow)
    if cut is not None:  # a long-running instance's finished history, cut from the tree
        reached += [(at, e) for e, at in cut.last_completed.items() if catalog.of(e).outcome]
    if not reached:
        return None
    return catalog.of(max(reached)[1]).outcome


TIMER_EVENTS = ("DurationTimerEventDefinition", "TimeDateEventDefinition", "CycleTimerEventDefinition")


def next_timer_due(workflow: BpmnWorkflow) -> datetime | None:
    """When the earliest waiting timer (boundary, intermediate, start; in subprocesses too; one of
    an event-based gateway's or of a catch event with several definitions) is due."""
    dues = []
    for event in _waiting_events(workflow):
        if event.event_type not in TIMER_EVENTS:
            continue
        value = event.value.get("next") if isinstance(event.value, dict) else event.value
        if isinstance(value, str):
            dues.append(TimerEventDefinition.get_datetime(value))
    return min(dues) if dues else None


@dataclass(frozen=True)
class WaitingMessage:
    task_id: str
    element_id: str
    message: str


def waiting_messages(workflow: BpmnWorkflow, live: list[Task] | None = None) -> list[WaitingMessage]:
    """Message catch events, receive tasks and message start events that wait for a message."""
    found = []
    for task in all_tasks(workflow) if live is None else live:
        if task.state != TaskState.WAITING:
            continue
        for definition in event_definitions(task):
            if isinstance(definition, MessageEventDefinition):
                found.append(WaitingMessage(str(task.id), task.task_spec.bpmn_id, definition.name))
    return found


def event_definitions(task: Task) -> list[Any]:
    """A task's event definitions: the several of a MultipleEventDefinition (event-based gateways,
    catch events with more than one definition) one by one."""
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        return list(definition.event_definitions)
    return [definition] if definition is not None else []


def _waiting_events(workflow: BpmnWorkflow) -> Iterator[Any]:
    for task in workflow.event_manager.tasks.values():
        definition = task.task_spec.event_definition
        if isinstance(definition, MultipleEventDefinition):
            yield from (d.details(task) for d in definition.event_definitions)
        else:
            yield definition.details(task)


def deliver_message(workflow: BpmnWorkflow, waiting: WaitingMessage, payload: JsonObject) -> None:
    """Hand a message to the task waiting for it; its payload becomes process data (as in Camunda).
    A payload the correlation properties cannot read, or whose correlation values are not the
    instance's, is refused (nothing changes)."""
    task = find_task(workflow, waiting.task_id)
    name = waiting.message
    definition = next(
        (d for d in event_definitions(task) if isinstance(d, MessageEventDefinition) and d.name == name), None
    )
    if definition is None:
        raise Conflict(f"element {waiting.element_id} no longer waits for message {name!r}")
    try:
        correlations = definition.get_correlations(task, payload)
    except Exception as exc:  # the retrieval expression failed on this payload (a NameError, say)
        raise InvalidInput(
            f"message {name!r}: the payload lacks what its correlation properties read ({exc})"
        ) from None
    event = BpmnEvent(definition, payload, correlations, target=None)
    if not definition.catches(task, event):
        raise Conflict(
            f"message {name!r} carries correlation values {correlations} that are not this instance's "
            f"{workflow.correlations}"
        )
    workflow.send_event(event)
    # Catching makes the task inherit its parent's data again, which would hide the payload:
    # merge it once the task is READY, before it runs and hands its data on.
    task.data.update(payload)


def thrown_messages(workflow: BpmnWorkflow) -> list[tuple[str, object]]:
    """Messages the instance threw that nothing inside it caught (drains the queue)."""
    return [(e.event_definition.name, e.payload) for e in workflow.get_events()]


def duration(text: str, start: datetime) -> timedelta:
    """An ISO-8601 duration (P1D, PT2H, P1M) from `start`."""
    found: timedelta = TimerEventDefinition.get_timedelta_from_start(
        TimerEventDefinition.parse_iso_duration(text), start
    )
    return found


def current_variables(workflow: BpmnWorkflow, live: list[Task] | None = None) -> JsonObject:
    """The process data as people see it: the workflow's data once done, else the open tasks' data."""
    merged: JsonObject = dict(workflow.data)
    for task in all_tasks(workflow) if live is None else live:
        if task.state in (TaskState.READY, TaskState.WAITING, TaskState.ERROR):
            merged.update(task.data)
    return merged


#: Where process data lives while an instance runs: every task still to finish carries its copy.


def set_open_data(workflow: BpmnWorkflow, variables: JsonObject, deletions: Iterable[str] = ()) -> None:
    """Change process data: every open task's copy (what current_variables reads and what the next
    steps inherit), and the workflow's own once it is done. `deletions` are removed first."""
    deletions = list(deletions)
    if not variables and not deletions:
        return
    for data in [task.data for task in all_tasks(workflow) if task.state in OPEN_STATES] + [workflow.data]:
        for name in deletions:
            data.pop(name, None)
        data.update(variables)


def skip_open_step(workflow: BpmnWorkflow, element_id: str) -> None:
    """The open step (a task waiting for people or a worker, a wait for a message or timer, a failed
    task) counts as done without its work; the process goes on from it."""
    open_ones = [
        t
        for t in all_tasks(workflow)
        if t.task_spec.bpmn_id == element_id
        and t.state in (TaskState.READY, TaskState.WAITING, TaskState.ERROR)
    ]
    if not open_ones:
        raise Conflict(f"{element_id} is not an open step of the instance: only an open step can be skipped")
    for task in open_ones:
        task.internal_data.pop(_FAILED_IN_STATE, None)
        task.complete()


def move_back_to(workflow: BpmnWorkflow, element_id: str, variables: JsonObject) -> None:
    """The step that ran last time at `element_id` is open again; what came after it on its branch is
    undone (SpiffWorkflow's reset_from_task_id). The process data stays as it is now."""
    done = [
        t
        for t in all_tasks(workflow)
        if t.task_spec.bpmn_id == element_id
        and t.state == TaskState.COMPLETED
        and t.task_spec.manual
        and t.parent is not None  # the root of a compacted tree: what led to it is gone
    ]
    cut = compacted(workflow)
    if not done and cut is not None and element_id in cut.elements:
        raise Conflict(
            f"{element_id} last ran too far back in this instance's history to go back to (its earlier "
            "iterations are kept as counts only); go back to a more recent step"
        )
    if not done:
        raise Conflict(
            f"{element_id} is not a step the instance has done: only a user or external task that ran "
            "can be gone back to"
        )
    target = max(done, key=lambda t: t.last_state_change)
    data = {**target.parent.data, **variables} if target.parent is not None else dict(variables)
    workflow.reset_from_task_id(target.id, data=copy.deepcopy(data))


def _message(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    return re.sub(r"^(\w+Error):(?=\S)", r"\1: ", text)  # SpiffWorkflow writes "NameError:name ..."
