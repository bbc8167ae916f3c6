"""Process analytics checked against a history made by the tests at known moments: instances started,
completed by outcome, cycle time and per-step percentiles (nearest rank), overdue share, rework loops
and the weekly trend, on SQLite and PostgreSQL."""

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
import time_machine

from engine.engine import ProcessEngine
from engine.errors import Forbidden, InvalidInput, NotFound
from engine.storage import schema
from engine.views import Principal
from tests.engine.conftest import ADMIN

FROM = datetime(2027, 3, 1, tzinfo=UTC)
TO = datetime(2027, 3, 15, tzinfo=UTC)


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2027, month, day, hour, minute, tzinfo=UTC)


class Clock:
    """Works one instance's tasks at the moments given."""

    def __init__(self, engine: ProcessEngine, traveller) -> None:
        self.engine = engine
        self.traveller = traveller

    def start(self, moment: datetime) -> str:
        self.traveller.move_to(moment)
        return self.engine.runtime.start_process_instance_by_key("rework", principal=ADMIN).id

    def task(
        self, instance_id: str, element: str, *, claim: datetime | None, done: datetime, decision: str = ""
    ) -> None:
        detail = self.engine.runtime.get_instance(instance_id, principal=ADMIN)
        # (What the instance says if the step is not open: a flake here under load left no trace.)
        assert len(detail.open_tasks) == 1, (
            detail.instance,
            [(h.type, h.element_id) for h in detail.history],
        )
        [task] = detail.open_tasks
        assert task.element_id == element
        if claim is not None:
            self.traveller.move_to(claim)
            self.engine.tasks.claim(task.id, principal=ADMIN)
        self.traveller.move_to(done)
        data = {"decision": decision} if element == "Task_review" else {}
        self.engine.tasks.complete(task.id, data, principal=ADMIN)


@pytest.fixture
def history(engine: ProcessEngine, deployed) -> ProcessEngine:
    deployed("rework")
    with time_machine.travel(at(22, 9, month=2), tick=False) as traveller:
        clock = Clock(engine, traveller)
        # 5: started before the period, its review created and completed within it, nobody claimed it
        i5 = clock.start(at(22, 9, month=2))
        clock.task(i5, "Task_draft", claim=at(2, 11), done=at(2, 12))
        clock.task(i5, "Task_review", claim=None, done=at(2, 13), decision="done")
        # 1: reworked once; its first review goes overdue (due after 45 minutes)
        i1 = clock.start(at(1, 9))
        clock.task(i1, "Task_draft", claim=at(1, 10), done=at(1, 12))
        [review] = engine.runtime.get_instance(i1, principal=ADMIN).open_tasks
        traveller.move_to(at(1, 12, 30))
        engine.tasks.claim(review.id, principal=ADMIN)
        traveller.move_to(at(1, 12, 50))
        assert engine.jobs.run_due_jobs() == 1  # the reminder
        traveller.move_to(at(1, 13))
        engine.tasks.complete(review.id, {"decision": "rework"}, principal=ADMIN)
        clock.task(i1, "Task_draft", claim=at(1, 13, 10), done=at(1, 14))
        clock.task(i1, "Task_review", claim=at(1, 15), done=at(1, 15, 30), decision="done")
        # 2: dropped at review
        i2 = clock.start(at(2, 9))
        clock.task(i2, "Task_draft", claim=at(2, 9, 20), done=at(2, 10))
        clock.task(i2, "Task_review", claim=at(2, 11), done=at(2, 11, 20), decision="drop")
        # 3: still waiting for its draft
        clock.start(at(3, 9))
        # 4: the next week; claimed at once, review completed unclaimed
        i4 = clock.start(at(9, 9))
        clock.task(i4, "Task_draft", claim=at(9, 9), done=at(9, 9, 30))
        clock.task(i4, "Task_review", claim=None, done=at(9, 10), decision="done")
        # 6: after the period: counted nowhere
        i6 = clock.start(at(16, 9))
        clock.task(i6, "Task_draft", claim=at(16, 9), done=at(16, 10))
    return engine


def test_the_figures_of_a_period_are_those_of_the_history(history: ProcessEngine) -> None:
    figures = history.analytics.process(
        "rework", version=None, period_from=FROM, period_to=TO, principal=ADMIN
    )

    assert figures.started == 4  # 1, 2, 3, 4 (5 began before, 6 after)
    assert figures.completed == 4 and figures.cancelled == 0
    assert figures.outcomes == {"done": 3, "dropped": 1}
    # cycle times 1 h (4), 2 h 20 min (2), 6 h 30 min (1), 8 days 4 h (5)
    assert figures.cycle_time.count == 4
    assert figures.cycle_time.p50 == pytest.approx(8400, abs=0.1)
    assert figures.cycle_time.p90 == pytest.approx(705600, abs=0.1)
    assert figures.cycle_time.p95 == pytest.approx(705600, abs=0.1)

    steps = {s.element_id: s for s in figures.steps}
    assert set(steps) == {"Task_draft", "Task_review"}
    draft = steps["Task_draft"]
    assert (draft.name, draft.runs, draft.completed, draft.overdue) == ("Draft", 5, 4, 0)
    # waiting 0, 10 min, 20 min, 1 h (instance 3's is not over); work 30, 40, 50 min, 2 h
    assert _seconds(draft.waiting) == (4, 600, 3600, 3600)
    assert _seconds(draft.work) == (4, 2400, 7200, 7200)
    assert _seconds(draft.duration) == (4, 3600, 10800, 10800)
    review = steps["Task_review"]
    assert (review.runs, review.completed, review.overdue) == (5, 5, 1)
    assert review.overdue_share == pytest.approx(0.2)
    # unclaimed reviews wait until they are completed and have no work time
    assert _seconds(review.waiting) == (5, 3600, 3600, 3600)
    assert _seconds(review.work) == (3, 1800, 1800, 1800)
    assert _seconds(review.duration) == (5, 3600, 5400, 5400)

    assert [
        (loop.flow_id, loop.from_element, loop.to_element, loop.taken, loop.instances)
        for loop in figures.loops
    ] == [("Flow_rework", "Task_review", "Task_draft", 1, 1)]
    assert [(w.week, w.started, w.completed) for w in figures.trend] == [
        ("2027-03-01", 3, 3),
        ("2027-03-08", 1, 1),
    ]


def test_a_version_and_a_shorter_period_narrow_the_figures(history: ProcessEngine) -> None:
    figures = history.analytics.process(
        "rework", version=1, period_from=at(9, 0), period_to=TO, principal=ADMIN
    )
    assert (figures.version, figures.diagram_version, figures.started, figures.completed) == (1, 1, 1, 1)
    assert figures.loops[0].taken == 0  # the loop is listed, never taken in that week
    assert {s.element_id: s.runs for s in figures.steps} == {"Task_draft": 1, "Task_review": 1}


def test_who_may_read_and_what_is_refused(history: ProcessEngine) -> None:
    leader = Principal("l", "lei", frozenset({"leader"}))
    assert history.analytics.process("rework", version=None, period_from=FROM, period_to=TO, principal=leader)
    with pytest.raises(Forbidden):
        history.analytics.process(
            "rework",
            version=None,
            period_from=FROM,
            period_to=TO,
            principal=Principal("d", "dana", frozenset({"data"})),
        )
    with pytest.raises(NotFound):
        history.analytics.process("rework", version=2, period_from=FROM, period_to=TO, principal=ADMIN)
    with pytest.raises(InvalidInput):
        history.analytics.process("rework", version=None, period_from=TO, period_to=FROM, principal=ADMIN)


def _seconds(p) -> tuple:
    return (p.count, *(round(v, 1) if v is not None else None for v in (p.p50, p.p90, p.p95)))


def test_an_upgraded_database_shows_the_figures_its_history_gave(history: ProcessEngine) -> None:
    """Migration 0014 projects the audit log of a database upgraded from 0013 into the task history:
    the rows and the figures (whole weeks, and days around them) are those the engine's own projection
    wrote as the events happened."""

    def state() -> tuple:
        with history.db.connect() as conn:
            runs = conn.execute(sa.text("SELECT * FROM task_history ORDER BY task_id")).all()
            weeks = conn.execute(sa.text("SELECT * FROM step_week ORDER BY 1, 2, 3, 4, 5")).all()
        analytics = history.analytics
        figures = [
            analytics.process("rework", version=None, period_from=start, period_to=TO, principal=ADMIN)
            for start in (FROM, at(2, 12))
        ]
        return runs, weeks, figures

    live = state()
    assert len(live[0]) == 13 and live[2][1].steps  # the 13 tasks created; the days around a week count
    schema.downgrade(history.db, "0013")
    schema.upgrade(history.db)
    assert state() == live
