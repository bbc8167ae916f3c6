"""Deploy-time reading of BPMN: every problem with its file, line and element id, and the catalog
of facts the engine needs about each element (role, form, stage, outcome) so that the runtime never
re-reads the XML."""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from engine.bpmn.sandbox import check_expression, check_script
from engine.bpmn.specs import OpsflowParser
from engine.bpmn.xml import NS, UnsafeXml, camunda, camunda_properties, line_of, local_name, parse_xml
from engine.errors import Problem

# SpiffWorkflow names its own start and end task specs so; an element with one of these ids vanishes.
RESERVED_IDS = {"Start", "End"}
FORM_KEY_PREFIXES = ("camunda-forms:deployment:", "camunda-forms:app:", "embedded:deployment:")


@dataclass
class ParsedProcess:
    process_id: str
    name: str
    resource_name: str
    xml: str
    catalog: dict[str, dict] = field(default_factory=dict)  # element id -> facts (see _catalog_entry)


@dataclass
class ParseResult:
    processes: list[ParsedProcess]
    problems: list[Problem]


def parse_bpmn_files(
    files: Iterable[tuple[str, bytes]], *, roles: Iterable[str], form_keys: Iterable[str]
) -> ParseResult:
    """Validate each file fully and collect every problem; a file with any problem yields no process."""
    roles, form_keys = set(roles), set(form_keys)
    processes: list[ParsedProcess] = []
    problems: list[Problem] = []
    for filename, content in files:
        file_problems, file_processes = _parse_file(filename, content, roles, form_keys)
        problems += file_problems
        if not file_problems:
            processes += file_processes
    return ParseResult(processes, problems)


def load_specs(xml: str, resource_name: str, process_id: str) -> tuple[BpmnProcessSpec, dict]:
    """Specs of an already validated definition (no XSD pass: it was checked at deploy)."""
    parser = OpsflowParser()
    parser.add_bpmn_xml(parse_xml(xml.encode(), resource_name), resource_name)
    return parser.get_spec(process_id), parser.get_subprocess_specs(process_id)


def start_event(catalog: dict[str, dict], process_id: str, *, message: str | None = None) -> dict | None:
    """The process's none start event (or the start event for `message`)."""
    for entry in catalog.values():
        if (
            entry["type"] == "startEvent"
            and entry["process_id"] == process_id
            and entry.get("message") == message
        ):
            return entry
    return None


def normalize_form_key(value: str) -> str:
    for prefix in FORM_KEY_PREFIXES:
        if value.startswith(prefix):
            value = value[len(prefix) :]
    value = value.rsplit("/", 1)[-1]
    return value.removesuffix(".form")


# --- one file -------------------------------------------------------------------------------------


def _parse_file(
    filename: str, content: bytes, roles: set[str], form_keys: set[str]
) -> tuple[list[Problem], list[ParsedProcess]]:
    try:
        root = parse_xml(content, filename)
    except UnsafeXml as exc:
        return [exc.problem], []
    if etree.QName(root).namespace != NS["bpmn"] or local_name(root) != "definitions":
        return [
            Problem("not a BPMN 2.0 file: the root element must be bpmn:definitions", file=filename, line=1)
        ], []

    problems = _check_references(root, filename)
    problems += _check_expressions(root, filename)
    executable = [p for p in root.xpath("//bpmn:process", namespaces=NS) if p.get("isExecutable") == "true"]
    if not executable:
        problems.append(
            Problem('no process is marked isExecutable="true"', file=filename, line=root.sourceline)
        )
    # One catalog per file: a process's call activities run elements of the other processes in it.
    catalog: dict[str, dict] = {}
    for p in executable:
        catalog.update(_catalog(p, filename, roles, form_keys, problems))
    if problems:
        return problems, []

    parser = OpsflowParser(validator=VALIDATOR)
    try:
        parser.add_bpmn_xml(root, filename)
        for process in executable:
            parser.get_spec(process.get("id"))
            parser.get_subprocess_specs(process.get("id"))
    except ValidationException as exc:
        return [_from_spiff(exc, root, filename)], []

    xml = content.decode("utf-8")
    return [], [
        ParsedProcess(p.get("id"), p.get("name") or p.get("id"), filename, xml, catalog) for p in executable
    ]


def _from_spiff(exc: ValidationException, root: etree._Element, filename: str) -> Problem:
    element_id = getattr(exc, "id", None) or None
    line = getattr(exc, "line_number", None) or line_of(root, element_id)
    message = str(exc).split(" Source Details:")[0].strip()
    return Problem(message, file=filename, line=line or None, element_id=element_id)


def _check_references(root: etree._Element, filename: str) -> list[Problem]:
    """Dangling references, which SpiffWorkflow reports with a misleading message or not at all."""
    ids = set(root.xpath("//@id"))
    problems = []
    for reserved in RESERVED_IDS & ids:
        node = root.xpath("//*[@id=$id]", id=reserved)[0]
        problems.append(
            Problem(
                f"the id '{reserved}' is reserved by the engine; rename the element",
                file=filename,
                line=node.sourceline,
                element_id=reserved,
            )
        )
    for flow in root.xpath("//bpmn:sequenceFlow", namespaces=NS):
        for end in ("sourceRef", "targetRef"):
            ref = flow.get(end)
            if not ref or ref not in ids:
                problems.append(
                    Problem(
                        f"sequence flow {end} points to a missing element '{ref}'",
                        file=filename,
                        line=flow.sourceline,
                        element_id=flow.get("id"),
                    )
                )
    for node in root.xpath("//bpmn:*[@default]", namespaces=NS):
        if node.get("default") not in ids:
            problems.append(
                Problem(
                    f"default flow '{node.get('default')}' does not exist",
                    file=filename,
                    line=node.sourceline,
                    element_id=node.get("id"),
                )
            )
    return problems


def _check_expressions(root: etree._Element, filename: str) -> list[Problem]:
    """Conditions, timers and scripts must compile under the sandbox's policy before anything runs."""
    problems = []
    checks = [
        ("//bpmn:sequenceFlow/bpmn:conditionExpression", check_expression, "condition"),
        ("//bpmn:timerEventDefinition/*", check_expression, "timer"),
        ("//bpmn:scriptTask/bpmn:script", check_script, "script"),
    ]
    for xpath, check, kind in checks:
        for node in root.xpath(xpath, namespaces=NS):
            source = (node.text or "").strip()
            owner = node.getparent()
            if local_name(owner) == "timerEventDefinition":
                owner = owner.getparent()
            if not source:
                if kind != "condition":
                    problems.append(
                        Problem(
                            f"empty {kind}", file=filename, line=node.sourceline, element_id=owner.get("id")
                        )
                    )
                continue
            error = check(source)
            if error:
                problems.append(
                    Problem(
                        f"{kind} {source!r} does not compile: {error}",
                        file=filename,
                        line=node.sourceline,
                        element_id=owner.get("id"),
                    )
                )
    return problems


# --- the catalog ----------------------------------------------------------------------------------


def _catalog(
    process: etree._Element, filename: str, roles: set[str], form_keys: set[str], problems: list[Problem]
) -> dict[str, dict]:
    lanes = _lane_roles(process, roles)
    catalog = {}
    messages = {
        m.get("id"): m.get("name") or m.get("id") for m in process.xpath("//bpmn:message", namespaces=NS)
    }
    nodes = process.xpath(
        ".//bpmn:userTask | .//bpmn:startEvent | .//bpmn:endEvent | .//bpmn:receiveTask | .//bpmn:serviceTask"
        " | .//bpmn:intermediateCatchEvent | .//bpmn:boundaryEvent",
        namespaces=NS,
    )
    for node in nodes:
        entry = _catalog_entry(node, process, lanes)
        ref = node.get("messageRef") or next(
            iter(node.xpath("./bpmn:messageEventDefinition/@messageRef", namespaces=NS)), None
        )
        entry["message"] = messages.get(ref) if ref else None
        if local_name(node) == "userTask":
            _check_user_task(node, entry, filename, roles, form_keys, problems)
        elif local_name(node) == "serviceTask":
            entry["topic"] = camunda(node, "topic")
            if camunda(node, "type") != "external" or not entry["topic"]:
                problems.append(
                    Problem(
                        'a service task is done by an external worker: set camunda:type="external" and '
                        "camunda:topic",
                        file=filename,
                        line=node.sourceline,
                        element_id=node.get("id"),
                    )
                )
        elif entry["form_key"] and entry["form_key"] not in form_keys:
            problems.append(_missing_form(node, entry, filename))
        catalog[node.get("id")] = entry
    return catalog


def _catalog_entry(node: etree._Element, process: etree._Element, lanes: dict[str, dict]) -> dict:
    props = camunda_properties(node)
    lane = _lane_of(node, lanes)
    form_ref = camunda(node, "formRef") or camunda(node, "formKey")
    docs = node.xpath("./bpmn:documentation/text()", namespaces=NS)
    return {
        "type": local_name(node),
        "name": node.get("name") or node.get("id"),
        "process_id": process.get("id"),
        "lane": lane["name"] if lane else None,
        "lane_role": lane["role"] if lane else None,
        "candidate_groups": _split(camunda(node, "candidateGroups")),
        "candidate_users": _split(camunda(node, "candidateUsers")),
        "assignee": camunda(node, "assignee"),
        "form_key": normalize_form_key(form_ref) if form_ref else None,
        "form_binding": camunda(node, "formRefBinding") or "latest",
        "due_date": camunda(node, "dueDate"),
        "stage": props.get("stage") or _enclosing_subprocess(node),
        "outcome": props.get("outcome"),
        "timer": bool(node.xpath("./bpmn:timerEventDefinition", namespaces=NS)),
        "documentation": docs[0].strip() if docs else "",
        "properties": props,
    }


def _check_user_task(
    node: etree._Element,
    entry: dict,
    filename: str,
    roles: set[str],
    form_keys: set[str],
    problems: list[Problem],
) -> None:
    where = {"file": filename, "line": node.sourceline, "element_id": node.get("id")}
    unknown = [g for g in entry["candidate_groups"] if g not in roles]
    if unknown:
        problems.append(Problem(f"candidate group(s) {', '.join(unknown)} are not roles", **where))
    offered = entry["candidate_groups"] or entry["candidate_users"] or entry["assignee"] or entry["lane_role"]
    if not offered:
        problems.append(
            Problem(
                "nobody could be offered this user task: it lies in no lane that maps to a role "
                f"({', '.join(sorted(roles))}) and names no candidate group, candidate user or assignee",
                **where,
            )
        )
    if entry["form_key"] and entry["form_key"] not in form_keys:
        problems.append(_missing_form(node, entry, filename))


def _missing_form(node: etree._Element, entry: dict, filename: str) -> Problem:
    return Problem(
        f"form '{entry['form_key']}' is neither in this deployment nor deployed before",
        file=filename,
        line=node.sourceline,
        element_id=node.get("id"),
    )


def _lane_roles(process: etree._Element, roles: set[str]) -> dict[str, dict]:
    """flow node id -> {name, role}. A lane maps to a role by its id (`Lane_data` or `data`) or by a
    word of its name (`数据组 (data)`)."""
    by_node: dict[str, dict] = {}
    for lane in process.xpath(".//bpmn:lane", namespaces=NS):
        name = lane.get("name") or ""
        lane_id = lane.get("id") or ""
        candidates = [lane_id, lane_id.removeprefix("Lane_"), name, *re.findall(r"[A-Za-z_]+", name)]
        role = next((c.lower() for c in candidates if c and c.lower() in roles), None)
        for ref in lane.xpath("./bpmn:flowNodeRef/text()", namespaces=NS):
            # Nested lanes come later in document order and are more specific: let them win.
            by_node[ref.strip()] = {"name": name or lane_id, "role": role}
    return by_node


def _lane_of(node: etree._Element, lanes: dict[str, dict]) -> dict | None:
    current: etree._Element | None = node
    while current is not None and local_name(current) != "process":
        if current.get("id") in lanes:
            return lanes[current.get("id")]
        current = current.getparent()
    return None


def _enclosing_subprocess(node: etree._Element) -> str | None:
    parent = node.getparent()
    while parent is not None and local_name(parent) != "process":
        if local_name(parent) in ("subProcess", "transaction"):
            return parent.get("id")
        parent = parent.getparent()
    return None


def _split(value: str | None) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()] if value else []
