"""One SpiffWorkflow serializer for the whole service. The spec is stored once per deployed
definition, not inside every instance: instance state is only the task tree and data."""

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.trail import Compacted, compacted, set_compacted

#: A definition's process spec, and the specs of the processes its call activities call, by id.
Specs = tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]


class SpecCache:
    """Parsed specs by definition id. Definitions are immutable, so entries never go stale."""

    def __init__(self, load: Callable[[str], Specs], size: int = 256) -> None:
        self._load = load
        self._size = size
        self._entries: OrderedDict[str, Specs] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, definition_id: str) -> Specs:
        with self._lock:
            if definition_id in self._entries:
                self._entries.move_to_end(definition_id)
                return self._entries[definition_id]
        specs = self._load(definition_id)
        specs[0].opsflow_definition_id = definition_id  # read back by the converter on save
        with self._lock:
            self._entries[definition_id] = specs
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return specs


class _SpecRefConverter(BpmnWorkflowConverter):
    """Writes a reference to the definition instead of the whole spec."""

    specs: SpecCache

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["definition_id"] = workflow.spec.opsflow_definition_id
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        cut = compacted(workflow)
        if cut is not None:
            dct["compacted"] = cut.to_json()
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        spec, subprocess_specs = self.specs.get(dct.pop("definition_id"))
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        if "compacted" in dct:
            set_compacted(workflow, Compacted.from_json(dct["compacted"]))
        return workflow


class WorkflowStore:
    """dump/load of instance state; thread-safe (the library's encoder flag is shared state)."""

    def __init__(self, specs: SpecCache) -> None:
        self.specs = specs
        config = dict(SPIFF_CONFIG)  # a copy: SPIFF_CONFIG is module-level shared state
        converter = type("SpecRefConverter", (_SpecRefConverter,), {"specs": specs})
        config[BpmnWorkflow] = converter
        self._serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))
        self.version = self._serializer.VERSION
        self._lock = threading.Lock()

    @property
    def registry(self) -> Any:
        """SpiffWorkflow's converter registry (spec diffs compare specs through it)."""
        return self._serializer.registry

    def dump(self, workflow: BpmnWorkflow) -> str:
        with self._lock:
            state: str = self._serializer.serialize_json(workflow)
        return state

    def load(self, state: str) -> BpmnWorkflow:
        dct = json.loads(state)
        self._serializer.migrate(dct)
        workflow = self._serializer.from_dict(dct)
        _reconnect_multi_instances(workflow)
        return workflow

    def new_workflow(self, definition_id: str) -> BpmnWorkflow:
        spec, subprocess_specs = self.specs.get(definition_id)
        return BpmnWorkflow(spec, subprocess_specs)


def _reconnect_multi_instances(workflow: BpmnWorkflow) -> None:
    """A running multi-instance collects each instance as it completes through an event that
    SpiffWorkflow connects when it creates the instances, and does not serialize: after a load (a
    restart, another worker) connect it again, or the instances that complete then are never merged
    and the activity never ends."""
    tasks = [*workflow.get_tasks(state=TaskState.STARTED)]
    for sub in workflow.subprocesses.values():
        tasks += sub.get_tasks(state=TaskState.STARTED)
    for task in tasks:
        spec = task.task_spec
        if isinstance(spec, MultiInstanceTask):
            child = task.workflow.spec.task_specs[spec.task_spec]
            if not child.completed_event.is_connected(spec.merge_child):
                child.completed_event.connect(spec.merge_child)
