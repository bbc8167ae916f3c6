"""Each step's answers in variables of their own: a deployment whose forms let two steps bind the same
process variable is deployed with a warning at the second step (each would open with the other's answer),
unless the process declares the variable shared; a form reused through input/output parameters keeps
each task's answer apart."""

import json
from pathlib import Path

from tests.bpmn_foreign.conftest import complete, open_tasks, start
from tests.helpers.api import Api

NOTE_FORM = {
    "type": "default",
    "schemaVersion": 16,
    "components": [
        {"type": "textarea", "id": "Field_note", "key": "note", "label": "Note"},
        {
            "type": "group",
            "id": "Group_result",
            "path": "result",
            "components": [{"type": "number", "id": "Field_score", "key": "score", "label": "Score"}],
        },
    ],
}


def form(form_id: str, **changes: object) -> tuple[str, bytes]:
    return f"{form_id}.form", json.dumps({**NOTE_FORM, "id": form_id, **changes}).encode()


def process(*tasks: str, shared: str | None = None) -> tuple[str, bytes]:
    """A process `steps` of user tasks in a row; each task is `<id>:<form>` or `<id>:<form>:<io xml>`."""
    nodes, previous = [], "s"
    for i, task in enumerate(tasks):
        element_id, form_id, *io = task.split(":", 2)
        extension = f"<bpmn:extensionElements>{io[0]}</bpmn:extensionElements>" if io else ""
        nodes.append(
            f'<bpmn:sequenceFlow id="f{i}" sourceRef="{previous}" targetRef="{element_id}" />\n'
            f'<bpmn:userTask id="{element_id}" camunda:formRef="{form_id}" camunda:candidateGroups="data">'
            f"{extension}</bpmn:userTask>"
        )
        previous = element_id
    declared = (
        "<bpmn:extensionElements><camunda:properties>"
        f'<camunda:property name="sharedVariables" value="{shared}" />'
        "</camunda:properties></bpmn:extensionElements>"
        if shared is not None
        else ""
    )
    xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="steps" isExecutable="true">
    {declared}
    <bpmn:startEvent id="s" />
    {"".join(nodes)}
    <bpmn:sequenceFlow id="f_end" sourceRef="{previous}" targetRef="e" />
    <bpmn:endEvent id="e" />
  </bpmn:process>
</bpmn:definitions>"""
    return "steps.bpmn", xml.encode()


def deploy(api: Api, *files: tuple[str, bytes], expect: int = 201) -> dict:
    return api.call("dora", "POST", "/api/v1/deployments", expect, files=[("files", file) for file in files])


def test_two_forms_binding_one_variable_deploy_with_a_warning_at_the_second_step(api: Api) -> None:
    result = deploy(
        api, form("pilot"), form("roll_out"), process("pilot_task:pilot", "roll_out_task:roll_out")
    )
    assert [d["key"] for d in result["definitions"]] == ["steps"]  # a warning, not a refusal
    by_variable = {w["message"].split("variable '")[1].split("'")[0]: w for w in result["warnings"]}
    assert sorted(by_variable) == ["note", "result"]  # a group binds its path
    warning = by_variable["note"]
    assert warning["element_id"] == "roll_out_task" and warning["file"] == "steps.bpmn" and warning["line"]
    assert "pilot_task (form pilot) and roll_out_task (form roll_out) both bind" in warning["message"]
    assert "declare 'note' shared on the process (extension property sharedVariables)" in warning["message"]


def test_one_form_on_two_tasks_is_two_steps_binding_the_same_variables(api: Api) -> None:
    result = deploy(api, form("chase"), process("chase_first:chase", "chase_again:chase"))
    assert {w["element_id"] for w in result["warnings"]} == {"chase_again"}
    assert len(result["warnings"]) == 2


def test_variables_the_process_declares_shared_are_not_reported(api: Api) -> None:
    files = (form("kickoff"), form("measure"))
    result = deploy(api, *files, process("kick:kickoff", "measure_it:measure", shared="note, result"))
    assert result["warnings"] == []
    partly = deploy(api, *files, process("kick:kickoff", "measure_it:measure", shared="result"))
    assert [w["element_id"] for w in partly["warnings"]] == ["measure_it"]
    assert "variable 'note'" in partly["warnings"][0]["message"]


def test_forms_deployed_before_are_checked_when_only_the_process_is_deployed(api: Api) -> None:
    deploy(api, form("pilot"), form("roll_out", components=NOTE_FORM["components"][:1]))
    result = deploy(api, process("pilot_task:pilot", "roll_out_task:roll_out"))
    assert [w["element_id"] for w in result["warnings"]] == ["roll_out_task"]
    assert "variable 'note'" in result["warnings"][0]["message"]


def test_a_form_reused_through_input_and_output_parameters_keeps_each_task_s_answer_apart(api: Api) -> None:
    def mapped(to: str) -> str:
        return (
            '<camunda:inputOutput><camunda:inputParameter name="note"></camunda:inputParameter>'
            f'<camunda:inputParameter name="result">${{{{"score": None}}}}</camunda:inputParameter>'
            f'<camunda:outputParameter name="{to}_note">${{note}}</camunda:outputParameter>'
            f'<camunda:outputParameter name="{to}_score">${{result["score"]}}</camunda:outputParameter>'
            "</camunda:inputOutput>"
        )

    result = deploy(
        api, form("chase"), process(f"first:chase:{mapped('first')}", f"again:chase:{mapped('again')}")
    )
    assert result["warnings"] == []

    started = start(api, "steps")
    [first] = open_tasks(api, started["id"])
    complete(api, first, note="phoned the approver", result={"score": 3})
    [again] = open_tasks(api, started["id"])
    opened = api.call("ada", "GET", f"/api/v1/tasks/{again['id']}")
    assert opened["data"]["note"] == "" and opened["data"]["result"] == {"score": None}
    assert opened["data"]["first_note"] == "phoned the approver" and opened["data"]["first_score"] == 3
    complete(api, again, note="mailed", result={"score": 5})
    variables = api.instance("ada", started["id"])["instance"]["variables"]
    assert (variables["first_note"], variables["again_note"]) == ("phoned the approver", "mailed")
    assert "note" not in variables and "result" not in variables  # the task's own, gone with it


REPO = Path(__file__).resolve().parents[2]


def handbook_files(bpmn: bytes) -> list[tuple[str, bytes]]:
    forms = [(path.name, path.read_bytes()) for path in sorted((REPO / "forms").glob("*.form"))]
    rules = [(path.name, path.read_bytes()) for path in sorted((REPO / "processes").glob("*.dmn"))]
    return [("ops_optimization.bpmn", bpmn), *forms, *rules]


def step_data_warnings(result: dict) -> list[dict]:
    return [w for w in result["warnings"] if "bind the variable" in w["message"]]


def test_the_handbook_keeps_each_step_s_answers_apart_and_declares_what_it_shares(api: Api) -> None:
    bpmn = (REPO / "processes" / "ops_optimization.bpmn").read_bytes()
    declared = b'<camunda:property name="sharedVariables" value="team, goal, milestones, iteration_count" />'
    assert bpmn.count(declared) == 1
    assert step_data_warnings(deploy(api, *handbook_files(bpmn))) == []

    # without the declaration, the goal (set at kick-off, shown read-only when the effect is measured)
    undeclared = bpmn.replace(
        declared, b'<camunda:property name="sharedVariables" value="team, milestones, iteration_count" />'
    )
    [goal] = step_data_warnings(deploy(api, *handbook_files(undeclared)))
    assert goal["element_id"] == "Task_measure_effect" and "variable 'goal'" in goal["message"]
    assert (
        "Task_kickoff_meeting (form kickoff_minutes) and Task_measure_effect (form measure_effect)"
        in goal["message"]
    )


def test_the_iteration_count_two_steps_keep_by_output_parameters_is_declared_shared(api: Api) -> None:
    bpmn = (REPO / "processes" / "ops_optimization.bpmn").read_bytes()
    undeclared = bpmn.replace(b"milestones, iteration_count", b"milestones")
    [count] = step_data_warnings(deploy(api, *handbook_files(undeclared)))
    assert (
        count["element_id"] == "Task_evaluation_decision" and "variable 'iteration_count'" in count["message"]
    )
