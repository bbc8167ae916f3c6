"""The path an instance really took, read from SpiffWorkflow's task tree: which elements ran and how
often, which sequence flows were taken and how often, and where the tokens are now.

A flow counts as taken when a task that was reached (ran, runs, or waits) has, as its nearest BPMN
ancestor in the tree, a completed task: SpiffWorkflow grows a task's children from the flows its
spec follows, so the parent/child link is the flow. Predicted tasks (FUTURE, LIKELY, MAYBE) were
never reached; of cancelled ones only the merged branches of a join were (a join keeps one of its
arriving tasks and cancels the others). An instance that loops long has its finished history cut
from the tree (engine/bpmn/compaction.py): what was cut is counted in a `Compacted` record kept with
the state, and added here."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.runner import all_tasks, event_definitions
from engine.bpmn.trail import Compacted, compacted, contribution
from engine.bpmn.xml import NS

_ACTIVE = {
    TaskState.READY: "ready",
    TaskState.WAITING: "waiting",
    TaskState.STARTED: "started",
    TaskState.ERROR: "error",
}


@dataclass(frozen=True)
class Token:
    element_id: str
    state: str  # ready | waiting | started | error
    waits_for: str | None  # "message:<name>" or "timer" for a waiting event, else None


@dataclass(frozen=True)
class TakenPath:
    elements: dict[str, int]  # element id -> times it completed
    flows: dict[str, int]  # sequence flow id -> times it was taken
    tokens: list[Token]


def sequence_flows(bpmn_xml: str) -> dict[tuple[str, str], str]:
    """(source id, target id) -> the sequence flow's id, for every process in the file."""
    root = etree.fromstring(bpmn_xml.encode())
    return {
        (flow.get("sourceRef"), flow.get("targetRef")): flow.get("id")
        for flow in root.iter(f"{{{NS['bpmn']}}}sequenceFlow")
    }


def taken_path(workflow: BpmnWorkflow, flows: dict[tuple[str, str], str]) -> TakenPath:
    cut = compacted(workflow) or Compacted()
    elements: Counter[str] = Counter(cut.elements)
    pairs: Counter[tuple[str, str]] = Counter(cut.flows)
    tokens: list[Token] = []
    for task in all_tasks(workflow):
        completed, flow = contribution(task)
        if completed is not None:
            elements[completed] += 1
        elif task.state in _ACTIVE and task.task_spec.bpmn_id:
            tokens.append(Token(task.task_spec.bpmn_id, _ACTIVE[task.state], _waits_for(task)))
        if flow is not None:
            pairs[flow] += 1
    taken: Counter[str] = Counter()
    for pair, n in pairs.items():
        if pair in flows:
            taken[flows[pair]] += n
    tokens.sort(key=lambda t: t.element_id)
    return TakenPath(dict(elements), dict(taken), tokens)


def _waits_for(task: Task) -> str | None:
    if task.state != TaskState.WAITING:
        return None
    for definition in event_definitions(task):
        if isinstance(definition, MessageEventDefinition):
            return f"message:{definition.name}"
        if isinstance(definition, TimerEventDefinition):
            return "timer"
    return None
