"""Deploy-time reading of DMN (1.1 to 1.3, as Camunda Modeler and dmn-js write it): every problem with
its file, line and element id, and the decision tables compiled for the evaluator."""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from lxml import etree

from engine.bpmn.xml import UnsafeXml, parse_xml
from engine.dmn.feel import Compiled, compile_expression, compile_unary_tests
from engine.dmn.model import Aggregation, Decision, HitPolicy, Input, Output, Rule
from engine.errors import Problem, Where
from engine.forms.feel import FeelError

DMN_NAMESPACES = (
    "https://www.omg.org/spec/DMN/20191111/MODEL/",  # 1.3
    "https://www.omg.org/spec/DMN/20180521/MODEL/",  # 1.2
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",  # 1.1
)
CAMUNDA_DMN_NS = "http://camunda.org/schema/1.0/dmn"
DMN_SUFFIXES = (".dmn", ".dmn11.xml")
C = TypeVar("C")


@dataclass(frozen=True)
class ParsedDecision:
    """One decision of a deployed file: the key it is versioned by and what its version hashes."""

    decision: Decision
    xml: str  # the whole file: the editor opens it, and the runtime recompiles from it
    digest: str  # of this decision's own element, so editing one table of a file versions only it


def parse_dmn_files(files: list[tuple[str, bytes]]) -> tuple[list[ParsedDecision], list[Problem]]:
    decisions: list[ParsedDecision] = []
    problems: list[Problem] = []
    for filename, content in files:
        found, file_problems = parse_dmn(filename, content)
        problems += file_problems
        if not file_problems:
            decisions += found
    return decisions, problems


def parse_dmn(filename: str, content: bytes) -> tuple[list[ParsedDecision], list[Problem]]:
    try:
        root = parse_xml(content, filename)
    except UnsafeXml as exc:
        return [], [exc.problem]
    namespace = etree.QName(root).namespace
    if namespace not in DMN_NAMESPACES or etree.QName(root).localname != "definitions":
        return [], [
            Problem("not a DMN file: the root element must be DMN 1.3 definitions", file=filename, line=1)
        ]
    ns = {"dmn": namespace}
    problems: list[Problem] = []
    found: list[ParsedDecision] = []
    xml = content.decode("utf-8")
    elements = root.findall("dmn:decision", ns)
    if not elements:
        problems.append(Problem("the file defines no decision", file=filename, line=root.sourceline))
    for element in elements:
        decision = _decision(element, ns, filename, problems)
        if decision is not None:
            digest = hashlib.sha256(etree.tostring(element, method="c14n")).hexdigest()
            found.append(ParsedDecision(decision, xml, digest))
    return found, problems


def load_decision(xml: str, resource_name: str, key: str) -> Decision:
    """A decision of an already validated file."""
    decisions, problems = parse_dmn(resource_name, xml.encode())
    if problems:
        raise ValueError(f"{resource_name} no longer parses: {problems[0].message}")
    return next(d.decision for d in decisions if d.decision.id == key)


def _decision(
    element: etree._Element, ns: dict[str, str], filename: str, problems: list[Problem]
) -> Decision | None:
    decision_id = element.get("id") or ""
    where: Where = {"file": filename, "line": element.sourceline, "element_id": decision_id or None}
    if not decision_id:
        problems.append(Problem("a decision needs an id", **where))
        return None
    table = element.find("dmn:decisionTable", ns)
    if table is None:
        problems.append(Problem("only decision tables can be deployed (no literal expressions)", **where))
        return None
    before = len(problems)
    at = {"file": filename, "line": table.sourceline, "element_id": table.get("id") or decision_id}
    policy_text = (table.get("hitPolicy") or "UNIQUE").strip().upper()
    policy = next((p for p in HitPolicy if p.value == policy_text), None)
    if policy is None:
        choices = ", ".join(p.value for p in HitPolicy)
        problems.append(Problem(f"unknown hit policy {policy_text!r}: use one of {choices}", **at))
    aggregation = None
    if table.get("aggregation"):
        aggregation = next((a for a in Aggregation if a.value == table.get("aggregation").upper()), None)
        if aggregation is None:
            problems.append(
                Problem(f"unknown aggregation {table.get('aggregation')!r}: SUM, MIN, MAX or COUNT", **at)
            )
        elif policy is not HitPolicy.COLLECT:
            problems.append(Problem("an aggregation needs the COLLECT hit policy", **at))
    inputs = [_input(i, n, ns, filename, problems) for n, i in enumerate(table.findall("dmn:input", ns), 1)]
    outputs = [_output(o, ns, filename, problems) for o in table.findall("dmn:output", ns)]
    if not outputs:
        problems.append(Problem("a decision table needs at least one output", **at))
    if len(outputs) > 1 and any(not o.element_name for o in outputs):
        problems.append(Problem("with several outputs, each output needs a name", **at))
    if aggregation and len(outputs) != 1:
        problems.append(Problem("an aggregation works on a table with exactly one output", **at))
    if policy in (HitPolicy.PRIORITY, HitPolicy.OUTPUT_ORDER) and not any(o.output.values for o in outputs):
        problems.append(Problem(f"{policy.value} ranks rules by output values: list them on an output", **at))
    rules = [
        _rule(r, n, inputs, outputs, ns, filename, problems)
        for n, r in enumerate(table.findall("dmn:rule", ns), 1)
    ]
    if len(problems) > before or policy is None:
        return None
    constants: dict[str, object] = {}
    for compiled in [
        *(i.expression for i in inputs),
        *(c for r in rules if r for c in (*r.tests, *r.outputs) if c),
    ]:
        constants.update(compiled.constants)
    return Decision(
        decision_id,
        element.get("name") or decision_id,
        policy,
        aggregation,
        tuple(i for i in inputs),
        tuple(o.output for o in outputs),
        tuple(r for r in rules if r is not None),
        filename,
        element.sourceline,
        constants,
    )


def _input(
    element: etree._Element, number: int, ns: dict[str, str], filename: str, problems: list[Problem]
) -> Input:
    expression = element.find("dmn:inputExpression", ns)
    text = expression.findtext("dmn:text", "", ns) if expression is not None else ""
    compiled = _compile(
        lambda: compile_expression(text, prefix=f"dmn_ci{number}"),
        text,
        "input expression",
        element,
        filename,
        problems,
        required=True,
    )
    label = element.get("label") or text.strip() or element.get("id") or f"input {number}"
    type_ref = expression.get("typeRef") if expression is not None else None
    return Input(element.get("id") or f"input_{number}", label, compiled, type_ref)


@dataclass(frozen=True)
class _ParsedOutput:
    output: Output
    element_name: str | None


def _output(
    element: etree._Element, ns: dict[str, str], filename: str, problems: list[Problem]
) -> _ParsedOutput:
    name = element.get("name")
    values: tuple[object, ...] = ()
    text = element.findtext("dmn:outputValues/dmn:text", "", ns).strip()
    if text:
        try:
            listed = compile_expression(f"[{text}]").value
            values = tuple(listed) if isinstance(listed, list) else ()
        except FeelError as exc:
            problems.append(_problem(f"output values {text!r} do not parse: {exc}", element, filename))
    output_id = element.get("id") or ""
    label = element.get("label") or name or output_id
    return _ParsedOutput(
        Output(output_id, label, name or output_id or "result", element.get("typeRef"), values), name
    )


def _rule(
    element: etree._Element,
    number: int,
    inputs: list[Input],
    outputs: list[_ParsedOutput],
    ns: dict[str, str],
    filename: str,
    problems: list[Problem],
) -> Rule | None:
    entries = element.findall("dmn:inputEntry", ns)
    results = element.findall("dmn:outputEntry", ns)
    if len(entries) != len(inputs) or len(results) != len(outputs):
        problems.append(
            _problem(
                f"rule {number} has {len(entries)} input and {len(results)} output entries; "
                f"the table has {len(inputs)} inputs and {len(outputs)} outputs",
                element,
                filename,
            )
        )
        return None
    tests = tuple(
        _compile(
            partial(
                compile_unary_tests,
                e.findtext("dmn:text", "", ns),
                f"dmn_in_{i}",
                prefix=f"dmn_c{number}_{i}",
            ),
            e.findtext("dmn:text", "", ns),
            "input entry",
            e,
            filename,
            problems,
        )
        for i, e in enumerate(entries, 1)
    )
    values = tuple(
        _compile(
            partial(compile_expression, e.findtext("dmn:text", "", ns), prefix=f"dmn_co{number}_{i}"),
            e.findtext("dmn:text", "", ns),
            "output entry",
            e,
            filename,
            problems,
        )
        for i, e in enumerate(results, 1)
    )
    description = element.findtext("dmn:description", "", ns).strip()
    return Rule(element.get("id") or f"rule_{number}", number, description, tests, values)


def _compile(
    build: Callable[[], C],
    text: str,
    what: str,
    element: etree._Element,
    filename: str,
    problems: list[Problem],
    required: bool = False,
) -> C | Compiled:
    if required and not text.strip():
        problems.append(_problem(f"the {what} is empty", element, filename))
        return Compiled("None", literal=True)
    try:
        return build()
    except FeelError as exc:
        problems.append(_problem(f"{what} {text.strip()!r} does not parse: {exc}", element, filename))
        return Compiled("None", literal=True)


def _problem(message: str, element: etree._Element, filename: str) -> Problem:
    owner = element
    while owner is not None and not owner.get("id"):
        owner = owner.getparent()
    return Problem(
        message,
        file=filename,
        line=element.sourceline,
        element_id=owner.get("id") if owner is not None else None,
    )
