"""The aggregate cycle for one process instance: lock > load > act > save state and indexes.
Shared by the runtime and task services so that no service calls another inside a transaction."""

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlmodel import Session

from engine import events, goals, task_offers, variable_types
from engine.bpmn.assignment import AssignmentError, resolve
from engine.bpmn.catalog import Catalog, ElementInfo
from engine.bpmn.compaction import compact
from engine.bpmn.decision_task import attach_decider
from engine.bpmn.runner import (
    BpmnWorkflow,
    Incident,
    Runner,
    WaitingMessage,
    current_variables,
    has_failed_task,
    is_finished,
    next_timer_due,
    open_tasks,
    reached_outcome,
    ready_external_tasks,
    ready_user_tasks,
    set_open_data,
    thrown_messages,
    waiting_messages,
)
from engine.bpmn.serializer import WorkflowStore
from engine.errors import ConcurrentUpdate, Conflict, InvalidInput, NotFound, Problem
from engine.jobs import task_due, timer
from engine.policy import Policy, TeamMember
from engine.services.decision_store import Decisions, InstanceDecider
from engine.services.mappers import TASK_VIEW_COLUMNS, OpenTask, task_view
from engine.storage.db import batched
from engine.storage.tables import (
    ExternalTaskRow,
    FormDefinitionRow,
    InstanceMemberRow,
    MessageSubscriptionRow,
    OpenTaskRow,
    ProcessDefinitionRow,
    ProcessInstanceRow,
    TaskCandidateRow,
    utcnow,
)
from engine.storage.uow import after_commit
from engine.team import ROUTING_VARIABLES
from engine.views import TaskView

#: (session, the throwing instance, message name, payload) -> the started instance's id or None
MessageStarter = Callable[[Session, "InstanceRecord", str, object], str | None]

# The hot path's statements, built once: SQLAlchemy then reuses their compiled form and cache keys.
R = TypeVar("R")
_INSTANCE = ProcessInstanceRow.__table__
_OPEN_TASK = OpenTaskRow.__table__
_CANDIDATE = TaskCandidateRow.__table__
_DEFINITION = ProcessDefinitionRow.__table__
_EXTERNAL = ExternalTaskRow.__table__
_MEMBER = InstanceMemberRow.__table__
#: What an InstanceRecord is made of: every column but the state (read only when the workflow is not cached).
INSTANCE_RECORD_COLUMNS = [c for c in _INSTANCE.c if c.name != "state"]
_LOCK = (
    sa.select(*INSTANCE_RECORD_COLUMNS).where(_INSTANCE.c.id == sa.bindparam("instance_id")).with_for_update()
)
_READ_DEFINITION = sa.select(
    _DEFINITION.c.id,
    _DEFINITION.c.key,
    _DEFINITION.c.version,
    _DEFINITION.c.catalog,
    _DEFINITION.c.deployed_at,
).where(_DEFINITION.c.id == sa.bindparam("definition_id"))
_READ_STATE = sa.select(_INSTANCE.c.state).where(_INSTANCE.c.id == sa.bindparam("instance_id"))
_INSERT_INSTANCE = _INSTANCE.insert()
_UPDATE_INSTANCE = _INSTANCE.update().where(
    _INSTANCE.c.id == sa.bindparam("where_id"), _INSTANCE.c.version == sa.bindparam("where_version")
)
_OPEN_TASKS_WITH_CANDIDATES = (
    sa.select(*TASK_VIEW_COLUMNS, _CANDIDATE.c.kind, _CANDIDATE.c.value)
    .outerjoin(_CANDIDATE, _CANDIDATE.c.task_id == _OPEN_TASK.c.id)
    .where(_OPEN_TASK.c.instance_id == sa.bindparam("instance_id"))
)
_DELETE_OPEN_TASKS = _OPEN_TASK.delete().where(_OPEN_TASK.c.id.in_(sa.bindparam("ids", expanding=True)))
_INSERT_OPEN_TASK = _OPEN_TASK.insert()
#: The row of a task gone, given to the task that follows it (every column; its candidates follow its id)
_REPLACE_OPEN_TASK = _OPEN_TASK.update().where(_OPEN_TASK.c.id == sa.bindparam("where_id"))
_REFRESH_CANDIDATES = (
    _CANDIDATE.update()
    .where(_CANDIDATE.c.task_id == sa.bindparam("where_task_id"))
    .values(
        open=sa.bindparam("open"),
        created_at=sa.bindparam("created_at"),
        process_key=sa.bindparam("process_key"),
        due_at=sa.bindparam("due_at"),
        stage=sa.bindparam("stage"),
    )
)
_DELETE_CANDIDATES_OF = _CANDIDATE.delete().where(
    _CANDIDATE.c.task_id.in_(sa.bindparam("task_ids", expanding=True))
)
_DELETE_CANDIDATES = _CANDIDATE.delete().where(_CANDIDATE.c.task_id == sa.bindparam("task_id"))
_CANDIDATES_OF_TASK = sa.select(_CANDIDATE.c.kind, _CANDIDATE.c.value).where(
    _CANDIDATE.c.task_id == sa.bindparam("task_id")
)
_SET_INCIDENT = (
    _INSTANCE.update()
    .where(_INSTANCE.c.id == sa.bindparam("instance_id"))
    .values(incident=sa.bindparam("incident"))
)
_INSERT_CANDIDATE = _CANDIDATE.insert()
_ASSIGN_OPEN_TASK = (
    _OPEN_TASK.update()
    .where(_OPEN_TASK.c.id == sa.bindparam("task_id"), _OPEN_TASK.c.assignee.is_(None))
    .values(assignee=sa.bindparam("to_user"), claimed_at=sa.bindparam("at"))
)
_MESSAGES = MessageSubscriptionRow.__table__
_SUBSCRIBED_MESSAGES = sa.select(_MESSAGES.c.message_name).where(
    _MESSAGES.c.instance_id == sa.bindparam("instance_id")
)
_SUBSCRIBE = _MESSAGES.insert()
_UNSUBSCRIBE = _MESSAGES.delete().where(
    _MESSAGES.c.instance_id == sa.bindparam("instance_id"),
    _MESSAGES.c.message_name == sa.bindparam("message_name"),
)


#: An instance that has not ended: running, or suspended by an operator (it keeps its open tasks,
#: subscriptions and jobs, but nothing of it moves until it is resumed).
ACTIVE = ("running", "suspended")


@dataclass
class InstanceRecord:
    """An instance row without its state, detached from any session: what lock() hands out and
    save() writes back."""

    id: str
    definition_id: str
    process_key: str
    business_key: str | None
    status: str
    outcome: str | None
    serializer_version: str
    version: int  # 0: never written (save() inserts it)
    variables: dict[str, Any]
    team: list[TeamMember]
    incident: dict[str, Any] | None
    started_by: str | None
    started_at: datetime
    ended_at: datetime | None = None


@dataclass(frozen=True)
class Definition:
    """What the runtime needs of a deployed version (never its XML). Versions are immutable, so it
    is read once per process and kept."""

    id: str
    key: str
    version: int
    catalog: Catalog
    deployed_at: datetime

    @property
    def waits_for_timers(self) -> bool:
        return any(e.timer for e in self.catalog.values())

    @property
    def waits_for_messages(self) -> bool:
        return any(e.message for e in self.catalog.values())

    @property
    def has_external_tasks(self) -> bool:
        return any(e.type == "serviceTask" for e in self.catalog.values())


@dataclass
class Loaded:
    row: InstanceRecord
    definition: Definition
    workflow: BpmnWorkflow
    team_before: list[TeamMember] = field(default_factory=list)
    #: The status as stored, before this action changed it (None: not stored yet).
    status_before: str | None = None
    #: The routing variables this action may change: those of the form it was validated by (team.py).
    may_route: frozenset[str] = frozenset()
    #: The instance's open tasks as save() left them (what a completion answers with).
    open_tasks: list[TaskView] = field(default_factory=list)
    #: The workflow's unsettled tasks (runner.open_tasks), found once by save() for all its indexes.
    live: list[Any] | None = None  # SpiffWorkflow tasks
    #: The instance's open tasks as the index holds them, when this transaction read them under its
    #: lock already (save() then does not read them again).
    indexed_tasks: "IndexedTasks | None" = None


class WorkflowCache:
    """Deserialized workflows of instances this process saved recently, keyed by instance id and row
    version. A workflow is taken out while a transaction works on it and put back only once that
    transaction has committed: a rolled-back change never leaks into the cache, and a change made by
    anyone else (another server process) bumps the version, so a stale entry is never used."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._entries: OrderedDict[str, tuple[int, BpmnWorkflow]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, instance_id: str, version: int) -> BpmnWorkflow | None:
        with self._lock:
            found = self._entries.pop(instance_id, None)
        return found[1] if found is not None and found[0] == version else None

    def put(self, instance_id: str, version: int, workflow: BpmnWorkflow) -> None:
        if self._size <= 0:
            return
        with self._lock:
            self._entries[instance_id] = (version, workflow)
            self._entries.move_to_end(instance_id)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)


class Instances:
    def __init__(
        self,
        store: WorkflowStore,
        runner: Runner,
        policy: Policy,
        *,
        cache_size: int = 256,
        decisions: Decisions | None = None,
    ) -> None:
        self.store = store
        self.runner = runner
        self.policy = policy
        self.decisions = decisions
        self._definitions: dict[str, Definition] = {}
        self._forms: dict[str, FormDefinitionRow] = {}
        self._workflows = WorkflowCache(cache_size)
        #: starts the process whose message start event catches a message an instance threw (set by
        #: the runtime service); returns the new instance's id, or None when no process starts with it
        self.message_starter: MessageStarter | None = None

    def definition(self, session: Session, definition_id: str) -> Definition:
        found = self._definitions.get(definition_id)
        if found is None:
            row = session.connection().execute(_READ_DEFINITION, {"definition_id": definition_id}).one()
            found = self._definitions.setdefault(definition_id, Definition(*row))
        return found

    def form(self, session: Session, form_id: str | None) -> FormDefinitionRow | None:
        """A deployed form version; immutable, so read once per process and kept (detached)."""
        if form_id is None:
            return None
        found = self._forms.get(form_id)
        if found is None:
            row = session.get(FormDefinitionRow, form_id)
            if row is None:
                raise NotFound(f"form version {form_id} not found")
            session.expunge(row)
            found = self._forms.setdefault(form_id, row)
        return found

    def evaluate(self, expression: str, context: dict[str, Any]) -> object:
        """An expression of the model (a due date, say) in the sandbox, against process data."""
        return self.runner.script_engine.environment.evaluate(expression, context)

    def lock(self, session: Session, instance_id: str) -> InstanceRecord:
        """The instance row, locked for this transaction (row lock on PostgreSQL; on SQLite the
        write transaction already holds the database's write lock), as a detached copy without its
        state: load() reads the state only if the workflow is not cached."""
        return lock(session, instance_id)

    def load(self, session: Session, row: InstanceRecord) -> Loaded:
        definition = self.definition(session, row.definition_id)
        workflow = self._workflows.take(row.id, row.version)
        if workflow is None:
            state = session.connection().execute(_READ_STATE, {"instance_id": row.id}).scalar_one()
            workflow = self.runner.attach(self.store.load(state))
        self.bind(session, row.id, definition, workflow)
        return Loaded(row, definition, workflow, list(row.team), status_before=row.status)

    def read_workflow(
        self, session: Session, row: InstanceRecord | ProcessInstanceRow, read: Callable[[BpmnWorkflow], R]
    ) -> R:
        """Read the workflow without changing it; a running one goes into the cache once read (a writer
        meanwhile finds none and loads its own), an ended one does not (see save)."""
        workflow = self._workflows.take(row.id, row.version)
        if workflow is None:
            state = session.connection().execute(_READ_STATE, {"instance_id": row.id}).scalar_one()
            workflow = self.runner.attach(self.store.load(state))
        try:
            return read(workflow)
        finally:
            if row.status in ACTIVE:
                self._workflows.put(row.id, row.version, workflow)

    def bind(
        self, session: Session, instance_id: str, definition: Definition, workflow: BpmnWorkflow
    ) -> None:
        """Business rule tasks decide inside this transaction (their history is written with it)."""
        if self.decisions is not None:
            decider = InstanceDecider(self.decisions, session, instance_id, definition.deployed_at)
            attach_decider(workflow, decider)

    def set_variables(
        self,
        session: Session,
        loaded: Loaded,
        modifications: dict[str, Any],
        deletions: list[str],
        *,
        actor: str,
        task: tuple[str, str] | None = None,
    ) -> None:
        """Change the data of a loaded instance outside a form (Camunda's variables API), save it and
        record the change; deleting a variable forgets its declared type too. `task`: the (task id,
        element id) it went through."""
        gone = deletions + [variable_types.PREFIX + name for name in deletions]
        set_open_data(loaded.workflow, modifications, gone)
        self.save(session, loaded, actor=actor, incident=None)
        task_id, element_id = task or (None, None)
        events.record(
            session,
            events.VARIABLES_SET,
            actor=actor,
            instance_id=loaded.row.id,
            task_id=task_id,
            element_id=element_id,
            details={"set": sorted(variable_types.plain(modifications)), "deleted": deletions},
        )

    def save(
        self,
        session: Session,
        loaded: Loaded,
        *,
        actor: str | None,
        incident: Incident | None,
        resolved: bool = False,
    ) -> None:
        """Write the state with an optimistic version check, then bring every index in line with it.
        A row at version 0 has never been written: it is inserted. `resolved`: an operator retried
        the incident, which no longer stands unless `incident` says it failed again."""
        row, workflow, catalog = loaded.row, loaded.workflow, loaded.definition.catalog
        conn = session.connection()
        thrown = thrown_messages(workflow)  # drains the queue: before the state is written
        compact(workflow)  # a long loop's finished history leaves the state (counted, not lost)
        # One pass over the task tree; every fact below reads the open tasks it found (a long-running
        # instance's tree holds every finished iteration: walking it once per fact grew with it).
        live = loaded.live = open_tasks(workflow)
        variables = _jsonable(current_variables(workflow, live))
        _refuse_rerouting(row.variables, variables, loaded.may_route)
        team = self.policy.team_of(variables)
        team = row.team if team is None else team
        status = row.status
        outcome = row.outcome
        if status == "running" and is_finished(workflow, live):
            status, outcome = "completed", reached_outcome(workflow, catalog)
        # An incident stays until its task no longer fails, or, for an external task or a job that
        # gave up, until an operator retries it: work on another branch does not clear it.
        kept = (
            not resolved
            and incident is None
            and row.incident is not None
            and status in ACTIVE
            and (has_failed_task(workflow, live) or _waits_for_retry(row.incident))
        )
        values = {
            "state": self.store.dump(workflow),
            "serializer_version": self.store.version,
            "status": status,
            "outcome": outcome,
            "variables": variables,
            "team": team,
            "incident": incident.as_dict() if incident else (row.incident if kept else None),
            "version": row.version + 1,
        }
        if status not in ACTIVE and row.ended_at is None:
            values["ended_at"] = utcnow()
        if row.version == 0:
            conn.execute(_INSERT_INSTANCE, {**asdict(row), **values})
        else:
            result = conn.execute(
                _UPDATE_INSTANCE, {**values, "where_id": row.id, "where_version": row.version}
            )
            if result.rowcount != 1:
                raise ConcurrentUpdate(f"process instance {row.id} was changed by someone else; try again")
        goal = goals.goal_of(variables)
        # Rarely a statement: when the figures change, or the status of an instance that has some.
        before = goals.goal_of(row.variables) if row.version else None
        if goal != before or (goal is not None and status != loaded.status_before):
            goals.write(conn, row, status, goal)
        for key, value in values.items():
            if key != "state":
                setattr(row, key, value)
        if status in ACTIVE:  # an ended instance is not worked on again: its tree would only crowd the cache
            after_commit(session, lambda: self._workflows.put(row.id, row.version, workflow))
        team_changed = team != loaded.team_before
        if team_changed:
            self._reindex_team(session, row.id, team)
        loaded.open_tasks, unassignable = self._reindex_tasks(
            session, loaded, actor, is_new=values["version"] == 1, reoffer=team_changed
        )
        if unassignable is not None and incident is None:
            incident = unassignable
            row.incident = incident.as_dict()
            conn.execute(_SET_INCIDENT, {"instance_id": row.id, "incident": row.incident})
        # Models without timers, messages or external tasks never need those indexes touched.
        if loaded.definition.waits_for_timers:
            timer.schedule(session, row.id, next_timer_due(workflow) if status in ACTIVE else None)
        subscribed: list[WaitingMessage] = []
        if loaded.definition.waits_for_messages:
            subscribed = self._reindex_messages(session, loaded)
        if loaded.definition.has_external_tasks:
            self._reindex_external_tasks(session, loaded)
        # Events of the change, now that state and indexes are written (same transaction).
        for waiting in subscribed:
            _request_approval(session, loaded, waiting, actor)
        for name, payload in thrown:
            details = {
                "message": name,
                "payload": _jsonable({"p": payload})["p"],
                "business_key": row.business_key,
            }
            starter = self.message_starter
            started = starter(session, row, name, details["payload"]) if starter else None
            if started is not None:  # the link between the two instances, kept in the history
                details["started_instance_id"] = started
            events.record(session, events.MESSAGE_THROWN, actor=actor, instance_id=row.id, details=details)
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

    def _reindex_messages(self, session: Session, loaded: Loaded) -> list[WaitingMessage]:
        """Subscriptions for the messages the instance waits for; returns the newly waiting ones."""
        row = loaded.row
        waiting = waiting_messages(loaded.workflow, loaded.live) if row.status in ACTIVE else []
        conn = session.connection()
        existing = set(conn.execute(_SUBSCRIBED_MESSAGES, {"instance_id": row.id}).scalars())
        wanted = {w.message: w for w in waiting}
        for name in existing - wanted.keys():
            conn.execute(_UNSUBSCRIBE, {"instance_id": row.id, "message_name": name})
        new = [wanted[name] for name in wanted.keys() - existing]
        for w in new:
            conn.execute(
                _SUBSCRIBE, {"instance_id": row.id, "message_name": w.message, "element_id": w.element_id}
            )
        return new

    @staticmethod
    def _reindex_external_tasks(session: Session, loaded: Loaded) -> None:
        row, catalog = loaded.row, loaded.definition.catalog
        active = row.status in ACTIVE
        ready = {t.id: t for t in ready_external_tasks(loaded.workflow, loaded.live)} if active else {}
        existing = set(
            session.execute(sa.select(_EXTERNAL.c.id).where(_EXTERNAL.c.instance_id == row.id)).scalars()
        )
        gone = existing - ready.keys()
        if gone:
            session.execute(sa.delete(ExternalTaskRow).where(_EXTERNAL.c.id.in_(gone)))
        for task_id in ready.keys() - existing:
            task = ready[task_id]
            entry = catalog.of(task.element_id)
            session.add(
                ExternalTaskRow(
                    id=task_id,
                    instance_id=row.id,
                    process_key=row.process_key,
                    definition_id=row.definition_id,
                    business_key=row.business_key,
                    element_id=task.element_id,
                    topic=entry.topic or "",
                    priority=int(entry.properties.get("priority", 0) or 0),
                    created_at=utcnow(),
                )
            )

    def _reindex_team(self, session: Session, instance_id: str, team: list[TeamMember]) -> None:
        session.execute(sa.delete(InstanceMemberRow).where(_MEMBER.c.instance_id == instance_id))
        members = {(m.user, m.role) for m in team}
        session.add_all(InstanceMemberRow(instance_id=instance_id, user_name=u, role=r) for u, r in members)

    def _reindex_tasks(
        self, session: Session, loaded: Loaded, actor: str | None, *, is_new: bool, reoffer: bool
    ) -> tuple[list[TaskView], Incident | None]:
        """Open task rows (and their candidates) for exactly the READY user tasks; returns them, and the
        incident of a task whose assignment could not be resolved (that task gets no row yet).
        Core statements: this is the hot path of every completion."""
        row, catalog, conn = loaded.row, loaded.definition.catalog, session.connection()
        active = row.status in ACTIVE
        ready = {t.id: t for t in ready_user_tasks(loaded.workflow, loaded.live)} if active else {}
        existing: IndexedTasks = {}
        if loaded.indexed_tasks is not None:  # read by this transaction, under its lock
            existing = loaded.indexed_tasks
        elif not is_new:  # one statement for the open tasks and their candidates
            existing = indexed_tasks(conn.execute(_OPEN_TASKS_WITH_CANDIDATES, {"instance_id": row.id}))
        gone = existing.keys() - ready.keys()
        if gone:
            with_deadlines = {task_id for task_id in gone if existing[task_id][0]["due_at"]}
            task_due.cancel(session, with_deadlines)
        kept = [existing[task_id] for task_id in existing if task_id not in gone]
        if reoffer:  # the team changed: tasks already open go to the newly named people
            kept = [self._reoffer(session, t[0], catalog.of(t[0]["element_id"]), row) for t in kept]
        now = utcnow()
        created, failed = [], None
        for task_id in ready.keys() - existing.keys():
            task = ready[task_id]
            entry = catalog.of(task.element_id)
            try:
                assignment, due_at = task_offers.derive(
                    task.element_id, entry, {**row.variables, **task.data}, self.evaluate
                )
            except AssignmentError as exc:  # not offered to anyone: indexed once the incident is resolved
                failed = failed or Incident(exc.element_id, exc.message)
                continue
            values: dict[str, Any] = {
                "id": task.id,
                "instance_id": row.id,
                "process_key": row.process_key,
                "business_key": row.business_key,
                "element_id": task.element_id,
                "name": entry.name or task.name,
                "role": assignment.first_group,
                "stage": entry.stage,
                "form_key": entry.form_key,
                "assignee": assignment.assignee,
                "draft": None,
                "created_at": now,
                "claimed_at": None,
                "due_at": due_at,
                "owner": None,
                "delegation": None,
            }
            users, groups = task_offers.offer(assignment, row.team)
            sole = task_offers.sole_candidate(assignment, users, groups)
            if sole is not None:
                values["assignee"], values["claimed_at"] = sole, now
            created.append((values, users, groups))
        with batched(conn):
            _write_task_rows(conn, existing, sorted(gone), created)
        if created:
            for values, _, _ in created:
                task_due.schedule(session, values, catalog.of(values["element_id"]))
                events.record(
                    session,
                    events.TASK_CREATED,
                    actor=actor,
                    instance_id=row.id,
                    task_id=values["id"],
                    element_id=values["element_id"],
                    details={"name": values["name"], "role": values["role"]},
                )
                if values["claimed_at"] is not None:
                    _record_engine_assignment(session, values)
        open_tasks = sorted(kept + created, key=lambda t: (t[0]["created_at"], t[0]["id"]))
        views = [task_view(OpenTask(**values), users, roles) for values, users, roles in open_tasks]
        return views, failed

    def _reoffer(
        self, session: Session, values: dict[str, Any], entry: ElementInfo, row: InstanceRecord
    ) -> tuple[dict[str, Any], list[str], list[str]]:
        conn = session.connection()
        try:
            assignment = resolve(values["element_id"], entry.assignment, row.variables, self.evaluate)
        except AssignmentError:  # it resolved when the task was created; keep what it gave then
            return self._kept_offer(conn, values)
        conn.execute(_DELETE_CANDIDATES, {"task_id": values["id"]})
        users, groups = task_offers.offer(assignment, row.team)
        sole = task_offers.sole_candidate(assignment, users, groups)
        if sole is not None and values["assignee"] is None:
            values = {**values, "assignee": sole, "claimed_at": utcnow()}
            conn.execute(
                _ASSIGN_OPEN_TASK,
                {"task_id": values["id"], "to_user": sole, "at": values["claimed_at"]},
            )
            _record_engine_assignment(session, values)
        _insert_candidates(conn, [(values, users, groups)])
        return values, users, groups

    @staticmethod
    def _kept_offer(
        conn: sa.Connection, values: dict[str, Any]
    ) -> tuple[dict[str, Any], list[str], list[str]]:
        found = conn.execute(_CANDIDATES_OF_TASK, {"task_id": values["id"]}).all()
        return values, [v for k, v in found if k == "user"], [v for k, v in found if k == "group"]


#: An instance's open tasks as its index holds them: task id -> (TASK_VIEW_COLUMNS values, users, groups).
IndexedTasks = dict[str, tuple[dict[str, Any], list[str], list[str]]]
_VIEW_COLUMN_NAMES = [c.name for c in TASK_VIEW_COLUMNS]


def indexed_tasks(rows: Iterable[sa.Row[Any]]) -> IndexedTasks:
    """Rows of open tasks joined with their candidates (`kind`, `value`; NULL for none), by task."""
    found: IndexedTasks = {}
    for row in rows:
        mapping = row._mapping
        entry = found.get(mapping["id"])
        if entry is None:
            entry = found[mapping["id"]] = ({k: mapping[k] for k in _VIEW_COLUMN_NAMES}, [], [])
        kind = mapping["kind"]
        if kind is not None:
            (entry[1] if kind == "user" else entry[2]).append(mapping["value"])
    return found


def _request_approval(session: Session, loaded: Loaded, waiting: WaitingMessage, actor: str | None) -> None:
    """A newly waiting element marked with the `approval` property asks the approval system for a
    decision (an approval_requested event; its answer is the message the element waits for)."""
    row = loaded.row
    approval = loaded.definition.catalog.of(waiting.element_id).properties.get("approval")
    if approval:
        events.record(
            session,
            events.APPROVAL_REQUESTED,
            actor=actor,
            instance_id=row.id,
            element_id=waiting.element_id,
            details={
                "approval": approval,
                "reply_message": waiting.message,
                "business_key": row.business_key,
                "variables": row.variables,
            },
        )


def _record_engine_assignment(session: Session, values: dict[str, Any]) -> None:
    """Audited as an assignment made by the engine (no actor): the task's only candidate holds it."""
    events.record(
        session,
        events.TASK_ASSIGNED,
        actor=None,
        instance_id=values["instance_id"],
        task_id=values["id"],
        element_id=values["element_id"],
        details={"assignee": values["assignee"], "reason": "sole_candidate"},
    )


def _write_task_rows(
    conn: sa.Connection,
    existing: IndexedTasks,
    gone: list[str],
    created: list[tuple[dict[str, Any], list[str], list[str]]],
) -> None:
    """The index rows of the tasks gone and created. Where one task follows another (the usual case: a
    completion opens the next step), the row of the one gone becomes the new one's: an UPDATE, whose
    new id its candidates follow (ON UPDATE CASCADE), then one UPDATE of the candidates when they are
    the same people and groups, instead of a DELETE and two INSERTs (a round trip less on PostgreSQL).
    The rest are deleted (their candidates with them: ON DELETE CASCADE) or inserted."""
    reused = list(zip(gone, created, strict=False))
    if len(gone) > len(reused):
        conn.execute(_DELETE_OPEN_TASKS, {"ids": gone[len(reused) :]})
    if reused:
        conn.execute(_REPLACE_OPEN_TASK, [{**values, "where_id": old} for old, (values, _, _) in reused])
        same: list[tuple[dict[str, Any], list[str], list[str]]] = []
        other: list[tuple[dict[str, Any], list[str], list[str]]] = []
        for old, task in reused:
            _, users, groups = existing[old]
            offered_alike = (sorted(users), sorted(groups)) == (sorted(task[1]), sorted(task[2]))
            (same if offered_alike else other).append(task)
        if same:
            conn.execute(_REFRESH_CANDIDATES, [_candidate_fields(values) for values, _, _ in same])
        if other:
            conn.execute(_DELETE_CANDIDATES_OF, {"task_ids": [values["id"] for values, _, _ in other]})
            _insert_candidates(conn, other)
    fresh = created[len(reused) :]
    if fresh:
        conn.execute(_INSERT_OPEN_TASK, [values for values, _, _ in fresh])
        _insert_candidates(conn, fresh)


def _candidate_fields(values: dict[str, Any]) -> dict[str, Any]:
    """What the candidate rows of a task copy from it (see TaskCandidateRow), by the task's id."""
    return {
        "where_task_id": values["id"],
        "open": values["assignee"] is None,
        "created_at": values["created_at"],
        "process_key": values["process_key"],
        "due_at": values["due_at"],
        "stage": values["stage"],
    }


def _insert_candidates(conn: sa.Connection, tasks: list[tuple[dict[str, Any], list[str], list[str]]]) -> None:
    """The candidate rows carry what the "offered to me" index sorts and filters by."""
    rows = [
        {
            "task_id": values["id"],
            "kind": kind,
            "value": name,
            "open": values["assignee"] is None,
            "created_at": values["created_at"],
            "process_key": values["process_key"],
            "due_at": values["due_at"],
            "stage": values["stage"],
        }
        for values, users, roles in tasks
        for kind, names in (("user", users), ("group", roles))
        for name in names
    ]
    if rows:
        conn.execute(_INSERT_CANDIDATE, rows)


def _refuse_rerouting(before: dict[str, Any], after: dict[str, Any], allowed: frozenset[str]) -> None:
    """Data from outside enters an instance through many doors (a start, a task, a message, an external
    task, an incident's retry); whichever it came through, it is saved here. A routing variable that
    changed without the form that owns it (validated there) is refused: the whole change rolls back."""
    # (a key that is gone, as from a cancelled instance's data, changes nothing: the team stays)
    changed = [k for k in ROUTING_VARIABLES if k not in allowed and k in after and after[k] != before.get(k)]
    if changed:
        raise InvalidInput(
            "this would change who works on the instance",
            [
                Problem(
                    f"{k!r} decides who is offered the instance's tasks; only the task whose form "
                    f"names it may change it, not this request",
                    path=k,
                )
                for k in changed
            ],
        )


def _waits_for_retry(incident: dict[str, Any]) -> bool:
    """An external task whose retries ran out, or a job that gave up: nothing in the workflow shows it."""
    return bool(incident.get("job_id") or incident.get("external_task_id"))


def lock(session: Session, instance_id: str) -> InstanceRecord:
    """Instances.lock, for the steps of the cycle that need no workflow (set_incident)."""
    found = session.connection().execute(_LOCK, {"instance_id": instance_id}).first()
    if found is None:
        raise NotFound(f"process instance {instance_id} not found")
    return InstanceRecord(**found._mapping)


def set_incident(session: Session, row: InstanceRecord, incident: dict[str, Any] | None) -> None:
    """Raise or clear an incident nothing in the workflow shows (an external task out of retries, a
    job that gave up) on a locked instance. The workflow is as it was, so only the incident is
    written, but under save()'s version check and with its version bump: a change prepared from the
    version before is refused (ConcurrentUpdate) instead of saving over the incident. The caller
    records the event after this. (A workflow cached at the version before is simply not taken again.)"""
    result = session.connection().execute(
        _UPDATE_INSTANCE,
        {"incident": incident, "version": row.version + 1, "where_id": row.id, "where_version": row.version},
    )
    if result.rowcount != 1:
        raise ConcurrentUpdate(f"process instance {row.id} was changed by someone else; try again")
    row.incident, row.version = incident, row.version + 1


def require_active(row: InstanceRecord | ProcessInstanceRow) -> None:
    """Work on a suspended instance waits until it is resumed."""
    if row.status == "suspended":
        raise Conflict(f"process instance {row.id} is suspended: nothing of it moves until it is resumed")


def _jsonable(data: dict[str, Any]) -> dict[str, Any]:
    plain: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return plain
