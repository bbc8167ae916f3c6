"""The catalog: the facts the engine needs about each element of a process (role, form, stage,
outcome, timers, calls), read once at deploy so that the runtime never re-reads the XML; and the
problems and warnings found on the way."""

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

from engine.bpmn.assignment import expression_problems, lane_groups, lane_of, start_facts, user_task_facts
from engine.bpmn.camunda_forms import form_data_key, form_data_schema, has_form_data
from engine.bpmn.camunda_io import io_parameters
from engine.bpmn.cron import TimerValueError, first_due
from engine.bpmn.xml import NS, camunda, camunda_properties, local_name
from engine.errors import Problem

FORM_KEY_PREFIXES = ("camunda-forms:deployment:", "camunda-forms:app:", "embedded:deployment:")
CALL_BINDINGS = ("latest", "deployment", "version", "versionTag")


@dataclass
class CatalogContext:
    roles: set[str]
    form_keys: set[str]
    form_files: dict[str, str]  # a form's file name (without .form) -> its id
    forms: dict[str, dict]  # out: forms generated from camunda:formData, by key
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
) -> dict[str, dict]:
    lanes = lane_groups(process, context.roles)
    catalog = {}
    messages = {
        m.get("id"): m.get("name") or m.get("id") for m in process.xpath("//bpmn:message", namespaces=NS)
    }
    nodes = process.xpath(
        ".//bpmn:userTask | .//bpmn:startEvent | .//bpmn:endEvent | .//bpmn:receiveTask | .//bpmn:serviceTask"
        " | .//bpmn:intermediateCatchEvent | .//bpmn:boundaryEvent | .//bpmn:callActivity",
        namespaces=NS,
    )
    for node in nodes:
        where = {"file": filename, "line": node.sourceline, "element_id": node.get("id")}
        entry = _catalog_entry(node, process, lanes, context)
        refs = [node.get("messageRef")] if node.get("messageRef") else []
        refs += node.xpath("./bpmn:messageEventDefinition/@messageRef", namespaces=NS)
        entry["message"] = messages.get(refs[0]) if refs else None
        if len(refs) > 1:  # a start or catch event with several message definitions: any of them
            entry["messages"] = [messages.get(r) for r in refs]
        kind = local_name(node)
        if has_form_data(node) and kind in ("userTask", "startEvent"):
            key = form_data_key(process.get("id"), node.get("id"))
            schema, form_problems = form_data_schema(node, key)
            problems += [Problem(m, **where) for m in form_problems]
            context.forms[key] = schema
            entry["form_key"] = key
        elif entry["form_key"] and entry["form_key"] not in context.form_keys:
            problems.append(_missing_form(node, entry, filename))
        if kind == "startEvent":
            entry.update(start_facts(node, process))
        if kind == "userTask":
            _check_user_task(node, entry, filename, problems, warnings)
            inputs, outputs = io_parameters(node)
            if inputs or outputs:  # a form's key that is an input parameter stays the task's own
                entry["io"] = {"inputs": [n for n, _ in inputs], "outputs": [n for n, _ in outputs]}
        elif kind == "serviceTask":
            entry["topic"] = camunda(node, "topic")
            if camunda(node, "type") != "external" or not entry["topic"]:
                problems.append(
                    Problem(
                        'a service task is done by an external worker: set camunda:type="external" and '
                        "camunda:topic",
                        **where,
                    )
                )
        elif kind == "callActivity":
            _call_entry(node, entry, problems, where)
        elif kind == "startEvent" and entry["timer"] and local_name(node.getparent()) == "process":
            entry["timer_start"] = _timer_start(node, problems, where)
        catalog[node.get("id")] = entry
    return catalog


def _catalog_entry(
    node: etree._Element, process: etree._Element, lanes: dict[str, dict], context: CatalogContext
) -> dict:
    props = camunda_properties(node)
    lane = lane_of(node, lanes)
    form_ref = camunda(node, "formRef") or camunda(node, "formKey")
    form_key = normalize_form_key(form_ref) if form_ref else None
    if form_key and form_key not in context.form_keys:
        form_key = context.form_files.get(form_key, form_key)  # `camunda-forms:deployment:x.form`
    docs = node.xpath("./bpmn:documentation/text()", namespaces=NS)
    return {
        "type": local_name(node),
        "name": node.get("name") or node.get("id"),
        "process_id": process.get("id"),
        "in_subprocess": _enclosing_subprocess(node) is not None,
        "lane": lane["name"] if lane else None,
        "line": node.sourceline,
        **user_task_facts(node, lane),  # assignee, candidates, due date: resolved when a task is created
        "form_key": form_key,
        "form_binding": camunda(node, "formRefBinding") or "latest",
        "stage": props.get("stage") or _enclosing_subprocess(node),
        "outcome": props.get("outcome"),
        "timer": bool(node.xpath("./bpmn:timerEventDefinition", namespaces=NS)),
        "documentation": docs[0].strip() if docs else "",
        "properties": props,
    }


def _call_entry(node: etree._Element, entry: dict, problems: list[Problem], where: dict) -> None:
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
    entry.update(called_key=(node.get("calledElement") or "").strip(), called_binding=binding, called_pin=pin)


def _timer_start(node: etree._Element, problems: list[Problem], where: dict) -> dict | None:
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
    return {"kind": kind, "expression": text}


def _check_user_task(
    node: etree._Element, entry: dict, filename: str, problems: list[Problem], warnings: list[Problem]
) -> None:
    """Groups and users a task names are data, filled after deploying: the repository warns about
    those that do not exist or have no members (engine.bpmn.assignment.offer_warnings)."""
    where = {"file": filename, "line": node.sourceline, "element_id": node.get("id")}
    problems += expression_problems(entry, where)
    named = ("candidate_groups", "candidate_users", "assignee", "lane_group")
    if not any(entry[key] for key in named):
        warnings.append(
            Problem(
                "nobody is offered this user task (no lane that maps to a group, no candidate group, "
                "candidate user or assignee): only admins see it",
                **where,
            )
        )


def _missing_form(node: etree._Element, entry: dict, filename: str) -> Problem:
    return Problem(
        f"form '{entry['form_key']}' is neither in this deployment nor deployed before",
        file=filename,
        line=node.sourceline,
        element_id=node.get("id"),
    )


def _enclosing_subprocess(node: etree._Element) -> str | None:
    parent = node.getparent()
    while parent is not None and local_name(parent) != "process":
        if local_name(parent) in ("subProcess", "transaction"):
            return parent.get("id")
        parent = parent.getparent()
    return None
