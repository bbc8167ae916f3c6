"""The catalog: the facts the engine needs about each element of a process (role, form, stage,
outcome, timers, calls), read once at deploy so that the runtime never re-reads the XML; and the
problems and warnings found on the way."""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from lxml import etree
from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

from engine.bpmn.assignment import (
    Lane,
    StartFacts,
    WrittenAssignment,
    expression_problems,
    lane_groups,
    lane_of,
    start_facts,
    user_task_facts,
)
from engine.bpmn.camunda_forms import form_data_key, form_data_schema, has_form_data
from engine.bpmn.camunda_io import io_parameters
from engine.bpmn.cron import TimerValueError, first_due
from engine.bpmn.xml import NS, camunda, camunda_properties, local_name
from engine.errors import Problem, Where
from engine.types import JsonObject

FORM_KEY_PREFIXES = ("camunda-forms:deployment:", "camunda-forms:app:", "embedded:deployment:")
CALL_BINDINGS = ("latest", "deployment", "version", "versionTag")


@dataclass(frozen=True)
class TimerStart:
    """A timer start event's timer, known at deploy: the job executor starts the process."""

    kind: str | None  # date | duration | cycle
    expression: str


@dataclass(frozen=True)
class CallFacts:
    """What a call activity calls: a process key, bound to its latest version, the version of the
    caller's deployment, a version number or a version tag (`pin`)."""

    key: str
    binding: str
    pin: str | None = None
    #: the called process is in the caller's deployment (its version id is set once the rows exist)
    in_deployment: bool = False
    #: the deployed version called, when deploy could tell (deployed before, or in the same deployment)
    definition_id: str | None = None


@dataclass(frozen=True)
class ElementInfo:
    """The catalog's facts about one element. Stored as JSON (ProcessDefinitionRow.catalog) with the
    keys of opsflow's first catalogs: to_json and from_json are the only places that name them."""

    type: str  # the BPMN element: userTask, startEvent, serviceTask, callActivity, ...
    name: str
    process_id: str
    in_subprocess: bool = False
    lane: str | None = None
    line: int | None = None
    assignment: WrittenAssignment = field(default_factory=WrittenAssignment)
    form_key: str | None = None
    form_binding: str = "latest"
    stage: str | None = None
    outcome: str | None = None
    timer: bool = False  # it has a timer event definition
    documentation: str = ""
    properties: Mapping[str, str] = field(default_factory=dict)  # Camunda's extension properties
    message: str | None = None
    #: a start or catch event with several message definitions: it catches any of them
    messages: tuple[str | None, ...] | None = None
    start: StartFacts | None = None  # start events
    topic: str | None = None  # service tasks: the topic of their external task
    call: CallFacts | None = None  # call activities
    timer_start: TimerStart | None = None  # timer start events of a process (not of a subprocess)
    #: user tasks: the names of their camunda:inputOutput parameters (a form key that is an input stays
    #: the task's own local variable; the outputs are what the task writes to the process)
    io_inputs: tuple[str, ...] = ()
    io_outputs: tuple[str, ...] = ()

    def catches(self, message: str | None) -> bool:
        """A start event of the message (None: a none start event)."""
        return message in (self.messages or (self.message,))

    def to_json(self) -> JsonObject:
        a = self.assignment
        data: JsonObject = {
            "type": self.type,
            "name": self.name,
            "process_id": self.process_id,
            "in_subprocess": self.in_subprocess,
            "lane": self.lane,
            "line": self.line,
            "lane_group": a.lane_group,
            "candidate_groups": list(a.candidate_groups),
            "candidate_users": list(a.candidate_users),
            "assignee": a.assignee,
            "due_date": a.due_date,
            "form_key": self.form_key,
            "form_binding": self.form_binding,
            "stage": self.stage,
            "outcome": self.outcome,
            "timer": self.timer,
            "documentation": self.documentation,
            "properties": dict(self.properties),
            "message": self.message,
        }
        if self.messages is not None:
            data["messages"] = list(self.messages)
        if self.start is not None:
            data["initiator"] = self.start.initiator
            data["starter_groups"] = list(self.start.starter_groups)
            data["starter_users"] = list(self.start.starter_users)
        if self.type == "serviceTask":
            data["topic"] = self.topic
        if self.call is not None:
            data.update(called_key=self.call.key, called_binding=self.call.binding, called_pin=self.call.pin)
        if self.timer_start is not None:
            data["timer_start"] = {"kind": self.timer_start.kind, "expression": self.timer_start.expression}
        if self.call is not None and self.call.in_deployment:
            data["called_in_deployment"] = True
        if self.call is not None and self.call.definition_id is not None:
            data["called_definition_id"] = self.call.definition_id
        if self.io_inputs or self.io_outputs:
            data["io"] = {"inputs": list(self.io_inputs), "outputs": list(self.io_outputs)}
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "ElementInfo":
        """An entry as stored: keys a catalog of an older version lacks take their defaults."""
        kind = data["type"]
        messages, timer, io = data.get("messages"), data.get("timer_start"), data.get("io") or {}
        return cls(
            type=kind,
            name=data.get("name") or "",
            process_id=data.get("process_id") or "",
            in_subprocess=bool(data.get("in_subprocess")),
            lane=data.get("lane"),
            line=data.get("line"),
            assignment=WrittenAssignment(
                lane_group=data.get("lane_group", data.get("lane_role")),  # lane_role: catalogs of 0.1
                candidate_groups=tuple(data.get("candidate_groups") or ()),
                candidate_users=tuple(data.get("candidate_users") or ()),
                assignee=data.get("assignee"),
                due_date=data.get("due_date"),
            ),
            form_key=data.get("form_key"),
            form_binding=data.get("form_binding", "latest"),
            stage=data.get("stage"),
            outcome=data.get("outcome"),
            timer=bool(data.get("timer")),
            documentation=data.get("documentation") or "",
            properties=dict(data.get("properties") or {}),
            message=data.get("message"),
            messages=tuple(messages) if messages is not None else None,
            start=StartFacts(
                data.get("initiator"),
                tuple(data.get("starter_groups") or ()),
                tuple(data.get("starter_users") or ()),
            )
            if kind == "startEvent"
            else None,
            topic=data.get("topic"),
            call=CallFacts(
                data.get("called_key") or "",
                data.get("called_binding") or "latest",
                data.get("called_pin"),
                bool(data.get("called_in_deployment")),
                data.get("called_definition_id"),
            )
            if kind == "callActivity"
            else None,
            timer_start=TimerStart(timer.get("kind"), timer["expression"]) if timer else None,
            io_inputs=tuple(io.get("inputs") or ()),
            io_outputs=tuple(io.get("outputs") or ()),
        )


#: What the catalog says of an element it does not list (a gateway, a script task): nothing.
UNLISTED = ElementInfo(type="", name="", process_id="")


class Catalog(dict[str, ElementInfo]):
    """Element id -> facts, for the elements of a process and of the processes its call activities call."""

    def of(self, element_id: str) -> ElementInfo:
        return self.get(element_id) or UNLISTED

    def to_json(self) -> dict[str, JsonObject]:
        return {element_id: entry.to_json() for element_id, entry in self.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Mapping[str, Any]]) -> "Catalog":
        return cls({element_id: ElementInfo.from_json(entry) for element_id, entry in data.items()})

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """As a field of a row class (ProcessDefinitionRow): a catalog, or its JSON."""
        return core_schema.no_info_plain_validator_function(
            lambda value: value if isinstance(value, Catalog) else cls.from_json(value),
            serialization=core_schema.plain_serializer_function_ser_schema(lambda value: value.to_json()),
        )


@dataclass
class CatalogContext:
    roles: set[str]
    form_keys: set[str]
    form_files: dict[str, str]  # a form's file name (without .form) -> its id
    forms: dict[str, JsonObject]  # out: forms generated from camunda:formData, by key
    problems: list[Problem] = field(default_factory=list)  # out: of files that could not be read
    warnings: list[Problem] = field(default_factory=list)  # out


#: The process's extension property naming the variables its steps share (comma-separated); any other
#: variable a form binds belongs to one step (engine.step_data checks it at deploy).
SHARED_VARIABLES_PROPERTY = "sharedVariables"


def shared_variables(process: etree._Element) -> tuple[str, ...]:
    """The variables a process declares shared: `<camunda:property name="sharedVariables" value="goal, team">`
    on the process (Camunda Modeler: the process's Extension properties; several entries add up)."""
    values = process.xpath(
        "./bpmn:extensionElements/camunda:properties/camunda:property[@name=$name]/@value",
        namespaces=NS,
        name=SHARED_VARIABLES_PROPERTY,
    )
    names = (name.strip() for value in values for name in re.split(r"[,\s]+", value))
    return tuple(dict.fromkeys(name for name in names if name))


def normalize_form_key(value: str) -> str:
    for prefix in FORM_KEY_PREFIXES:
        if value.startswith(prefix):
            value = value[len(prefix) :]
    value = value.rsplit("/", 1)[-1]
    return value.removesuffix(".form")


def build_catalog(
    process: etree._Element,
    filename: str,
    context: CatalogContext,
    problems: list[Problem],
    warnings: list[Problem],
) -> Catalog:
    lanes = lane_groups(process, context.roles)
    catalog = Catalog()
    messages: dict[str, str] = {
        m.get("id"): m.get("name") or m.get("id") for m in process.xpath("//bpmn:message", namespaces=NS)
    }
    nodes = process.xpath(
        ".//bpmn:userTask | .//bpmn:startEvent | .//bpmn:endEvent | .//bpmn:receiveTask | .//bpmn:serviceTask"
        " | .//bpmn:intermediateCatchEvent | .//bpmn:boundaryEvent | .//bpmn:callActivity",
        namespaces=NS,
    )
    for node in nodes:
        where: Where = {"file": filename, "line": node.sourceline, "element_id": node.get("id")}
        entry = _catalog_entry(node, process, lanes, context)
        refs: list[str] = [node.get("messageRef")] if node.get("messageRef") else []
        refs += node.xpath("./bpmn:messageEventDefinition/@messageRef", namespaces=NS)
        entry = replace(entry, message=messages.get(refs[0]) if refs else None)
        if len(refs) > 1:  # a start or catch event with several message definitions: any of them
            entry = replace(entry, messages=tuple(messages.get(r) for r in refs))
        kind = entry.type
        if has_form_data(node) and kind in ("userTask", "startEvent"):
            key = form_data_key(process.get("id"), node.get("id"))
            schema, form_problems = form_data_schema(node, key)
            problems += [Problem(m, **where) for m in form_problems]
            context.forms[key] = schema
            entry = replace(entry, form_key=key)
        elif entry.form_key and entry.form_key not in context.form_keys:
            problems.append(_missing_form(entry.form_key, where))
        if kind == "startEvent":
            entry = replace(entry, start=start_facts(node, process))
        if kind == "userTask":
            _check_user_task(entry, where, problems, warnings)
            inputs, outputs = io_parameters(node)
            if inputs or outputs:  # a form's key that is an input parameter stays the task's own
                ins, outs = tuple(n for n, _ in inputs), tuple(n for n, _ in outputs)
                entry = replace(entry, io_inputs=ins, io_outputs=outs)
        elif kind == "serviceTask":
            entry = replace(entry, topic=camunda(node, "topic"))
            if camunda(node, "type") != "external" or not entry.topic:
                problems.append(
                    Problem(
                        'a service task is done by an external worker: set camunda:type="external" and '
                        "camunda:topic",
                        **where,
                    )
                )
        elif kind == "callActivity":
            entry = replace(entry, call=_call_facts(node, problems, where))
        elif kind == "startEvent" and entry.timer and local_name(node.getparent()) == "process":
            entry = replace(entry, timer_start=_timer_start(node, problems, where))
        catalog[node.get("id")] = entry
    return catalog


def _catalog_entry(
    node: etree._Element, process: etree._Element, lanes: dict[str, Lane], context: CatalogContext
) -> ElementInfo:
    props = camunda_properties(node)
    lane = lane_of(node, lanes)
    form_ref = camunda(node, "formRef") or camunda(node, "formKey")
    form_key = normalize_form_key(form_ref) if form_ref else None
    if form_key and form_key not in context.form_keys:
        form_key = context.form_files.get(form_key, form_key)  # `camunda-forms:deployment:x.form`
    docs = node.xpath("./bpmn:documentation/text()", namespaces=NS)
    return ElementInfo(
        type=local_name(node),
        name=node.get("name") or node.get("id"),
        process_id=process.get("id"),
        in_subprocess=_enclosing_subprocess(node) is not None,
        lane=lane.name if lane else None,
        line=node.sourceline,
        assignment=user_task_facts(node, lane),  # resolved when a task is created
        form_key=form_key,
        form_binding=camunda(node, "formRefBinding") or "latest",
        stage=props.get("stage") or _enclosing_subprocess(node),
        outcome=props.get("outcome"),
        timer=bool(node.xpath("./bpmn:timerEventDefinition", namespaces=NS)),
        documentation=docs[0].strip() if docs else "",
        properties=props,
    )


def _call_facts(node: etree._Element, problems: list[Problem], where: Where) -> CallFacts:
    binding = camunda(node, "calledElementBinding") or "latest"
    if binding not in CALL_BINDINGS:
        problems.append(
            Problem(f"camunda:calledElementBinding is one of {', '.join(CALL_BINDINGS)}", **where)
        )
    pin = camunda(node, "calledElementVersion") if binding == "version" else None
    pin = camunda(node, "calledElementVersionTag") if binding == "versionTag" else pin
    if binding in ("version", "versionTag") and not pin:
        attribute = "calledElementVersion" if binding == "version" else "calledElementVersionTag"
        problems.append(
            Problem(f'camunda:calledElementBinding="{binding}" needs camunda:{attribute}', **where)
        )
    return CallFacts((node.get("calledElement") or "").strip(), binding, pin)


def _timer_start(node: etree._Element, problems: list[Problem], where: Where) -> TimerStart | None:
    """A timer start event is started by the job executor: its timer must be known at deploy."""
    found = node.xpath("./bpmn:timerEventDefinition/*", namespaces=NS)
    if not found:
        problems.append(Problem("a timer start event needs a timeDate, timeDuration or timeCycle", **where))
        return None
    kind = {"timeDate": "date", "timeDuration": "duration", "timeCycle": "cycle"}.get(local_name(found[0]))
    text = (found[0].text or "").strip()
    try:
        first_due(kind or "cycle", text, datetime.now(UTC))
    except TimerValueError as exc:
        problems.append(
            Problem(
                f"{exc} (a timer start event's timer is a literal date, duration, cycle or cron)", **where
            )
        )
        return None
    return TimerStart(kind, text)


def _check_user_task(
    entry: ElementInfo, where: Where, problems: list[Problem], warnings: list[Problem]
) -> None:
    """Groups and users a task names are data, filled after deploying: the repository warns about
    those that do not exist or have no members (engine.bpmn.assignment.offer_warnings)."""
    problems += expression_problems(entry.assignment, where)
    if not entry.assignment.names_anybody:
        warnings.append(
            Problem(
                "nobody is offered this user task (no lane that maps to a group, no candidate group, "
                "candidate user or assignee): only admins see it",
                **where,
            )
        )


def _missing_form(form_key: str, where: Where) -> Problem:
    return Problem(f"form '{form_key}' is neither in this deployment nor deployed before", **where)


def _enclosing_subprocess(node: etree._Element) -> str | None:
    parent = node.getparent()
    while parent is not None and local_name(parent) != "process":
        if local_name(parent) in ("subProcess", "transaction"):
            subprocess_id: str | None = parent.get("id")
            return subprocess_id
        parent = parent.getparent()
    return None
