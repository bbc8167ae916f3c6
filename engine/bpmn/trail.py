"""What one task adds to the path an instance took (the element it completed, the flow that reached
it), and the record of what the tasks cut from a long-running instance's tree added
(engine/bpmn/compaction.py): the instance diagram (engine/bpmn/path.py), the outcome and version
migration read both."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

#: The states of tasks that are not settled, where the tokens are: what the index tables and the
#: variables are made of.
OPEN_STATES = frozenset({TaskState.READY, TaskState.WAITING, TaskState.STARTED, TaskState.ERROR})


@dataclass
class Compacted:
    """What the tasks cut off the tree add to the instance's path."""

    #: element id -> times it completed
    elements: Counter[str] = field(default_factory=Counter)
    #: (source element id, target element id) -> times that flow was taken
    flows: Counter[tuple[str, str]] = field(default_factory=Counter)
    #: element id -> when it last completed (SpiffWorkflow's last_state_change, a timestamp)
    last_completed: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "elements": dict(self.elements),
            "flows": [[source, target, n] for (source, target), n in self.flows.items()],
            "last_completed": self.last_completed,
        }

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> Compacted:
        return cls(
            elements=Counter(value["elements"]),
            flows=Counter({(source, target): n for source, target, n in value["flows"]}),
            last_completed=dict(value["last_completed"]),
        )

    def rename(self, new_ids: dict[str, str]) -> None:
        """Version migration: elements counted under their old ids count under the new ones (two old
        elements mapped onto one add up)."""

        def new(element_id: str) -> str:
            return new_ids.get(element_id, element_id)

        elements: Counter[str] = Counter()
        flows: Counter[tuple[str, str]] = Counter()
        last: dict[str, float] = {}
        for element, n in self.elements.items():
            elements[new(element)] += n
        for (source, target), n in self.flows.items():
            flows[(new(source), new(target))] += n
        for element, at in self.last_completed.items():
            last[new(element)] = max(at, last.get(new(element), at))
        self.elements, self.flows, self.last_completed = elements, flows, last


_ATTRIBUTE = "opsflow_compacted"  # on the BpmnWorkflow; the serializer writes it with the state


def compacted(workflow: BpmnWorkflow) -> Compacted | None:
    found: Compacted | None = getattr(workflow, _ATTRIBUTE, None)
    return found


def set_compacted(workflow: BpmnWorkflow, value: Compacted | None) -> None:
    setattr(workflow, _ATTRIBUTE, value)


def contribution(task: Task) -> tuple[str | None, tuple[str, str] | None]:
    """What one task adds to the path: the element it completed, and the flow (source and target
    element ids) it was reached by; None for either it does not add."""
    element_id = task.task_spec.bpmn_id
    if not element_id or not _reached(task):
        return None, None
    completed = element_id if task.state == TaskState.COMPLETED else None
    source = _bpmn_parent(task)
    if source is None or source.state != TaskState.COMPLETED:
        return completed, None
    return completed, (source.task_spec.bpmn_id, element_id)


def _reached(task: Task) -> bool:
    if task.state == TaskState.CANCELLED:
        # a join's merged branch: its arrival was real, only the continuation is another task's
        return isinstance(task.task_spec, Join) and _bpmn_parent(task) is not None
    return task.state == TaskState.COMPLETED or task.state in OPEN_STATES


def _bpmn_parent(task: Task) -> Task | None:
    """The nearest ancestor that is a BPMN element (not one of SpiffWorkflow's own helper tasks)."""
    parent = task.parent
    while parent is not None and not parent.task_spec.bpmn_id:
        parent = parent.parent
    return parent
