"""Our own task specs and the parser that produces them."""

import functools
from collections.abc import Iterable, Sequence
from copy import deepcopy
from typing import TYPE_CHECKING, Any, ClassVar

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
from SpiffWorkflow.task import Task

from engine.bpmn import camunda_io
from engine.bpmn.camunda_io import CallMapping, Value
from engine.bpmn.decision_task import DecisionTask, DecisionTaskParser

if TYPE_CHECKING:

    class _SpecMixin(SpiffBpmnTask):
        """To mypy, the mixins below extend the SpiffWorkflow spec class they are mixed into."""

else:
    _SpecMixin = object

#: How deep call activities may nest: a process that calls itself stops here with an incident.
MAX_CALL_DEPTH = 25


class ExternalTask(SpiffBpmnTask):
    """A service task done by an external worker (Camunda's `camunda:type="external"`): it waits,
    READY, until a worker that fetched it by topic completes it."""

    def __init__(self, wf_spec: Any, bpmn_id: str, **kwargs: Any) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.manual = True


class PassThroughTask(SpiffBpmnTask):
    """`bpmn:task` and `bpmn:manualTask`: Camunda passes through them (nobody is asked to do them)."""


class CamundaIo(_SpecMixin):
    """camunda:inputOutput: input parameters become task data when the task begins; when it ends,
    they are dropped and the output parameters set (Camunda's local variables, in task data)."""

    io_inputs: Sequence[tuple[str, Value]] = ()  # set on each spec by the parser
    io_outputs: Sequence[tuple[str, Value]] = ()

    def _update_hook(self, my_task: Task) -> bool:
        ready: bool = super()._update_hook(my_task)
        for name, value in self.io_inputs:
            my_task.data[name] = camunda_io.evaluate(value, _evaluator(my_task))
        return ready

    def _on_complete_hook(self, my_task: Task) -> None:
        if self.io_inputs or self.io_outputs:
            outputs = {n: camunda_io.evaluate(v, _evaluator(my_task)) for n, v in self.io_outputs}
            for name, _ in self.io_inputs:
                my_task.data.pop(name, None)
            my_task.data.update(outputs)
        super()._on_complete_hook(my_task)


def _evaluator(my_task: Task) -> camunda_io.EvaluateExpression:
    return lambda expression: my_task.workflow.script_engine.evaluate(my_task, expression)


class BoundedCallActivity(CallActivity):
    """A call activity that refuses to nest deeper than MAX_CALL_DEPTH (a recursion that never
    ends would otherwise hold its request, and the database, forever). With camunda:in/camunda:out
    only the mapped variables pass (as in Camunda); without any, all of them pass both ways."""

    call_in: Sequence[CallMapping] = ()  # set on each spec by the parser
    call_out: Sequence[CallMapping] = ()

    def copy_data(self, my_task: Task, subworkflow: Any) -> None:
        if not (self.call_in or self.call_out):
            super().copy_data(my_task, subworkflow)
            return
        start = subworkflow.get_next_task(subworkflow.task_tree, skip_subprocesses=True, spec_name="Start")
        start.set_data(**camunda_io.pass_in(self.call_in, my_task.data, _evaluator(my_task)))

    def update_data(self, my_task: Task, subworkflow: Any) -> None:
        if not (self.call_in or self.call_out):
            super().update_data(my_task, subworkflow)
            return
        result = deepcopy(subworkflow.last_task.data)
        environment = my_task.workflow.script_engine.environment
        my_task.data.update(
            camunda_io.pass_in(
                self.call_out, result, lambda expression: environment.evaluate(expression, result)
            )
        )

    def start_workflow(self, my_task: Task) -> None:
        if my_task.workflow.depth >= MAX_CALL_DEPTH:  # embedded subprocesses count too
            raise WorkflowTaskException(  # the runner marks the task failed (runner.failed)
                f"call activities nest deeper than {MAX_CALL_DEPTH} levels: '{self.spec}' keeps calling "
                "itself",
                task=my_task,
            )
        super().start_workflow(my_task)


class _CheckedInput(_SpecMixin):
    """A multi-instance whose input collection is missing stops with an incident naming it (instead
    of a TypeError that SpiffWorkflow does not attribute to the task)."""

    def create_children(self, my_task: Task) -> None:
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


def _checked(parser_class: type[Any]) -> type[Any]:
    """The parser, with our multi-instance specs and the Camunda variable mappings read."""
    if not issubclass(parser_class, TaskParser):
        return parser_class

    def create_task(self: Any) -> Any:
        task = parser_class.create_task(self)
        inputs, outputs = camunda_io.io_parameters(self.node)
        if inputs or outputs:  # only where there are any: the others keep their plain class
            # Some SpiffWorkflow parsers name their spec class in code, so it is extended here.
            task.__class__ = _with_io(task.__class__)
            task.io_inputs, task.io_outputs = inputs, outputs
        if isinstance(task, BoundedCallActivity):
            task.call_in, task.call_out = camunda_io.call_mappings(self.node)
        return task

    return type(
        parser_class.__name__,
        (parser_class,),
        {
            "PARALLEL_MI_CLASS": CheckedParallelMultiInstance,
            "SEQUENTIAL_MI_CLASS": CheckedSequentialMultiInstance,
            "create_task": create_task,
        },
    )


@functools.cache
def _with_io(spec_class: type[Any]) -> type[Any]:
    return type(spec_class.__name__, (CamundaIo, spec_class), {"__module__": spec_class.__module__})


_OVERRIDES = {
    **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
    full_tag("serviceTask"): (SpiffTaskParser, ExternalTask),
    full_tag("task"): (SpiffTaskParser, PassThroughTask),
    full_tag("manualTask"): (SpiffTaskParser, PassThroughTask),
    full_tag("callActivity"): (CallActivityParser, BoundedCallActivity),
    full_tag("businessRuleTask"): (DecisionTaskParser, DecisionTask),
}


class OpsflowParser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES: ClassVar[dict[str, tuple[type, type]]] = {
        tag: (_checked(parser), spec) for tag, (parser, spec) in _OVERRIDES.items()
    }
