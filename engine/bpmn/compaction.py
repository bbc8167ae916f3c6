"""Compaction: the finished history of an instance that loops leaves its live state.

SpiffWorkflow keeps every task an instance ever ran in one tree, and walks the whole tree several times
per step (finding READY tasks, updating WAITING ones, serializing each task): an instance that has
looped 300 times costs ten times what it cost on its first round, and past 1000 levels the library's
iterators stop seeing tasks at all. History does not need the tree: who did what and when is in the
audit log and the task history tables. So, when the finished part above the live tasks grows long, it is
cut off and only counted: which elements completed how often, which flows were taken how often, and
when each element last completed (what the instance diagram, the outcome and version migration read).

What is cut is only ever finished: a chain of COMPLETED or CANCELLED tasks from the root down to the
live part, with whatever finished branches hang off it (the merged branches of a joined parallel split,
a finished call activity's subprocess). The most recent `KEEP` finished tasks of that chain stay, so a
step can still be gone back to (Runner's move_back_to) as far as any operator reasonably would."""

from __future__ import annotations

import copy
import logging
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.trail import Compacted, compacted, contribution, set_compacted

#: finished tasks kept above the live ones
KEEP = 48
#: the chain is cut once it is this much longer than KEEP: the cut's cost is spread over many steps
SLACK = 48

_FINISHED = TaskState.COMPLETED | TaskState.CANCELLED

log = logging.getLogger(__name__)


def compact(workflow: BpmnWorkflow) -> int:
    """Cut the finished history above the live part of the tree, if it has grown long; return how many
    tasks were cut (0 most of the time)."""
    if len(workflow.tasks) <= KEEP + SLACK or getattr(workflow.spec, "conditional_paths", None):
        return 0  # an ad-hoc process spec reads the root's children: never re-rooted
    try:
        cut = _plan(workflow)
    except Exception:  # compaction only saves time: it is never why a person's step fails
        log.warning("the finished part of an instance's task tree was not compacted", exc_info=True)
        return 0
    if cut is None:
        return 0
    root, gone, counts = cut
    for task in gone:
        if task.id in workflow.subprocesses:
            workflow.delete_subprocess(task)
    for task in gone:
        del workflow.tasks[task.id]
    root._parent = None
    workflow.task_tree = root
    set_compacted(workflow, counts)
    return len(gone)


def _plan(workflow: BpmnWorkflow) -> tuple[Task, list[Task], Compacted] | None:
    """The new root, the tasks to cut, and the counts with theirs added; None when there is nothing
    worth cutting. Changes nothing."""
    chain = _finished_chain(workflow)
    cut = len(chain) - KEEP
    if cut <= SLACK:
        return None
    # The new root is a BPMN element, so every task below it finds its BPMN parent below the cut.
    while cut < len(chain) and not chain[cut].task_spec.bpmn_id:
        cut += 1
    if cut == len(chain):
        return None
    root = chain[cut]
    gone = _below(workflow, chain[:cut], keep=root)
    subprocess_tasks = [
        t for task in gone if task.id in workflow.subprocesses for t in _subprocess_tasks(workflow, task)
    ]
    if any(not t.has_state(_FINISHED) for t in subprocess_tasks):
        return None
    before = compacted(workflow)
    counts = copy.deepcopy(before) if before is not None else Compacted()
    for task in [*gone, *subprocess_tasks]:
        _count(counts, task, element=True)
    _count(counts, root, element=False)  # the flow into the new root: its parent is cut
    return root, gone, counts


def _finished_chain(workflow: BpmnWorkflow) -> list[Task]:
    """The tasks from the root down while each is finished and exactly one of its children leads to a
    task that is not (the other children's subtrees are wholly finished)."""
    live_ancestors: set[UUID] = set()
    for task in workflow.tasks.values():
        if task.has_state(_FINISHED):
            continue
        parent = task.parent
        while parent is not None and parent.id not in live_ancestors:
            live_ancestors.add(parent.id)
            parent = parent.parent
    chain: list[Task] = []
    step: Task | None = workflow.task_tree
    while step is not None and step.has_state(_FINISHED) and step.id in live_ancestors:
        going_on = [child for child in step._children if child in live_ancestors or _open(workflow, child)]
        if len(going_on) != 1:
            break
        chain.append(step)
        step = workflow.tasks.get(going_on[0])
    return chain


def _open(workflow: BpmnWorkflow, task_id: UUID) -> bool:
    task = workflow.tasks.get(task_id)
    return task is not None and not task.has_state(_FINISHED)


def _below(workflow: BpmnWorkflow, chain: list[Task], *, keep: Task) -> list[Task]:
    """The chain's tasks and every task in the subtrees hanging off it, except the one leading to `keep`."""
    on_chain = {task.id for task in chain} | {keep.id}
    gone: list[Task] = []
    stack = list(chain)
    while stack:
        task = stack.pop()
        gone.append(task)
        stack.extend(workflow.tasks[c] for c in task._children if c not in on_chain and c in workflow.tasks)
    return gone


def _subprocess_tasks(workflow: BpmnWorkflow, task: Task) -> list[Task]:
    """The tasks of the subprocess a call activity or subprocess task ran, and of those it ran in turn."""
    subprocess = workflow.subprocesses[task.id]
    tasks = list(subprocess.tasks.values())
    for nested in [s for s in workflow.subprocesses.values() if s.parent_workflow is subprocess]:
        tasks += _subprocess_tasks(workflow, workflow.get_task_from_id(nested.parent_task_id))
    return tasks


def _count(counts: Compacted, task: Task, *, element: bool) -> None:
    completed, flow = contribution(task)
    if flow is not None:
        counts.flows[flow] += 1
    if element and completed is not None:
        counts.elements[completed] += 1
        last = counts.last_completed.get(completed, 0.0)
        counts.last_completed[completed] = max(last, task.last_state_change)
