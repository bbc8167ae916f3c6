"""GET /engine-rest/task (candidateGroup, candidateUser, assignee, processInstanceId, ...), /count, /{id},
/{id}/form-variables; POST /{id}/claim, /unclaim, /complete."""

from tests.camunda.conftest import REST, approve, fetch, start, tasks, typed
from tests.helpers.api import Api

TASK_FIELDS = {
    "id",
    "name",
    "assignee",
    "created",
    "due",
    "followUp",
    "lastUpdated",
    "delegationState",
    "description",
    "executionId",
    "owner",
    "parentTaskId",
    "priority",
    "processDefinitionId",
    "processInstanceId",
    "taskDefinitionKey",
    "caseExecutionId",
    "caseInstanceId",
    "caseDefinitionId",
    "suspended",
    "formKey",
    "camundaFormRef",
    "tenantId",
    "taskState",
}


def approve_task(rest: Api, instance_id: str) -> dict:
    [task] = tasks(rest, "ada", processInstanceId=instance_id)
    return task


def test_a_task_from_camunda_bpmn_is_offered_to_its_candidate_group(rest: Api) -> None:
    started = start(rest, business_key="INV-1")
    [task] = tasks(rest, "dana", candidateGroup="data")
    assert set(task) == TASK_FIELDS
    assert task["taskDefinitionKey"] == "Task_approve" and task["name"] == "Approve the invoice"
    assert (
        task["processInstanceId"] == started["id"] and task["processDefinitionId"] == started["definitionId"]
    )
    assert task["assignee"] is None and task["description"] == "Check the amount and approve."
    assert task["camundaFormRef"] == {"key": "approve_invoice", "binding": "latest", "version": None}
    assert task["created"].endswith("+0000") and len(task["created"]) == len("2024-01-31T09:30:00.000+0000")
    assert tasks(rest, "dana", candidateGroup="support") == []
    assert tasks(rest, "eric", candidateGroup="data") == []  # eric may not see it
    assert [t["id"] for t in tasks(rest, "ada", candidateUser="dana")] == [task["id"]]  # through dana's role
    assert tasks(rest, "ada", processInstanceBusinessKey="INV-1")[0]["id"] == task["id"]
    assert rest.call("ada", "GET", f"{REST}/task/count", params={"candidateGroup": "data"}) == {"count": 1}


def test_claiming_moves_the_task_from_the_group_to_the_assignee(rest: Api) -> None:
    started = start(rest)
    task = approve_task(rest, started["id"])
    rest.call("dana", "POST", f"{REST}/task/{task['id']}/claim", 204, json={"userId": "dana"})
    assert tasks(rest, "dana", candidateGroup="data") == []
    assert [t["id"] for t in tasks(rest, "dana", candidateGroup="data", includeAssignedTasks="true")] == [
        task["id"]
    ]
    [mine] = tasks(rest, "dana", assignee="dana")
    assert mine["assignee"] == "dana" and mine["lastUpdated"] is not None
    assert (
        tasks(rest, "ada", assigned="true")[0]["id"] == task["id"]
        and tasks(rest, "ada", unassigned="true") == []
    )
    rest.call(
        "dana", "POST", f"{REST}/task/{task['id']}/claim", 204, json={"userId": "dana"}
    )  # again: no change
    rest.call("dana", "POST", f"{REST}/task/{task['id']}/unclaim", 204)
    rest.call("dana", "POST", f"{REST}/task/{task['id']}/unclaim", 204)  # already unassigned: no change
    assert tasks(rest, "dana", candidateGroup="data")[0]["assignee"] is None


def test_a_task_claimed_by_someone_else_cannot_be_claimed(rest: Api, engine) -> None:
    engine.identity.create_user("dina", ["data"])
    rest.tokens["dina"] = engine.identity.issue_token("dina")
    task = approve_task(rest, start(rest)["id"])
    rest.call("dana", "POST", f"{REST}/task/{task['id']}/claim", 204, json={"userId": "dana"})
    taken = rest.call("dina", "POST", f"{REST}/task/{task['id']}/claim", 400, json={"userId": "dina"})
    assert taken["type"] == "TaskAlreadyClaimedException" and "dana" in taken["message"]
    refused = rest.call("dina", "POST", f"{REST}/task/{task['id']}/unclaim", 403)
    assert refused["type"] == "AuthorizationException"
    not_offered = rest.call("eric", "POST", f"{REST}/task/{task['id']}/claim", 403, json={"userId": "eric"})
    assert not_offered["type"] == "AuthorizationException" and not_offered["userId"] == "eric"
    missing = rest.call("eric", "POST", f"{REST}/task/no-such-task/claim", 404, json={})
    assert missing["type"] == "InvalidRequestException"


def test_a_leader_or_admin_claims_for_a_candidate(rest: Api) -> None:
    task = approve_task(rest, start(rest)["id"])
    rest.call("ada", "POST", f"{REST}/task/{task['id']}/claim", 204, json={"userId": "dana"})
    assert tasks(rest, "dana", assignee="dana")[0]["id"] == task["id"]
    again = rest.call("ada", "POST", f"{REST}/task/{task['id']}/claim", 400, json={"userId": "eric"})
    assert again["type"] == "TaskAlreadyClaimedException"


def test_completing_validates_the_form_and_moves_the_process_on(rest: Api) -> None:
    started = start(rest)
    task = approve_task(rest, started["id"])
    url = f"{REST}/task/{task['id']}/complete"
    invalid = rest.call("dana", "POST", url, 400, json={"variables": {"amount": typed(-5, "Integer")}})
    assert invalid["type"] == "InvalidRequestException" and "amount" in invalid["message"]
    body = {
        "variables": {"amount": typed(80, "Long"), "approved": typed(True, "Boolean")},
        "withVariablesInReturn": True,
    }
    variables = rest.call("dana", "POST", url, 200, json=body)
    assert variables["amount"] == {"type": "Long", "value": 80, "valueInfo": {}}  # as it was sent
    assert variables["approved"]["value"] is True
    assert tasks(rest, "ada", processInstanceId=started["id"]) == []  # now at the external task
    closed = rest.call("dana", "POST", url, 400, json={})
    assert closed["type"] == "RestException" and "not open" in closed["message"]
    assert (
        rest.call("dana", "POST", f"{REST}/task/nope/complete", 404, json={})["type"]
        == "InvalidRequestException"
    )


def test_completing_someone_elses_task_is_forbidden(rest: Api) -> None:
    task = approve_task(rest, start(rest)["id"])
    rest.call("dana", "POST", f"{REST}/task/{task['id']}/claim", 204, json={"userId": "dana"})
    body = rest.call("ada", "POST", f"{REST}/task/{task['id']}/complete", 403, json={})
    assert body["type"] == "AuthorizationException"


def test_assignee_and_candidate_user_tasks_from_camunda_bpmn(rest: Api) -> None:
    started = start(rest, business_key="INV-9")
    approve(rest, started["id"])
    [locked] = fetch(rest)
    rest.call(
        "ivan",
        "POST",
        f"{REST}/external-task/{locked['id']}/bpmnError",
        204,
        json={"workerId": "w1", "errorCode": "ARCHIVE_DOWN"},
    )
    [by_hand] = tasks(rest, "sara", candidateUser="sara")  # camunda:candidateUsers="sara"
    assert by_hand["taskDefinitionKey"] == "Task_archive_by_hand"
    assert tasks(rest, "dana", candidateUser="sara") == []

    other = start(rest, business_key="INV-10")
    approve(rest, other["id"])
    [locked] = fetch(rest)
    rest.call("ivan", "POST", f"{REST}/external-task/{locked['id']}/complete", 204, json={"workerId": "w1"})
    rest.call(
        "ivan",
        "POST",
        f"{REST}/message",
        204,
        json={"messageName": "payment_received", "businessKey": "INV-10"},
    )
    [book] = tasks(rest, "eric", assignee="eric")  # camunda:assignee="eric"
    assert book["taskDefinitionKey"] == "Task_book" and book["assignee"] == "eric"
    rest.call("eric", "POST", f"{REST}/task/{book['id']}/complete", 204, json={})
    assert rest.call("lei", "GET", f"{REST}/process-instance/{other['id']}", 404)  # completed: not running


def test_one_task_and_its_form_variables(rest: Api) -> None:
    started = start(rest, amount=5, customer="acme")
    task = approve_task(rest, started["id"])
    one = rest.call("dana", "GET", f"{REST}/task/{task['id']}")
    assert one == task
    form = rest.call("dana", "GET", f"{REST}/task/{task['id']}/form-variables")
    assert form == {
        "amount": {"type": "Integer", "value": 5, "valueInfo": {}},
        "customer": {"type": "String", "value": "acme", "valueInfo": {}},
    }
    narrowed = rest.call(
        "dana", "GET", f"{REST}/task/{task['id']}/form-variables", params={"variableNames": "amount"}
    )
    assert list(narrowed) == ["amount"]
    assert rest.call("dana", "GET", f"{REST}/task/nope", 404)["message"] == "No matching task with id nope"
    assert rest.call("eric", "GET", f"{REST}/task/{task['id']}/form-variables", 404)["type"] == (
        "InvalidRequestException"
    )


def test_query_parameters_are_checked(rest: Api) -> None:
    both = rest.call("ada", "GET", f"{REST}/task", 400, params={"assigned": "true", "unassigned": "true"})
    assert both["type"] == "InvalidRequestException"
    assert rest.call("ada", "GET", f"{REST}/task", 400, params={"maxResults": "many"})["type"] == (
        "InvalidRequestException"
    )
    for n in range(3):
        start(rest, business_key=f"P-{n}")
    page = rest.call("ada", "GET", f"{REST}/task", params={"firstResult": 1, "maxResults": 5})
    assert len(page) == 2
