"""The handbook process (processes/ops_optimization.bpmn): model contract, diagram, and walks.

No database and no service: the file is parsed and run with SpiffWorkflow directly. The script
engine evaluates with plain Python on purpose; this file checks the model, not the sandbox.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.spiff.parser.process import VALIDATOR, SpiffBpmnParser
from SpiffWorkflow.util.task import TaskState

BPMN_FILE = Path(__file__).resolve().parents[2] / "processes" / "ops_optimization.bpmn"
PROCESS_ID = "ops_optimization"

NS = {
    "bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
    "dc": "http://www.omg.org/spec/DD/20100524/DC",
    "di": "http://www.omg.org/spec/DD/20100524/DI",
    "camunda": "http://camunda.org/schema/1.0/bpmn",
}
CAMUNDA = "{" + NS["camunda"] + "}"

LANES = ("Lane_leader", "Lane_data", "Lane_execution", "Lane_support")
STAGES = ("kickoff", "diagnosis", "design", "execution", "evaluation", "rollout")
FLOW_NODE_TAGS = (
    "startEvent",
    "endEvent",
    "userTask",
    "scriptTask",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
    "serviceTask",
    "sendTask",
    "receiveTask",
    "manualTask",
    "businessRuleTask",
    "callActivity",
    "subProcess",
    "task",
)

# The contract with the engine and the forms: user task id -> (lane, stage, formRef)
USER_TASKS = {
    "Task_locate_problem": ("Lane_leader", "kickoff", "locate_problem"),
    "Task_form_team": ("Lane_leader", "kickoff", "form_team"),
    "Task_kickoff_meeting": ("Lane_leader", "kickoff", "kickoff_minutes"),
    "Task_collect_data": ("Lane_data", "diagnosis", "collect_data"),
    "Task_break_down": ("Lane_data", "diagnosis", "break_down"),
    "Task_qualitative_check": ("Lane_execution", "diagnosis", "qualitative_check"),
    "Task_diagnosis_report": ("Lane_data", "diagnosis", "diagnosis_report"),
    "Task_review_diagnosis": ("Lane_leader", "diagnosis", "review_diagnosis"),
    "Task_brainstorm": ("Lane_leader", "design", "brainstorm"),
    "Task_tech_feasibility": ("Lane_support", "design", "tech_feasibility"),
    "Task_resource_assessment": ("Lane_execution", "design", "resource_assessment"),
    "Task_risk_assessment": ("Lane_data", "design", "risk_assessment"),
    "Task_plan_review": ("Lane_leader", "design", "plan_review"),
    "Task_pilot": ("Lane_execution", "execution", "pilot"),
    "Task_monitoring": ("Lane_data", "execution", "monitoring"),
    "Task_tool_changes": ("Lane_support", "execution", "tool_changes"),
    "Task_measure_effect": ("Lane_data", "evaluation", "measure_effect"),
    "Task_evaluation_decision": ("Lane_leader", "evaluation", "evaluation_decision"),
    "Task_roll_out": ("Lane_execution", "rollout", "roll_out"),
    "Task_review_standardize": ("Lane_leader", "rollout", "review_standardize"),
}
END_EVENTS = {
    "EndEvent_keep_observing": "keep_observing",
    "EndEvent_stopped": "stopped",
    "EndEvent_optimized": "optimized",
}
# gateway -> {condition expression: target}; the default flow is named separately
GATEWAYS = {
    "Gateway_problem_type": (
        {
            'problem_type == "short_term"': "EndEvent_keep_observing",
            'problem_type == "structural"': "Task_form_team",
        },
        "Task_form_team",
    ),
    "Gateway_diagnosis_decision": (
        {
            'diagnosis_decision == "back_to_collect"': "Gateway_merge_collect",
            'diagnosis_decision == "back_to_breakdown"': "Gateway_merge_breakdown",
            'diagnosis_decision == "accept"': "Gateway_merge_design",
        },
        "Gateway_merge_design",
    ),
    "Gateway_plan_decision": (
        {
            'plan_decision == "rework"': "Gateway_merge_design",
            'plan_decision == "stop"': "EndEvent_stopped",
            'plan_decision == "approve"': "Gateway_execution_split",
        },
        "Gateway_execution_split",
    ),
    "Gateway_needs_development": (
        {"needs_development == True": "Task_tool_changes", "needs_development != True": "Gateway_tool_merge"},
        "Gateway_tool_merge",
    ),
    "Gateway_evaluation_decision": (
        {
            'evaluation_decision == "iterate_diagnosis"': "Script_count_iteration_diagnosis",
            'evaluation_decision == "iterate_design"': "Script_count_iteration_design",
            'evaluation_decision == "roll_out"': "Task_roll_out",
        },
        "Task_roll_out",
    ),
}
FEASIBILITY = {"Task_tech_feasibility", "Task_resource_assessment", "Task_risk_assessment"}


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def parser():
    p = SpiffBpmnParser(validator=VALIDATOR)
    p.add_bpmn_files([str(BPMN_FILE)])
    return p


@pytest.fixture(scope="module")
def spec(parser):
    return parser.get_spec(PROCESS_ID)


@pytest.fixture(scope="module")
def subprocess_specs(parser):
    return parser.get_subprocess_specs(PROCESS_ID)


@pytest.fixture(scope="module")
def doc():
    return etree.parse(str(BPMN_FILE))


@pytest.fixture(scope="module")
def process(doc):
    found = doc.xpath(f"//bpmn:process[@id='{PROCESS_ID}']", namespaces=NS)
    assert len(found) == 1
    return found[0]


@pytest.fixture(scope="module")
def flow_nodes(process):
    return {
        el.get("id"): el
        for el in process
        if isinstance(el.tag, str) and etree.QName(el).localname in FLOW_NODE_TAGS
    }


@pytest.fixture(scope="module")
def lane_of(process):
    lanes = {}
    for lane in process.xpath("./bpmn:laneSet/bpmn:lane", namespaces=NS):
        for ref in lane.xpath("./bpmn:flowNodeRef", namespaces=NS):
            lanes.setdefault(ref.text.strip(), []).append(lane.get("id"))
    return lanes


@pytest.fixture(scope="module")
def sequence_flows(process):
    return {f.get("id"): f for f in process.xpath("./bpmn:sequenceFlow", namespaces=NS)}


@pytest.fixture(scope="module")
def shapes(doc):
    out = {}
    for shape in doc.xpath("//bpmndi:BPMNShape", namespaces=NS):
        b = shape.find("dc:Bounds", NS)
        out[shape.get("bpmnElement")] = tuple(float(b.get(k)) for k in ("x", "y", "width", "height"))
    return out


@pytest.fixture(scope="module")
def edges(doc):
    return {
        e.get("bpmnElement"): [
            (float(p.get("x")), float(p.get("y"))) for p in e.xpath("./di:waypoint", namespaces=NS)
        ]
        for e in doc.xpath("//bpmndi:BPMNEdge", namespaces=NS)
    }


def properties(el):
    return {
        p.get("name"): p.get("value")
        for p in el.xpath("./bpmn:extensionElements/camunda:properties/camunda:property", namespaces=NS)
    }


# --------------------------------------------------------------------------- walking helpers


def new_workflow(spec, subprocess_specs, **trigger):
    engine = PythonScriptEngine(environment=TaskDataEnvironment())  # plain eval/exec: model test only
    wf = BpmnWorkflow(spec, subprocess_specs, script_engine=engine)
    start = wf.get_tasks(state=TaskState.READY)[0]
    start.data.update(trigger or {"trigger_type": "metric_anomaly", "description": "注册转化率连续3周下滑"})
    wf.do_engine_steps()
    return wf


def ready(wf):
    return {t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.READY)}


def complete(wf, bpmn_id, **data):
    tasks = [t for t in wf.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id == bpmn_id]
    assert len(tasks) == 1, f"{bpmn_id} is not READY once; READY: {sorted(ready(wf))}"
    tasks[0].data.update(data)
    tasks[0].run()
    wf.do_engine_steps()


def finished(wf, bpmn_id):
    return [t for t in wf.tasks.values() if t.task_spec.bpmn_id == bpmn_id and t.state == TaskState.COMPLETED]


def ended_at(wf):
    return {
        t.task_spec.bpmn_id
        for t in wf.tasks.values()
        if t.state == TaskState.COMPLETED and (t.task_spec.bpmn_id or "").startswith("EndEvent_")
    }


def kickoff(wf):
    assert ready(wf) == {"Task_locate_problem"}
    complete(wf, "Task_locate_problem", problem_type="structural")
    complete(wf, "Task_form_team", team={"leader": ["mgr"], "data": ["ana"], "execution": ["ops"]})
    complete(
        wf,
        "Task_kickoff_meeting",
        topic="提升用户注册转化率",
        goal={"metric": "注册转化率", "baseline": 15, "target": 20},
    )


def diagnosis(wf, decision):
    complete(wf, "Task_collect_data")
    complete(wf, "Task_break_down")
    complete(wf, "Task_qualitative_check")
    complete(wf, "Task_diagnosis_report")
    complete(wf, "Task_review_diagnosis", diagnosis_decision=decision)


def design(wf, decision, needs_development=False):
    complete(wf, "Task_brainstorm")
    assert ready(wf) == FEASIBILITY
    complete(wf, "Task_risk_assessment")
    complete(wf, "Task_resource_assessment")
    complete(wf, "Task_tech_feasibility", needs_development=needs_development)
    assert ready(wf) == {"Task_plan_review"}
    complete(wf, "Task_plan_review", plan_decision=decision)


def execution(wf, needs_development=False):
    expected = {"Task_pilot", "Task_monitoring"} | ({"Task_tool_changes"} if needs_development else set())
    assert ready(wf) == expected
    for task_id in sorted(expected):
        complete(wf, task_id)
    assert ready(wf) == {"Task_measure_effect"}


def evaluation(wf, decision):
    complete(wf, "Task_measure_effect")
    complete(wf, "Task_evaluation_decision", evaluation_decision=decision)


# --------------------------------------------------------------------------- parsing and contract


def test_parses_with_the_validator(spec, subprocess_specs):
    assert spec.name == PROCESS_ID
    assert subprocess_specs == {}
    for task_id in [*USER_TASKS, *END_EVENTS, "StartEvent_trigger", "Script_init"]:
        assert task_id in spec.task_specs


def test_process_header(doc, process):
    root = doc.getroot()
    assert root.get("exporter") == "Camunda Modeler"
    assert process.get("name") == "运营优化流程 Operations optimization"
    assert process.get("isExecutable") == "true"
    participants = doc.xpath("//bpmn:collaboration/bpmn:participant", namespaces=NS)
    assert [p.get("processRef") for p in participants] == [PROCESS_ID]
    lanes = process.xpath("./bpmn:laneSet/bpmn:lane", namespaces=NS)
    assert [lane.get("id") for lane in lanes] == list(LANES)
    assert [lane.get("name") for lane in lanes] == [
        "组长 (leader)",
        "数据组 (data)",
        "执行组 (execution)",
        "支持组 (support)",
    ]


def test_every_flow_node_is_in_exactly_one_lane(flow_nodes, lane_of):
    for node_id in flow_nodes:
        assert len(lane_of.get(node_id, [])) == 1, node_id
    assert set(lane_of) == set(flow_nodes)


def test_user_tasks_carry_lane_form_stage_and_instructions(flow_nodes, lane_of, spec):
    user_tasks = {k: v for k, v in flow_nodes.items() if etree.QName(v).localname == "userTask"}
    assert set(user_tasks) == set(USER_TASKS)
    for task_id, el in user_tasks.items():
        lane, stage, form_ref = USER_TASKS[task_id]
        assert lane_of[task_id] == [lane], task_id
        assert lane in LANES
        assert el.get(f"{CAMUNDA}formRef") == form_ref, task_id
        assert el.get(f"{CAMUNDA}formRefBinding") == "latest", task_id
        assert properties(el).get("stage") == stage, task_id
        assert stage in STAGES
        text = el.findtext("bpmn:documentation", namespaces=NS) or ""
        assert any("\u4e00" <= c <= "\u9fff" for c in text) and any(c.isascii() and c.isalpha() for c in text)
        name = el.get("name")
        assert name and "\u4e00" <= name[0] <= "\u9fff" and any(c.isascii() and c.isalpha() for c in name)
        # Spiff exposes the lane by its name; the name ends with the role in brackets.
        assert spec.task_specs[task_id].lane.endswith(f"({lane.removeprefix('Lane_')})"), task_id


def test_start_event_and_end_events(flow_nodes):
    start = flow_nodes["StartEvent_trigger"]
    assert start.get(f"{CAMUNDA}formRef") == "start_trigger"
    ends = {k: v for k, v in flow_nodes.items() if etree.QName(v).localname == "endEvent"}
    assert set(ends) == set(END_EVENTS)
    for end_id, outcome in END_EVENTS.items():
        assert properties(ends[end_id]) == {"outcome": outcome}
    assert ends["EndEvent_keep_observing"].get("name") == "持续观察 Keep observing"
    assert ends["EndEvent_stopped"].get("name") == "方案终止 Stopped"
    assert ends["EndEvent_optimized"].get("name") == "优化完成 Optimized"


def test_scripts(flow_nodes):
    expected = {
        "Script_init": "iteration_count = 0",
        "Script_count_iteration_diagnosis": "iteration_count = iteration_count + 1",
        "Script_count_iteration_design": "iteration_count = iteration_count + 1",
    }
    scripts = {k: v for k, v in flow_nodes.items() if etree.QName(v).localname == "scriptTask"}
    assert set(scripts) == set(expected)
    for script_id, body in expected.items():
        assert scripts[script_id].get("scriptFormat") == "python"
        assert scripts[script_id].findtext("bpmn:script", namespaces=NS).strip() == body


def test_gateway_conditions_and_defaults(flow_nodes, sequence_flows):
    for gateway_id, (conditions, default_target) in GATEWAYS.items():
        gateway = flow_nodes[gateway_id]
        assert etree.QName(gateway).localname == "exclusiveGateway"
        outgoing = [f for f in sequence_flows.values() if f.get("sourceRef") == gateway_id]
        found = {
            f.findtext("bpmn:conditionExpression", namespaces=NS).strip(): f.get("targetRef")
            for f in outgoing
        }
        assert found == conditions, gateway_id
        for f in outgoing:
            cond = f.find("bpmn:conditionExpression", NS)
            assert cond.get("{http://www.w3.org/2001/XMLSchema-instance}type") == "bpmn:tFormalExpression"
        default = sequence_flows[gateway.get("default")]
        assert default.get("sourceRef") == gateway_id
        assert default.get("targetRef") == default_target


def test_no_task_has_an_implicit_split(flow_nodes, sequence_flows):
    for node_id, el in flow_nodes.items():
        if etree.QName(el).localname.endswith("Gateway"):
            continue
        outgoing = [f for f in sequence_flows.values() if f.get("sourceRef") == node_id]
        assert len(outgoing) <= 1, node_id


# --------------------------------------------------------------------------- diagram


def test_diagram_has_a_shape_for_every_node_and_an_edge_for_every_flow(
    doc, process, flow_nodes, sequence_flows, shapes, edges
):
    lanes = [lane.get("id") for lane in process.xpath("./bpmn:laneSet/bpmn:lane", namespaces=NS)]
    groups = [g.get("id") for g in process.xpath("./bpmn:group", namespaces=NS)]
    participants = [p.get("id") for p in doc.xpath("//bpmn:participant", namespaces=NS)]
    for element_id in [*flow_nodes, *lanes, *groups, *participants]:
        assert element_id in shapes, element_id
    assert len(groups) == len(STAGES)
    for flow_id in sequence_flows:
        assert len(edges.get(flow_id, [])) >= 2, flow_id
    plane = doc.find(".//bpmndi:BPMNPlane", NS)
    assert plane.get("bpmnElement") == doc.find(".//bpmn:collaboration", NS).get("id")


def test_stage_groups_are_named(process, doc):
    values = {v.get("id"): v.get("value") for v in doc.xpath("//bpmn:categoryValue", namespaces=NS)}
    for group in process.xpath("./bpmn:group", namespaces=NS):
        label = values[group.get("categoryValueRef")]
        assert label.startswith("阶段") and "Stage" in label


def _inside(inner, outer):
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


def _on_border(point, box, tol=1.0):
    px, py = point
    x, y, w, h = box
    inside = x - tol <= px <= x + w + tol and y - tol <= py <= y + h + tol
    on_edge = min(abs(px - x), abs(px - x - w), abs(py - y), abs(py - y - h)) <= tol
    return inside and on_edge


def test_diagram_layout_is_clean(flow_nodes, lane_of, sequence_flows, shapes, edges):
    # nodes sit inside their lane, and no two nodes overlap
    for node_id in flow_nodes:
        assert _inside(shapes[node_id], shapes[lane_of[node_id][0]]), node_id
    ids = sorted(flow_nodes)
    for i, a in enumerate(ids):
        ax, ay, aw, ah = shapes[a]
        for b in ids[i + 1 :]:
            bx, by, bw, bh = shapes[b]
            assert not (ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah), (a, b)
    # edges are orthogonal and start/end on their shapes' borders
    for flow_id, flow in sequence_flows.items():
        points = edges[flow_id]
        for (x1, y1), (x2, y2) in pairwise(points):
            assert x1 == x2 or y1 == y2, flow_id
        assert _on_border(points[0], shapes[flow.get("sourceRef")]), flow_id
        assert _on_border(points[-1], shapes[flow.get("targetRef")]), flow_id


# --------------------------------------------------------------------------- walks


@pytest.mark.parametrize("iteration", ["iterate_diagnosis", "iterate_design"])
def test_structural_path_with_one_send_back_and_one_iteration(spec, subprocess_specs, iteration):
    wf = new_workflow(spec, subprocess_specs)
    kickoff(wf)
    diagnosis(wf, "back_to_collect")
    assert ready(wf) == {"Task_collect_data"}
    diagnosis(wf, "accept")
    design(wf, "approve")
    execution(wf)
    evaluation(wf, iteration)
    if iteration == "iterate_diagnosis":
        assert ready(wf) == {"Task_collect_data"}
        diagnosis(wf, "accept")
    else:
        assert ready(wf) == {"Task_brainstorm"}
    design(wf, "approve")
    execution(wf)
    evaluation(wf, "roll_out")
    complete(wf, "Task_roll_out")
    complete(wf, "Task_review_standardize")

    assert wf.is_completed()
    assert ended_at(wf) == {"EndEvent_optimized"}
    assert finished(wf, "EndEvent_optimized")[0].data["iteration_count"] == 1
    assert len(finished(wf, "Task_review_diagnosis")) == (3 if iteration == "iterate_diagnosis" else 2)
    assert len(finished(wf, "Task_brainstorm")) == 2


def test_short_term_fluctuation_ends_right_after_locating(spec, subprocess_specs):
    wf = new_workflow(spec, subprocess_specs)
    complete(wf, "Task_locate_problem", problem_type="short_term")
    assert wf.is_completed()
    assert ready(wf) == set()
    assert ended_at(wf) == {"EndEvent_keep_observing"}
    assert not finished(wf, "Task_form_team")


def test_plan_stop_ends_at_stopped(spec, subprocess_specs):
    wf = new_workflow(spec, subprocess_specs)
    kickoff(wf)
    diagnosis(wf, "accept")
    design(wf, "stop")
    assert wf.is_completed()
    assert ended_at(wf) == {"EndEvent_stopped"}


def test_back_to_breakdown_and_rework_loops(spec, subprocess_specs):
    wf = new_workflow(spec, subprocess_specs)
    kickoff(wf)
    diagnosis(wf, "back_to_breakdown")
    assert ready(wf) == {"Task_break_down"}
    complete(wf, "Task_break_down")
    complete(wf, "Task_qualitative_check")
    complete(wf, "Task_diagnosis_report")
    complete(wf, "Task_review_diagnosis", diagnosis_decision="accept")
    design(wf, "rework")
    assert ready(wf) == {"Task_brainstorm"}
    design(wf, "approve")
    assert ready(wf) == {"Task_pilot", "Task_monitoring"}


@pytest.mark.parametrize("needs_development", [True, False])
def test_tool_changes_only_when_development_is_needed(spec, subprocess_specs, needs_development):
    wf = new_workflow(spec, subprocess_specs)
    kickoff(wf)
    diagnosis(wf, "accept")
    design(wf, "approve", needs_development=needs_development)
    execution(wf, needs_development=needs_development)  # asserts the READY set, then reaches the join
    assert bool(finished(wf, "Task_tool_changes")) is needs_development
    evaluation(wf, "roll_out")
    complete(wf, "Task_roll_out")
    complete(wf, "Task_review_standardize")
    assert ended_at(wf) == {"EndEvent_optimized"}
    assert finished(wf, "EndEvent_optimized")[0].data["iteration_count"] == 0


def test_feasibility_tasks_are_ready_together(spec, subprocess_specs):
    wf = new_workflow(spec, subprocess_specs)
    kickoff(wf)
    diagnosis(wf, "accept")
    complete(wf, "Task_brainstorm")
    assert ready(wf) == FEASIBILITY
    complete(wf, "Task_tech_feasibility", needs_development=False)
    assert ready(wf) == FEASIBILITY - {"Task_tech_feasibility"}  # the join waits for all three
