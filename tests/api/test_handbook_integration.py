"""The handbook with other systems: the approval round trip and the instance a monitoring system
starts by message, over HTTP."""

import copy
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from engine.engine import ProcessEngine
from tests.fixtures.handbook_data import VALID
from tests.helpers.api import Api


@pytest.fixture
def approvals(api: Api, handbook: ProcessEngine) -> Api:
    """`oa`: the company's approval system, an integration account."""
    handbook.identity.create_user("oa", ["integration"])
    api.tokens["oa"] = handbook.identity.issue_token("oa")
    return api


def kickoff_needing_approval(api: Api, business_key: str | None) -> str:
    instance_id = api.start("lei", VALID["start_trigger"], business_key=business_key)["id"]
    for element_id, form in (("Task_locate_problem", "locate_problem"), ("Task_form_team", "form_team")):
        api.complete("lei", api.task_named("lei", element_id, instance_id)["id"], VALID[form])
    minutes = {**copy.deepcopy(VALID["kickoff_minutes"]), "resources_need_approval": True}
    api.complete("lei", api.task_named("lei", "Task_kickoff_meeting", instance_id)["id"], minutes)
    return instance_id


def test_resources_needing_approval_wait_for_the_approval_system_and_a_rejection_sends_the_plan_back(
    approvals: Api,
) -> None:
    api = approvals
    instance_id = kickoff_needing_approval(api, "OPT-APR-1")
    detail = api.instance("lei", instance_id)
    assert detail["open_tasks"] == []  # waiting for the approval system, not for a person
    [requested] = [h for h in detail["history"] if h["type"] == "approval_requested"]
    assert requested["details"]["approval"] == "resources"
    assert requested["details"]["reply_message"] == "approval_decision"
    assert requested["details"]["business_key"] == "OPT-APR-1"

    rejected = api.call(
        "oa",
        "POST",
        "/api/v1/messages",
        json={
            "name": "approval_decision",
            "business_key": "OPT-APR-1",
            "payload": {"approved": False, "approval_comment": "预算不足"},
        },
    )
    assert rejected == {"message": "approval_decision", "instance_id": instance_id, "started": False}
    kickoff = api.task_named("lei", "Task_kickoff_meeting", instance_id)  # the leader re-plans the resources
    minutes = {**copy.deepcopy(VALID["kickoff_minutes"]), "resources_need_approval": True}
    api.complete("lei", kickoff["id"], minutes)

    api.call(
        "oa",
        "POST",
        "/api/v1/messages",
        json={
            "name": "approval_decision",
            "business_key": "OPT-APR-1",
            "payload": {"approved": True},
        },
    )
    api.task_named("dana", "Task_collect_data", instance_id)
    assert api.instance("lei", instance_id)["instance"]["variables"]["approved"] is True


def test_no_answer_in_time_escalates_to_the_leader_while_the_approval_still_waits(
    approvals: Api, handbook: ProcessEngine
) -> None:
    api = approvals
    with time_machine.travel(datetime.now(UTC), tick=True) as clock:
        instance_id = kickoff_needing_approval(api, "OPT-APR-2")
        clock.shift(timedelta(days=2, minutes=1))
        handbook.jobs.run_due_jobs()
        deadline = time.monotonic() + 10
        while not [
            t
            for t in api.inbox("lei", instance=instance_id)
            if t["element_id"] == "Task_chase_resource_approval"
        ]:
            assert time.monotonic() < deadline, "the boundary timer did not escalate"
            time.sleep(0.05)
        chase = api.task_named("lei", "Task_chase_resource_approval", instance_id)
        api.complete("lei", chase["id"], VALID["chase_resource_approval"])
        api.call(
            "oa",
            "POST",
            "/api/v1/messages",
            json={
                "name": "approval_decision",
                "business_key": "OPT-APR-2",
                "payload": {"approved": True},
            },
        )
        api.task_named("dana", "Task_collect_data", instance_id)


def test_a_metric_anomaly_message_from_monitoring_starts_the_handbook(approvals: Api) -> None:
    api = approvals
    started = api.call(
        "oa",
        "POST",
        "/api/v1/messages",
        json={
            "name": "metric_anomaly",
            "business_key": "BI-CVR-2026-11",
            "payload": {"metric": "注册转化率", "consecutive_missed_periods": 3},
        },
    )
    assert started["started"] is True
    anomaly = api.instance("ada", started["instance_id"])
    assert anomaly["instance"]["process_key"] == "ops_metric_anomaly"
    assert anomaly["instance"]["status"] == "completed"
    assert anomaly["instance"]["outcome"] == "optimization_requested"
    [thrown] = [h for h in anomaly["history"] if h["type"] == "message_thrown"]
    assert thrown["details"]["message"] == "optimization_requested"
    # the optimization is an ops_optimization instance of its own: its tasks are the handbook's
    [task] = api.inbox("lei", process="ops_optimization")
    assert task["element_id"] == "Task_locate_problem"
    assert task["instance_id"] == thrown["details"]["started_instance_id"] != started["instance_id"]
    detail = api.call("lei", "GET", f"/api/v1/tasks/{task['id']}")
    assert detail["data"]["trigger"] == "metric_anomaly"
    assert detail["data"]["started_by_instance"] == started["instance_id"]  # the link back
    assert detail["instance"]["business_key"] == "BI-CVR-2026-11"
    assert detail["instance"]["process_key"] == "ops_optimization"
    # the anomaly rule is a decision table (processes/metric_anomaly_rule.dmn): it advises, the leader decides
    advice = {"start_optimization": True, "classification_hint": "structural"}
    assert detail["data"]["anomaly_advice"] == advice
    [decided] = api.call(
        "lei", "GET", "/api/v1/decisions/evaluations", params={"instance_id": started["instance_id"]}
    )
    assert decided["decision_key"] == "metric_anomaly_rule" and decided["element_id"] == "Decide_anomaly_rule"
    assert [r["rule_id"] for r in decided["matched_rules"]] == ["Rule_three_or_more"]


def test_an_anomaly_below_the_rule_does_not_start_an_optimization(approvals: Api) -> None:
    api = approvals
    started = api.call(
        "oa",
        "POST",
        "/api/v1/messages",
        json={
            "name": "metric_anomaly",
            "payload": {"metric": "客单价", "consecutive_missed_periods": 1},
        },
    )
    instance = api.instance("ada", started["instance_id"])["instance"]
    assert instance["status"] == "completed" and instance["outcome"] == "below_threshold"
    assert instance["variables"]["anomaly_advice"]["start_optimization"] is False


def test_a_message_that_matches_nothing_or_several_instances_is_a_clear_4xx(approvals: Api) -> None:
    api = approvals
    assert (
        api.call("oa", "POST", "/api/v1/messages", 404, json={"name": "approval_decision"})["error"]
        == "not_found"
    )
    kickoff_needing_approval(api, "OPT-A")
    kickoff_needing_approval(api, "OPT-B")
    body = api.call("oa", "POST", "/api/v1/messages", 409, json={"name": "approval_decision", "payload": {}})
    assert "matches 2" in body["message"]
    assert api.call("dana", "POST", "/api/v1/messages", 403, json={"name": "approval_decision"})


def test_the_metric_anomaly_process_is_not_offered_nor_started_by_hand(api: Api) -> None:
    definitions = {d["key"]: d for d in api.call("lei", "GET", "/api/v1/process-definitions")}
    assert definitions["ops_optimization"]["startable_by_hand"] is True
    assert definitions["ops_metric_anomaly"]["startable_by_hand"] is False
    answer = api.start("lei", {}, process_key="ops_metric_anomaly", expect=409)
    assert "starts when its start message arrives" in answer["message"]
    assert api.call("lei", "GET", "/api/v1/process-instances")["total"] == 0


def test_the_approval_system_answers_by_instance_id_when_no_business_key_tells_them_apart(
    approvals: Api,
) -> None:
    api = approvals
    first, second = kickoff_needing_approval(api, None), kickoff_needing_approval(api, None)
    answer = {"name": "approval_decision", "payload": {"approved": True}}
    api.call("oa", "POST", "/api/v1/messages", 409, json=answer)  # two wait: never guessed

    replied = api.call("oa", "POST", "/api/v1/messages", json={**answer, "instance_id": second})
    assert replied == {"message": "approval_decision", "instance_id": second, "started": False}
    api.task_named("dana", "Task_collect_data", second)
    assert api.instance("lei", first)["open_tasks"] == []  # the other one still waits

    # an instance that is not waiting (any more) is a 404, and never starts a process
    again = api.call("oa", "POST", "/api/v1/messages", 404, json={**answer, "instance_id": second})
    assert "not waiting for message 'approval_decision'" in again["message"]
    api.call("oa", "POST", "/api/v1/messages", json={**answer, "instance_id": first})
    api.task_named("dana", "Task_collect_data", first)


def test_an_optimization_started_by_hand_does_not_wait_for_the_monitoring_request(approvals: Api) -> None:
    """The handbook has two start events: by hand it begins at the form's, and the message start event
    does not wait on: the request starts a new instance instead of reaching this one."""
    api = approvals
    by_hand = api.start("lei", VALID["start_trigger"])["id"]
    payload = {**VALID["start_trigger"], "title": "由监控系统请求"}
    message = {"name": "optimization_requested", "payload": payload}
    answer = api.call("oa", "POST", "/api/v1/messages", json=message)
    assert answer["started"] is True and answer["instance_id"] != by_hand
    requested = api.instance("lei", answer["instance_id"])
    assert requested["instance"]["process_key"] == "ops_optimization"
    assert [t["element_id"] for t in requested["open_tasks"]] == ["Task_locate_problem"]  # one token
    assert requested["instance"]["variables"]["title"] == "由监控系统请求"
    assert [t["element_id"] for t in api.instance("lei", by_hand)["open_tasks"]] == ["Task_locate_problem"]
