"""Deploy-time reading of BPMN: every problem with its file, line and element id, and the catalog
of facts the engine needs about each element (role, form, stage, outcome) so that the runtime never
re-reads the XML."""

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.spiff.parser.process import VALIDATOR

from engine.bpmn import checks
from engine.bpmn.catalog import (
    CallFacts,
    Catalog,
    CatalogContext,
    ElementInfo,
    TimerStart,
    build_catalog,
    shared_variables,
)
from engine.bpmn.normalize import normalize, restore_ids
from engine.bpmn.specs import OpsflowParser
from engine.bpmn.xml import NS, UnsafeXml, as_utf8_text, line_of, local_name, parse_xml
from engine.errors import Problem
from engine.types import JsonObject


@dataclass
class ParsedProcess:
    process_id: str
    name: str
    resource_name: str
    xml: str
    catalog: Catalog = field(default_factory=Catalog)
    shared_variables: tuple[str, ...] = ()  # declared on the process (catalog.shared_variables)


@dataclass
class ParseResult:
    processes: list[ParsedProcess]
    problems: list[Problem]
    warnings: list[Problem] = field(default_factory=list)
    forms: dict[str, JsonObject] = field(default_factory=dict)  # generated from camunda:formData, by key


@dataclass
class CalledDefinition:
    """A deployed process version that a call activity calls, with what the parser needs of it."""

    id: str
    catalog: Catalog
    documents: list[tuple[str, str]]  # (resource name, XML) of it and of every process it calls


#: (process key, binding, version or version tag) -> the deployed version a call activity calls
FindCalled = Callable[[str, str, str | None], CalledDefinition | None]


@dataclass
class _File:
    filename: str
    root: etree._Element
    executable: list[str]
    catalog: Catalog
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
    context = CatalogContext(set(roles), set(form_keys), form_files or {}, result.forms)
    read = [_read_file(filename, content, context) for filename, content in files]
    by_process = {pid: f for f in read if f is not None and not f.problems for pid in _all_processes(f.root)}
    for f in read:
        if f is None:
            continue
        if not f.problems:
            f.problems += _build(f, by_process, find_called or (lambda *_: None), result)
        result.problems += f.problems
    result.problems[:0] = context.problems
    result.warnings += context.warnings
    return result


def load_specs(
    xml: str, resource_name: str, process_id: str, called: Iterable[tuple[str, str]] = ()
) -> tuple[BpmnProcessSpec, dict[str, BpmnProcessSpec]]:
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


def start_event(catalog: Catalog, process_id: str, *, message: str | None = None) -> ElementInfo | None:
    """The process's none start event (or the start event for `message`)."""
    for entry in catalog.values():
        if (
            entry.type == "startEvent"
            and entry.process_id == process_id
            and entry.catches(message)
            and not entry.in_subprocess
        ):
            return entry
    return None


def timer_starts(catalog: Catalog, process_id: str) -> list[tuple[str, TimerStart]]:
    """(element id, timer) of the process's timer start events."""
    return [
        (element_id, entry.timer_start)
        for element_id, entry in catalog.items()
        if entry.timer_start and entry.process_id == process_id
    ]


# --- one file -------------------------------------------------------------------------------------


def _all_processes(root: etree._Element) -> list[str]:
    return [p.get("id") for p in root.xpath("//bpmn:process", namespaces=NS)]


def _read_file(filename: str, content: bytes, context: CatalogContext) -> _File | None:
    """Checks, the catalog, XSD validation, then the rewriting into what SpiffWorkflow parses."""
    try:
        root = parse_xml(content, filename)
    except UnsafeXml as exc:
        context.problems.append(exc.problem)
        return None
    if etree.QName(root).namespace != NS["bpmn"] or local_name(root) != "definitions":
        context.problems.append(
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
    catalog = Catalog()
    for p in executable:
        catalog.update(build_catalog(p, filename, context, problems, warnings))
    try:
        text = as_utf8_text(content, root, filename)
    except UnsafeXml as exc:
        context.problems.append(exc.problem)
        return None
    f = _File(filename, root, [p.get("id") for p in executable], catalog, {}, problems, text)
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
    context.warnings += warnings
    return f


def _build(
    f: _File, by_process: dict[str, _File], find_called: FindCalled, result: ParseResult
) -> list[Problem]:
    """Parse the file's processes into specs, with the processes its call activities call from the
    other files of the deployment or from the repository; the catalog takes in theirs."""
    parser = OpsflowParser()
    try:
        parser.add_bpmn_xml(f.root, f.filename)
    except ValidationException as exc:  # data stores without implementation, say
        return [_from_spiff(exc, f.root, f.filename)]
    renamed, catalog = dict(f.renamed), Catalog(f.catalog)
    problems: list[Problem] = []
    known, pending = set(_all_processes(f.root)), list(f.catalog.items())
    while pending:  # the called processes, and the ones they call
        element_id, entry = pending.pop()
        call = entry.call
        key = call.key if call else None
        if call is None or not key or key in known:
            continue
        known.add(key)
        other = by_process.get(key)
        if other is not None:
            _add(parser, other.root, other.filename)
            renamed.update(other.renamed)
            known |= set(_all_processes(other.root))
            catalog[element_id] = replace(entry, call=replace(call, in_deployment=True))
            pending += [(i, e) for i, e in other.catalog.items() if i not in catalog]
            catalog = Catalog({**other.catalog, **catalog})
            continue
        found = None if call.binding == "deployment" else find_called(key, call.binding, call.pin)
        if found is None:
            where = (
                'is not in this deployment (camunda:calledElementBinding="deployment")'
                if call.binding == "deployment"
                else f"is neither in this deployment nor deployed before{_pinned(call)}"
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
        catalog[element_id] = replace(entry, call=replace(call, definition_id=found.id))
        for name, text in found.documents:
            root = parse_xml(text.encode(), name)
            if set(_all_processes(root)) & known - {key}:
                continue
            renamed.update(normalize(root).renamed)
            known |= set(_all_processes(root))
            _add(parser, root, name)
        catalog = Catalog({**found.catalog, **catalog})
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
        ParsedProcess(
            pid,
            _process_name(f.root, pid),
            f.filename,
            f.source,
            catalog,
            shared_variables(_process(f.root, pid)),
        )
        for pid in f.executable
    ]
    return []


def _add(parser: OpsflowParser, root: etree._Element, name: str) -> None:
    """A called process's document; its own problems were reported when it was deployed (or by its
    file in this deployment), so here they only keep the caller from parsing."""
    with contextlib.suppress(ValidationException):  # get_spec then reports what is missing
        parser.add_bpmn_xml(root, name)


def _pinned(call: CallFacts) -> str:
    return f" ({call.binding} {call.pin})" if call.pin else ""


def _process(root: etree._Element, process_id: str) -> etree._Element:
    found: list[etree._Element] = root.xpath("//bpmn:process[@id=$i]", namespaces=NS, i=process_id)
    return found[0]


def _process_name(root: etree._Element, process_id: str) -> str:
    return _process(root, process_id).get("name") or process_id


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
