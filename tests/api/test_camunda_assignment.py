"""A process from Camunda Modeler names the organisation's groups and people, through expressions too:
it deploys before the groups exist (with warnings), the admin creates the groups and their members, and
the right people see and complete the right tasks."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.helpers.api import Api

MODEL = (Path(__file__).parent / "data" / "order_to_cash.bpmn").read_bytes()
PASSWORD = "s3cret-pass"
PEOPLE = {"sam": ["sales"], "sue": ["sales"], "alice": ["accounting"], "rita": []}


def deploy(api: Api, model: bytes = MODEL, expect: int = 201) -> dict:
    return api.call(
        "dora", "POST", "/api/v1/deployments", expect, files={"files": ("order_to_cash.bpmn", model)}
    )


@pytest.fixture
def organisation(api: Api) -> Api:
    """The process deployed first, then the groups and people created by the admin."""
    for group, zh, en in (("accounting", "会计", "Accounting"), ("sales", "销售", "Sales")):
        api.call("ada", "POST", "/api/v1/groups", 201, json={"id": group, "name_zh": zh, "name_en": en})
    for name, groups in PEOPLE.items():
        api.call(
            "ada", "POST", "/api/v1/users", 201, json={"name": name, "groups": groups, "password": PASSWORD}
        )
        api.tokens[name] = api.call(
            None, "POST", "/api/v1/session", json={"name": name, "password": PASSWORD}
        )["token"]
    return api


def start(api: Api, user: str, expect: int = 201) -> dict:
    return api.call(user, "POST", "/api/v1/process-instances", expect, json={"process_key": "order_to_cash"})


def test_a_model_naming_groups_that_do_not_exist_yet_deploys_with_warnings(api: Api) -> None:
    deployed = deploy(api)
    assert [d["key"] for d in deployed["definitions"]] == ["order_to_cash"]
    warnings = {w["element_id"]: w for w in deployed["warnings"]}
    assert set(warnings) == {"Task_check_invoice"}  # the others name people through expressions
    assert "group accounting does not exist yet" in warnings["Task_check_invoice"]["message"]
    assert (
        warnings["Task_check_invoice"]["line"] == 13
        and warnings["Task_check_invoice"]["file"] == "order_to_cash.bpmn"
    )

    api.call("ada", "POST", "/api/v1/groups", 201, json={"id": "accounting"})
    empty = deploy(api, MODEL.replace(b'name="Order to cash"', b'name="Order to cash 2"'))
    assert "group accounting has no members yet" in empty["warnings"][0]["message"]


def test_the_right_people_see_and_complete_the_right_tasks(organisation: Api) -> None:
    api = organisation
    deploy(api)
    start(api, "alice", 403)  # only sales starts it (camunda:candidateStarterGroups)
    start(api, "lei", 403)
    instance = start(api, "sam")

    [entry] = api.inbox("sam", instance=instance["id"])  # ${initiator}: the starter's own task
    assert (entry["element_id"], entry["assignee"]) == ("Task_enter_order", "sam")
    assert api.inbox("sue", instance=instance["id"]) == []
    api.complete("sue", entry["id"], {}, expect=404)
    api.complete("sam", entry["id"], {"reviewers": ["rita"], "invoice_due": "2030-01-31"})

    [check] = api.inbox("alice", instance=instance["id"])
    assert check["element_id"] == "Task_check_invoice" and check["candidate_groups"] == ["accounting"]
    assert check["due_at"].startswith("2030-02-01T00:00:00")  # by the end of the day named
    assert api.inbox("sam", instance=instance["id"]) == []
    api.claim("sam", check["id"], expect=403)  # sam started the instance and sees it, but is no accountant
    api.complete("alice", check["id"], {})

    [confirm] = api.inbox("rita", instance=instance["id"])  # named by the ${reviewers} variable
    assert confirm["candidate_users"] == ["rita"] and confirm["candidate_groups"] == ["sales"]
    assert [t["id"] for t in api.inbox("sue", instance=instance["id"])] == [confirm["id"]]
    api.complete("sue", confirm["id"], {})
    assert api.instance("sam", instance["id"])["instance"]["status"] == "completed"


def test_an_expression_that_fails_is_an_incident_never_a_name(organisation: Api) -> None:
    api = organisation
    deploy(api)
    instance = start(api, "sam")
    [entry] = api.inbox("sam", instance=instance["id"])
    api.complete("sam", entry["id"], {"reviewers": ["rita"]})  # no invoice_due: ${invoice_due} fails

    detail = api.instance("ada", instance["id"])
    assert detail["instance"]["incident"]["element_id"] == "Task_check_invoice"
    assert (
        "camunda:dueDate expression ${invoice_due} could not be evaluated"
        in detail["instance"]["incident"]["message"]
    )
    assert detail["open_tasks"] == [] and api.inbox("alice", instance=instance["id"]) == []

    due = datetime(2030, 3, 1, 12, tzinfo=UTC).isoformat()
    api.call(
        "ada",
        "POST",
        f"/api/v1/process-instances/{instance['id']}/retry",
        json={"variables": {"invoice_due": due}},
    )
    [check] = api.inbox("alice", instance=instance["id"])
    assert check["element_id"] == "Task_check_invoice" and check["due_at"].startswith("2030-03-01T12:00:00")
    assert api.instance("ada", instance["id"])["instance"]["incident"] is None


def test_an_expression_that_gives_no_name_is_an_incident(organisation: Api) -> None:
    api = organisation
    deploy(api)
    instance = start(api, "sam")
    [entry] = api.inbox("sam", instance=instance["id"])
    api.complete("sam", entry["id"], {"reviewers": 42, "invoice_due": "P3D"})
    api.complete("alice", api.inbox("alice", instance=instance["id"])[0]["id"], {})

    incident = api.instance("ada", instance["id"])["instance"]["incident"]
    assert incident["element_id"] == "Task_confirm"
    assert "camunda:candidateUsers '${reviewers}' gave 42" in incident["message"]
