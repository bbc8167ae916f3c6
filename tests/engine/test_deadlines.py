"""Milestone dates become due dates; an overdue task reminds its holder, then escalates to the leader."""

from datetime import UTC, datetime, timedelta

import time_machine

from tests.engine.conftest import ADMIN

MILESTONES = [
    {"milestone": "诊断完成", "stage": "diagnosis", "due_date": "2026-12-18"},
    {"milestone": "效果评估", "stage": "evaluation", "due_date": "2027-02-05"},
]
TEAM = [{"user": "lei", "role": "leader", "duty": "统筹"}, {"user": "dana", "role": "data", "duty": "数据"}]


def test_an_overdue_task_reminds_its_holder_then_escalates_to_the_leader(engine, deployed) -> None:
    deployed("deadline")
    engine.identity.create_user("lei", ["leader"])
    engine.identity.create_user("dana", ["data"])
    dana = engine.identity.authenticate(engine.identity.issue_token("dana"))
    lei = engine.identity.authenticate(engine.identity.issue_token("lei"))
    with time_machine.travel(datetime(2027, 2, 1, 9, 0, tzinfo=UTC), tick=False) as clock:
        instance = engine.runtime.start_process_instance_by_key(
            "deadline", principal=ADMIN, variables={"milestones": MILESTONES, "team": TEAM}
        )
        [task] = engine.tasks.inbox(principal=dana, scope="mine").items  # the team names her alone
        assert task.due_at == datetime(2027, 2, 6, tzinfo=UTC)  # by the end of the milestone's day
        assert engine.tasks.inbox(principal=dana, overdue=True).total == 0

        clock.move_to(datetime(2027, 2, 6, 0, 1, tzinfo=UTC))
        assert engine.jobs.run_due_jobs() == 1
        assert engine.tasks.inbox(principal=dana, overdue=True).total == 1
        history = engine.runtime.get_instance(instance.id, principal=ADMIN).history
        [overdue] = [h for h in history if h.type == "task_overdue"]
        assert overdue.details["assignee"] == "dana"
        assert engine.tasks.inbox(principal=lei).total == 0

        clock.shift(timedelta(hours=1))
        assert engine.jobs.run_due_jobs() == 0  # the grace period is two hours
        clock.shift(timedelta(hours=1, minutes=1))
        assert engine.jobs.run_due_jobs() == 1
        history = engine.runtime.get_instance(instance.id, principal=ADMIN).history
        [escalated] = [h for h in history if h.type == "task_escalated"]
        assert escalated.details["to"] == ["lei"]
        [held] = engine.tasks.inbox(principal=lei, scope="mine").items
        assert held.id == task.id and held.candidate_users == ["dana", "lei"]
        assert engine.tasks.inbox(principal=dana).total == 0

        engine.tasks.assign(task.id, "dana", principal=lei)  # the leader hands it back
        engine.tasks.complete(task.id, {}, principal=dana)
        assert engine.jobs.next_due() is None  # nothing left to remind of


def test_a_task_completed_in_time_is_never_reminded(engine, deployed) -> None:
    deployed("deadline")
    engine.identity.create_user("dana", ["data"])
    dana = engine.identity.authenticate(engine.identity.issue_token("dana"))
    with time_machine.travel(datetime(2027, 2, 1, 9, 0, tzinfo=UTC), tick=False) as clock:
        instance = engine.runtime.start_process_instance_by_key(
            "deadline", principal=ADMIN, variables={"milestones": MILESTONES}
        )
        [task] = engine.tasks.inbox(principal=dana).items
        engine.tasks.complete(task.id, {}, principal=dana)
        clock.shift(timedelta(days=30))
        assert engine.jobs.run_due_jobs() == 0
        assert not [
            h
            for h in engine.runtime.get_instance(instance.id, principal=ADMIN).history
            if h.type == "task_overdue"
        ]
