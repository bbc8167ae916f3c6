"""Our own task specs and the parser that produces them."""

from collections.abc import Iterable
from typing import ClassVar

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import CallActivityParser, SpiffTaskParser
from SpiffWorkflow.spiff.specs.defaults import (
    CallActivity,
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)
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
            raise WorkflowTaskException(  # the runner marks the task failed (runner.failed)
                f"call activities nest deeper than {MAX_CALL_DEPTH} levels: '{self.spec}' keeps calling "
                "itself",
                task=my_task,
            )
        super().start_workflow(my_task)


class _CheckedInput:
    """A multi-instance whose input collection is missing stops with an incident naming it (instead
    of a TypeError that SpiffWorkflow does not attribute to the task)."""

    def create_children(self, my_task) -> None:
        if self.data_input is not None and not isinstance(self.data_input.get(my_task), Iterable):
            raise WorkflowTaskException(  # the runner marks the task failed (runner.failed)
                f"the multi-instance input collection '{self.data_input.bpmn_id}' is not in the "
                "process data (or is not a list)",
                task=my_task,
            )
        super().create_children(my_task)


class CheckedParallelMultiInstance(_CheckedInput, ParallelMultiInstanceTask):
    pass


class CheckedSequentialMultiInstance(_CheckedInput, SequentialMultiInstanceTask):
    pass


def _checked(parser_class: type) -> type:
    if not issubclass(parser_class, TaskParser):
        return parser_class
    return type(
        parser_class.__name__,
        (parser_class,),
        {
            "PARALLEL_MI_CLASS": CheckedParallelMultiInstance,
            "SEQUENTIAL_MI_CLASS": CheckedSequentialMultiInstance,
        },
    )


_OVERRIDES = {
    **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
    full_tag("serviceTask"): (SpiffTaskParser, ExternalTask),
    full_tag("task"): (SpiffTaskParser, PassThroughTask),
    full_tag("manualTask"): (SpiffTaskParser, PassThroughTask),
    full_tag("callActivity"): (CallActivityParser, BoundedCallActivity),
    full_tag("businessRuleTask"): (DecisionTaskParser, DecisionTask),
}


class OpsflowParser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES: ClassVar[dict] = {
        tag: (_checked(parser), spec) for tag, (parser, spec) in _OVERRIDES.items()
    }
