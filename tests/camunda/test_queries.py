"""Camunda's query parameters on /task and /process-instance: the filters integrators use, sorting
(sortBy/sortOrder, `sorting` in bodies), POST query bodies and counts, and a 400 naming whatever is
not supported. Storage matters here (SQL filters on JSON variables): both databases."""

import pytest

from tests.camunda.conftest import REST, approve, start, tasks, typed
from tests.helpers.api import Api


def three_instances(rest: Api) -> list[dict]:
    return [
        start(rest, business_key=key, customer=customer, amount=amount)
        for key, customer, amount in (
            ("INV-10", "acme", 300),
            ("INV-11", "globex", 50),
            ("PO-12", "acme", 120),
        )
    ]


def test_task_filters_select_what_camunda_would(rest: Api) -> None:
    first, second, third = three_instances(rest)
    ids = ",".join([first["id"], third["id"]])
    assert {t["processInstanceId"] for t in tasks(rest, processInstanceIdIn=ids)} == {
        first["id"],
        third["id"],
    }
    assert len(tasks(rest, taskDefinitionKeyIn="Task_approve,Task_book")) == 3
    assert tasks(rest, taskDefinitionKeyIn="Task_book") == []
    assert len(tasks(rest, processDefinitionKeyIn="invoice,other")) == 3
    assert len(tasks(rest, nameLike="Approve%")) == 3
    assert tasks(rest, nameLike="Book%") == []
    assert len(tasks(rest, candidateGroups="data,execution")) == 3
    assert tasks(rest, candidateGroups="execution") == []
    assert len(tasks(rest, dueBefore="2099-01-01T00:00:00.000+0000")) == 0  # no due dates in this process
    acme = tasks(rest, processVariables="customer_eq_acme")
    assert {t["processInstanceId"] for t in acme} == {first["id"], third["id"]}
    big = tasks(rest, processVariables="amount_gt_100")
    assert {t["processInstanceId"] for t in big} == {first["id"], third["id"]}
    [task] = tasks(rest, processInstanceId=second["id"])
    rest.call("dana", "POST", f"{REST}/task/{task['id']}/claim", 204, json={})
    assert [t["id"] for t in tasks(rest, assigneeIn="dana,nobody")] == [task["id"]]


def test_tasks_sort_by_camundas_keys_and_an_unknown_key_is_400(rest: Api) -> None:
    three_instances(rest)
    created = [t["id"] for t in tasks(rest, sortBy="created", sortOrder="asc")]
    assert [t["id"] for t in tasks(rest, sortBy="created", sortOrder="desc")] == list(reversed(created))
    unknown = rest.call("ada", "GET", f"{REST}/task", 400, params={"sortBy": "colour", "sortOrder": "asc"})
    assert unknown == {
        "type": "InvalidRequestException",
        "message": "Cannot set query parameter 'sortBy' to value 'colour'",
        "code": None,
    }
    known_not_ours = rest.call(
        "ada", "GET", f"{REST}/task", 400, params={"sortBy": "priority", "sortOrder": "asc"}
    )
    assert "priority" in known_not_ours["message"]
    half = rest.call("ada", "GET", f"{REST}/task", 400, params={"sortBy": "created"})
    assert "sortOrder" in half["message"]


def test_a_task_query_body_with_sorting_and_paging(rest: Api) -> None:
    first, _, third = three_instances(rest)
    body = {
        "processVariables": [{"name": "customer", "operator": "eq", "value": "acme"}],
        "sorting": [{"sortBy": "created", "sortOrder": "desc"}],
    }
    found = rest.call("ada", "POST", f"{REST}/task", json=body)
    assert [t["processInstanceId"] for t in found] == [third["id"], first["id"]]
    paged = rest.call("ada", "POST", f"{REST}/task", params={"firstResult": 1, "maxResults": 5}, json=body)
    assert [t["processInstanceId"] for t in paged] == [first["id"]]
    assert rest.call("ada", "POST", f"{REST}/task/count", json=body) == {"count": 2}
    assert rest.call("ada", "POST", f"{REST}/task/count", json={}) == {"count": 3}


def test_the_same_query_with_other_values_or_by_someone_else_answers_for_them(rest: Api) -> None:
    first, second, _ = three_instances(rest)
    for instance in (first, second, first):  # one shape of query, asked three times with other values
        [task] = tasks(rest, "dana", processInstanceId=instance["id"])
        assert task["processInstanceId"] == instance["id"]
    assert tasks(rest, "eric", processInstanceId=first["id"]) == []  # not offered to execution
    assert len(tasks(rest, "dana", processVariables="amount_gt_100")) == 2
    assert len(tasks(rest, "dana", processVariables="amount_gt_200")) == 1
    assert len(tasks(rest, "dana", candidateUser="dana")) == 3
    assert tasks(rest, "dana", candidateUser="eric") == []


def test_a_page_and_the_count_agree_wherever_the_page_ends(rest: Api) -> None:
    three_instances(rest)
    every = [t["id"] for t in tasks(rest, sortBy="created", sortOrder="asc")]
    pages = [
        [t["id"] for t in tasks(rest, sortBy="created", sortOrder="asc", firstResult=i, maxResults=2)]
        for i in (0, 2, 4)
    ]
    assert pages == [every[:2], every[2:], []]
    assert rest.call("ada", "GET", f"{REST}/task/count") == {"count": 3}
    assert rest.call("ada", "GET", f"{REST}/task/count", params={"nameLike": "Book%"}) == {"count": 0}


@pytest.mark.parametrize(
    "params",
    [
        {"followUpBefore": "2024-01-01T00:00:00.000+0000"},
        {"tenantIdIn": "t1"},
        {"withoutCandidateGroups": "true"},
    ],
)
def test_a_filter_opsflow_does_not_support_is_400_naming_it(rest: Api, params: dict) -> None:
    answer = rest.call("ada", "GET", f"{REST}/task", 400, params=params)
    assert answer["type"] == "InvalidRequestException" and next(iter(params)) in answer["message"]
    body = rest.call("ada", "POST", f"{REST}/task", 400, json=params)
    assert next(iter(params)) in body["message"]


def test_defaults_that_filter_nothing_are_accepted(rest: Api) -> None:
    three_instances(rest)
    assert len(tasks(rest, withoutTenantId="false", active="true", deserializeValues="true")) == 3


def test_process_instance_filters(rest: Api) -> None:
    first, second, third = three_instances(rest)
    instances = f"{REST}/process-instance"

    def ids(**params: object) -> set[str]:
        return {i["id"] for i in rest.call("ada", "GET", instances, params=params)}

    assert ids(businessKeyLike="INV-%") == {first["id"], second["id"]}
    assert ids(processDefinitionKeyIn="invoice,x") == {first["id"], second["id"], third["id"]}
    assert ids(activityIdIn="Task_approve") == {first["id"], second["id"], third["id"]}
    approve(rest, second["id"])
    assert ids(activityIdIn="Task_archive") == {second["id"]}
    assert ids(withIncident="true") == set()
    assert ids(variables="customer_eq_acme,amount_lt_200") == {third["id"]}
    body = {"businessKeyLike": "%-1%", "sorting": [{"sortBy": "businessKey", "sortOrder": "desc"}]}
    ordered = rest.call("ada", "POST", instances, json=body)
    assert [i["businessKey"] for i in ordered] == ["PO-12", "INV-11", "INV-10"]
    assert rest.call("ada", "POST", f"{instances}/count", json=body) == {"count": 3}
    refused = rest.call("ada", "GET", instances, 400, params={"sortBy": "startTime", "sortOrder": "asc"})
    assert refused["message"] == "Cannot set query parameter 'sortBy' to value 'startTime'"
    unsupported = rest.call("ada", "GET", instances, 400, params={"superProcessInstance": "x"})
    assert "superProcessInstance" in unsupported["message"]


def test_process_instance_variables_are_set_read_and_deleted(rest: Api) -> None:
    started = start(rest, customer="acme")
    url = f"{REST}/process-instance/{started['id']}/variables"
    body = {
        "modifications": {
            "total": typed(2**40, "Long"),
            "due": typed("2024-03-01T00:00:00.000+0100", "Date"),
        },
        "deletions": ["customer"],
    }
    rest.call("lei", "POST", url, 204, json=body)
    variables = rest.call("lei", "GET", url)
    assert "customer" not in variables
    assert variables["total"] == {"type": "Long", "value": 2**40, "valueInfo": {}}
    assert variables["due"] == {"type": "Date", "value": "2024-03-01T00:00:00.000+0100", "valueInfo": {}}
    rest.call("lei", "PUT", f"{url}/small", 204, json={"value": 3, "type": "Short"})
    assert rest.call("lei", "GET", f"{url}/small") == {"type": "Short", "value": 3, "valueInfo": {}}
    rest.call("lei", "DELETE", f"{url}/small", 204)
    assert rest.call("lei", "GET", f"{url}/small", 404)["type"] == "InvalidRequestException"
    refused = rest.call("dana", "POST", url, 403, json=body)
    assert refused["type"] == "AuthorizationException"
