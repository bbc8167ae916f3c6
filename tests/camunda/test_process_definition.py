"""POST /engine-rest/process-definition/key/{key}/start."""

from tests.camunda.conftest import REST, typed
from tests.helpers.api import Api

START = f"{REST}/process-definition/key/invoice/start"
INSTANCE_FIELDS = {
    "links",
    "id",
    "definitionId",
    "definitionKey",
    "businessKey",
    "caseInstanceId",
    "ended",
    "suspended",
    "tenantId",
}


def test_a_leader_starts_the_latest_version_and_gets_a_process_instance_dto(rest: Api) -> None:
    body = {"businessKey": "INV-1", "variables": {"amount": typed(120, "Integer"), "note": typed("rush")}}
    started = rest.call("lei", "POST", START, 200, json=body)
    assert set(started) == INSTANCE_FIELDS
    assert started["businessKey"] == "INV-1" and started["definitionKey"] == "invoice"
    assert started["ended"] is False and started["suspended"] is False and started["tenantId"] is None
    assert started["links"] == [
        {"method": "GET", "href": f"http://testserver{REST}/process-instance/{started['id']}", "rel": "self"}
    ]
    variables = rest.call("lei", "GET", f"{REST}/process-instance/{started['id']}/variables")
    assert variables["amount"] == {"type": "Integer", "value": 120, "valueInfo": {}}
    assert variables["note"]["value"] == "rush"


def test_with_variables_in_return_the_answer_carries_typed_variables(rest: Api) -> None:
    body = {"variables": {"order": typed('{"lines": 2}', "Json")}, "withVariablesInReturn": True}
    started = rest.call("lei", "POST", START, 200, json=body)
    assert started["variables"]["order"] == {"type": "Json", "value": '{"lines": 2}', "valueInfo": {}}


def test_an_empty_body_starts_an_instance_too(rest: Api) -> None:
    assert rest.call("lei", "POST", START, 200)["businessKey"] is None


def test_an_unknown_key_is_404_rest_exception(rest: Api) -> None:
    body = rest.call("lei", "POST", f"{REST}/process-definition/key/nope/start", 404, json={})
    assert body == {
        "type": "RestException",
        "message": "No matching process definition with key: nope and no tenant-id",
        "code": None,
    }
    tenant = rest.call(
        "lei", "POST", f"{REST}/process-definition/key/invoice/tenant-id/t1/start", 404, json={}
    )
    assert tenant["message"] == "No matching process definition with key: invoice and tenant-id: t1"


def test_starting_needs_the_leader_admin_or_integration_role(rest: Api) -> None:
    body = rest.call("dana", "POST", START, 403, json={})
    assert body["type"] == "AuthorizationException" and body["userId"] == "dana"
    assert body["missingAuthorizations"][0]["resourceName"] == "ProcessDefinition"
    assert rest.call("ada", "POST", START, 200, json={})["id"]
    assert rest.call("ivan", "POST", START, 200, json={})["id"]  # a system's account


def test_without_credentials_it_is_401_with_a_basic_challenge(rest: Api) -> None:
    response = rest.call(None, "POST", START, 401, json={})
    assert response["type"] == "AuthenticationException"
    raw = rest.client.post(START, json={})
    assert raw.headers["www-authenticate"] == 'Basic realm="opsflow", Bearer'


def test_bad_input_is_400_invalid_request_exception(rest: Api) -> None:
    unsupported = rest.call("lei", "POST", START, 400, json={"variables": {"d": typed("1", "Decimal")}})
    assert unsupported["type"] == "InvalidRequestException" and "Decimal" in unsupported["message"]
    malformed = rest.client.post(
        START,
        content=b"{not json",
        headers={"Authorization": f"Bearer {rest.tokens['lei']}", "Content-Type": "application/json"},
    )
    assert malformed.status_code == 400 and malformed.json()["type"] == "InvalidRequestException"
    wrong_shape = rest.call("lei", "POST", START, 400, json={"variables": {"x": "not an object"}})
    assert wrong_shape["type"] == "InvalidRequestException"
    too_long = rest.call("lei", "POST", START, 400, json={"businessKey": "k" * 201})
    assert too_long["type"] == "InvalidRequestException"
    instructions = rest.call(
        "lei", "POST", START, 400, json={"startInstructions": [{"type": "startBeforeActivity"}]}
    )
    assert "startInstructions" in instructions["message"]


def test_the_native_api_keeps_its_own_error_shape(rest: Api) -> None:
    native = rest.call("dana", "POST", "/api/v1/process-instances", 403, json={"process_key": "invoice"})
    assert set(native) == {"error", "message", "problems"}
