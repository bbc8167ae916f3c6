"""Our own task specs and the parser that produces them."""

from typing import ClassVar

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import CallActivityParser, SpiffTaskParser
from SpiffWorkflow.spiff.specs.defaults import CallActivity
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask

from engine.bpmn.decision_task import DecisionTask, DecisionTaskParser

#: How deep call activities may nest: a process that calls itself stops here with an incident.
MAX_CALL_DEPTH = 25


class ExternalTask(SpiffBpmnTask):
    """A service task done by an external worker (Camunda's `camunda:type="external"`): it waits,
    READY, until a worker that fetched it by topic completes it."""

    def __init__(self, wf_spec, bpmn_id, **kwargs) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.manual = True


class PassThroughTask(SpiffBpmnTask):
    """`bpmn:task` and `bpmn:manualTask`: Camunda passes through them (nobody is asked to do them)."""


class BoundedCallActivity(CallActivity):
    """A call activity that refuses to nest deeper than MAX_CALL_DEPTH (a recursion that never
    ends would otherwise hold its request, and the database, forever)."""

    def start_workflow(self, my_task) -> None:
        if my_task.workflow.depth >= MAX_CALL_DEPTH:  # embedded subprocesses count too
            my_task.error()
            raise WorkflowTaskException(
                f"call activities nest deeper than {MAX_CALL_DEPTH} levels: '{self.spec}' keeps calling "
                "itself",
                task=my_task,
            )
        super().start_workflow(my_task)


class OpsflowParser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES: ClassVar[dict] = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (SpiffTaskParser, ExternalTask),
        full_tag("task"): (SpiffTaskParser, PassThroughTask),
        full_tag("manualTask"): (SpiffTaskParser, PassThroughTask),
        full_tag("callActivity"): (CallActivityParser, BoundedCallActivity),
        full_tag("businessRuleTask"): (DecisionTaskParser, DecisionTask),
    }
