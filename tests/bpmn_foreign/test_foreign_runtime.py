"""Foreign models run as they would in Camunda: event-based gateways and catch events with several
definitions wait for each of their events, and messages that cannot be delivered are refused
with a 4xx (or become an incident), never a 500."""

from datetime import UTC, datetime, timedelta

import time_machine

from engine.engine import ProcessEngine
from tests.bpmn_foreign.conftest import deploy, instance, open_tasks, problems_of, start
from tests.helpers.api import Api


def send(api: Api, name: str, expect: int = 200, **payload: object) -> dict:
    return api.call("ivan", "POST", "/api/v1/messages", expect, json={"name": name, "payload": payload})


def elements(api: Api, instance_id: str) -> list[str]:
    return sorted(t["element_id"] for t in open_tasks(api, instance_id))


def test_an_event_based_gateway_waits_for_its_timer_and_its_message(api: Api, engine: ProcessEngine) -> None:
    deploy(api, "event_gateway.bpmn")
    with time_machine.travel(datetime(2026, 12, 1, 9, tzinfo=UTC), tick=False) as clock:
        paid = start(api, "event_gateway")
        send(api, "paid")
        assert elements(api, paid["id"]) == ["ship"]
        late = start(api, "event_gateway")
        clock.shift(timedelta(minutes=61))
        assert engine.jobs.run_due_jobs() == 1
        assert elements(api, late["id"]) == ["remind"]
        send(api, "paid", expect=404)  # nobody waits any more


def test_a_catch_event_with_a_message_and_a_timer_takes_whichever_comes_first(
    api: Api, engine: ProcessEngine
) -> None:
    deploy(api, "multiple_definitions.bpmn")
    with time_machine.travel(datetime(2026, 12, 1, 9, tzinfo=UTC), tick=False) as clock:
        answered = start(api, "multiple_definitions")
        send(api, "answer", reply="yes")
        assert elements(api, answered["id"]) == ["next"]
        assert instance(api, answered["id"])["variables"]["reply"] == "yes"
        timed_out = start(api, "multiple_definitions")
        clock.shift(timedelta(hours=2, seconds=1))
        assert engine.jobs.run_due_jobs() == 1
        assert elements(api, timed_out["id"]) == ["next"]


def test_a_message_event_that_names_no_message_is_refused_at_deploy(api: Api) -> None:
    [problem] = problems_of(deploy(api, "no_message_ref.bpmn", expect=422))
    assert problem["element_id"] == "wait" and "names no message" in problem["message"]


def test_a_message_without_its_correlation_property_or_with_another_value_is_refused(api: Api) -> None:
    deploy(api, "correlated.bpmn")
    order = start(api, "correlated")
    refused = send(api, "paid", expect=422)
    assert "correlation properties" in refused["message"] and "order_id" in refused["message"]
    send(api, "paid", order_id=7)
    other = send(api, "shipped", expect=409, order_id=8)
    assert "not this instance's" in other["message"]
    send(api, "shipped", order_id=7)
    assert instance(api, order["id"])["status"] == "completed"


def test_a_start_event_with_two_messages_starts_on_either(api: Api) -> None:
    deploy(api, "two_message_start.bpmn")
    by_phone = send(api, "ticket_by_phone", caller="Li")
    by_mail = send(api, "ticket_by_mail")
    assert by_phone["started"] and by_mail["started"]
    assert elements(api, by_phone["instance_id"]) == ["handle"]
    assert instance(api, by_phone["instance_id"])["variables"]["caller"] == "Li"


def test_a_multi_instance_without_its_collection_stops_with_an_incident_naming_it(api: Api) -> None:
    deploy(api, "collection.bpmn")
    started = start(api, "per_item")
    incident = instance(api, started["id"])["incident"]
    assert incident["element_id"] == "check_item"
    assert "input collection 'items'" in incident["message"]
