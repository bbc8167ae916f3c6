"""Deploy-time reading of BPMN: every problem with its file, line and element id, and the catalog
of facts the engine needs about each element (role, form, stage, outcome) so that the runtime never
re-reads the XML."""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from engine.bpmn import checks
from engine.bpmn.camunda_forms import form_data_key, form_data_schema, has_form_data
from engine.bpmn.cron import TimerValueError, first_due
from engine.bpmn.normalize import normalize, restore_ids
from engine.bpmn.specs import OpsflowParser
from engine.bpmn.xml import NS, UnsafeXml, camunda, camunda_properties, line_of, local_name, parse_xml
from engine.errors import Problem

FORM_KEY_PREFIXES = ("camunda-forms:deployment:", "camunda-forms:app:", "embedded:deployment:")
CALL_BINDINGS = ("latest", "deployment", "version", "versionTag")


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
    warnings: list[Problem] = field(default_factory=list)
    forms: dict[str, dict] = field(default_factory=dict)  # generated from camunda:formData, by key


@dataclass
class CalledDefinition:
    """A deployed process version that a call activity calls, with what the parser needs of it."""

    id: str
    catalog: dict[str, dict]
    documents: list[tuple[str, str]]  # (resource name, XML) of it and of every process it calls


#: (process key, binding, version or version tag) -> the deployed version a call activity calls
FindCalled = Callable[[str, str, str | None], CalledDefinition | None]


@dataclass
class _File:
    filename: str
    root: etree._Element
    executable: list[str]
    catalog: dict[str, dict]
    renamed: dict[str, str]
    problems: list[Problem]
    source: str = ""


def parse_bpmn_files(
    files: Iterable[tuple[str, bytes]],
    *,
    roles: Iterable[str],
    form_keys: Iterable[str],
    form_files: dict[str, str] | None = None,
    find_called: FindCalled | None = None,
) -> ParseResult:
    """Validate each file fully and collect every problem; a file with any problem yields no process.
    `form_files` maps a deployed form's file name (without .form) to its id; `find_called` finds
    processes deployed before that call activities call."""
    result = ParseResult([], [])
    context = _Context(set(roles), set(form_keys), form_files or {}, result)
    read = [_read_file(filename, content, context) for filename, content in files]
    by_process = {pid: f for f in read if f is not None and not f.problems for pid in _all_processes(f.root)}
    for f in read:
        if f is None:
            continue
        if not f.problems:
            f.problems += _build(f, by_process, find_called or (lambda *_: None), result)
        result.problems += f.problems
    return result


def load_specs(
    xml: str, resource_name: str, process_id: str, called: Iterable[tuple[str, str]] = ()
) -> tuple[BpmnProcessSpec, dict]:
    """Specs of an already validated definition (no XSD pass: it was checked at deploy), with the
    documents of the deployed processes its call activities call."""
    parser = OpsflowParser()
    renamed: dict[str, str] = {}
    seen = {process_id}
    for name, text in [(resource_name, xml), *called]:
        root = parse_xml(text.encode(), name)
        if name != resource_name and seen & set(_all_processes(root)) - {process_id}:
            continue  # a process already known (a called version of the caller's own file)
        seen |= set(_all_processes(root))
        renamed.update(normalize(root).renamed)
        parser.add_bpmn_xml(root, name)
    spec, subprocesses = parser.get_spec(process_id), parser.get_subprocess_specs(process_id)
    restore_ids([spec, *subprocesses.values()], renamed)
    return spec, subprocesses


def start_event(catalog: dict[str, dict], process_id: str, *, message: str | None = None) -> dict | None:
    """The process's none start event (or the start event for `message`)."""
    for entry in catalog.values():
        if (
            entry["type"] == "startEvent"
            and entry["process_id"] == process_id
            and message in (entry.get("messages") or [entry.get("message")])
            and not entry.get("in_subprocess")
        ):
            return entry
    return None


def timer_starts(catalog: dict[str, dict], process_id: str) -> list[tuple[str, dict]]:
    """(element id, {kind, expression}) of the process's timer start events."""
    return [
        (element_id, entry["timer_start"])
        for element_id, entry in catalog.items()
        if entry.get("timer_start") and entry["process_id"] == process_id
    ]


def normalize_form_key(value: str) -> str:
    for prefix in FORM_KEY_PREFIXES:
        if value.startswith(prefix):
            value = value[len(prefix) :]
    value = value.rsplit("/", 1)[-1]
    return value.removesuffix(".form")


# --- one file -------------------------------------------------------------------------------------


@dataclass
class _Context:
    roles: set[str]
    form_keys: set[str]
    form_files: dict[str, str]
    result: ParseResult


def _all_processes(root: etree._Element) -> list[str]:
    return [p.get("id") for p in root.xpath("//bpmn:process", namespaces=NS)]


def _read_file(filename: str, content: bytes, context: _Context) -> _File | None:
    """Checks, the catalog, XSD validation, then the rewriting into what SpiffWorkflow parses."""
    try:
        root = parse_xml(content, filename)
    except UnsafeXml as exc:
        context.result.problems.append(exc.problem)
        return None
    if etree.QName(root).namespace != NS["bpmn"] or local_name(root) != "definitions":
        context.result.problems.append(
            Problem("not a BPMN 2.0 file: the root element must be bpmn:definitions", file=filename, line=1)
        )
        return None
    problems = checks.check_references(root, filename)
    problems += checks.check_expressions(root, filename)
    problems += checks.check_unsupported(root, filename)
    executable = [p for p in root.xpath("//bpmn:process", namespaces=NS) if p.get("isExecutable") == "true"]
    if not executable:
        problems.append(
            Problem('no process is marked isExecutable="true"', file=filename, line=root.sourceline)
        )
    warnings = checks.listener_warnings(root, filename)
    # One catalog per file: a process's call activities run elements of the other processes in it.
    catalog: dict[str, dict] = {}
    for p in executable:
        catalog.update(_catalog(p, filename, context, problems, warnings))
    f = _File(
        filename, root, [p.get("id") for p in executable], catalog, {}, problems, content.decode("utf-8")
    )
    if problems:
        return f
    try:
        VALIDATOR.validate(root, filename)  # the designer's XML, before we add to it
    except ValidationException as exc:
        problems.append(_from_spiff(exc, root, filename))
        return f
    normalized = normalize(root)
    f.renamed = normalized.renamed
    warnings += [
        Problem(message, file=filename, line=node.sourceline, element_id=node.get("id"))
        for message, node in normalized.notes
    ]
    context.result.warnings += warnings
    return f


def _build(
    f: _File, by_process: dict[str, _File], find_called: FindCalled, result: ParseResult
) -> list[Problem]:
    """Parse the file's processes into specs, with the processes its call activities call from the
    other files of the deployment or from the repository; the catalog takes in theirs."""
    parser = OpsflowParser()
    parser.add_bpmn_xml(f.root, f.filename)
    renamed, catalog, problems = dict(f.renamed), dict(f.catalog), []
    known, pending = set(_all_processes(f.root)), list(f.catalog.items())
    while pending:
        element_id, entry = pending.pop()
        key = entry.get("called_key")
        if not key or key in known:
            continue
        known.add(key)
        other = by_process.get(key)
        if other is not None:
            parser.add_bpmn_xml(other.root, other.filename)
            renamed.update(other.renamed)
            known |= set(_all_processes(other.root))
            entry["called_in_deployment"] = True
            pending += [(i, e) for i, e in other.catalog.items() if i not in catalog]
            catalog = {**other.catalog, **catalog}
            continue
        found = (
            None
            if entry["called_binding"] == "deployment"
            else find_called(key, entry["called_binding"], entry["called_pin"])
        )
        if found is None:
            where = (
                'is not in this deployment (camunda:calledElementBinding="deployment")'
                if entry["called_binding"] == "deployment"
                else f"is neither in this deployment nor deployed before{_pinned(entry)}"
            )
            problems.append(
                Problem(
                    f"calls process '{key}', which {where}",
                    file=f.filename,
                    line=line_of(f.root, element_id),
                    element_id=element_id,
                )
            )
            continue
        entry["called_definition_id"] = found.id
        for name, text in found.documents:
            root = parse_xml(text.encode(), name)
            if set(_all_processes(root)) & known - {key}:
                continue
            renamed.update(normalize(root).renamed)
            known |= set(_all_processes(root))
            parser.add_bpmn_xml(root, name)
        catalog = {**found.catalog, **catalog}
    if problems:
        return problems
    recursion = _certain_recursion(f)
    if recursion:
        return recursion
    try:
        specs = []
        for process_id in f.executable:
            specs.append(parser.get_spec(process_id))
            specs += parser.get_subprocess_specs(process_id).values()
    except ValidationException as exc:
        return [_from_spiff(exc, f.root, f.filename)]
    restore_ids(specs, renamed)
    result.processes += [
        ParsedProcess(pid, _process_name(f.root, pid), f.filename, f.source, catalog) for pid in f.executable
    ]
    return []


def _pinned(entry: dict) -> str:
    pin = entry.get("called_pin")
    return f" ({entry['called_binding']} {pin})" if pin else ""


def _process_name(root: etree._Element, process_id: str) -> str:
    node = root.xpath("//bpmn:process[@id=$i]", namespaces=NS, i=process_id)[0]
    return node.get("name") or process_id


def _certain_recursion(f: _File) -> list[Problem]:
    """A call activity that calls its own process and is reached from the start on every path (no
    gateway, event or task that waits on the way) would recurse forever: refused."""
    problems = []
    for process in f.root.xpath("//bpmn:process", namespaces=NS):
        flows = {fl.get("sourceRef"): fl for fl in process.xpath("./bpmn:sequenceFlow", namespaces=NS)}
        outgoing_count: dict[str, int] = {}
        for fl in process.xpath("./bpmn:sequenceFlow", namespaces=NS):
            outgoing_count[fl.get("sourceRef")] = outgoing_count.get(fl.get("sourceRef"), 0) + 1
        for start in process.xpath(
            "./bpmn:startEvent[not(*[contains(local-name(), 'EventDefinition')])]", namespaces=NS
        ):
            node, seen = start, set()
            while node is not None and node.get("id") not in seen:
                seen.add(node.get("id"))
                kind = local_name(node)
                if kind == "callActivity" and node.get("calledElement") == process.get("id"):
                    problems.append(
                        Problem(
                            f"this call activity calls its own process '{process.get('id')}' on every path "
                            "from the start: it would never end",
                            file=f.filename,
                            line=node.sourceline,
                            element_id=node.get("id"),
                        )
                    )
                    break
                waits = kind in (
                    "userTask",
                    "receiveTask",
                    "serviceTask",
                    "intermediateCatchEvent",
                ) or kind.endswith("Gateway")
                if (
                    waits
                    or outgoing_count.get(node.get("id"), 0) != 1
                    or process.xpath(
                        "./bpmn:boundaryEvent[@attachedToRef=$i]", namespaces=NS, i=node.get("id")
                    )
                ):
                    break
                target = flows[node.get("id")].get("targetRef")
                found = process.xpath("./*[@id=$i]", i=target)
                node = found[0] if found else None
    return problems


def _from_spiff(exc: ValidationException, root: etree._Element, filename: str) -> Problem:
    element_id = getattr(exc, "id", None) or None
    line = getattr(exc, "line_number", None) or line_of(root, element_id)
    message = str(exc).split(" Source Details:")[0].strip()
    return Problem(message, file=filename, line=line or None, element_id=element_id)


# --- the catalog ----------------------------------------------------------------------------------


def _catalog(
    process: etree._Element,
    filename: str,
    context: _Context,
    problems: list[Problem],
    warnings: list[Problem],
) -> dict[str, dict]:
    lanes = _lane_roles(process, context.roles)
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
            context.result.forms[key] = schema
            entry["form_key"] = key
        elif entry["form_key"] and entry["form_key"] not in context.form_keys:
            problems.append(_missing_form(node, entry, filename))
        if kind == "userTask":
            _check_user_task(node, entry, filename, context.roles, problems, warnings)
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
    node: etree._Element, process: etree._Element, lanes: dict[str, dict], context: _Context
) -> dict:
    props = camunda_properties(node)
    lane = _lane_of(node, lanes)
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
        "lane_role": lane["role"] if lane else None,
        "candidate_groups": _split(camunda(node, "candidateGroups")),
        "candidate_users": _split(camunda(node, "candidateUsers")),
        "assignee": camunda(node, "assignee"),
        "form_key": form_key,
        "form_binding": camunda(node, "formRefBinding") or "latest",
        "due_date": camunda(node, "dueDate"),
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
    node: etree._Element,
    entry: dict,
    filename: str,
    roles: set[str],
    problems: list[Problem],
    warnings: list[Problem],
) -> None:
    where = {"file": filename, "line": node.sourceline, "element_id": node.get("id")}
    unknown = [g for g in entry["candidate_groups"] if g not in roles]
    if unknown:
        problems.append(Problem(f"candidate group(s) {', '.join(unknown)} are not roles", **where))
    offered = entry["candidate_groups"] or entry["candidate_users"] or entry["assignee"] or entry["lane_role"]
    if not offered:
        warnings.append(
            Problem(
                "nobody is offered this user task (no lane that maps to a role, no candidate group, "
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
