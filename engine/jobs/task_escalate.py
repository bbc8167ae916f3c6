"""Task escalation jobs: scheduled by the task's reminder (engine/jobs/task_due.py) for the end of
its grace period. When it fires and the task is still open, the instance's leaders are offered the
task, and a task someone holds is handed to the leader, who may give it back or to someone else."""

from datetime import datetime

from sqlmodel import Session, select

from engine import events
from engine.jobs import queue
from engine.permissions import TeamRules
from engine.storage.tables import JobRow, OpenTaskRow, ProcessInstanceRow, TaskCandidateRow, utcnow
from engine.storage.uow import UnitOfWork

KIND = "task_escalate"


def schedule(session: Session, task: OpenTaskRow, due_at: datetime) -> None:
    queue.add(
        session,
        [
            {
                "id": f"escalate:{task.id}",
                "kind": KIND,
                "instance_id": task.instance_id,
                "task_id": task.id,
                "due_at": due_at,
                "attempts": 0,
                "created_at": utcnow(),
            }
        ],
    )


class Escalate:
    """The handler."""

    def __init__(self, rules: TeamRules) -> None:
        self._rules = rules  # who an instance's leaders are

    def __call__(self, uow: UnitOfWork, job: JobRow) -> None:
        session = uow.session
        task = session.get(OpenTaskRow, job.task_id)
        if task is None:
            return
        started_by, team = session.exec(
            select(ProcessInstanceRow.started_by, ProcessInstanceRow.team).where(
                ProcessInstanceRow.id == task.instance_id
            )
        ).one()
        leaders = self._rules.leaders_of(started_by, team)
        present = set(
            session.exec(
                select(TaskCandidateRow.value).where(
                    TaskCandidateRow.task_id == task.id, TaskCandidateRow.kind == "user"
                )
            ).all()
        )
        previous = task.assignee
        if previous is not None and leaders and previous not in leaders:
            task.assignee, task.claimed_at = leaders[0], utcnow()
            session.add(task)
        session.add_all(TaskCandidateRow.of(task, "user", name) for name in leaders if name not in present)
        events.record(
            session,
            events.TASK_ESCALATED,
            actor=None,
            instance_id=task.instance_id,
            task_id=task.id,
            element_id=task.element_id,
            details={"name": task.name, "to": leaders, "previous_assignee": previous},
        )
