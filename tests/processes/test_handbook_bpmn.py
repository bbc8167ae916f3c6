"""The handbook process (processes/ops_optimization.bpmn): model contract, diagram, and walks.

The file holds two executable processes: `ops_optimization`, the handbook, and `ops_metric_anomaly`,
which a monitoring/BI message starts and which calls the handbook when the decision table
processes/metric_anomaly_rule.dmn advises it (the table's business rule task is the engine's own, so
the file is parsed with the engine's parser class).

No database and no service: the file is parsed and run with SpiffWorkflow directly, evaluating in
the engine's sandboxed environment: the model writes Camunda's `${...}` expressions (the data carried
forward into a task's form) and plain ISO timers (`P2D`), which only the engine reads.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, time, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
import time_machine
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.spiff.parser.process import VALIDATOR
from SpiffWorkflow.util.task import TaskState

from engine.bpmn.decision_task import attach_decider
from engine.bpmn.parser import parse_bpmn_files
from engine.bpmn.sandbox import SandboxedEnvironment, check_expression, check_script
from engine.bpmn.specs import OpsflowParser
from engine.dmn import parse_dmn
from engine.dmn.decider import TableDecider
from engine.forms import validate_submission
from tests.fixtures.handbook_data import KICKOFF_DAY, VALID
from tests.fixtures.handbook_data import MILESTONES as STAGE_DAYS

REPO = Path(__file__).resolve().parents[2]
BPMN_FILE = REPO / "processes" / "ops_optimization.bpmn"
ANOMALY_RULE = REPO / "processes" / "metric_anomaly_rule.dmn"
FORMS_DIR = REPO / "forms"
PROCESS_ID = "ops_optimization"
ANOMALY_ID = "ops_metric_anomaly"

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
    "Task_chase_resource_approval": ("Lane_leader", "kickoff", "chase_resource_approval"),
    "Task_collect_data": ("Lane_data", "diagnosis", "collect_data"),
    "Task_break_down": ("Lane_data", "diagnosis", "break_down"),
    "Task_qualitative_check": ("Lane_execution", "diagnosis", "qualitative_check"),
    "Task_diagnosis_report": ("Lane_data", "diagnosis", "diagnosis_report"),
    "Task_review_diagnosis": ("Lane_leader", "diagnosis", "review_diagnosis"),
    "Task_propose_strategies": ("Lane_leader", "design", "propose_strategies"),  # each member's own
    "Task_brainstorm": ("Lane_leader", "design", "brainstorm"),
    "Task_tech_feasibility": ("Lane_support", "design", "tech_feasibility"),
    "Task_resource_assessment": ("Lane_execution", "design", "resource_assessment"),
    "Task_risk_assessment": ("Lane_data", "design", "risk_assessment"),
    "Task_plan_review": ("Lane_leader", "design", "plan_review"),
    "Task_chase_investment_approval": ("Lane_leader", "design", "chase_investment_approval"),
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
    # a chase branch ends here while the main path goes on: no outcome, the instance is not done
    "EndEvent_resource_chase_done": None,
    "EndEvent_investment_chase_done": None,
}
# gateway -> ([(variables, where the gateway sends them)], the default flow's target). The routes are
# checked by evaluating the gateway, never by the text of a condition: a designer may rewrite one, and
# bpmn-js drops the condition of a flow made the default.
GATEWAYS = {
    "Gateway_problem_type": (
        [
            ({"problem_type": "short_term"}, "EndEvent_keep_observing"),
            ({"problem_type": "structural"}, "Task_form_team"),
        ],
        "Task_form_team",
    ),
    "Gateway_diagnosis_decision": (
        [
            ({"diagnosis_decision": "back_to_collect"}, "Gateway_merge_collect"),
            ({"diagnosis_decision": "back_to_breakdown"}, "Gateway_merge_breakdown"),
            ({"diagnosis_decision": "accept"}, "Gateway_merge_design"),
        ],
        "Gateway_merge_design",
    ),
    "Gateway_plan_decision": (
        [
            ({"plan_decision": "rework"}, "Gateway_merge_design"),
            ({"plan_decision": "stop"}, "EndEvent_stopped"),
            ({"plan_decision": "approve"}, "Gateway_investment_approval"),
        ],
        "Gateway_investment_approval",
    ),
    "Gateway_resources_approval": (
        [
            ({"resources_need_approval": True}, "Task_await_resource_approval"),
            ({"resources_need_approval": False}, "Gateway_merge_resources"),
        ],
        "Gateway_merge_resources",
    ),
    "Gateway_resources_approved": (
        [({"approved": True}, "Gateway_merge_resources"), ({"approved": False}, "Gateway_merge_kickoff")],
        "Gateway_merge_kickoff",
    ),
    "Gateway_investment_approval": (
        [
            ({"investment_needs_approval": True}, "Task_await_investment_approval"),
            ({"investment_needs_approval": False}, "Gateway_merge_investment"),
        ],
        "Gateway_merge_investment",
    ),
    "Gateway_investment_approved": (
        [({"approved": True}, "Gateway_merge_investment"), ({"approved": False}, "Gateway_merge_design")],
        "Gateway_merge_design",
    ),
    "Gateway_needs_development": (
        [
            ({"needs_development": True}, "Task_tool_changes"),
            ({"needs_development": False}, "Gateway_tool_merge"),
        ],
        "Gateway_tool_merge",
    ),
    "Gateway_evaluation_decision": (
        [
            ({"evaluation_decision": "iterate_diagnosis"}, "Gateway_merge_collect"),
            ({"evaluation_decision": "iterate_design"}, "Gateway_merge_design"),
            ({"evaluation_decision": "roll_out"}, "Task_roll_out"),
        ],
        "Task_roll_out",
    ),
}
FEASIBILITY = {"Task_tech_feasibility", "Task_resource_assessment", "Task_risk_assessment"}
# receive task -> (camunda property `approval`, its overdue boundary timer, the chase task, the chase's end)
APPROVALS = {
    "Task_await_resource_approval": (
        "resources",
        "Boundary_resource_approval_overdue",
        "Task_chase_resource_approval",
        "EndEvent_resource_chase_done",
    ),
    "Task_await_investment_approval": (
        "investment",
        "Boundary_investment_approval_overdue",
        "Task_chase_investment_approval",
        "EndEvent_investment_chase_done",
    ),
}
MERGES = ("Gateway_merge_kickoff", "Gateway_merge_resources", "Gateway_merge_investment")
# camunda:dueDate of every user task of stages 2-6: the date of its stage's milestone in Table 2-1
DUE_DATE = 'min([m["due_date"] for m in milestones if m["stage"] == "{stage}"] or [None])'
LATER_STAGES = STAGES[1:]
ROLES = {"leader", "data", "execution", "support", "designer", "admin"}

# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def parser():
    p = OpsflowParser(validator=VALIDATOR)
    p.add_bpmn_files([str(BPMN_FILE)])
    return p


@pytest.fixture(scope="module")
def spec(parser):
    return parser.get_spec(PROCESS_ID)


@pytest.fixture(scope="module")
def subprocess_specs(parser):
    return parser.get_subprocess_specs(PROCESS_ID)


@pytest.fixture(scope="module")
def anomaly_spec(parser):
    return parser.get_spec(ANOMALY_ID)


@pytest.fixture(scope="module")
def anomaly_subprocess_specs(parser):
    return parser.get_subprocess_specs(ANOMALY_ID)


@pytest.fixture(scope="module")
def doc():
    return etree.parse(str(BPMN_FILE))


@pytest.fixture(scope="module")
def anomaly_process(doc):
    found = doc.xpath(f"//bpmn:process[@id='{ANOMALY_ID}']", namespaces=NS)
    assert len(found) == 1
    return found[0]


@pytest.fixture(scope="module")
def anomaly_nodes(anomaly_process):
    return {
        el.get("id"): el
        for el in anomaly_process
        if isinstance(el.tag, str) and etree.QName(el).localname in FLOW_NODE_TAGS
    }


@pytest.fixture(scope="module")
def anomaly_flows(anomaly_process):
    return {f.get("id"): f for f in anomaly_process.xpath("./bpmn:sequenceFlow", namespaces=NS)}


@pytest.fixture
def clock():
    with time_machine.travel(datetime.combine(KICKOFF_DAY, time(9), UTC), tick=False) as traveller:
        yield traveller


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


def route(gateway, flows, data):
    """Where an exclusive gateway sends `data`, decided as SpiffWorkflow decides: the first other flow
    whose condition holds (evaluated in the engine's sandbox), else the default flow, whose own condition
    (if any is left in the file) is never read."""
    default = gateway.get("default")
    outgoing = [f for f in flows.values() if f.get("sourceRef") == gateway.get("id")]
    env = SandboxedEnvironment()
    for flow in outgoing:
        condition = flow.findtext("bpmn:conditionExpression", namespaces=NS)
        if flow.get("id") != default and condition and env.evaluate(condition.strip(), copy.deepcopy(data)):
            return flow.get("targetRef")
    return flows[default].get("targetRef") if default else None


# --------------------------------------------------------------------------- walking helpers


def new_workflow(spec, subprocess_specs, sandboxed=True, **trigger):
    """The engine's environment (`${...}` expressions, plain ISO timers such as `P2D`); plain
    eval/exec where a test says so."""
    environment = SandboxedEnvironment() if sandboxed else TaskDataEnvironment()
    wf = BpmnWorkflow(spec, subprocess_specs, script_engine=PythonScriptEngine(environment=environment))
    start = wf.get_tasks(state=TaskState.READY)[0]
    start.data.update(trigger or {"trigger_type": "metric_anomaly", "description": "注册转化率连续3周下滑"})
    wf.do_engine_steps()
    return wf


def ready(wf):
    return {t.task_spec.bpmn_id for t in wf.get_tasks(state=TaskState.READY)}


def waiting(wf):
    """What waits for an event (a message, a timer); not the joins waiting for their branches."""
    return {
        t.task_spec.bpmn_id
        for t in wf.get_tasks(state=TaskState.WAITING)
        if getattr(t.task_spec, "event_definition", None) is not None
    }


def deliver(wf, bpmn_id, **payload):
    """A message for the task waiting at `bpmn_id`; its payload becomes process data, as the engine does."""
    tasks = [t for t in wf.get_tasks(state=TaskState.WAITING) if t.task_spec.bpmn_id == bpmn_id]
    assert len(tasks) == 1, f"{bpmn_id} is not WAITING once; WAITING: {sorted(waiting(wf))}"
    tasks[0].data.update(payload)
    wf.send_event(BpmnEvent(tasks[0].task_spec.event_definition, payload, {}))
    wf.do_engine_steps()


def pass_time(wf, clock, delta):
    clock.shift(delta)
    wf.refresh_timers()
    wf.do_engine_steps()


PROPOSE = "Task_propose_strategies"


def propose(wf):
    """Every member of the team proposes (the multi-instance's children, READY together)."""
    children = [t for t in wf.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id == PROPOSE]
    for child in children:
        strategy = {"root_cause": "验证步骤多", "strategy": child.data["member"]["user"]}
        child.data["proposal"] = {"strategies": [strategy]}
        child.run()
    wf.do_engine_steps()
    return children


def complete(wf, bpmn_id, **data):
    if bpmn_id == "Task_brainstorm" and PROPOSE in ready(wf):
        propose(wf)
    tasks = [t for t in wf.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id == bpmn_id]
    if bpmn_id == "Task_propose_strategies":  # one per member of the team, READY together
        for task in tasks:
            task.data.update(copy.deepcopy(data))
            task.run()
        wf.do_engine_steps()
        return
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


MILESTONES = [{"milestone": "A/B测试试点结束", "stage": "execution", "due_date": STAGE_DAYS["execution"]}]


def kickoff(wf, resources_need_approval=False):
    assert ready(wf) == {"Task_locate_problem"}
    complete(wf, "Task_locate_problem", problem_type="structural")
    team = [
        {"user": "mgr", "role": "leader", "duty": "统筹"},
        {"user": "ana", "role": "data", "duty": "数据"},
        {"user": "ops", "role": "execution", "duty": "执行"},
    ]
    complete(wf, "Task_form_team", team=team)
    complete(
        wf,
        "Task_kickoff_meeting",
        topic="提升用户注册转化率",
        goal={"metric": "注册转化率", "baseline": 15, "target": 20},
        milestones=MILESTONES,
        resources_need_approval=resources_need_approval,
    )


def diagnosis(wf, decision):
    complete(wf, "Task_collect_data")
    complete(wf, "Task_break_down")
    complete(wf, "Task_qualitative_check")
    complete(wf, "Task_diagnosis_report")
    complete(wf, "Task_review_diagnosis", diagnosis_decision=decision)


def design(wf, decision, needs_development=False, investment_needs_approval=False):
    complete(wf, "Task_brainstorm")
    assert ready(wf) == FEASIBILITY
    complete(wf, "Task_risk_assessment")
    complete(wf, "Task_resource_assessment", investment_needs_approval=investment_needs_approval)
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


def test_parses_with_the_validator(spec, subprocess_specs, anomaly_spec, anomaly_subprocess_specs):
    assert spec.name == PROCESS_ID
    assert subprocess_specs == {}
    for task_id in [
        *USER_TASKS,
        *END_EVENTS,
        *APPROVALS,
        *MERGES,
        "StartEvent_trigger",
        "Script_reset_feasibility",
    ]:
        assert task_id in spec.task_specs
    for _, boundary, _, _ in APPROVALS.values():
        assert boundary in spec.task_specs
    assert anomaly_spec.name == ANOMALY_ID
    assert anomaly_subprocess_specs == {}  # it calls nothing: its message starts the handbook


def test_the_engine_accepts_the_file():
    form_keys = {json.loads(f.read_text(encoding="utf-8"))["id"] for f in FORMS_DIR.glob("*.form")}
    result = parse_bpmn_files([(BPMN_FILE.name, BPMN_FILE.read_bytes())], roles=ROLES, form_keys=form_keys)
    assert result.problems == []
    assert {p.process_id for p in result.processes} == {PROCESS_ID, ANOMALY_ID}
    catalog = result.processes[0].catalog
    assert catalog["Task_await_resource_approval"].message == "approval_decision"
    assert catalog["Task_await_investment_approval"].properties == {"approval": "investment"}
    assert catalog["StartEvent_metric_anomaly"].message == "metric_anomaly"
    assert catalog["StartEvent_optimization_requested"].message == "optimization_requested"
    assert catalog["EndEvent_below_threshold"].outcome == "below_threshold"
    assert catalog["Task_chase_resource_approval"].assignment.lane_group == "leader"


def test_every_form_the_process_names_exists_and_has_valid_reference_data(flow_nodes):
    refs = {el.get(f"{CAMUNDA}formRef") for el in flow_nodes.values()} - {None}
    assert {"chase_resource_approval", "chase_investment_approval"} <= refs
    for form_key in refs:
        schema = json.loads((FORMS_DIR / f"{form_key}.form").read_text(encoding="utf-8"))
        assert schema["id"] == form_key
        _, errors = validate_submission(schema, copy.deepcopy(VALID[form_key]))
        assert errors == [], form_key


def test_process_header(doc, process):
    root = doc.getroot()
    assert root.get("exporter") == "Camunda Modeler"
    assert process.get("name") == "运营优化流程 Operations optimization"
    assert process.get("isExecutable") == "true"
    participants = doc.xpath("//bpmn:collaboration/bpmn:participant", namespaces=NS)
    # the two processes, and the systems they talk to as black boxes (no process of theirs)
    assert [(p.get("id"), p.get("processRef")) for p in participants] == [
        ("Participant_ops_team", PROCESS_ID),
        ("Participant_metric_anomaly", ANOMALY_ID),
        ("Participant_approval_system", None),
        ("Participant_monitoring", None),
    ]
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
        task_spec = spec.task_specs[task_id]
        if task_spec.lane is None:  # a multi-instance: its instances carry the lane
            task_spec = spec.task_specs[task_spec.task_spec]
        assert task_spec.lane.endswith(f"({lane.removeprefix('Lane_')})"), task_id


def test_start_event_and_end_events(flow_nodes):
    start = flow_nodes["StartEvent_trigger"]
    assert start.get(f"{CAMUNDA}formRef") == "start_trigger"
    ends = {k: v for k, v in flow_nodes.items() if etree.QName(v).localname == "endEvent"}
    assert set(ends) == set(END_EVENTS)
    for end_id, outcome in END_EVENTS.items():
        assert properties(ends[end_id]) == ({"outcome": outcome} if outcome else {}), end_id
    assert ends["EndEvent_keep_observing"].get("name") == "持续观察 Keep observing"
    assert ends["EndEvent_stopped"].get("name") == "方案终止 Stopped"
    assert ends["EndEvent_optimized"].get("name") == "优化完成 Optimized"


def test_scripts_are_python_the_sandbox_accepts(flow_nodes):
    """What it does is walked: Script_reset_feasibility forgets last round's feasibility decisions (the
    feasibility walk sends a plan round twice). The one script left in the business view: the iteration
    count is kept by output parameters (below), not by script tasks."""
    expected = {"Script_reset_feasibility"}
    scripts = {k: v for k, v in flow_nodes.items() if etree.QName(v).localname == "scriptTask"}
    assert set(scripts) == expected
    for script_id, script in scripts.items():
        assert script.get("scriptFormat") == "python", script_id
        assert check_script(script.findtext("bpmn:script", namespaces=NS)) is None, script_id


def test_the_iteration_count_is_kept_by_the_locating_and_the_evaluation_tasks(flow_nodes):
    """No script tasks for it in the business view: locating the problem sets it to 0, each evaluation that
    sends the optimization back adds 1 (the walks end with it)."""
    env = SandboxedEnvironment()

    def outputs(task_id: str) -> dict[str, str]:
        found = flow_nodes[task_id].xpath(
            "./bpmn:extensionElements/camunda:inputOutput/camunda:outputParameter", namespaces=NS
        )
        return {p.get("name"): p.text for p in found}

    assert env.evaluate(outputs("Task_locate_problem")["iteration_count"], {}) == 0
    count = outputs("Task_evaluation_decision")["iteration_count"]
    for decision, after in (("iterate_diagnosis", 3), ("iterate_design", 3), ("roll_out", 2)):
        assert env.evaluate(count, {"iteration_count": 2, "evaluation_decision": decision}) == after


def test_gateways_route_by_their_conditions_and_fall_back_to_their_default(flow_nodes, sequence_flows):
    for gateway_id, (cases, default_target) in GATEWAYS.items():
        gateway = flow_nodes[gateway_id]
        assert etree.QName(gateway).localname == "exclusiveGateway"
        default = sequence_flows[gateway.get("default")]
        assert (default.get("sourceRef"), default.get("targetRef")) == (gateway_id, default_target)
        for flow in sequence_flows.values():
            if flow.get("sourceRef") == gateway_id and flow is not default:
                condition = flow.find("bpmn:conditionExpression", NS)
                assert condition is not None, flow.get("id")  # only the default flow may go unconditionally
                assert check_expression(condition.text.strip()) is None, flow.get("id")
        for data, target in cases:
            assert route(gateway, sequence_flows, data) == target, (gateway_id, data)


def test_no_task_has_an_implicit_split(flow_nodes, sequence_flows):
    for node_id, el in flow_nodes.items():
        if etree.QName(el).localname.endswith("Gateway"):
            continue
        outgoing = [f for f in sequence_flows.values() if f.get("sourceRef") == node_id]
        assert len(outgoing) <= 1, node_id


def test_approvals_wait_for_the_approval_system_and_are_chased_after_two_days(
    doc, flow_nodes, lane_of, sequence_flows
):
    messages = {m.get("id"): m.get("name") for m in doc.xpath("//bpmn:message", namespaces=NS)}
    assert messages == {
        "Message_approval_decision": "approval_decision",
        "Message_metric_anomaly": "metric_anomaly",
        "Message_optimization_requested": "optimization_requested",
    }
    env = SandboxedEnvironment()
    for task_id, (approval, boundary_id, chase_id, end_id) in APPROVALS.items():
        task = flow_nodes[task_id]
        assert etree.QName(task).localname == "receiveTask"
        assert task.get("messageRef") == "Message_approval_decision"
        assert properties(task) == {"approval": approval}
        assert lane_of[task_id] == ["Lane_leader"]
        assert task.findtext("bpmn:documentation", namespaces=NS)

        boundary = flow_nodes[boundary_id]
        assert etree.QName(boundary).localname == "boundaryEvent"
        assert boundary.get("attachedToRef") == task_id
        assert boundary.get("cancelActivity") == "false"  # the approval keeps waiting
        duration = boundary.findtext("bpmn:timerEventDefinition/bpmn:timeDuration", namespaces=NS).strip()
        assert duration == "P2D"
        assert check_expression(duration) is None and env.evaluate(duration, {}) == "P2D"
        assert lane_of[boundary_id] == ["Lane_leader"]

        [to_chase] = [f for f in sequence_flows.values() if f.get("sourceRef") == boundary_id]
        assert to_chase.get("targetRef") == chase_id
        [to_end] = [f for f in sequence_flows.values() if f.get("sourceRef") == chase_id]
        assert to_end.get("targetRef") == end_id
    assert flow_nodes["Task_await_resource_approval"].get("name") == "等待资源审批 Await resource approval"
    chase = flow_nodes["Task_chase_resource_approval"]
    assert chase.get("name") == "催办资源审批 Chase the resource approval"


def test_merge_gateways_read_nothing(flow_nodes, sequence_flows):
    for gateway_id in (*MERGES, "Gateway_merge_collect", "Gateway_merge_design"):
        assert etree.QName(flow_nodes[gateway_id]).localname == "exclusiveGateway"
        outgoing = [f for f in sequence_flows.values() if f.get("sourceRef") == gateway_id]
        assert len(outgoing) == 1 and outgoing[0].find("bpmn:conditionExpression", NS) is None, gateway_id
    into = {
        f.get("sourceRef") for f in sequence_flows.values() if f.get("targetRef") == "Gateway_merge_kickoff"
    }
    assert into == {"Task_form_team", "Gateway_resources_approved"}
    [out] = [f for f in sequence_flows.values() if f.get("sourceRef") == "Gateway_merge_kickoff"]
    assert out.get("targetRef") == "Task_kickoff_meeting"


def test_later_stage_tasks_are_due_by_their_stage_milestone(flow_nodes):
    minutes = copy.deepcopy(VALID["kickoff_minutes"])
    milestone = {m["stage"]: m["due_date"] for m in minutes["milestones"]}
    assert sorted(milestone) == sorted(LATER_STAGES) and len(minutes["milestones"]) == len(LATER_STAGES)
    env = SandboxedEnvironment()
    for task_id, (_, stage, _) in USER_TASKS.items():
        task = flow_nodes[task_id]
        expression = task.get(f"{CAMUNDA}dueDate")
        if stage == "kickoff":
            assert expression is None and "escalationGrace" not in properties(task), task_id
            continue
        assert expression == DUE_DATE.format(stage=stage), task_id
        assert check_expression(expression) is None, task_id
        assert env.evaluate(expression, copy.deepcopy(minutes)) == milestone[stage], task_id
        assert env.evaluate(expression, {"milestones": []}) is None  # no milestone for the stage: no due date
        assert properties(task)["escalationGrace"] == "P1D", task_id
    # the earliest date wins when a stage has two milestones
    two = {
        "milestones": [
            {"stage": "design", "due_date": "2027-01-20"},
            {"stage": "design", "due_date": "2027-01-08"},
        ]
    }
    assert env.evaluate(DUE_DATE.format(stage="design"), two) == "2027-01-08"


def test_the_anomaly_process_starts_by_message_and_requests_the_handbook_by_message(
    anomaly_process, anomaly_nodes, anomaly_flows, process
):
    assert anomaly_process.get("name") == "指标异常自动触发 Metric anomaly trigger"
    assert anomaly_process.get("isExecutable") == "true"
    assert anomaly_process.find("bpmn:laneSet", NS) is None
    kinds = {k: etree.QName(v).localname for k, v in anomaly_nodes.items()}
    assert kinds == {
        "StartEvent_metric_anomaly": "startEvent",
        "Decide_anomaly_rule": "businessRuleTask",
        "Gateway_anomaly_rule": "exclusiveGateway",
        "Script_anomaly_trigger": "scriptTask",
        "EndEvent_anomaly_handled": "endEvent",
        "EndEvent_below_threshold": "endEvent",
    }
    start = anomaly_nodes["StartEvent_metric_anomaly"]
    assert start.find("bpmn:messageEventDefinition", NS).get("messageRef") == "Message_metric_anomaly"
    gateway = anomaly_nodes["Gateway_anomaly_rule"]
    assert gateway.get("name") == "连续2-3个周期未达标? Missed target 2-3 periods?"
    advice = {"classification_hint": "structural"}
    started = route(gateway, anomaly_flows, {"anomaly_advice": {**advice, "start_optimization": True}})
    assert started == "Script_anomaly_trigger"
    ignored = route(gateway, anomaly_flows, {"anomaly_advice": {**advice, "start_optimization": False}})
    assert ignored == "EndEvent_below_threshold"
    rule = anomaly_nodes["Decide_anomaly_rule"]
    assert rule.get(f"{CAMUNDA}decisionRef") == "metric_anomaly_rule"
    assert rule.get(f"{CAMUNDA}mapDecisionResult") == "singleResult"
    assert rule.get(f"{CAMUNDA}resultVariable") == "anomaly_advice"
    assert anomaly_flows[gateway.get("default")].get("targetRef") == "EndEvent_below_threshold"
    script = anomaly_nodes["Script_anomaly_trigger"]
    assert script.get("scriptFormat") == "python"
    assert check_script(script.findtext("bpmn:script", namespaces=NS)) is None
    assert properties(anomaly_nodes["EndEvent_below_threshold"]) == {"outcome": "below_threshold"}
    # a message end event: the handbook starts as an ops_optimization instance of its own (no call)
    handled = anomaly_nodes["EndEvent_anomaly_handled"]
    assert properties(handled) == {"outcome": "optimization_requested"}
    requested = "Message_optimization_requested"
    assert handled.find("bpmn:messageEventDefinition", NS).get("messageRef") == requested
    [catch] = process.xpath(".//bpmn:startEvent[bpmn:messageEventDefinition]", namespaces=NS)
    assert catch.find("bpmn:messageEventDefinition", NS).get("messageRef") == requested
    assert catch.get("id") == "StartEvent_optimization_requested"
    path = [
        "StartEvent_metric_anomaly",
        "Decide_anomaly_rule",
        "Gateway_anomaly_rule",
        "Script_anomaly_trigger",
        "EndEvent_anomaly_handled",
    ]
    for source, target in pairwise(path):
        assert any(
            f.get("sourceRef") == source and f.get("targetRef") == target for f in anomaly_flows.values()
        )


# --------------------------------------------------------------------------- diagram


def test_diagram_has_a_shape_for_every_node_and_an_edge_for_every_flow(
    doc, process, flow_nodes, sequence_flows, anomaly_nodes, anomaly_flows, shapes, edges
):
    lanes = [lane.get("id") for lane in process.xpath("./bpmn:laneSet/bpmn:lane", namespaces=NS)]
    groups = [g.get("id") for g in process.xpath("./bpmn:group", namespaces=NS)]
    participants = [p.get("id") for p in doc.xpath("//bpmn:participant", namespaces=NS)]
    message_flows = [m.get("id") for m in doc.xpath("//bpmn:messageFlow", namespaces=NS)]
    assert len(participants) == 4
    for element_id in [*flow_nodes, *anomaly_nodes, *lanes, *groups, *participants]:
        assert element_id in shapes, element_id
    assert len(groups) == len(STAGES)
    for flow_id in [*sequence_flows, *anomaly_flows]:
        assert len(edges.get(flow_id, [])) >= 2, flow_id
    assert set(shapes) == {*flow_nodes, *anomaly_nodes, *lanes, *groups, *participants}
    assert set(edges) == {*sequence_flows, *anomaly_flows, *message_flows}
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


def _overlap(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def _center(box):
    x, y, w, h = box
    return (x + w / 2, y + h / 2)


def _check_pool_layout(nodes, flows, shapes, edges, container_of):
    # nodes sit inside their lane (or pool), and no two nodes overlap, except a boundary event on its host
    for node_id in nodes:
        assert _inside(shapes[node_id], shapes[container_of(node_id)]), node_id
    attached = {k: v.get("attachedToRef") for k, v in nodes.items() if v.get("attachedToRef")}
    ids = sorted(nodes)
    for i, a in enumerate(ids):
        for b in ids[i + 1 :]:
            if attached.get(a) == b or attached.get(b) == a:
                continue
            assert not _overlap(shapes[a], shapes[b]), (a, b)
    # a boundary event sits on its host's border, its centre on the edge
    for event_id, host in attached.items():
        assert _on_border(_center(shapes[event_id]), shapes[host]), event_id
    # edges are orthogonal and start/end on their shapes' borders
    for flow_id, flow in flows.items():
        points = edges[flow_id]
        for (x1, y1), (x2, y2) in pairwise(points):
            assert x1 == x2 or y1 == y2, flow_id
        assert _on_border(points[0], shapes[flow.get("sourceRef")]), flow_id
        assert _on_border(points[-1], shapes[flow.get("targetRef")]), flow_id


def test_diagram_layout_is_clean(flow_nodes, lane_of, sequence_flows, shapes, edges):
    _check_pool_layout(flow_nodes, sequence_flows, shapes, edges, lambda node_id: lane_of[node_id][0])


def test_the_anomaly_pool_lies_below_the_handbook_pool_and_is_clean(
    anomaly_nodes, anomaly_flows, shapes, edges
):
    handbook, anomaly = shapes["Participant_ops_team"], shapes["Participant_metric_anomaly"]
    assert anomaly[1] >= handbook[1] + handbook[3]
    assert anomaly[0] == handbook[0]
    _check_pool_layout(anomaly_nodes, anomaly_flows, shapes, edges, lambda _: "Participant_metric_anomaly")


def _length(points):
    return sum(abs(x2 - x1) + abs(y2 - y1) for (x1, y1), (x2, y2) in pairwise(points))


def test_the_diagram_fits_a_wide_screen_with_short_rework_loops(sequence_flows, shapes, edges):
    """A process owner reads the handbook on one screen: the pools are at most 4,000 px wide (bpmn-js
    shows them at half size on a 1920 px screen, 0.6 on a 2560 px one; they were 6,520), no flow is
    longer than 3,000 px (the longest, iterating from stage 5 back to stage 2; it was 4,700), and the
    rework loops inside a stage stay short."""
    left = min(shapes[p][0] for p in ("Participant_ops_team", "Participant_approval_system"))
    right = max(shapes[p][0] + shapes[p][2] for p in ("Participant_ops_team", "Participant_approval_system"))
    assert right - left <= 4000
    assert max(_length(edges[f]) for f in sequence_flows) <= 3000
    for flow_id in ("Flow_resources_rejected", "Flow_back_to_collect", "Flow_back_to_breakdown",
                    "Flow_plan_rework", "Flow_investment_rejected"):  # fmt: skip
        assert _length(edges[flow_id]) <= 1400, flow_id


def test_the_approval_system_and_monitoring_are_black_box_pools_with_message_flows(doc, shapes, edges):
    handbook, anomaly = shapes["Participant_ops_team"], shapes["Participant_metric_anomaly"]
    approval, monitoring = shapes["Participant_approval_system"], shapes["Participant_monitoring"]
    assert approval[1] + approval[3] <= handbook[1] and monitoring[1] >= anomaly[1] + anomaly[3]
    flows = {
        (m.get("sourceRef"), m.get("targetRef")): m.get("id")
        for m in doc.xpath("//bpmn:collaboration/bpmn:messageFlow", namespaces=NS)
    }
    assert set(flows) == {
        ("Task_await_resource_approval", "Participant_approval_system"),
        ("Participant_approval_system", "Task_await_resource_approval"),
        ("Task_await_investment_approval", "Participant_approval_system"),
        ("Participant_approval_system", "Task_await_investment_approval"),
        ("Participant_monitoring", "StartEvent_metric_anomaly"),
        ("EndEvent_anomaly_handled", "StartEvent_optimization_requested"),
    }
    for (source, target), flow_id in flows.items():
        points = edges[flow_id]
        assert _on_border(points[0], shapes[source]) and _on_border(points[-1], shapes[target]), flow_id
        for (x1, y1), (x2, y2) in pairwise(points):
            assert x1 == x2 or y1 == y2, flow_id


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
        assert ready(wf) == {"Task_propose_strategies"}
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
    assert ready(wf) == {"Task_propose_strategies"}
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


# --------------------------------------------------------------------------- walks: approvals, timers


def test_valid_reference_data_runs_the_happy_path_without_waiting_for_an_approval(spec, subprocess_specs):
    wf = new_workflow(spec, subprocess_specs, **copy.deepcopy(VALID["start_trigger"]))
    done = []
    while ready(wf):
        task_id = sorted(ready(wf))[0]
        complete(wf, task_id, **copy.deepcopy(VALID[USER_TASKS[task_id][2]]))
        done.append(task_id)
        assert not waiting(wf) & set(APPROVALS), done
        assert len(done) < 40
    assert wf.is_completed()
    assert ended_at(wf) == {"EndEvent_optimized"}
    assert "Task_tool_changes" in done  # VALID needs development
    assert not {"Task_chase_resource_approval", "Task_chase_investment_approval"} & set(done)


def to_resource_approval(spec, subprocess_specs):
    wf = new_workflow(spec, subprocess_specs, sandboxed=True)
    kickoff(wf, resources_need_approval=True)
    assert ready(wf) == set()
    assert waiting(wf) == {"Task_await_resource_approval", "Boundary_resource_approval_overdue"}
    return wf


def to_investment_approval(spec, subprocess_specs):
    wf = new_workflow(spec, subprocess_specs, sandboxed=True)
    kickoff(wf)
    diagnosis(wf, "accept")
    design(wf, "approve", investment_needs_approval=True)
    assert ready(wf) == set()
    assert waiting(wf) == {"Task_await_investment_approval", "Boundary_investment_approval_overdue"}
    return wf


def test_approved_resources_go_on_to_diagnosis(spec, subprocess_specs, clock):
    wf = to_resource_approval(spec, subprocess_specs)
    pass_time(wf, clock, timedelta(days=1))
    deliver(wf, "Task_await_resource_approval", approved=True, approval_comment="同意")
    assert ready(wf) == {"Task_collect_data"}
    assert waiting(wf) == set()  # the timer went with the answered approval
    pass_time(wf, clock, timedelta(days=3))
    assert ready(wf) == {"Task_collect_data"}
    [task] = wf.get_tasks(state=TaskState.READY)
    assert task.data["approved"] is True and task.data["approval_comment"] == "同意"


def test_rejected_resources_go_back_to_the_kickoff_meeting(spec, subprocess_specs):
    wf = to_resource_approval(spec, subprocess_specs)
    deliver(wf, "Task_await_resource_approval", approved=False, approval_comment="预算不足,请缩减")
    assert ready(wf) == {"Task_kickoff_meeting"}
    assert waiting(wf) == set()
    # the leader re-plans without the resources that needed approval
    complete(wf, "Task_kickoff_meeting", milestones=MILESTONES, resources_need_approval=False)
    assert ready(wf) == {"Task_collect_data"}
    assert len(finished(wf, "Task_kickoff_meeting")) == 2


def test_an_unanswered_resource_approval_is_chased_after_two_days(spec, subprocess_specs, clock):
    wf = to_resource_approval(spec, subprocess_specs)
    pass_time(wf, clock, timedelta(days=2) - timedelta(minutes=1))
    assert ready(wf) == set()
    pass_time(wf, clock, timedelta(minutes=2))
    assert ready(wf) == {"Task_chase_resource_approval"}
    assert waiting(wf) == {"Task_await_resource_approval"}  # non-interrupting: the approval still waits
    pass_time(wf, clock, timedelta(days=3))
    assert ready(wf) == {"Task_chase_resource_approval"}  # fires once
    deliver(wf, "Task_await_resource_approval", approved=True, approval_comment="同意")
    assert ready(wf) == {"Task_chase_resource_approval", "Task_collect_data"}
    complete(wf, "Task_chase_resource_approval", **copy.deepcopy(VALID["chase_resource_approval"]))
    assert ready(wf) == {"Task_collect_data"}
    assert "EndEvent_resource_chase_done" in ended_at(wf)
    assert not wf.is_completed()


def test_approved_investment_goes_on_to_execution(spec, subprocess_specs):
    wf = to_investment_approval(spec, subprocess_specs)
    deliver(wf, "Task_await_investment_approval", approved=True, approval_comment="同意投入")
    assert ready(wf) == {"Task_pilot", "Task_monitoring"}
    assert waiting(wf) == set()


def test_rejected_investment_goes_back_to_brainstorming(spec, subprocess_specs):
    wf = to_investment_approval(spec, subprocess_specs)
    deliver(wf, "Task_await_investment_approval", approved=False, approval_comment="成本过高")
    assert ready(wf) == {"Task_propose_strategies"}
    design(wf, "approve")
    assert ready(wf) == {"Task_pilot", "Task_monitoring"}
    assert len(finished(wf, "Task_brainstorm")) == 2


@pytest.mark.parametrize(
    "last",
    ["Task_risk_assessment", "Task_resource_assessment", "Task_tech_feasibility"],
)
def test_this_rounds_feasibility_decisions_win_whichever_check_finishes_last(spec, subprocess_specs, last):
    # round 1: no investment approval, no development; the evaluation sends the plan back to design
    wf = new_workflow(spec, subprocess_specs, sandboxed=True)
    kickoff(wf)
    diagnosis(wf, "accept")
    design(wf, "approve")
    execution(wf)
    evaluation(wf, "iterate_design")
    # round 2: both decisions change, and the other checks must not bring back round 1's
    complete(wf, "Task_brainstorm")
    round_two = {
        "Task_resource_assessment": {"investment_needs_approval": True},
        "Task_tech_feasibility": {"needs_development": True},
        "Task_risk_assessment": {},
    }
    for task_id in [*sorted(FEASIBILITY - {last}), last]:
        complete(wf, task_id, **round_two[task_id])
    complete(wf, "Task_plan_review", plan_decision="approve")
    assert waiting(wf) == {"Task_await_investment_approval", "Boundary_investment_approval_overdue"}
    deliver(wf, "Task_await_investment_approval", approved=True)
    assert ready(wf) == {"Task_pilot", "Task_monitoring", "Task_tool_changes"}


def test_an_unanswered_investment_approval_is_chased_after_two_days(spec, subprocess_specs, clock):
    wf = to_investment_approval(spec, subprocess_specs)
    pass_time(wf, clock, timedelta(days=2) - timedelta(minutes=1))
    assert ready(wf) == set()
    pass_time(wf, clock, timedelta(minutes=2))
    assert ready(wf) == {"Task_chase_investment_approval"}
    assert waiting(wf) == {"Task_await_investment_approval"}
    complete(wf, "Task_chase_investment_approval", **copy.deepcopy(VALID["chase_investment_approval"]))
    assert ready(wf) == set()
    assert waiting(wf) == {"Task_await_investment_approval"}
    deliver(wf, "Task_await_investment_approval", approved=True)
    assert ready(wf) == {"Task_pilot", "Task_monitoring"}


def new_anomaly(anomaly_spec, anomaly_subprocess_specs, **payload):
    environment = SandboxedEnvironment()
    wf = BpmnWorkflow(anomaly_spec, anomaly_subprocess_specs, script_engine=PythonScriptEngine(environment))
    decisions, problems = parse_dmn(ANOMALY_RULE.name, ANOMALY_RULE.read_bytes())
    assert problems == []
    attach_decider(wf, TableDecider([d.decision for d in decisions], environment.evaluate))
    wf.do_engine_steps()
    assert waiting(wf) == {"StartEvent_metric_anomaly"}
    deliver(wf, "StartEvent_metric_anomaly", **payload)
    return wf


@pytest.mark.parametrize("periods", [2, 3])
def test_a_metric_anomaly_of_two_or_more_periods_requests_the_handbook(
    anomaly_spec, anomaly_subprocess_specs, periods
):
    wf = new_anomaly(
        anomaly_spec, anomaly_subprocess_specs, metric="注册转化率", consecutive_missed_periods=periods
    )
    # the trigger ends at once, sending optimization_requested with its data (the engine starts the
    # handbook from it: tests/api/test_handbook_integration.py)
    assert wf.is_completed()
    assert ended_at(wf) == {"EndEvent_anomaly_handled"}
    [(name, _)] = [(e.event_definition.name, e.payload) for e in wf.get_events()]
    assert name == "optimization_requested"
    assert wf.data["trigger"] == "metric_anomaly"
    assert wf.data["title"] == f"注册转化率 连续{periods}个周期未达标"
    assert wf.data["description"] == "监控/BI自动触发: 注册转化率"
    # the table advises; the leader still classifies the problem in Task_locate_problem
    hint = "short_term" if periods == 2 else "structural"
    assert wf.data["anomaly_advice"] == {"start_optimization": True, "classification_hint": hint}


@pytest.mark.parametrize("periods", [0, 1])
def test_a_metric_anomaly_of_one_period_ends_below_threshold(anomaly_spec, anomaly_subprocess_specs, periods):
    wf = new_anomaly(
        anomaly_spec, anomaly_subprocess_specs, metric="注册转化率", consecutive_missed_periods=periods
    )
    assert wf.is_completed()
    assert ended_at(wf) == {"EndEvent_below_threshold"}
    assert "trigger" not in wf.data
    assert wf.data["anomaly_advice"] == {"start_optimization": False, "classification_hint": "short_term"}


def test_every_member_of_the_team_proposes_then_the_leader_consolidates(spec, subprocess_specs):
    wf = new_workflow(spec, subprocess_specs)
    kickoff(wf)
    diagnosis(wf, "accept")
    assert ready(wf) == {"Task_propose_strategies"}
    children = propose(wf)
    assert sorted(c.data["member"]["user"] for c in children) == ["ana", "mgr", "ops"]  # the team, at once
    assert ready(wf) == {"Task_brainstorm"}
    [brainstorm] = [t for t in wf.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id != PROPOSE]
    proposed = sorted(p["strategies"][0]["strategy"] for p in brainstorm.data["proposals"])
    assert proposed == ["ana", "mgr", "ops"]
    complete(wf, "Task_brainstorm")
    assert ready(wf) == FEASIBILITY
    assert all("proposals" not in t.data for t in wf.get_tasks(state=TaskState.READY))  # consumed
