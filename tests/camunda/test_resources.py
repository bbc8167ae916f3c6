"""The rest of /engine-rest an integrator uses: deployments as Camunda Modeler posts them, definitions,
task variables and identity links, external task operations, deleting instances, activity instances,
history, incidents, jobs, users and groups, the engine's name and version, and signals (refused)."""

from tests.camunda.conftest import DATA, REST, approve, fetch, start, tasks, typed
from tests.helpers.api import Api


def test_camunda_modelers_deploy_creates_a_version(rest: Api) -> None:
    bpmn = (DATA / "invoice.bpmn").read_bytes().replace(b'name="Invoice"', b'name="Invoice v2"')
    form = {
        "deployment-name": "from the modeler",
        "deployment-source": "Camunda Modeler",
        "enable-duplicate-filtering": "true",
    }
    files = {"invoice.bpmn": ("invoice.bpmn", bpmn, "application/octet-stream")}
    created = rest.call("ada", "POST", f"{REST}/deployment/create", data=form, files=files)
    assert created["name"] == "from the modeler" and created["source"] == "Camunda Modeler"
    [definition] = [d for d in created["deployedProcessDefinitions"].values() if d["key"] == "invoice"]
    assert definition["version"] == 2 and definition["name"] == "Invoice v2"
    assert rest.call("ada", "GET", f"{REST}/deployment/{created['id']}")["id"] == created["id"]
    listed = rest.call(
        "ada", "GET", f"{REST}/deployment", params={"sortBy": "deploymentTime", "sortOrder": "desc"}
    )
    assert listed[0]["id"] == created["id"]
    again = rest.call("ada", "POST", f"{REST}/deployment/create", data=form, files=files)
    assert again["deployedProcessDefinitions"] == {} and again["id"] == created["id"]
    refused = rest.call("dana", "POST", f"{REST}/deployment/create", 403, data=form, files=files)
    assert refused["type"] == "AuthorizationException"
    empty = rest.call("ada", "POST", f"{REST}/deployment/create", 400, data=form, files={})
    assert empty["type"] == "InvalidRequestException"


def test_definitions_by_id_and_key_with_their_xml_and_start_form(rest: Api) -> None:
    latest = rest.call("lei", "GET", f"{REST}/process-definition/key/invoice")
    assert latest["key"] == "invoice" and latest["version"] == 1
    listed = rest.call(
        "lei",
        "GET",
        f"{REST}/process-definition",
        params={"latestVersion": "true", "sortBy": "key", "sortOrder": "asc"},
    )
    assert [d["key"] for d in listed] == sorted(d["key"] for d in listed) and latest["id"] in [
        d["id"] for d in listed
    ]
    assert rest.call("lei", "GET", f"{REST}/process-definition/count", params={"key": "invoice"}) == {
        "count": 1
    }
    assert rest.call("lei", "GET", f"{REST}/process-definition/{latest['id']}")["id"] == latest["id"]
    xml = rest.call("lei", "GET", f"{REST}/process-definition/{latest['id']}/xml")
    assert xml["id"] == latest["id"] and '<bpmn:process id="invoice"' in xml["bpmn20Xml"]
    assert (
        rest.call("lei", "GET", f"{REST}/process-definition/key/invoice/xml")["bpmn20Xml"] == xml["bpmn20Xml"]
    )
    assert rest.call("lei", "GET", f"{REST}/process-definition/key/invoice/startForm")["key"] is None
    assert rest.call("lei", "GET", f"{REST}/process-definition/{latest['id']}/form-variables") == {}
    started = rest.call(
        "lei", "POST", f"{REST}/process-definition/{latest['id']}/start", json={"businessKey": "B-1"}
    )
    assert started["definitionId"] == latest["id"] and started["businessKey"] == "B-1"
    submitted = rest.call("lei", "POST", f"{REST}/process-definition/key/invoice/submit-form", json={})
    assert submitted["definitionKey"] == "invoice"
    missing = rest.call("lei", "GET", f"{REST}/process-definition/nope", 404)
    assert missing["type"] == "InvalidRequestException"


def test_task_variables_identity_links_and_assignee(rest: Api) -> None:
    started = start(rest)
    [task] = tasks(rest, processInstanceId=started["id"])
    url = f"{REST}/task/{task['id']}"
    links = rest.call("dana", "GET", f"{url}/identity-links")
    assert {"userId": None, "groupId": "data", "type": "candidate"} in links
    file = typed("aGVsbG8=", "File", filename="hello.txt", mimeType="text/plain", encoding="UTF-8")
    rest.call("dana", "POST", f"{url}/variables", 204, json={"modifications": {"scan": file}})
    assert rest.call("dana", "GET", f"{url}/variables/scan") == {
        **file,
        "valueInfo": file["valueInfo"],
        "type": "File",
    }
    data = rest.client.get(
        f"{url}/variables/scan/data", headers={"Authorization": f"Bearer {rest.tokens['dana']}"}
    )
    assert (
        data.status_code == 200
        and data.content == b"hello"
        and data.headers["content-type"].startswith("text/plain")
    )
    instance_vars = rest.call("lei", "GET", f"{REST}/process-instance/{started['id']}/variables")
    assert instance_vars["scan"]["type"] == "File"
    assert rest.call("dana", "GET", f"{url}/localVariables") == {}
    local = rest.call("dana", "POST", f"{url}/localVariables", 400, json={"modifications": {"x": typed(1)}})
    assert "not supported" in local["message"]
    rest.call("lei", "POST", f"{url}/assignee", 204, json={"userId": "dana"})
    assert tasks(rest, assignee="dana")[0]["id"] == task["id"]
    assert {"userId": "dana", "groupId": None, "type": "assignee"} in rest.call(
        "dana", "GET", f"{url}/identity-links"
    )
    rest.call("lei", "POST", f"{url}/assignee", 204, json={"userId": None})
    report = rest.call("ada", "GET", f"{REST}/task/report/candidate-group-count")
    assert {"groupName": "data", "taskCount": 1} in report
    rest.call(
        "dana",
        "POST",
        f"{url}/submit-form",
        204,
        json={"variables": {"amount": typed(10, "Long"), "approved": typed(True, "Boolean")}},
    )
    assert tasks(rest, processInstanceId=started["id"]) == []


def test_external_tasks_are_listed_unlocked_and_given_retries(rest: Api) -> None:
    started = start(rest)
    approve(rest, started["id"])
    [locked] = fetch(rest)
    [listed] = rest.call(
        "ivan", "GET", f"{REST}/external-task", params={"topicName": "archive", "locked": "true"}
    )
    assert listed["id"] == locked["id"] and listed["workerId"] == "w1"
    assert rest.call("ivan", "GET", f"{REST}/external-task/count", params={"notLocked": "true"}) == {
        "count": 0
    }
    assert rest.call("ivan", "GET", f"{REST}/external-task/topic-names") == ["archive"]
    rest.call("ivan", "POST", f"{REST}/external-task/{locked['id']}/unlock", 204)
    assert rest.call("ivan", "GET", f"{REST}/external-task/{locked['id']}")["workerId"] is None
    [again] = fetch(rest, worker="w2")
    failure = {"workerId": "w2", "errorMessage": "archive down", "retries": 0, "retryTimeout": 0}
    rest.call("ivan", "POST", f"{REST}/external-task/{again['id']}/failure", 204, json=failure)
    [incident] = rest.call("ivan", "GET", f"{REST}/incident", params={"processInstanceId": started["id"]})
    assert incident["incidentType"] == "failedExternalTask" and incident["incidentMessage"] == "archive down"
    rest.call("ivan", "PUT", f"{REST}/external-task/{again['id']}/retries", 204, json={"retries": 2})
    assert rest.call("ivan", "GET", f"{REST}/incident/count") == {"count": 0}
    assert len(fetch(rest, worker="w3")) == 1
    refused = rest.call("dana", "GET", f"{REST}/external-task", 403)
    assert refused["type"] == "AuthorizationException"


def test_deleting_an_instance_cancels_it_and_history_keeps_it(rest: Api) -> None:
    started = start(rest, business_key="DEL-1")
    tree = rest.call("lei", "GET", f"{REST}/process-instance/{started['id']}/activity-instances")
    assert tree["activityType"] == "processDefinition"
    assert [c["activityId"] for c in tree["childActivityInstances"]] == ["Task_approve"]
    rest.call(
        "lei", "DELETE", f"{REST}/process-instance/{started['id']}", 204, params={"deleteReason": "duplicate"}
    )
    assert (
        rest.call("lei", "GET", f"{REST}/process-instance/{started['id']}", 404)["type"]
        == "InvalidRequestException"
    )
    [historic] = rest.call(
        "lei", "GET", f"{REST}/history/process-instance", params={"processInstanceBusinessKeyLike": "DEL-%"}
    )
    assert historic["state"] == "EXTERNALLY_TERMINATED" and historic["endTime"] is not None
    assert rest.call("lei", "GET", f"{REST}/history/process-instance/count", params={"finished": "true"}) == {
        "count": 1
    }
    rest.call(
        "lei", "DELETE", f"{REST}/process-instance/{started['id']}", 204, params={"failIfNotExists": "false"}
    )


def test_history_of_tasks_activities_and_variables(rest: Api) -> None:
    started = start(rest, customer="acme")
    approve(rest, started["id"])
    [task] = rest.call("lei", "GET", f"{REST}/history/task", params={"processInstanceId": started["id"]})
    assert task["taskDefinitionKey"] == "Task_approve" and task["assignee"] == "dana"
    assert task["endTime"] is not None and task["deleteReason"] == "completed"
    assert rest.call("lei", "GET", f"{REST}/history/task/count", params={"unfinished": "true"}) == {
        "count": 0
    }
    [activity] = rest.call(
        "lei", "GET", f"{REST}/history/activity-instance", params={"processInstanceId": started["id"]}
    )
    assert activity["activityId"] == "Task_approve" and activity["activityType"] == "userTask"
    variables = rest.call(
        "lei", "GET", f"{REST}/history/variable-instance", params={"processInstanceId": started["id"]}
    )
    by_name = {v["name"]: v for v in variables}
    assert by_name["amount"]["type"] == "Integer" and by_name["customer"]["value"] == "acme"
    running = rest.call("lei", "GET", f"{REST}/variable-instance", params={"variableName": "customer"})
    assert [v["processInstanceId"] for v in running] == [started["id"]]
    body = rest.call(
        "lei", "POST", f"{REST}/history/process-instance", json={"processInstanceId": started["id"]}
    )
    assert body[0]["state"] == "ACTIVE" and body[0]["processDefinitionKey"] == "invoice"


def test_users_groups_jobs_engine_version_and_signals(rest: Api) -> None:
    users = rest.call("lei", "GET", f"{REST}/user", params={"memberOfGroup": "data"})
    assert [u["id"] for u in users] == ["dana"]
    assert rest.call("lei", "GET", f"{REST}/user/dana/profile")["id"] == "dana"
    groups = rest.call("lei", "GET", f"{REST}/group", params={"member": "dana"})
    assert [g["id"] for g in groups] == ["data"] and groups[0]["type"] == "WORKFLOW"
    assert rest.call("lei", "GET", f"{REST}/group/data")["id"] == "data"
    assert rest.call("lei", "GET", f"{REST}/group/count", params={"id": "data"}) == {"count": 1}
    assert rest.call("lei", "GET", f"{REST}/engine") == [{"name": "default"}]
    assert rest.call("lei", "GET", f"{REST}/version")["version"].startswith("7.")
    start(rest)
    assert isinstance(rest.call("ada", "GET", f"{REST}/job"), list)
    assert rest.call("lei", "GET", f"{REST}/job", 403)["type"] == "AuthorizationException"
    signal = rest.call("ivan", "POST", f"{REST}/signal", 400, json={"name": "alarm"})
    assert signal["type"] == "InvalidRequestException" and "Signals are not supported" in signal["message"]
