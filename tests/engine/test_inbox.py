"""The inbox's fast path (the offer index) answers exactly what the general query answers."""

from pathlib import Path

import pytest

from tests.engine.conftest import ADMIN

STEPS = Path(__file__).resolve().parents[1] / "scale" / "three_steps.bpmn"


@pytest.mark.parametrize("scope", ["mine", "offered", "all"])
@pytest.mark.parametrize("sort", ["created", "-created"])
def test_the_offer_index_agrees_with_the_general_query(engine, scope: str, sort: str) -> None:
    engine.repository.deploy([("three_steps.bpmn", STEPS.read_bytes())])
    engine.identity.create_user("dana", ["data"])
    engine.identity.create_user("dan", ["data", "execution"])
    dana = engine.identity.authenticate(engine.identity.issue_token("dana"))
    dan = engine.identity.authenticate(engine.identity.issue_token("dan"))
    for i in range(9):
        engine.runtime.start_process_instance_by_key("three_steps", principal=ADMIN, business_key=f"I-{i}")
    offered = engine.tasks.inbox(principal=dana, scope="offered", sort="created").items
    engine.tasks.claim(offered[0].id, principal=dana)
    engine.tasks.claim(offered[4].id, principal=dan)
    engine.tasks.complete(offered[7].id, {}, principal=dana)  # its next task is offered anew

    for who in (dana, dan):
        for offset, limit in ((0, 50), (0, 3), (2, 3), (7, 5), (20, 5)):
            fast = engine.tasks.inbox(principal=who, scope=scope, sort=sort, offset=offset, limit=limit)
            general = engine.tasks.inbox(  # a filter that changes nothing takes the general query
                principal=who, scope=scope, sort=sort, offset=offset, limit=limit, overdue=False
            )
            assert (fast.total, fast.items) == (general.total, general.items)  # every field alike
    # nine tasks, two claimed, one completed and followed by the instance's next task
    assert engine.tasks.inbox(principal=dana, scope="offered").total == 7
    assert engine.tasks.inbox(principal=dana, scope="all").total == 8
    engine.tasks.unclaim(offered[0].id, principal=dana)
    assert engine.tasks.inbox(principal=dana, scope="offered").total == 8
