"""What Camunda runs but SpiffWorkflow's parser does not take as written, rewritten in the XML tree
into shapes it does, with Camunda's meaning. Applied identically at deploy and whenever a deployed
definition's specs are loaded (the stored XML stays the designer's own)."""

from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from engine.bpmn.xml import BPMN_NS, NS, camunda, local_name

# SpiffWorkflow names its own start and end task specs so; elements with these ids are renamed for
# the parse and get their id back on the specs (restore_ids).
RESERVED_IDS = ("Start", "End")
RENAMED_SUFFIX = "__element"

GATEWAYS = {"exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}
# Flow nodes whose SpiffWorkflow parser takes one unconditional outgoing flow only.
SINGLE_EXIT = {
    "task", "userTask", "manualTask", "serviceTask", "scriptTask", "sendTask", "receiveTask",
    "businessRuleTask", "callActivity", "subProcess", "transaction", "intermediateCatchEvent",
    "intermediateThrowEvent",
}  # fmt: skip


@dataclass
class Normalized:
    renamed: dict[str, str] = field(default_factory=dict)  # internal id -> the designer's id
    notes: list[tuple[str, etree._Element]] = field(default_factory=list)  # (warning, where)


def normalize(root: etree._Element) -> Normalized:
    result = Normalized()
    _rename_reserved(root, result)
    for process in root.xpath("//bpmn:process", namespaces=NS):
        _timer_start_events_become_none_starts(process)
        _collection_multi_instance(process)
        for container in [process, *process.xpath(".//bpmn:subProcess | .//bpmn:transaction", namespaces=NS)]:
            _split_activities(container, result)
            _unconditional_exclusive_flows(container, result)
    return result


def restore_ids(specs: list[Any], renamed: dict[str, str]) -> None:
    """Give the renamed elements their own ids back on the parsed specs (what tasks report)."""
    if not renamed:
        return
    for spec in specs:
        for task_spec in spec.task_specs.values():
            if getattr(task_spec, "bpmn_id", None) in renamed:
                task_spec.bpmn_id = renamed[task_spec.bpmn_id]


def _q(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _rename_reserved(root: etree._Element, result: Normalized) -> None:
    targets = {old: old + RENAMED_SUFFIX for old in RESERVED_IDS if root.xpath("//*[@id=$i]", i=old)}
    if not targets:
        return
    for element in root.iter(etree.Element):
        for attribute, value in element.attrib.items():
            if value in targets and attribute != "name":
                element.set(attribute, targets[value])
        if (
            local_name(element) in ("incoming", "outgoing", "flowNodeRef")
            and (element.text or "").strip() in targets
        ):
            element.text = targets[element.text.strip()]
    result.renamed.update({new: old for old, new in targets.items()})


def _timer_start_events_become_none_starts(process: etree._Element) -> None:
    """The job executor starts these instances when the timer is due (engine/jobs/timer_start.py): the
    instance itself begins at a none start event."""
    for timer in process.xpath("./bpmn:startEvent/bpmn:timerEventDefinition", namespaces=NS):
        timer.getparent().remove(timer)


def _collection_multi_instance(process: etree._Element) -> None:
    """`camunda:collection="items"` + `camunda:elementVariable="item"`: BPMN's loop data input and
    input data item, which SpiffWorkflow runs (a `${items}` expression names the same variable)."""
    for loop in process.xpath(".//bpmn:multiInstanceLoopCharacteristics", namespaces=NS):
        collection = camunda(loop, "collection")
        if not collection or loop.xpath("./bpmn:loopDataInputRef", namespaces=NS):
            continue
        name = collection_variable(collection)
        data_input = etree.Element(_q("loopDataInputRef"))
        data_input.text = name
        children = list(loop)
        position = 1 if children and local_name(children[0]) == "loopCardinality" else 0
        if position:  # a collection wins over a cardinality, as in Camunda
            loop.remove(children[0])
            position = 0
        loop.insert(position, data_input)
        element = camunda(loop, "elementVariable")
        if element:
            item = etree.Element(_q("inputDataItem"), id=element, name=element)
            loop.insert(position + 1, item)


def collection_variable(collection: str) -> str:
    text = collection.strip()
    if text.startswith(("${", "#{")) and text.endswith("}"):
        text = text[2:-1].strip()
    return text


def _outgoing(container: etree._Element) -> dict[str, list[etree._Element]]:
    flows: dict[str, list[etree._Element]] = {}
    for flow in container.xpath("./bpmn:sequenceFlow", namespaces=NS):
        flows.setdefault(flow.get("sourceRef"), []).append(flow)
    return flows


def _condition(flow: etree._Element) -> etree._Element | None:
    found = flow.xpath("./bpmn:conditionExpression", namespaces=NS)
    return found[0] if found and (found[0].text or "").strip() else None


def _split_activities(container: etree._Element, result: Normalized) -> None:
    """Camunda leaves an activity through every unconditional flow and every conditional flow whose
    condition holds, else through its default flow, else the path ends there. A gateway after the
    activity does the same: parallel when all flows are unconditional, otherwise inclusive, with an
    end event on a default flow when the activity has none."""
    flows_by_source = _outgoing(container)
    for node in container.xpath("./*[@id]"):
        kind, node_id = local_name(node), node.get("id")
        flows = flows_by_source.get(node_id, [])
        conditional = [f for f in flows if _condition(f) is not None]
        if kind not in SINGLE_EXIT or not (len(flows) > 1 or conditional):
            continue
        default = node.attrib.pop("default", None)
        split_id = f"{node_id}__split"
        gateway_kind = "inclusiveGateway" if conditional or default else "parallelGateway"
        gateway = etree.SubElement(container, _q(gateway_kind), id=split_id)
        for flow in flows:
            flow.set("sourceRef", split_id)
        etree.SubElement(
            container, _q("sequenceFlow"), id=f"{split_id}__in", sourceRef=node_id, targetRef=split_id
        )
        if gateway_kind == "inclusiveGateway":
            for flow in flows:
                if _condition(flow) is None and flow.get("id") != default:
                    _set_condition(flow, "True")
            if default is None:
                default = f"{split_id}__otherwise"
                etree.SubElement(container, _q("endEvent"), id=f"{split_id}__end")
                etree.SubElement(
                    container,
                    _q("sequenceFlow"),
                    id=default,
                    sourceRef=split_id,
                    targetRef=f"{split_id}__end",
                )
            gateway.set("default", default)


def _unconditional_exclusive_flows(container: etree._Element, result: Normalized) -> None:
    """Camunda takes the first outgoing flow (in document order) whose condition holds or that has
    none: the first flow without a condition is the default, and the flows after it are never taken."""
    flows_by_source = _outgoing(container)
    for gateway in container.xpath("./bpmn:exclusiveGateway", namespaces=NS):
        flows = flows_by_source.get(gateway.get("id"), [])
        default = gateway.get("default")
        plain = [f for f in flows if _condition(f) is None and f.get("id") != default]
        if len(flows) < 2 or not plain:
            continue
        first = plain[0]
        if default is None:
            gateway.set("default", first.get("id"))
        else:
            _set_condition(first, "True")
        after = [f for f in flows[flows.index(first) + 1 :] if f.get("id") != default]
        for flow in after:
            _set_condition(flow, "False")
        if after:
            never = ", ".join(f.get("id") for f in after)
            result.notes.append(
                (
                    f"flow {first.get('id')} has no condition, so it is always taken (as in Camunda): "
                    f"{never} after it in the file are never taken",
                    gateway,
                )
            )


def _set_condition(flow: etree._Element, expression: str) -> None:
    for old in flow.xpath("./bpmn:conditionExpression", namespaces=NS):
        flow.remove(old)
    condition = etree.SubElement(flow, _q("conditionExpression"))
    condition.text = expression
