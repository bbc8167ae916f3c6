"""From an event to notifications: who is told, on which channel, in which language and when. Both
handlers here run inside the job's transaction, so the notifications and their send jobs are
written exactly once (the "notify" job is deleted in the same transaction)."""

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlmodel import Session, col, select

from engine import events
from engine.notifications import model
from engine.notifications.preferences import next_digest, preference, quiet_until
from engine.permissions import ADMIN
from engine.policy import Policy
from engine.storage.tables import (
    JobRow,
    MembershipRow,
    NotificationChannelRow,
    NotificationPreferenceRow,
    NotificationRow,
    OpenTaskRow,
    ProcessDefinitionRow,
    ProcessInstanceRow,
    ProcessNotificationRow,
    TaskCandidateRow,
    UserRow,
    utcnow,
)
from engine.storage.uow import UnitOfWork
from engine.types import JsonObject

#: At most this many tasks are listed in a digest.
DIGEST_TASKS = 50


class Fanout:
    """The handler of "notify" jobs (one per event, written by `engine.events.record`)."""

    def __init__(self, public_base_url: str, policy: Policy) -> None:
        self._base = public_base_url.rstrip("/")
        self._policy = policy  # who an instance's leaders are

    def __call__(self, uow: UnitOfWork, job: JobRow) -> None:
        session, event = uow.session, (job.payload or {})["event"]
        instance = session.get(ProcessInstanceRow, event["instance_id"]) if event.get("instance_id") else None
        task = session.get(OpenTaskRow, event["task_id"]) if event.get("task_id") else None
        kind, people = _audience(session, event, instance, task, self._policy)
        if kind is None or (instance is not None and not _process_wants(session, instance.process_key, kind)):
            return
        channels = [c for c in _active_channels(session) if kind in c.event_types]
        if not channels:
            return
        facts = self._facts(session, kind, event, instance, task, people)
        now = utcnow()
        rows = []
        email = next((c for c in channels if c.kind == model.SMTP), None)
        if email is not None:
            for person in people:
                pref = preference(session, person)
                if pref.email and not pref.digest and kind in pref.event_types:
                    due = quiet_until(pref, now) or now
                    rows.append(
                        _row(email, event["id"], person, pref.email, pref.language, kind, facts, due, now)
                    )
        for robot in (c for c in channels if c.kind in model.ROBOTS):
            language = robot.settings.get("language", "zh")
            rows.append(_row(robot, event["id"], model.GROUP, None, language, kind, facts, now, now))
        queue(session, rows)

    def _facts(
        self,
        session: Session,
        kind: str,
        event: JsonObject,
        instance: ProcessInstanceRow | None,
        task: OpenTaskRow | None,
        people: list[str],
    ) -> JsonObject:
        details = event.get("data") or {}
        facts: JsonObject = {"kind": kind, "people": people, "instance_id": event.get("instance_id")}
        if instance is not None:
            definition = session.get(ProcessDefinitionRow, instance.definition_id)
            facts.update(
                business_key=instance.business_key,
                title=(instance.variables or {}).get("title"),
                process_name=definition.name if definition else instance.process_key,
                link=f"{self._base}/instances/{instance.id}",
            )
        if task is not None:
            facts.update(
                task_id=task.id,
                task_name=task.name,
                due_at=task.due_at.isoformat() if task.due_at else None,
                link=f"{self._base}/tasks/{task.id}",
            )
        if kind == "instance_completed":
            facts["outcome"] = details.get("outcome")
        if kind == "incident":
            facts["problem"] = details.get("message")
        return facts


class Digest:
    """The handler of a person's daily "notify_digest" job: one e-mail with their open and overdue
    tasks (none when they have none), then the job is moved to the next day."""

    def __init__(self, public_base_url: str) -> None:
        self._base = public_base_url.rstrip("/")

    def __call__(self, uow: UnitOfWork, job: JobRow) -> None:
        session, user = uow.session, (job.payload or {})["user"]
        pref = session.get(NotificationPreferenceRow, user)
        if pref is None or not pref.digest:
            return  # the job is deleted
        now = utcnow()
        email = next((c for c in _active_channels(session) if c.kind == model.SMTP), None)
        tasks = _open_tasks(session, user, now, self._base)
        if email is not None and pref.email and tasks:
            day = job.due_at.astimezone(ZoneInfo(pref.timezone)).date().isoformat()
            facts = {"kind": model.DIGEST, "tasks": tasks, "date": day, "link": f"{self._base}/inbox"}
            row = _row(email, f"digest:{day}", user, pref.email, pref.language, model.DIGEST, facts, now, now)
            queue(session, [row])
        # Rescheduled, not deleted: the executor deletes only a job still claimed by its worker.
        job.due_at = next_digest(pref, max(now, job.due_at) + timedelta(minutes=1))
        job.lock_owner = job.lock_expires_at = None
        session.add(job)


def queue(session: Session, rows: list[NotificationRow]) -> None:
    """Write notifications (skipping any already written for the same event, channel and person)
    and one send job each, due when the notification is."""
    if not rows:
        return
    keys = [r.dedupe_key for r in rows]
    seen = set(
        session.exec(
            select(col(NotificationRow.dedupe_key)).where(col(NotificationRow.dedupe_key).in_(keys))
        ).all()
    )
    fresh = [r for r in rows if r.dedupe_key not in seen]
    session.add_all(fresh)
    session.add_all(
        JobRow(
            id=f"{model.JOB_SEND}:{r.id}", kind=model.JOB_SEND, instance_id=r.instance_id, due_at=r.due_at,
            created_at=r.created_at, payload={"notification_id": r.id, "max_attempts": model.MAX_ATTEMPTS},
        )
        for r in fresh
    )  # fmt: skip


def _row(
    channel: NotificationChannelRow,
    event_id: str,
    recipient: str,
    address: str | None,
    language: str,
    kind: str,
    facts: JsonObject,
    due: datetime,
    now: datetime,
) -> NotificationRow:
    return NotificationRow(
        id=str(uuid.uuid4()), dedupe_key=f"{event_id}:{channel.id}:{recipient}", channel_id=channel.id,
        recipient=recipient, address=address, language=language, event_type=kind,
        instance_id=facts.get("instance_id"), task_id=facts.get("task_id"), facts=facts, status="queued",
        attempts=0, due_at=due, created_at=now,
    )  # fmt: skip


def _audience(
    session: Session,
    event: JsonObject,
    instance: ProcessInstanceRow | None,
    task: OpenTaskRow | None,
    policy: Policy,
) -> tuple[str | None, list[str]]:
    """(notification event type, the people it is for); (None, []) when nobody is to be told, e.g.
    about a task that no longer waits."""
    type, details = event["type"], event.get("data") or {}
    if type in (events.TASK_CREATED, events.TASK_ASSIGNED, events.TASK_OVERDUE) and task is None:
        return None, []
    if type == events.TASK_CREATED and task is not None:
        if task.assignee and task.claimed_at is not None:
            return None, []  # claimed before we got to it: its holder knows
        if task.assignee:
            return "task_assigned", [task.assignee]  # the model names its assignee
        return "task_offered", _candidates(session, task.id)
    if type == events.TASK_ASSIGNED:
        assignee = details.get("assignee")
        return "task_assigned", [assignee] if assignee and assignee != event.get("actor") else []
    if type == events.TASK_OVERDUE and task is not None:
        return "task_overdue", [task.assignee] if task.assignee else _candidates(session, task.id)
    if type == events.TASK_ESCALATED:
        return "task_escalated", sorted(details.get("to") or [])
    if type == events.INSTANCE_COMPLETED and instance is not None:
        leaders = policy.leaders_of(instance.team)
        return "instance_completed", sorted(p for p in leaders | {instance.started_by} if p)
    if type == events.INCIDENT:
        return "incident", _holders(session, [ADMIN])
    return None, []


def _candidates(session: Session, task_id: str) -> list[str]:
    rows = session.exec(
        select(TaskCandidateRow.kind, TaskCandidateRow.value).where(TaskCandidateRow.task_id == task_id)
    ).all()
    users = {value for kind, value in rows if kind == "user"}
    roles = [value for kind, value in rows if kind == "group"]
    return sorted(users | set(_holders(session, roles)))


def _holders(session: Session, roles: list[str]) -> list[str]:
    if not roles:
        return []
    names = session.exec(
        select(UserRow.name)
        .join(MembershipRow, col(MembershipRow.user_id) == col(UserRow.id))
        .where(col(MembershipRow.group_id).in_(roles), col(UserRow.disabled_at).is_(None))
    ).all()
    return sorted(set(names))


def _process_wants(session: Session, process_key: str, kind: str) -> bool:
    setting = session.get(ProcessNotificationRow, process_key)
    return setting is None or kind in setting.event_types


def _active_channels(session: Session) -> list[NotificationChannelRow]:
    return list(
        session.exec(
            select(NotificationChannelRow)
            .where(NotificationChannelRow.active)
            .order_by(col(NotificationChannelRow.created_at), col(NotificationChannelRow.id))
        ).all()
    )


def _open_tasks(session: Session, user: str, now: datetime, base: str) -> list[JsonObject]:
    """The person's open tasks: assigned to them, or offered to them (by name or role) unclaimed."""
    roles = list(
        session.exec(
            select(MembershipRow.group_id)
            .join(UserRow, col(UserRow.id) == col(MembershipRow.user_id))
            .where(UserRow.name == user)
        ).all()
    )
    offered = select(TaskCandidateRow.task_id).where(
        TaskCandidateRow.open,
        sa.or_(
            sa.and_(col(TaskCandidateRow.kind) == "user", col(TaskCandidateRow.value) == user),
            sa.and_(col(TaskCandidateRow.kind) == "group", col(TaskCandidateRow.value).in_(roles or [""])),
        ),
    )
    rows = session.exec(
        select(OpenTaskRow, ProcessInstanceRow.variables)
        .join(ProcessInstanceRow, col(ProcessInstanceRow.id) == col(OpenTaskRow.instance_id))
        .where(sa.or_(col(OpenTaskRow.assignee) == user, col(OpenTaskRow.id).in_(offered)))
        .order_by(col(OpenTaskRow.due_at).is_(None), col(OpenTaskRow.due_at), col(OpenTaskRow.created_at))
        .limit(DIGEST_TASKS)
    ).all()
    return [
        {
            "task_id": task.id,
            "task_name": task.name,
            "business_key": task.business_key,
            "title": (variables or {}).get("title"),
            "due_at": task.due_at.isoformat() if task.due_at else None,
            "overdue": bool(task.due_at and task.due_at < now),
            "link": f"{base}/tasks/{task.id}",
        }
        for task, variables in rows
    ]
