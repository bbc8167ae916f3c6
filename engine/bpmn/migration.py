"""Moving a running workflow onto another version of its process, with SpiffWorkflow's own spec diff
(SpiffWorkflow.bpmn.util.diff): its SpecDiff aligns the versions' task specs by BPMN id (and by
structure where ids differ); renamed ids are aligned as the operator maps them. Unlike its
migrate_workflow, which resets every READY and WAITING branch, only the branches whose future changed
are re-predicted: a waiting timer keeps its due date, and every task keeps its id. Elements align by
id only (SpiffWorkflow's guesses by structure are dropped), or as mapped."""

import copy
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.util.diff import SpecDiff
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.trail import compacted
from engine.errors import InvalidInput, Problem

_ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR


@dataclass
class MigrationPlan:
    """Whether a workflow can move to the new version, and why not."""

    reasons: list[str] = field(default_factory=list)
    #: id() of the workflow and of each of its subprocesses -> its SpecDiff (which aligns its task specs)
    alignment: dict[int, SpecDiff] = field(default_factory=dict)
    #: subprocess id -> its SpecDiff
    subprocesses: dict[UUID, SpecDiff] = field(default_factory=dict)

    @property
    def can_move(self) -> bool:
        return not self.reasons


class _ByBaseClass:
    """The converter registry for SpecDiff's comparisons, also for our spec classes (the multi-instance
    checks, the Camunda input/output mappings: subclasses made at parse time), which convert as the
    nearest SpiffWorkflow class the registry knows."""

    def __init__(self, registry: Any) -> None:
        self._registry = registry

    def convert(self, obj: Any, **kwargs: Any) -> Any:
        for cls in type(obj).__mro__:
            typename = self._registry.typenames.get(cls)
            if typename in self._registry.convert_to_dict:
                return self._registry.convert_to_dict[typename](obj, **kwargs)
        return self._registry.convert(obj, **kwargs)


def spec_diff(
    registry: Any, original: BpmnProcessSpec, new: BpmnProcessSpec, mapping: dict[str, str]
) -> SpecDiff:
    """SpiffWorkflow's diff, with renamed elements aligned as mapped (old id -> new id)."""
    diff = SpecDiff(_ByBaseClass(registry), original, new)
    # Its guesses by structure are dropped: a step whose neighbours match is not the same step (a
    # renamed task next to an added one gets aligned with the added one). Ids align, or the mapping.
    for old, target in list(diff.alignment.items()):
        if target is not None and target.name != old.name:
            diff.alignment[old] = None
            diff.comparisons.pop(old, None)
            if target not in diff.added:
                diff.added.append(target)
    problems = []
    for old_id, new_id in mapping.items():
        old, target = original.task_specs.get(old_id), new.task_specs.get(new_id)
        if old is None:
            problems.append(
                Problem(f"{old_id} is no element of the version migrated from", path=f"mapping.{old_id}")
            )
        if target is None:
            problems.append(
                Problem(f"{new_id} is no element of the version migrated to", path=f"mapping.{old_id}")
            )
        if old is None or target is None:
            continue
        diff.alignment[old] = target
        if target in diff.added:
            diff.added.remove(target)
        diff.comparisons[old] = diff._compare_task_specs(old, target)
    if problems:
        raise InvalidInput("the mapping of renamed elements names elements that do not exist", problems)
    return diff


def plan(
    registry: Any,
    workflow: BpmnWorkflow,
    new: BpmnProcessSpec,
    new_deps: dict[str, BpmnProcessSpec],
    mapping: dict[str, str],
) -> MigrationPlan:
    result = MigrationPlan()
    diffs = [(workflow, spec_diff(registry, workflow.spec, new, mapping))]
    for sp_id, sub in workflow.subprocesses.items():
        target = new_deps.get(sub.spec.name)
        if target is None:
            result.reasons.append(f"the called process {sub.spec.name} is not part of the new version")
            continue
        sub_diff = spec_diff(registry, sub.spec, target, {})
        result.subprocesses[sp_id] = sub_diff
        diffs.append((sub, sub_diff))
    for owner, diff in diffs:
        for task in owner.tasks.values():
            spec, target = task.task_spec, diff.alignment.get(task.task_spec)
            element = spec.bpmn_id or spec.name
            if target is None and spec in diff.alignment:
                if task.state & _ACTIVE:
                    result.reasons.append(
                        f"the active element {element} no longer exists (map it to its new id)"
                    )
                elif task.state == TaskState.COMPLETED and spec.bpmn_id:
                    result.reasons.append(f"{element} ran and no longer exists (map it to its new id)")
            elif target is not None and task.state & _ACTIVE and "typename" in diff.comparisons.get(spec, []):
                result.reasons.append(f"the active element {element} changed its type")
            elif target is not None and task.state == TaskState.STARTED and diff.comparisons.get(spec):
                result.reasons.append(
                    f"the running element {element} changed ({', '.join(diff.comparisons[spec])})"
                )
        result.alignment[id(owner)] = diff
    result.reasons += _compacted_reasons(workflow, result.alignment[id(workflow)])
    result.reasons = sorted(set(result.reasons))
    return result


def _compacted_reasons(workflow: BpmnWorkflow, diff: SpecDiff) -> list[str]:
    """Elements that ran in the part of a long instance's history cut from its tree
    (engine/bpmn/compaction.py) must exist in the new version too, as those still in the tree."""
    cut = compacted(workflow)
    if cut is None:
        return []
    gone = [
        e
        for e in cut.elements
        if (old := workflow.spec.task_specs.get(e)) in diff.alignment and diff.alignment[old] is None
    ]
    return [f"{element} ran and no longer exists (map it to its new id)" for element in gone]


def migrate(
    workflow: BpmnWorkflow,
    migration: MigrationPlan,
    new: BpmnProcessSpec,
    new_deps: dict[str, BpmnProcessSpec],
) -> None:
    """Move the workflow onto the new specs (the plan must allow it)."""
    if not migration.can_move:
        raise ValueError("this workflow cannot move: " + "; ".join(migration.reasons))
    owners = [workflow, *workflow.subprocesses.values()]
    for owner in owners:
        diff: SpecDiff = migration.alignment[id(owner)]
        stale = {s for s in diff.changed} | set(diff.removed)
        to_reset = [
            t
            for t in owner.tasks.values()
            if t.state in (TaskState.READY, TaskState.WAITING) and _future_changed(t, stale)
        ]
        cut = compacted(owner) if owner is workflow else None
        if cut is not None:  # counted under the ids of the version migrated to
            renamed = {
                e: target.bpmn_id for e in cut.elements if (target := _target(owner, diff, e)) is not None
            }
            cut.rename(renamed)
        owner.spec = new if owner is workflow else new_deps[owner.spec.name]
        for task in owner.tasks.values():
            target = diff.alignment.get(task.task_spec)
            if target is not None:
                task.task_spec = target
        for task in to_reset:
            if task.id in owner.tasks:  # not dropped with an earlier reset's branch
                task.reset_branch(copy.deepcopy(task.data))
        if owner.last_task is not None and owner.last_task.id not in owner.tasks:
            owner.last_task = None
    workflow.subprocess_specs = new_deps


def _target(workflow: BpmnWorkflow, diff: SpecDiff, element_id: str) -> Any:
    old = workflow.spec.task_specs.get(element_id)
    return diff.alignment.get(old) if old is not None else None


def _future_changed(task: Task, stale: set[Any]) -> bool:
    """The task's spec, or a spec of what it predicts will follow, changed or is gone."""
    return any(t.task_spec in stale for t in task)
