"""The inbox's fast path (the offer indexes) answers exactly what the general query answers: for every
scope, sort, stage and overdue filter, page by page."""

from datetime import UTC, datetime, timedelta
from itertools import product

import pytest
from sqlmodel import Session

from engine.engine import ProcessEngine
from engine.services import inbox
from engine.views import Principal
from tests.engine.conftest import ADMIN

NOW = datetime.now(UTC).replace(microsecond=0)
#: Per instance: no due date, overdue, or due later; instances 1 and 4 share a due date (ties go by id).
DUE = [None, "2020-01-01T00:00:00+00:00", (NOW + timedelta(days=2)).isoformat()] * 2 + [
    None,
    (NOW - timedelta(days=3)).isoformat(),
    (NOW + timedelta(days=9)).isoformat(),
]


def open_nine_tasks(engine: ProcessEngine, deployed) -> tuple[Principal, Principal]:
    deployed("due_steps")
    engine.identity.create_user("dana", ["data"])
    engine.identity.create_user("dan", ["data", "execution"])
    dana = engine.identity.authenticate(engine.identity.issue_token("dana"))
    dan = engine.identity.authenticate(engine.identity.issue_token("dan"))
    for i, due in enumerate(DUE):
        engine.runtime.start_process_instance_by_key(
            "due_steps", principal=ADMIN, business_key=f"I-{i}", variables={"due": due}
        )
    offered = engine.tasks.inbox(principal=dana, scope="offered", sort="created").items
    engine.tasks.claim(offered[0].id, principal=dana)
    engine.tasks.claim(offered[4].id, principal=dan)
    engine.tasks.complete(offered[7].id, {}, principal=dana)  # its next task is offered anew
    return dana, dan


@pytest.mark.parametrize("scope", ["mine", "offered", "all"])
def test_the_offer_index_agrees_with_the_general_query(engine, deployed, scope: str) -> None:
    people = open_nine_tasks(engine, deployed)
    with Session(engine.db) as session:
        sorts, stages, overdue_filters = (
            ["created", "-created", "due", "-due"],
            [None, "later", "none"],
            [None, True, False],
        )
        for who, sort, stage, overdue in product(people, sorts, stages, overdue_filters):
            for offset, limit in ((0, 50), (0, 3), (2, 3), (7, 5), (20, 5)):
                query = inbox.InboxQuery(
                    scope, stage=stage, overdue=overdue, sort=sort, offset=offset, limit=limit
                )
                assert query.fits_offer_index
                fast = inbox.by_offer_index(session, who, query)
                general = inbox.by_filters(session, who, query)
                # every field alike, in the same order
                assert (fast.total, fast.items) == (general.total, general.items), (who.name, query)


def test_the_inbox_sorts_by_due_date_with_undated_tasks_last_and_filters_overdue(engine, deployed) -> None:
    dana, _ = open_nine_tasks(engine, deployed)
    by_due = engine.tasks.inbox(principal=dana, sort="due").items
    dues = [t.due_at for t in by_due]
    dated = [d for d in dues if d is not None]
    assert dated == sorted(dated) and dues == dated + [None] * (len(dues) - len(dated))
    latest_first = [t.due_at for t in engine.tasks.inbox(principal=dana, sort="-due").items]
    assert latest_first == sorted(dated, reverse=True) + [None] * (len(dues) - len(dated))

    overdue = engine.tasks.inbox(principal=dana, overdue=True)
    assert overdue.total == len(overdue.items) == sum(1 for d in dated if d < datetime.now(UTC)) > 0
    not_overdue = engine.tasks.inbox(principal=dana, overdue=False)
    assert overdue.total + not_overdue.total == engine.tasks.inbox(principal=dana).total
    assert {t.id for t in overdue.items}.isdisjoint(t.id for t in not_overdue.items)


def test_counts_follow_claims(engine, deployed) -> None:
    dana, _ = open_nine_tasks(engine, deployed)
    # nine tasks, two claimed, one completed and followed by the instance's next task
    assert engine.tasks.inbox(principal=dana, scope="offered").total == 7
    assert engine.tasks.inbox(principal=dana, scope="all").total == 8
    assert engine.tasks.inbox(principal=dana, stage="later").total == 1  # B, after the completed A
    assert engine.tasks.inbox(principal=dana, stage="first").total == 7
    mine = engine.tasks.inbox(principal=dana, scope="mine").items
    engine.tasks.unclaim(mine[0].id, principal=dana)
    assert engine.tasks.inbox(principal=dana, scope="offered").total == 8
