"""Camunda's variable mappings: `camunda:inputOutput` on activities and `camunda:in`/`camunda:out` on
call activities, read from the XML at parse time and applied by the task specs (engine.bpmn.specs).

A parameter's value is a text (a literal string, or a `${...}` expression evaluated against the
task's data), a `camunda:list` or a `camunda:map` of such values."""

from collections.abc import Callable, Sequence
from copy import deepcopy
from dataclasses import dataclass
from typing import Literal, TypeAlias

from lxml import etree

from engine.bpmn.xml import NS, local_name
from engine.types import JsonObject

#: A parameter's value: ("text", str) | ("list", [value, ...]) | ("map", [(key, value), ...])
Value: TypeAlias = (
    "tuple[Literal['text'], str]"
    " | tuple[Literal['list'], list[Value]]"
    " | tuple[Literal['map'], list[tuple[str, Value]]]"
)
#: Evaluates a `${...}` expression against the task's data.
EvaluateExpression = Callable[[str], object]


@dataclass(frozen=True)
class CallMapping:
    """One camunda:in or camunda:out: all variables, or one from a variable or an expression."""

    all: bool = False
    source: str | None = None
    source_expression: str | None = None
    target: str | None = None


def io_parameters(node: etree._Element) -> tuple[list[tuple[str, Value]], list[tuple[str, Value]]]:
    """(input parameters, output parameters) of an activity, in document order."""
    found = node.xpath("./bpmn:extensionElements/camunda:inputOutput", namespaces=NS)
    if not found:
        return [], []
    inputs = [(p.get("name"), _value(p)) for p in found[0].xpath("./camunda:inputParameter", namespaces=NS)]
    outputs = [(p.get("name"), _value(p)) for p in found[0].xpath("./camunda:outputParameter", namespaces=NS)]
    return inputs, outputs


def call_mappings(node: etree._Element) -> tuple[list[CallMapping], list[CallMapping]]:
    """(camunda:in, camunda:out) of a call activity; business key mappings are not variables."""

    def read(kind: str) -> list[CallMapping]:
        mappings = []
        for m in node.xpath(f"./bpmn:extensionElements/camunda:{kind}", namespaces=NS):
            if m.get("businessKey") is not None:
                continue
            mappings.append(
                CallMapping(
                    m.get("variables") == "all", m.get("source"), m.get("sourceExpression"), m.get("target")
                )
            )
        return mappings

    return read("in"), read("out")


def unsupported(node: etree._Element) -> list[str]:
    """What of an activity's mappings we cannot run (script parameters), as messages."""
    problems = []
    for parameter in node.xpath(
        "./bpmn:extensionElements/camunda:inputOutput/*[camunda:script]", namespaces=NS
    ):
        problems.append(
            f"parameter {parameter.get('name')!r} is computed by a script: write it as a ${{...}} expression"
        )
    for mapping in node.xpath(
        "./bpmn:extensionElements/camunda:in | ./bpmn:extensionElements/camunda:out", namespaces=NS
    ):
        if (
            mapping.get("businessKey") is None
            and mapping.get("variables") != "all"
            and not mapping.get("target")
        ):
            problems.append(f'camunda:{local_name(mapping)} needs a target (or variables="all")')
    return problems


def evaluate(value: Value, evaluate_expression: EvaluateExpression) -> object:
    """The value of a parameter; `evaluate_expression(text)` evaluates a `${...}` expression."""
    if value[0] == "list":
        return [evaluate(v, evaluate_expression) for v in value[1]]
    if value[0] == "map":
        return {k: evaluate(v, evaluate_expression) for k, v in value[1]}
    text = value[1].strip()
    if text.startswith(("${", "#{")) and text.endswith("}"):
        return evaluate_expression(text)
    return value[1]


def pass_in(
    mappings: Sequence[CallMapping], data: JsonObject, evaluate_expression: EvaluateExpression
) -> JsonObject:
    """The called process's start data from the caller's (camunda:in)."""
    passed: JsonObject = {}
    for m in mappings:
        if m.all:
            passed.update(deepcopy(data))
        elif m.target is None:  # refused at deploy (unsupported): never run
            continue
        elif m.source_expression:
            passed[m.target] = evaluate_expression(m.source_expression)
        elif m.source in data:
            passed[m.target] = deepcopy(data[m.source])
    return passed


def _value(parameter: etree._Element) -> Value:
    for child in parameter:
        if not isinstance(child.tag, str):
            continue
        kind = local_name(child)
        if kind == "list":
            return ("list", [_value_node(v) for v in child if isinstance(v.tag, str)])
        if kind == "map":
            return ("map", [(e.get("key"), _value(e)) for e in child if isinstance(e.tag, str)])
    return ("text", parameter.text or "")


def _value_node(node: etree._Element) -> Value:
    """A camunda:value of a list (its text, or a nested list or map)."""
    return _value(node)
