"""GET /engine-rest/process-instance (query by processDefinitionKey, businessKey, ...), /count, /{id},
/{id}/variables and /{id}/variables/{name}."""

from tests.camunda.conftest import REST, start
from tests.helpers.api import Api

INSTANCES = f"{REST}/process-instance"


def test_query_by_definition_key_and_business_key(rest: Api) -> None:
    a = start(rest, business_key="INV-A", amount=10)
    b = start(rest, business_key="INV-B", amount=99)
    found = rest.call("lei", "GET", INSTANCES, params={"processDefinitionKey": "invoice"})
    assert {i["id"] for i in found} == {a["id"], b["id"]}
    assert set(found[0]) == {
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
    [only] = rest.call("lei", "GET", INSTANCES, params={"businessKey": "INV-B"})
    assert only["id"] == b["id"] and only["businessKey"] == "INV-B"
    assert rest.call("lei", "GET", INSTANCES, params={"processDefinitionKey": "other"}) == []
    assert rest.call("lei", "GET", f"{INSTANCES}/count", params={"processDefinitionKey": "invoice"}) == {
        "count": 2
    }


def test_query_filters_by_ids_definition_id_and_variables(rest: Api) -> None:
    a = start(rest, business_key="INV-A", amount=10, customer="acme")
    b = start(rest, business_key="INV-B", amount=99, customer="globex")
    ids = {
        i["id"] for i in rest.call("lei", "GET", INSTANCES, params={"processInstanceIds": f"{a['id']},nope"})
    }
    assert ids == {a["id"]}
    by_definition = rest.call("lei", "GET", INSTANCES, params={"processDefinitionId": a["definitionId"]})
    assert len(by_definition) == 2

    def matching(expression: str) -> set[str]:
        return {i["id"] for i in rest.call("lei", "GET", INSTANCES, params={"variables": expression})}

    assert matching("amount_gt_50") == {b["id"]}
    assert matching("amount_eq_10") == {a["id"]}
    assert matching("customer_eq_acme") == {a["id"]}
    assert matching("customer_like_glo%") == {b["id"]}
    assert matching("customer_neq_acme,amount_lteq_99") == {b["id"]}
    assert matching("missing_eq_1") == set()
    bad = rest.call("lei", "GET", INSTANCES, 400, params={"variables": "amount-is-10"})
    assert bad["type"] == "InvalidRequestException"
    assert rest.call("lei", "GET", INSTANCES, params={"suspended": "true"}) == []


def test_paging_with_first_and_max_results(rest: Api) -> None:
    for n in range(3):
        start(rest, business_key=f"INV-{n}")
    assert len(rest.call("lei", "GET", INSTANCES, params={"firstResult": 1, "maxResults": 1})) == 1
    assert len(rest.call("lei", "GET", INSTANCES, params={"firstResult": 2})) == 1
    assert (
        rest.call("lei", "GET", INSTANCES, 400, params={"maxResults": -1})["type"]
        == "InvalidRequestException"
    )
    assert (
        rest.call("lei", "GET", INSTANCES, 400, params={"firstResult": "x"})["type"]
        == "InvalidRequestException"
    )


def test_only_visible_instances_are_listed(rest: Api) -> None:
    start(rest, business_key="INV-1")
    assert rest.call("ivan", "GET", INSTANCES) == []  # an integration account started none and works none
    assert len(rest.call("ada", "GET", INSTANCES)) == 1


def test_one_instance_and_its_typed_variables(rest: Api) -> None:
    started = start(rest, business_key="INV-1", amount=10, rate=0.5, customer="acme", tags=["a"], paid=False)
    one = rest.call("lei", "GET", f"{INSTANCES}/{started['id']}")
    assert one["id"] == started["id"] and one["definitionId"] == started["definitionId"]
    variables = rest.call("lei", "GET", f"{INSTANCES}/{started['id']}/variables")
    assert {name: v["type"] for name, v in variables.items()} == {
        "amount": "Integer",
        "rate": "Double",
        "customer": "String",
        "tags": "Json",
        "paid": "Boolean",
    }
    amount = rest.call("lei", "GET", f"{INSTANCES}/{started['id']}/variables/amount")
    assert amount == {"type": "Integer", "value": 10, "valueInfo": {}}
    assert rest.call("lei", "GET", f"{INSTANCES}/{started['id']}/variables/tags")["value"] == '["a"]'


def test_missing_instances_and_variables_are_404(rest: Api) -> None:
    started = start(rest)
    missing = rest.call("lei", "GET", f"{INSTANCES}/no-such-id", 404)
    assert missing == {
        "type": "InvalidRequestException",
        "message": "Process instance with id no-such-id does not exist",
        "code": None,
    }
    variable = rest.call("lei", "GET", f"{INSTANCES}/{started['id']}/variables/nope", 404)
    assert variable["message"] == "process instance variable with name nope does not exist"
    rest.call("dana", "GET", f"{INSTANCES}/{started['id']}/variables", 200)  # a candidate of its open task
    rest.call("ivan", "GET", f"{INSTANCES}/{started['id']}/variables", 404)  # not visible to them


def test_binary_data_of_a_variable_is_not_available(rest: Api) -> None:
    started = start(rest, amount=1)
    body = rest.call("lei", "GET", f"{INSTANCES}/{started['id']}/variables/amount/data", 400)
    assert body["message"] == "Value of variable with id amount is not a binary value."
    rest.call("lei", "GET", f"{INSTANCES}/{started['id']}/variables/nope/data", 404)
