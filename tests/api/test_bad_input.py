"""Bad input gets a clear 4xx naming what is wrong and where, and changes nothing."""

import copy
from pathlib import Path

import pytest

from tests.fixtures.handbook_data import VALID
from tests.helpers.api import Api

HANDBOOK = Path(__file__).resolve().parents[2] / "processes" / "ops_optimization.bpmn"

MINIMAL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs" targetNamespace="http://example.com">
  <bpmn:process id="tiny" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_leader" name="组长 (leader)">
        <bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_a</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Gateway_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_a" name="A">
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="Gateway_1" default="Flow_4">
      <bpmn:incoming>Flow_2</bpmn:incoming><bpmn:outgoing>Flow_3</bpmn:outgoing><bpmn:outgoing>Flow_4</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:endEvent id="EndEvent_1">
      <bpmn:incoming>Flow_3</bpmn:incoming><bpmn:incoming>Flow_4</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_a" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_a" targetRef="Gateway_1" />
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Gateway_1" targetRef="EndEvent_1">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">CONDITION</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_4" sourceRef="Gateway_1" targetRef="EndEvent_1" />
  </bpmn:process>
</bpmn:definitions>
"""


def bpmn(condition: str = "x == 1", **replace: str) -> bytes:
    text = MINIMAL.replace("CONDITION", condition)
    for old, new in replace.items():
        text = text.replace(old, new)
    return text.encode()


def deploy(api: Api, *files: tuple[str, bytes], user: str = "dora", expect: int = 422) -> dict:
    return api.call(
        user,
        "POST",
        "/api/v1/deployments",
        expect,
        files=[("files", (name, content)) for name, content in files],
    )


def versions(api: Api, key: str) -> int:
    response = api.call("dora", "GET", f"/api/v1/process-definitions/{key}/versions", None)
    return len(response) if isinstance(response, list) else 0


def test_a_valid_minimal_process_deploys_and_identical_content_is_not_a_new_version(api: Api) -> None:
    first = deploy(api, ("tiny.bpmn", bpmn()), expect=201)
    assert [(d["key"], d["version"]) for d in first["definitions"]] == [("tiny", 1)]
    again = deploy(api, ("tiny.bpmn", bpmn()), expect=200)
    assert again["definitions"] == [] and again["unchanged"] == ["tiny"]
    changed = deploy(api, ("tiny.bpmn", bpmn("x == 2")), expect=201)
    assert changed["definitions"][0]["version"] == 2


def test_malformed_xml_is_refused_with_its_line(api: Api) -> None:
    broken = bpmn().replace(b"</bpmn:userTask>", b"")
    body = deploy(api, ("broken.bpmn", broken))
    assert body["error"] == "invalid_input"
    [problem] = body["problems"]
    assert problem["file"] == "broken.bpmn"
    assert "XML syntax error" in problem["message"]
    assert problem["line"] > 10
    assert versions(api, "tiny") == 0


def test_an_encoding_the_xml_parser_reads_and_python_cannot_is_refused_with_its_file(api: Api) -> None:
    armenian = bpmn().replace(b'encoding="UTF-8"', b'encoding="ARMSCII-8"')  # libxml2 has it, Python not
    body = deploy(api, ("armenian.bpmn", armenian))
    [problem] = body["problems"]
    assert problem["file"] == "armenian.bpmn" and "cannot read the file as ARMSCII-8" in problem["message"]
    assert versions(api, "tiny") == 0


def test_a_flow_to_a_missing_element_names_the_flow_and_its_line(api: Api) -> None:
    body = deploy(api, ("tiny.bpmn", bpmn(**{'targetRef="EndEvent_1">': 'targetRef="Nowhere">'})))
    [problem] = body["problems"]
    assert problem["element_id"] == "Flow_3"
    assert "Nowhere" in problem["message"]
    assert (
        problem["line"]
        == bpmn()
        .decode()
        .splitlines()
        .index('    <bpmn:sequenceFlow id="Flow_3" sourceRef="Gateway_1" targetRef="EndEvent_1">')
        + 1
    )
    assert versions(api, "tiny") == 0


def test_a_condition_with_a_syntax_error_is_refused(api: Api) -> None:
    body = deploy(api, ("tiny.bpmn", bpmn("amount >")))
    [problem] = body["problems"]
    assert problem["element_id"] == "Flow_3"
    assert "condition" in problem["message"]
    assert problem["line"]


def test_a_user_task_nobody_could_be_offered_deploys_with_a_warning(api: Api) -> None:
    # As in Camunda: such a task is for admins to see and assign (it used to be refused).
    body = deploy(
        api,
        ("tiny.bpmn", bpmn(**{'id="Lane_leader" name="组长 (leader)"': 'id="Lane_x" name="Somebody"'})),
        expect=201,
    )
    [warning] = body["warnings"]
    assert warning["element_id"] == "Task_a"
    assert "nobody is offered this user task" in warning["message"]


def test_an_assignment_expression_that_does_not_compile_is_refused(api: Api) -> None:
    body = deploy(
        api, ("tiny.bpmn", bpmn(**{'name="A">': 'name="A" camunda:candidateUsers="ann, ${owner.}">'}))
    )
    [problem] = body["problems"]
    assert problem["element_id"] == "Task_a"
    assert "camunda:candidateUsers expression '${owner.}' does not compile" in problem["message"]


def test_a_form_reference_to_no_form_is_refused(api: Api) -> None:
    body = deploy(api, ("tiny.bpmn", bpmn(**{'name="A">': 'name="A" camunda:formRef="no_such_form">'})))
    [problem] = body["problems"]
    assert problem["element_id"] == "Task_a"
    assert "no_such_form" in problem["message"]


def test_an_element_the_schema_does_not_allow_is_refused_with_its_line(api: Api) -> None:
    body = deploy(api, ("tiny.bpmn", bpmn(**{"<bpmn:incoming>Flow_1</bpmn:incoming>": "<bpmn:bogus/>"})))
    [problem] = body["problems"]
    assert "bogus" in problem["message"]
    assert problem["line"]


def test_every_problem_of_every_file_is_reported_at_once(api: Api) -> None:
    body = deploy(api, ("a.bpmn", bpmn("amount >")), ("b.bpmn", b"<not-closed>"), ("c.form", b"{\n  oops"))
    assert {p["file"] for p in body["problems"]} == {"a.bpmn", "b.bpmn", "c.form"}
    assert versions(api, "tiny") == 0


def test_only_designers_deploy(api: Api) -> None:
    body = deploy(api, ("tiny.bpmn", bpmn()), user="lei", expect=403)
    assert body["error"] == "forbidden"


def test_a_document_type_declaration_is_refused_before_parsing(api: Api) -> None:
    xxe = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>'
    body = deploy(api, ("evil.bpmn", xxe))
    assert "DOCTYPE" in body["problems"][0]["message"]


# --- form submissions ---------------------------------------------------------------------------


@pytest.fixture
def kickoff(api: Api) -> tuple[str, str]:
    """An instance waiting at the kick-off minutes, with the team formed."""
    instance_id = api.start("lei", VALID["start_trigger"])["id"]
    for element_id, form in (("Task_locate_problem", "locate_problem"), ("Task_form_team", "form_team")):
        task = api.task_named("lei", element_id, instance_id)
        api.complete("lei", task["id"], VALID[form])
    return instance_id, api.task_named("lei", "Task_kickoff_meeting", instance_id)["id"]


def assert_unchanged(api: Api, instance_id: str, task_id: str) -> None:
    detail = api.instance("lei", instance_id)
    assert [t["id"] for t in detail["open_tasks"]] == [task_id]
    assert "meeting_topic" not in detail["instance"]["variables"]
    assert not [h for h in detail["history"] if h["task_id"] == task_id and h["type"] == "task_completed"]


def test_an_unknown_form_field_is_refused(api: Api, kickoff: tuple[str, str]) -> None:
    instance_id, task_id = kickoff
    body = api.complete("lei", task_id, {**VALID["kickoff_minutes"], "salary": 100}, expect=422)
    assert [p["path"] for p in body["problems"]] == ["salary"]
    assert_unchanged(api, instance_id, task_id)


def test_a_wrong_type_is_refused_with_the_field_path(api: Api, kickoff: tuple[str, str]) -> None:
    instance_id, task_id = kickoff
    minutes = copy.deepcopy(VALID["kickoff_minutes"])
    minutes["goal"]["baseline"] = "fifteen"
    body = api.complete("lei", task_id, minutes, expect=422)
    assert [p["path"] for p in body["problems"]] == ["goal.baseline"]
    assert_unchanged(api, instance_id, task_id)


def test_a_missing_required_row_field_is_refused(api: Api, kickoff: tuple[str, str]) -> None:
    instance_id, task_id = kickoff
    minutes = copy.deepcopy(VALID["kickoff_minutes"])
    del minutes["milestones"][1]["due_date"]
    body = api.complete("lei", task_id, minutes, expect=422)
    assert [p["path"] for p in body["problems"]] == ["milestones[1].due_date"]
    assert all(p["message"] for p in body["problems"])
    assert_unchanged(api, instance_id, task_id)


def test_a_team_naming_an_unknown_user_or_a_wrong_role_is_refused(api: Api) -> None:
    instance_id = api.start("lei", VALID["start_trigger"])["id"]
    api.complete(
        "lei", api.task_named("lei", "Task_locate_problem", instance_id)["id"], VALID["locate_problem"]
    )
    task_id = api.task_named("lei", "Task_form_team", instance_id)["id"]
    team = copy.deepcopy(VALID["form_team"])
    team["team"][1]["user"] = "nobody"
    team["team"][2]["user"] = "dana"  # dana is not in the execution role
    body = api.complete("lei", task_id, team, expect=422)
    assert [p["path"] for p in body["problems"]] == ["team[1].user", "team[2].user"]


def test_a_start_without_the_required_trigger_is_refused(api: Api) -> None:
    variables = {k: v for k, v in VALID["start_trigger"].items() if k != "trigger"}
    body = api.start("lei", variables, expect=422)
    assert [p["path"] for p in body["problems"]] == ["trigger"]
    assert api.call("lei", "GET", "/api/v1/process-instances")["total"] == 0


def test_a_request_body_that_is_not_json_is_a_clear_422(api: Api, kickoff: tuple[str, str]) -> None:
    _, task_id = kickoff
    body = api.call(
        "lei",
        "POST",
        f"/api/v1/tasks/{task_id}/complete",
        422,
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert body["error"] == "invalid_input"


def test_an_element_with_an_id_spiffworkflow_uses_itself_deploys(api: Api) -> None:
    # SpiffWorkflow names its own specs Start and End; the parser renames such elements internally.
    body = deploy(api, ("tiny.bpmn", bpmn().replace(b"StartEvent_1", b"Start")), expect=201)
    assert [d["key"] for d in body["definitions"]] == ["tiny"]


def test_the_kickoff_minutes_need_the_total_duration_of_table_2_1(api: Api, kickoff: tuple[str, str]) -> None:
    instance_id, task_id = kickoff
    minutes = copy.deepcopy(VALID["kickoff_minutes"])
    del minutes["total_duration"]
    body = api.complete("lei", task_id, minutes, expect=422)
    assert [p["path"] for p in body["problems"]] == ["total_duration"]
    assert_unchanged(api, instance_id, task_id)


def test_data_collection_states_its_comparison_dimensions(api: Api, kickoff: tuple[str, str]) -> None:
    instance_id, task_id = kickoff
    api.complete("lei", task_id, VALID["kickoff_minutes"])
    collect = api.task_named("dana", "Task_collect_data", instance_id)  # hers: no claim needed
    no_dimensions = {**VALID["collect_data"], "comparison_dimensions": []}
    body = api.complete("dana", collect["id"], no_dimensions, expect=422)
    assert [p["path"] for p in body["problems"]] == ["comparison_dimensions"]
    api.complete("dana", collect["id"], VALID["collect_data"])
