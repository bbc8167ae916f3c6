"""Business rule tasks that evaluate a deployed DMN decision (`camunda:decisionRef`).

The task spec holds only the reference; which version runs, and where its history goes, is the
business of the decider the engine attaches to the workflow for the transaction at hand."""

from typing import Any, NoReturn, Protocol

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask
from SpiffWorkflow.task import Task

from engine.bpmn.xml import camunda
from engine.dmn.model import DecisionRef
from engine.dmn.results import MAPPINGS
from engine.types import JsonObject

BINDINGS = ("latest", "deployment", "version")


class Decider(Protocol):
    def decide(self, ref: DecisionRef, data: JsonObject, *, task_id: str, element_id: str) -> object:
        """The decision's result, mapped as `ref.mapping` says; raises when there is none."""


def attach_decider(workflow: BpmnWorkflow, decider: Decider) -> BpmnWorkflow:
    workflow.opsflow_decider = decider  # not serialized: attached for each transaction
    return workflow


class DecisionTask(SpiffBpmnTask):
    def __init__(self, wf_spec: Any, bpmn_id: str, decision: DecisionRef, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.decision = decision

    def _run_hook(self, my_task: Task) -> bool:
        decider = getattr(my_task.workflow.top_workflow, "opsflow_decider", None)
        if decider is None:
            raise WorkflowTaskException("no decisions are available to this workflow", task=my_task)
        try:
            value = decider.decide(
                self.decision, my_task.data, task_id=str(my_task.id), element_id=self.bpmn_id
            )
        except Exception as exc:
            raise WorkflowTaskException(str(exc), task=my_task, exception=exc) from exc
        if self.decision.result_variable:
            my_task.data[self.decision.result_variable] = value
        ran: bool = super()._run_hook(my_task)
        return ran


class DecisionTaskParser(SpiffTaskParser):
    """Reads Camunda's attributes of a business rule task; anything it cannot honour is a located
    deploy error rather than a surprise at run time."""

    @staticmethod
    def get_decision_ref(node: Any) -> str | None:
        """SpiffWorkflow's parser collects the decisions a process depends on through this."""
        return camunda(node, "decisionRef")

    def create_task(self) -> DecisionTask:
        node = self.node
        key = camunda(node, "decisionRef")
        binding = camunda(node, "decisionRefBinding") or "latest"
        mapping = camunda(node, "mapDecisionResult") or "resultList"
        version = camunda(node, "decisionRefVersion")
        if not key:
            self._refuse("a business rule task needs camunda:decisionRef (the id of a deployed decision)")
        if binding not in BINDINGS:
            self._refuse(
                f"camunda:decisionRefBinding {binding!r} is not supported: use {', '.join(BINDINGS)}"
            )
        if binding == "version" and not (version or "").isdigit():
            self._refuse('camunda:decisionRefBinding="version" needs camunda:decisionRefVersion (a number)')
        if mapping not in MAPPINGS:
            self._refuse(f"camunda:mapDecisionResult {mapping!r} is unknown: use {', '.join(MAPPINGS)}")
        ref = DecisionRef(
            key,
            binding,
            int(version) if binding == "version" and version else None,
            mapping,
            camunda(node, "resultVariable"),
        )
        extensions = self.parse_extensions()
        return DecisionTask(
            self.spec,
            self.bpmn_id,
            ref,
            prescript=extensions.get("preScript"),
            postscript=extensions.get("postScript"),
            **self.bpmn_attributes,
        )

    def _refuse(self, message: str) -> NoReturn:
        raise ValidationException(message, node=self.node, file_name=self.filename)
