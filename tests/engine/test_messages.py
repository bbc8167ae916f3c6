"""Messages resume the one instance waiting for them, or start a process; never a guess."""

import pytest

from engine.errors import Conflict, NotFound
from tests.engine.conftest import ADMIN


def test_a_message_resumes_the_instance_with_its_business_key_and_its_payload_becomes_data(
    engine, deployed
) -> None:
    deployed("messages")
    first = engine.runtime.start_process_instance_by_key("approval", principal=ADMIN, business_key="A-1")
    engine.runtime.start_process_instance_by_key("approval", principal=ADMIN, business_key="A-2")
    history = engine.runtime.get_instance(first.id, principal=ADMIN).history
    requested = [h for h in history if h.type == "approval_requested"]
    assert (
        requested[0].details["approval"] == "budget"
        and requested[0].details["reply_message"] == "approval_decision"
    )

    with pytest.raises(Conflict, match="matches 2 waiting instances"):
        engine.runtime.correlate_message("approval_decision", principal=ADMIN, payload={"approved": True})

    result = engine.runtime.correlate_message(
        "approval_decision",
        principal=ADMIN,
        business_key="A-1",
        payload={"approved": True, "approval_comment": "ok"},
    )
    assert result.instance_id == first.id and not result.started
    detail = engine.runtime.get_instance(first.id, principal=ADMIN)
    assert [t.element_id for t in detail.open_tasks] == ["Task_after"]
    assert detail.instance.variables["approved"] is True

    with pytest.raises(NotFound, match="no instance waits"):
        engine.runtime.correlate_message("approval_decision", principal=ADMIN, business_key="A-1")


def test_correlation_keys_match_process_variables(engine, deployed) -> None:
    deployed("messages")
    a = engine.runtime.start_process_instance_by_key("approval", principal=ADMIN, variables={"request_no": 7})
    engine.runtime.start_process_instance_by_key("approval", principal=ADMIN, variables={"request_no": 8})
    result = engine.runtime.correlate_message(
        "approval_decision", principal=ADMIN, correlation_keys={"request_no": 7}
    )
    assert result.instance_id == a.id


def test_a_message_start_event_starts_a_new_instance_with_the_payload(engine, deployed) -> None:
    deployed("messages")
    result = engine.runtime.correlate_message(
        "alarm", principal=ADMIN, business_key="ALARM-1", payload={"metric": "conversion"}
    )
    assert result.started
    detail = engine.runtime.get_instance(result.instance_id, principal=ADMIN)
    assert detail.instance.process_key == "alarm_handling"
    assert detail.instance.business_key == "ALARM-1"
    assert [t.element_id for t in detail.open_tasks] == ["Task_look"]
    assert detail.instance.variables["metric"] == "conversion"


def test_a_message_nothing_waits_for_is_refused(engine, deployed) -> None:
    deployed("messages")
    with pytest.raises(NotFound):
        engine.runtime.correlate_message("no_such_message", principal=ADMIN)
