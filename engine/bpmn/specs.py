"""Our own task spec and the parser that produces it."""

from typing import ClassVar

from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.parser.task_spec import SpiffTaskParser
from SpiffWorkflow.spiff.specs.spiff_task import SpiffBpmnTask


class ExternalTask(SpiffBpmnTask):
    """A service task done by an external worker (Camunda's `camunda:type="external"`): it waits,
    READY, until a worker that fetched it by topic completes it."""

    def __init__(self, wf_spec, bpmn_id, **kwargs) -> None:
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.manual = True


class OpsflowParser(SpiffBpmnParser):
    OVERRIDE_PARSER_CLASSES: ClassVar[dict] = {
        **SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (SpiffTaskParser, ExternalTask),
    }
