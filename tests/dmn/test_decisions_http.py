"""Decisions over HTTP: deploying .dmn beside BPMN (versions, located errors), a business rule task
deciding inside a running process (with its history), and evaluating a decision directly through the
native API and Camunda's REST shape."""

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from pycamunda.decisiondef import Evaluate, Get, GetList

from api.main import create_app
from engine.config import Settings
from engine.engine import ProcessEngine
from tests.dmn.tables import table_xml
from tests.helpers.api import Api
from tests.helpers.server import live_server

DATA = Path(__file__).parent / "data"
DISH = (DATA / "dish.dmn").read_bytes()
DINNER = (DATA / "dinner.bpmn").read_bytes()


def deploy(api: Api, *files: tuple[str, bytes], expect: int | None = 201) -> dict:
    return api.call(
        "dora", "POST", "/api/v1/deployments", expect, files=[("files", (n, c)) for n, c in files]
    )


def dinner(**attributes: str) -> bytes:
    """The dinner process with other (or more) camunda:* attributes on its business rule task."""
    xml = DINNER.decode()
    for name, value in attributes.items():
        old = f'camunda:{name}="'
        if old not in xml:
            xml = xml.replace('camunda:decisionRef="dish"', f'camunda:decisionRef="dish" {old}{value}"')
            continue
        start = xml.index(old)
        end = xml.index('"', start + len(old))
        xml = xml[:start] + f'{old}{value}"' + xml[end + 1 :]
    return xml.encode()


def start_dinner(api: Api, **variables: object) -> dict:
    return api.start("lei", variables, process_key="dinner")


def decision_keys(api: Api) -> set[str]:
    return {d["key"] for d in api.call("dora", "GET", "/api/v1/decisions")}


def evaluations(api: Api, instance_id: str, user: str = "lei") -> list[dict]:
    return api.call(user, "GET", "/api/v1/decisions/evaluations", params={"instance_id": instance_id})


# --- deploy -----------------------------------------------------------------------------------


def test_a_decision_deploys_beside_a_process_and_is_versioned_by_its_id(api: Api) -> None:
    first = deploy(api, ("dish.dmn", DISH), ("dinner.bpmn", DINNER))
    assert [(d["key"], d["version"], d["hit_policy"]) for d in first["decisions"]] == [("dish", 1, "UNIQUE")]
    assert [d["key"] for d in first["definitions"]] == ["dinner"]

    again = deploy(api, ("dish.dmn", DISH), expect=200)
    assert again["decisions"] == [] and again["unchanged"] == ["dish"]

    changed = deploy(api, ("dish.dmn", DISH.replace(b'"Stew"', b'"Pasta"')))
    assert [(d["key"], d["version"]) for d in changed["decisions"]] == [("dish", 2)]

    versions = api.call("dora", "GET", "/api/v1/decisions/dish/versions")
    assert [v["version"] for v in versions] == [2, 1]
    latest = {d["key"]: d["version"] for d in api.call("lei", "GET", "/api/v1/decisions")}
    assert latest["dish"] == 2  # beside the handbook's own decision
    first_xml = api.call("dora", "GET", "/api/v1/decisions/dish/xml", params={"version": 1}).text
    assert '"Stew"' in first_xml and '"Pasta"' not in first_xml
    api.call("dora", "GET", "/api/v1/decisions/nothing/versions", 404)


def test_a_broken_table_is_refused_with_file_line_and_element(api: Api) -> None:
    broken = table_xml([(["< < 10"], ['"small"'])], hit_policy="SOMETIMES")
    body = deploy(api, ("broken.dmn", broken), ("dinner.bpmn", DINNER), expect=422)
    assert body["error"] == "invalid_input"
    found = {p["element_id"]: p for p in body["problems"]}
    assert set(found) == {"DecisionTable_decision", "UnaryTests_1_1"}
    assert "unknown hit policy 'SOMETIMES'" in found["DecisionTable_decision"]["message"]
    assert "input entry '< < 10' does not parse" in found["UnaryTests_1_1"]["message"]
    lines = broken.decode().splitlines()
    for problem in body["problems"]:
        assert problem["file"] == "broken.dmn"
        assert problem["element_id"] in lines[problem["line"] - 1]
    assert decision_keys(api) == {
        "metric_anomaly_rule"
    }  # the handbook's: nothing of the deployment was stored


def test_a_business_rule_task_without_a_decision_reference_is_refused(api: Api) -> None:
    body = deploy(api, ("dinner.bpmn", DINNER.replace(b'camunda:decisionRef="dish" ', b"")), expect=422)
    [problem] = body["problems"]
    assert problem["element_id"] == "Decide_dish"
    assert "camunda:decisionRef" in problem["message"]
    mapping = deploy(api, ("dinner.bpmn", dinner(mapDecisionResult="firstOnly")), expect=422)
    assert "camunda:mapDecisionResult 'firstOnly' is unknown" in mapping["problems"][0]["message"]


def test_validate_reports_decision_problems_without_storing(api: Api) -> None:
    files = [("files", ("dish.dmn", DISH.replace(b"hitPolicy", b"x")))]
    assert api.call("dora", "POST", "/api/v1/deployments/validate", files=files) == []
    files = [("files", ("dish.dmn", DISH.replace(b"<text>season</text>", b"<text>season +</text>")))]
    [problem] = api.call("dora", "POST", "/api/v1/deployments/validate", files=files)
    assert problem["element_id"] == "Input_season"
    assert decision_keys(api) == {"metric_anomaly_rule"}


# --- the business rule task -------------------------------------------------------------------


def test_a_business_rule_task_decides_and_its_history_shows_the_matched_rule(api: Api) -> None:
    deploy(api, ("dish.dmn", DISH), ("dinner.bpmn", DINNER))
    instance = start_dinner(api, season="Spring", guestCount=6)
    assert instance["status"] == "running"
    assert instance["variables"]["dish"] == "Steak"
    [task] = api.call("lei", "GET", "/api/v1/tasks", params={"instance": instance["id"]})["items"]
    assert task["element_id"] == "Task_cook"

    [evaluation] = evaluations(api, instance["id"])
    assert evaluation["decision_key"] == "dish" and evaluation["decision_version"] == 1
    assert evaluation["decision_name"] == "Dish"
    assert evaluation["element_id"] == "Decide_dish" and evaluation["task_id"]
    assert evaluation["inputs"] == {"Season": "Spring", "How many guests": 6}
    assert evaluation["matched_rules"] == [
        {"rule_id": "Rule_spring_party", "index": 4, "outputs": {"desiredDish": "Steak"}}
    ]
    assert evaluation["result"] == [{"desiredDish": "Steak"}]
    # strangers to the instance see neither it nor its decisions
    api.call("eric", "GET", "/api/v1/decisions/evaluations", 404, params={"instance_id": instance["id"]})


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [
        ("singleEntry", "Stew"),
        ("singleResult", {"desiredDish": "Stew"}),
        ("collectEntries", ["Stew"]),
        ("resultList", [{"desiredDish": "Stew"}]),
    ],
)
def test_the_result_mapping_decides_what_the_result_variable_holds(api: Api, mapping: str, expected) -> None:
    deploy(api, ("dish.dmn", DISH), ("dinner.bpmn", dinner(mapDecisionResult=mapping)))
    assert start_dinner(api, season="Winter", guestCount=20)["variables"]["dish"] == expected


def test_latest_binding_takes_the_newest_version_and_version_binding_the_pinned_one(api: Api) -> None:
    deploy(api, ("dish.dmn", DISH), ("dinner.bpmn", DINNER))
    deploy(api, ("dish.dmn", DISH.replace(b'"Stew"', b'"Pasta"')))
    assert start_dinner(api, season="Fall", guestCount=12)["variables"]["dish"] == "Pasta"
    deploy(api, ("dinner.bpmn", dinner(decisionRefBinding="version", decisionRefVersion="1")))
    instance = start_dinner(api, season="Fall", guestCount=12)
    assert instance["variables"]["dish"] == "Stew"
    assert evaluations(api, instance["id"])[0]["decision_version"] == 1


def test_deployment_binding_takes_the_version_deployed_with_the_process(api: Api) -> None:
    deploy(api, ("dish.dmn", DISH), ("dinner.bpmn", dinner(decisionRefBinding="deployment")))
    deploy(api, ("dish.dmn", DISH.replace(b'"Stew"', b'"Pasta"')))
    assert start_dinner(api, season="Fall", guestCount=12)["variables"]["dish"] == "Stew"


def test_no_matching_rule_is_an_incident_showing_the_inputs_and_a_retry_resolves_it(api: Api) -> None:
    deploy(api, ("dish.dmn", DISH), ("dinner.bpmn", DINNER))
    instance = start_dinner(api, season="Monsoon", guestCount=3)
    assert instance["status"] == "running"
    incident = instance["incident"]
    assert incident["element_id"] == "Decide_dish"
    assert "no rule matches" in incident["message"]
    assert "Season = 'Monsoon'" in incident["message"] and "How many guests = 3" in incident["message"]
    assert evaluations(api, instance["id"]) == []

    retried = api.call(
        "ada",
        "POST",
        f"/api/v1/process-instances/{instance['id']}/retry",
        json={"variables": {"season": "Summer"}},
    )
    assert retried["incident"] is None
    assert retried["variables"]["dish"] == "Light Salad and a nice Steak"


def test_a_missing_decision_is_an_incident_naming_it(api: Api) -> None:
    deploy(api, ("dinner.bpmn", DINNER))
    instance = start_dinner(api, season="Fall", guestCount=3)
    assert "decision dish is not deployed" in instance["incident"]["message"]


# --- evaluating directly ----------------------------------------------------------------------


def test_the_native_api_evaluates_a_decision_and_refuses_inputs_with_no_answer(api: Api) -> None:
    deploy(api, ("dish.dmn", DISH))
    body = api.call(
        "eric",
        "POST",
        "/api/v1/decisions/dish/evaluate",
        json={"variables": {"season": "Fall", "guestCount": 2}},
    )
    assert body["result"] == [{"desiredDish": "Spareribs"}]
    assert body["matched_rules"][0]["rule_id"] == "Rule_fall"
    assert body["instance_id"] is None
    refused = api.call("eric", "POST", "/api/v1/decisions/dish/evaluate", 422, json={"variables": {}})
    assert "no rule matches" in refused["message"] and "Season = None" in refused["message"]
    api.call("eric", "POST", "/api/v1/decisions/nothing/evaluate", 404, json={"variables": {}})
    api.call("eric", "POST", "/api/v1/decisions/dish/evaluate", 422, json={"variables": {}, "extra": 1})


def test_camunda_rest_evaluates_with_camundas_exact_request_and_result_shape(api: Api) -> None:
    deploy(api, ("dish.dmn", DISH))
    body = {
        "variables": {
            "season": {"value": "Spring", "type": "String", "valueInfo": {}},
            "guestCount": {"value": 3, "type": "Integer", "valueInfo": {}},
        }
    }
    result = api.call("lei", "POST", "/engine-rest/decision-definition/key/dish/evaluate", json=body)
    assert result == [{"desiredDish": {"type": "String", "value": "Dry Aged Gourmet Steak", "valueInfo": {}}}]

    missing = api.call("lei", "POST", "/engine-rest/decision-definition/key/nothing/evaluate", 404, json=body)
    assert missing == {
        "type": "RestException",
        "message": "No matching decision definition with key: nothing and no tenant-id",
        "code": None,
    }
    bad = api.call("lei", "POST", "/engine-rest/decision-definition/key/dish/evaluate", 400, json={})
    assert bad["type"] == "InvalidRequestException" and "no rule matches" in bad["message"]


@pytest.fixture
def camunda_url(api: Api, engine: ProcessEngine, settings: Settings) -> Iterator[str]:
    deploy(api, ("dish.dmn", DISH))
    deploy(api, ("dish.dmn", DISH.replace(b'"Stew"', b'"Pasta"')))
    with live_server(create_app(settings.model_copy(update={"run_worker": False}), engine=engine)) as base:
        yield f"{base}/engine-rest"


def test_the_unmodified_pycamunda_client_lists_reads_and_evaluates_decisions(
    camunda_url: str, api: Api
) -> None:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {api.tokens['lei']}"

    def send(request):
        request.session = session
        return request()

    listed = send(GetList(camunda_url, key="dish", latest_version=True))
    assert [(d.key, d.version, d.resource) for d in listed] == [("dish", 2, "dish.dmn")]
    assert [d.version for d in send(GetList(camunda_url, key="dish"))] == [2, 1]
    latest = send(Get(camunda_url, key="dish"))
    assert (latest.name, latest.version) == ("Dish", 2)

    evaluate = Evaluate(camunda_url, key="dish")
    evaluate.add_variable("season", "Winter", "String")
    evaluate.add_variable("guestCount", 10, "Integer")
    [row] = send(evaluate)
    assert row["desiredDish"].value == "Pasta" and row["desiredDish"].type_ == "String"

    by_id = Evaluate(camunda_url, id_=send(GetList(camunda_url, key="dish"))[1].id_)
    by_id.add_variable("season", "Winter")
    by_id.add_variable("guestCount", 10)
    assert send(by_id)[0]["desiredDish"].value == "Stew"
