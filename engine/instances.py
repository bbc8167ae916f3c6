"""The aggregate cycle for one process instance: lock > load > act > save state and indexes.
Shared by the runtime and task services so that no service calls another inside a transaction."""

import json
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, delete, select

from engine import deadlines, events
from engine.bpmn.runner import (
    BpmnWorkflow,
    Incident,
    Runner,
    current_variables,
    is_finished,
    next_timer_due,
    reached_outcome,
    ready_external_tasks,
    ready_user_tasks,
    thrown_messages,
    waiting_messages,
)
from engine.bpmn.serializer import WorkflowStore
from engine.errors import ConcurrentUpdate, NotFound
from engine.storage.tables import (
    ExternalTaskRow,
    InstanceMemberRow,
    JobRow,
    MessageSubscriptionRow,
    OpenTaskRow,
    ProcessDefinitionRow,
    ProcessInstanceRow,
    TaskCandidateRow,
    utcnow,
)


@dataclass(frozen=True)
class Definition:
    """What the runtime needs of a deployed version (never its XML). Versions are immutable, so it
    is read once per process and kept."""

    id: str
    key: str
    version: int
    catalog: dict[str, dict]
    deployed_at: datetime

    @property
    def waits_for_timers(self) -> bool:
        return any(e.get("timer") for e in self.catalog.values())

    @property
    def waits_for_messages(self) -> bool:
        return any(e.get("message") for e in self.catalog.values())

    @property
    def has_external_tasks(self) -> bool:
        return any(e["type"] == "serviceTask" for e in self.catalog.values())


@dataclass
class Loaded:
    row: ProcessInstanceRow
    definition: Definition
    workflow: BpmnWorkflow
    team_before: list = field(default_factory=list)


class Instances:
    def __init__(self, store: WorkflowStore, runner: Runner) -> None:
        self.store = store
        self.runner = runner
        self._definitions: dict[str, Definition] = {}

    def definition(self, session: Session, definition_id: str) -> Definition:
        found = self._definitions.get(definition_id)
        if found is None:
            row = session.exec(
                select(
                    ProcessDefinitionRow.id,
                    ProcessDefinitionRow.key,
                    ProcessDefinitionRow.version,
                    ProcessDefinitionRow.catalog,
                    ProcessDefinitionRow.deployed_at,
                ).where(ProcessDefinitionRow.id == definition_id)
            ).one()
            found = self._definitions.setdefault(definition_id, Definition(*row))
        return found

    def evaluate(self, expression: str, context: dict) -> object:
        """An expression of the model (a due date, say) in the sandbox, against process data."""
        return self.runner.script_engine.environment.evaluate(expression, context)

    def lock(self, session: Session, instance_id: str) -> ProcessInstanceRow:
        """The instance row, locked for this transaction (row lock on PostgreSQL; on SQLite the
        write transaction already holds the database's write lock)."""
        row = session.exec(
            select(ProcessInstanceRow)
            .where(ProcessInstanceRow.id == instance_id)
            .with_for_update()
            .execution_options(populate_existing=True)  # what we read before the lock may be stale
        ).first()
        if row is None:
            raise NotFound(f"process instance {instance_id} not found")
        return row

    def load(self, session: Session, row: ProcessInstanceRow) -> Loaded:
        definition = self.definition(session, row.definition_id)
        workflow = self.runner.attach(self.store.load(row.state))
        return Loaded(row, definition, workflow, list(row.team))

    def save(self, session: Session, loaded: Loaded, *, actor: str | None, incident: Incident | None) -> None:
        """Write the state with an optimistic version check, then bring every index in line with it."""
        row, workflow, catalog = loaded.row, loaded.workflow, loaded.definition.catalog
        thrown = thrown_messages(workflow)  # drains the queue: before the state is written
        variables = _jsonable(current_variables(workflow))
        team = variables.get("team") if _is_team(variables.get("team")) else row.team
        status = row.status
        outcome = row.outcome
        if status == "running" and is_finished(workflow):
            status, outcome = "completed", reached_outcome(workflow, catalog)
        values = {
            "state": self.store.dump(workflow),
            "serializer_version": self.store.version,
            "status": status,
            "outcome": outcome,
            "variables": variables,
            "team": team,
            "incident": incident.as_dict() if incident else None,
            "version": row.version + 1,
        }
        if status != "running" and row.ended_at is None:
            values["ended_at"] = utcnow()
        result = session.execute(
            sa.update(ProcessInstanceRow)
            .where(ProcessInstanceRow.id == row.id, ProcessInstanceRow.version == row.version)
            .values(**values)
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate(f"process instance {row.id} was changed by someone else; try again")
        for key, value in values.items():
            setattr(row, key, value)
        session.expunge(row)
        team_changed = team != loaded.team_before
        if team_changed:
            self._reindex_team(session, row.id, team)
        self._reindex_tasks(session, loaded, actor, reoffer=team_changed)
        # Models without timers, messages or external tasks never need those indexes touched.
        if loaded.definition.waits_for_timers:
            self._reindex_timer(session, row.id, next_timer_due(workflow) if status == "running" else None)
        if loaded.definition.waits_for_messages:
            self._reindex_messages(session, loaded, actor)
        if loaded.definition.has_external_tasks:
            self._reindex_external_tasks(session, loaded)
        for name, payload in thrown:
            events.record(
                session,
                events.MESSAGE_THROWN,
                actor=actor,
                instance_id=row.id,
                details={
                    "message": name,
                    "payload": _jsonable({"p": payload})["p"],
                    "business_key": row.business_key,
                },
            )
        if incident:
            events.record(
                session,
                events.INCIDENT,
                actor=actor,
                instance_id=row.id,
                element_id=incident.element_id,
                details={"message": incident.message},
            )
        if status == "completed" and "ended_at" in values:
            events.record(
                session,
                events.INSTANCE_COMPLETED,
                actor=actor,
                instance_id=row.id,
                details={"outcome": outcome},
            )

    def fire_timers(self, session: Session, instance_id: str) -> None:
        """The timer job's handler: let due timers fire and run on to the next wait states."""
        row = self.lock(session, instance_id)
        if row.status != "running":
            return
        loaded = self.load(session, row)
        incident = self.runner.advance(loaded.workflow)
        self.save(session, loaded, actor=None, incident=incident)

    @staticmethod
    def _reindex_timer(session: Session, instance_id: str, due: datetime | None) -> None:
        """One timer job per instance, due when its earliest timer is."""
        job_id = f"timer:{instance_id}"
        job = session.get(JobRow, job_id)
        if due is None:
            if job is not None:
                session.delete(job)
            return
        if job is None:
            job = JobRow(id=job_id, kind="timer", instance_id=instance_id, created_at=utcnow())
        job.due_at, job.lock_owner, job.lock_expires_at, job.attempts = due, None, None, 0
        session.add(job)

    def _reindex_messages(self, session: Session, loaded: Loaded, actor: str | None) -> None:
        """Subscriptions for the messages the instance waits for. A newly waiting element marked with
        the `approval` property asks the approval system for a decision (an approval_requested event)."""
        row, catalog = loaded.row, loaded.definition.catalog
        waiting = waiting_messages(loaded.workflow) if row.status == "running" else []
        existing = {
            s.message_name: s
            for s in session.exec(
                select(MessageSubscriptionRow).where(MessageSubscriptionRow.instance_id == row.id)
            )
        }
        wanted = {w.message: w for w in waiting}
        for name in existing.keys() - wanted.keys():
            session.delete(existing[name])
        for name in wanted.keys() - existing.keys():
            w = wanted[name]
            session.add(
                MessageSubscriptionRow(instance_id=row.id, message_name=name, element_id=w.element_id)
            )
            approval = (catalog.get(w.element_id, {}).get("properties") or {}).get("approval")
            if approval:
                events.record(
                    session,
                    events.APPROVAL_REQUESTED,
                    actor=actor,
                    instance_id=row.id,
                    element_id=w.element_id,
                    details={
                        "approval": approval,
                        "reply_message": name,
                        "business_key": row.business_key,
                        "variables": row.variables,
                    },
                )

    @staticmethod
    def _reindex_external_tasks(session: Session, loaded: Loaded) -> None:
        row, catalog = loaded.row, loaded.definition.catalog
        ready = {t.id: t for t in ready_external_tasks(loaded.workflow)} if row.status == "running" else {}
        existing = set(
            session.exec(select(ExternalTaskRow.id).where(ExternalTaskRow.instance_id == row.id)).all()
        )
        gone = existing - ready.keys()
        if gone:
            session.exec(delete(ExternalTaskRow).where(ExternalTaskRow.id.in_(gone)))
        for task_id in ready.keys() - existing:
            task = ready[task_id]
            entry = catalog.get(task.element_id, {})
            session.add(
                ExternalTaskRow(
                    id=task_id,
                    instance_id=row.id,
                    process_key=row.process_key,
                    definition_id=row.definition_id,
                    business_key=row.business_key,
                    element_id=task.element_id,
                    topic=entry.get("topic") or "",
                    priority=int((entry.get("properties") or {}).get("priority", 0) or 0),
                    created_at=utcnow(),
                )
            )

    def _reindex_team(self, session: Session, instance_id: str, team: list[dict]) -> None:
        session.exec(delete(InstanceMemberRow).where(InstanceMemberRow.instance_id == instance_id))
        members = {(m["user"], m["role"]) for m in team}
        session.add_all(InstanceMemberRow(instance_id=instance_id, user_name=u, role=r) for u, r in members)

    def _reindex_tasks(self, session: Session, loaded: Loaded, actor: str | None, *, reoffer: bool) -> None:
        row, catalog = loaded.row, loaded.definition.catalog
        ready = {t.id: t for t in ready_user_tasks(loaded.workflow)} if row.status == "running" else {}
        open_rows = session.exec(
            select(OpenTaskRow.id, OpenTaskRow.element_id, OpenTaskRow.due_at).where(
                OpenTaskRow.instance_id == row.id
            )
        ).all()
        existing = {task_id: element_id for task_id, element_id, _ in open_rows}
        gone = existing.keys() - ready.keys()
        if gone:
            session.exec(delete(TaskCandidateRow).where(TaskCandidateRow.task_id.in_(gone)))
            session.exec(delete(OpenTaskRow).where(OpenTaskRow.id.in_(gone)))
            deadlines.cancel(session, {task_id for task_id, _, due in open_rows if task_id in gone and due})
        if reoffer:  # the team changed: tasks already open go to the newly named people
            for task in session.exec(
                select(OpenTaskRow).where(OpenTaskRow.id.in_(existing.keys() - gone))
            ).all():
                session.exec(delete(TaskCandidateRow).where(TaskCandidateRow.task_id == task.id))
                self._add_candidates(session, task, catalog.get(task.element_id, {}), row.team)
        now = utcnow()
        for task_id in ready.keys() - existing:
            task = ready[task_id]
            entry = catalog.get(task.element_id, {})
            open_task = OpenTaskRow(
                id=task.id,
                instance_id=row.id,
                process_key=row.process_key,
                business_key=row.business_key,
                element_id=task.element_id,
                name=entry.get("name") or task.name,
                role=(entry.get("candidate_groups") or [entry.get("lane_role")])[0],
                stage=entry.get("stage"),
                form_key=entry.get("form_key"),
                assignee=entry.get("assignee"),
                created_at=now,
                due_at=deadlines.due_at(entry.get("due_date"), row.variables, self.evaluate),
            )
            session.add(open_task)
            deadlines.schedule(session, open_task, entry)
            session.flush()
            self._add_candidates(session, open_task, entry, row.team)
            events.record(
                session,
                events.TASK_CREATED,
                actor=actor,
                instance_id=row.id,
                task_id=task.id,
                element_id=task.element_id,
                details={"name": entry.get("name") or task.name, "role": open_task.role},
            )

    @staticmethod
    def _add_candidates(session: Session, task: OpenTaskRow, entry: dict, team: list[dict]) -> None:
        users, roles = offer(entry, team)
        session.add_all(
            TaskCandidateRow.of(task, kind, value)
            for kind, values in (("user", users), ("role", roles))
            for value in values
        )


def offer(entry: dict, team: list[dict]) -> tuple[list[str], list[str]]:
    """(candidate users, candidate roles) of a user task: the instance's named people for the task's
    roles, or the whole roles where the team names nobody for them."""
    roles = entry.get("candidate_groups") or ([entry["lane_role"]] if entry.get("lane_role") else [])
    named = sorted({m["user"] for m in team if m.get("role") in roles and m.get("user")})
    users = sorted(set(named) | set(entry.get("candidate_users") or []))
    return users, ([] if named else roles)


def _is_team(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(m, dict) and "user" in m and "role" in m for m in value)


def _jsonable(data: dict) -> dict:
    return json.loads(json.dumps(data, default=str))
