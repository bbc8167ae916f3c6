"""POST /engine-rest/message: correlate to a waiting instance, or start a process by its message."""

import pytest

from tests.camunda.conftest import REST, approve, fetch, start, tasks, typed
from tests.helpers.api import Api

MESSAGE = f"{REST}/message"


def waiting_for_payment(rest: Api, business_key: str, **variables: object) -> dict:
    started = start(rest, business_key=business_key, **variables)
    approve(rest, started["id"])
    [task] = fetch(rest)
    rest.call("ivan", "POST", f"{REST}/external-task/{task['id']}/complete", 204, json={"workerId": "w1"})
    return started


def test_a_message_resumes_the_instance_with_the_business_key(rest: Api) -> None:
    waiting_for_payment(rest, "INV-1")
    other = waiting_for_payment(rest, "INV-2")
    body = {
        "messageName": "payment_received",
        "businessKey": "INV-2",
        "processVariables": {"paid_amount": typed(120.5, "Double")},
    }
    rest.call("ivan", "POST", MESSAGE, 204, json=body)
    [book] = tasks(rest, "ada", processInstanceId=other["id"])
    assert book["taskDefinitionKey"] == "Task_book"
    paid = rest.call("ada", "GET", f"{REST}/process-instance/{other['id']}/variables/paid_amount")
    assert paid == {"type": "Double", "value": 120.5, "valueInfo": {}}


def test_with_result_enabled_the_answer_names_the_execution(rest: Api) -> None:
    started = waiting_for_payment(rest, "INV-1")
    body = {"messageName": "payment_received", "businessKey": "INV-1", "resultEnabled": True}
    [result] = rest.call("ivan", "POST", MESSAGE, 200, json=body)
    assert result == {
        "resultType": "Execution",
        "execution": {
            "id": started["id"],
            "processInstanceId": started["id"],
            "ended": False,
            "tenantId": None,
        },
        "processInstance": None,
    }


def test_correlation_keys_select_the_instance_by_its_variables(rest: Api) -> None:
    waiting_for_payment(rest, "SAME", customer="acme")
    globex = waiting_for_payment(rest, "SAME", customer="globex")
    ambiguous = rest.call(
        "ivan", "POST", MESSAGE, 400, json={"messageName": "payment_received", "businessKey": "SAME"}
    )
    assert ambiguous["type"] == "RestException"
    assert ambiguous["message"].startswith("Cannot correlate message 'payment_received': ")
    body = {
        "messageName": "payment_received",
        "correlationKeys": {"customer": typed("globex", "String")},
        "resultEnabled": True,
    }
    [result] = rest.call("ivan", "POST", MESSAGE, 200, json=body)
    assert result["execution"]["processInstanceId"] == globex["id"]


def test_a_message_start_event_starts_its_process(rest: Api) -> None:
    body = {
        "messageName": "invoice_alarm",
        "businessKey": "ALARM-1",
        "resultEnabled": True,
        "processVariables": {"severity": typed("high")},
    }
    [result] = rest.call("ivan", "POST", MESSAGE, 200, json=body)
    assert result["resultType"] == "ProcessDefinition" and result["execution"] is None
    instance = result["processInstance"]
    assert instance["definitionKey"] == "invoice_alarm" and instance["businessKey"] == "ALARM-1"
    assert instance["ended"] is False and instance["links"][0]["rel"] == "self"
    [look] = tasks(rest, "sara", candidateGroup="support")
    assert look["processInstanceId"] == instance["id"]


def test_a_message_nobody_waits_for_is_400(rest: Api) -> None:
    body = rest.call(
        "ivan", "POST", MESSAGE, 400, json={"messageName": "payment_received", "businessKey": "NONE"}
    )
    assert (
        body["type"] == "RestException" and "Cannot correlate message 'payment_received'" in body["message"]
    )


def test_only_integration_accounts_and_admins_send_messages(rest: Api) -> None:
    body = rest.call("lei", "POST", MESSAGE, 403, json={"messageName": "invoice_alarm"})
    assert body["type"] == "AuthorizationException"
    rest.call(None, "POST", MESSAGE, 401, json={"messageName": "invoice_alarm"})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "No message name supplied"),
        ({"messageName": "x", "tenantId": "t", "withoutTenantId": True}, "cannot be used together"),
        ({"messageName": "x", "variablesInResultEnabled": True}, "cannot be used without 'resultEnabled'"),
        ({"messageName": "x", "tenantId": "t"}, "Parameter 'tenantId' is not supported"),
        ({"messageName": "x", "localCorrelationKeys": {"a": {"value": 1}}}, "localCorrelationKeys"),
        (
            {"messageName": "x", "processVariables": {"a": {"value": "AA", "type": "Decimal"}}},
            "Unsupported value type",
        ),
    ],
)
def test_bad_or_unsupported_correlations_are_400_invalid_request(rest: Api, body: dict, message: str) -> None:
    answer = rest.call("ivan", "POST", MESSAGE, 400, json=body)
    assert answer["type"] == "InvalidRequestException" and message in answer["message"]


def test_a_message_goes_to_the_instance_named_by_its_id(rest: Api) -> None:
    first = waiting_for_payment(rest, "ONE")
    second = waiting_for_payment(rest, "TWO")
    body = {
        "messageName": "payment_received",
        "processInstanceId": second["id"],
        "resultEnabled": True,
        "variablesInResultEnabled": True,
        "processVariables": {"paid_amount": typed(99, "Long")},
    }
    [result] = rest.call("ivan", "POST", MESSAGE, 200, json=body)
    assert result["execution"]["processInstanceId"] == second["id"]
    assert result["variables"]["paid_amount"] == {"type": "Long", "value": 99, "valueInfo": {}}
    missing = {"messageName": "payment_received", "processInstanceId": second["id"]}
    assert rest.call("ivan", "POST", MESSAGE, 400, json=missing)["type"] == "RestException"
    assert (
        rest.call("ada", "GET", f"{REST}/process-instance/{first['id']}/variables").get("paid_amount") is None
    )


def test_all_delivers_to_every_instance_waiting(rest: Api) -> None:
    started = [waiting_for_payment(rest, "BATCH") for _ in range(3)]
    waiting_for_payment(rest, "OTHER")
    body = {"messageName": "payment_received", "businessKey": "BATCH", "all": True, "resultEnabled": True}
    results = rest.call("ivan", "POST", MESSAGE, 200, json=body)
    assert sorted(r["execution"]["processInstanceId"] for r in results) == sorted(s["id"] for s in started)
    assert rest.call("ivan", "POST", MESSAGE, 200, json=body) == []
