"""The people's side: inboxes, claiming, assigning, drafts and completing user tasks."""

import json
from collections.abc import Sequence

import sqlalchemy as sa
from sqlmodel import Session, col, select

from engine import events, permissions, variable_types
from engine.bpmn.catalog import ElementInfo
from engine.bpmn.runner import ready_user_task
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from engine.forms import validate_submission
from engine.instances import (
    INSTANCE_RECORD_COLUMNS,
    Definition,
    IndexedTasks,
    InstanceRecord,
    Instances,
    indexed_tasks,
    require_active,
)
from engine.permissions import TeamRules
from engine.services import inbox
from engine.services.console import require_visible
from engine.services.identity import users_with_groups
from engine.services.mappers import OpenTask, instance_view, task_view
from engine.services.repository import binds_latest_form, form_view, resolve_form_id
from engine.storage.tables import (
    AnyRow,
    AuditEventRow,
    FormDefinitionRow,
    OpenTaskRow,
    ProcessInstanceRow,
    TaskCandidateRow,
    utcnow,
)
from engine.storage.uow import Transactions, UnitOfWork
from engine.team import routing_fields, team_problems
from engine.types import JsonObject
from engine.views import InstanceDetailView, Page, Principal, TaskDetailView, TaskView

#: A form version not looked up yet.
_UNKNOWN = object()

# One statement for the task and its candidates: under READ COMMITTED (PostgreSQL) two would let a
# completion committed in between show an open task with no candidates.
_OPEN_TASK, _CANDIDATE = OpenTaskRow.__table__, TaskCandidateRow.__table__
_TASK_WITH_CANDIDATES = (
    sa.select(_OPEN_TASK, _CANDIDATE.c.kind, _CANDIDATE.c.value)
    .outerjoin(_CANDIDATE, _CANDIDATE.c.task_id == _OPEN_TASK.c.id)
    .where(_OPEN_TASK.c.id == sa.bindparam("task_id"))
)
# Claiming, unclaiming, assigning: guarded updates (of two people claiming at once, exactly one wins).
# (the columns to set come as parameters named after them, as in Instances.save)
_ASSIGN_UNCLAIMED = _OPEN_TASK.update().where(
    _OPEN_TASK.c.id == sa.bindparam("where_id"), _OPEN_TASK.c.assignee.is_(None)
)
_REASSIGN = _OPEN_TASK.update().where(
    _OPEN_TASK.c.id == sa.bindparam("where_id"), _OPEN_TASK.c.assignee == sa.bindparam("where_assignee")
)
_SET_OFFERS_OPEN = _CANDIDATE.update().where(_CANDIDATE.c.task_id == sa.bindparam("where_task_id"))
# The newest version of the task's form (the default binding), read with the task: a statement less.
_FORM = FormDefinitionRow.__table__
_LATEST_FORM_OF_TASK = (
    sa.select(_FORM.c.id)
    .where(_FORM.c.key == _OPEN_TASK.c.form_key)
    .order_by(_FORM.c.version.desc())
    .limit(1)
    .correlate(_OPEN_TASK)
    .scalar_subquery()
    .label("latest_form_id")
)
# A completion reads the task and locks its instance in the same statement (a round trip less on
# PostgreSQL). The state, not this row, then decides whether the task is still open.
_INSTANCE = ProcessInstanceRow.__table__
_TASK_WITH_LOCKED_INSTANCE = (
    sa.select(
        _OPEN_TASK,
        _CANDIDATE.c.kind,
        _CANDIDATE.c.value,
        *(c.label(f"instance__{c.name}") for c in INSTANCE_RECORD_COLUMNS),
        _LATEST_FORM_OF_TASK,
    )
    .join(_INSTANCE, _INSTANCE.c.id == _OPEN_TASK.c.instance_id)
    .outerjoin(_CANDIDATE, _CANDIDATE.c.task_id == _OPEN_TASK.c.id)
    .where(_OPEN_TASK.c.id == sa.bindparam("task_id"))
    .with_for_update(of=_INSTANCE)
)
# On SQLite the write transaction holds the database's write lock from its BEGIN IMMEDIATE, so what
# it reads first is what the instance's index still holds when it is saved: the first statement reads
# every open task of the instance (and their candidates), and save() does not read them again. (Not on
# PostgreSQL: rows read while waiting for the instance's row lock may be older than the lock.)
_INSTANCE_TASKS_WITH_INSTANCE = (
    sa.select(
        _OPEN_TASK,
        _CANDIDATE.c.kind,
        _CANDIDATE.c.value,
        *(c.label(f"instance__{c.name}") for c in INSTANCE_RECORD_COLUMNS),
        _LATEST_FORM_OF_TASK,
    )
    .join(_INSTANCE, _INSTANCE.c.id == _OPEN_TASK.c.instance_id)
    .outerjoin(_CANDIDATE, _CANDIDATE.c.task_id == _OPEN_TASK.c.id)
    .where(
        _OPEN_TASK.c.instance_id
        == sa.select(_OPEN_TASK.c.instance_id)
        .where(_OPEN_TASK.c.id == sa.bindparam("task_id"))
        .scalar_subquery()
    )
)

_DRAFTS_FOR_UPDATE = (
    sa.select(_OPEN_TASK.c.draft).where(_OPEN_TASK.c.id == sa.bindparam("task_id")).with_for_update()
)

SCOPES = ("mine", "offered", "all")
PENDING, RESOLVED = "pending", "resolved"  # a delegation's states (open_task.delegation)
SORTS = ("created", "due")
MAX_DRAFT_BYTES = 256 * 1024


class TaskService:
    def __init__(self, tx: Transactions, instances: Instances, rules: TeamRules) -> None:
        self._tx = tx
        self._instances = instances
        self._rules = rules

    # --- reading --------------------------------------------------------------------------------

    def inbox(
        self,
        *,
        principal: Principal,
        scope: str = "all",
        process_key: str | None = None,
        stage: str | None = None,
        instance_id: str | None = None,
        business_key: str | None = None,
        overdue: bool | None = None,
        sort: str = "created",
        offset: int = 0,
        limit: int = 50,
    ) -> Page[TaskView]:
        """Tasks claimed by me (`mine`), offered to me and unclaimed (`offered`), or both (`all`).
        Reads only the index tables, never a workflow."""
        if scope not in SCOPES:
            raise InvalidInput(f"scope is one of {', '.join(SCOPES)}")
        if sort.removeprefix("-") not in SORTS:
            raise InvalidInput("sort is one of created, -created, due, -due")
        query = inbox.InboxQuery(
            scope, process_key, stage, instance_id, business_key, overdue, sort, offset, limit
        )
        answer = inbox.by_offer_index if query.fits_offer_index else inbox.by_filters
        return self._tx.read(lambda uow: answer(uow.session, principal, query))

    def get_task(self, task_id: str, *, principal: Principal) -> TaskDetailView:
        def get(uow: UnitOfWork) -> TaskDetailView:
            session = uow.session
            row, users, roles, instance, read_only = self._readable_task(session, task_id, principal)
            definition = self._instances.definition(session, instance.definition_id)
            entry = definition.catalog.of(row.element_id)
            form = self._instances.form(session, resolve_form_id(session, entry, definition))
            stored = own_draft(row.draft, principal)  # a delegate's draft keeps the types it was sent with
            draft = None if stored is None else variable_types.plain(stored)
            data = {**variable_types.plain(instance.variables), **(draft or {})}
            return TaskDetailView(
                task_view(row, users, roles),
                entry.documentation,
                form_view(form) if form else None,
                data,
                draft,
                instance_view(instance, definition.version),
                read_only,
            )

        return self._tx.read(get)

    # --- acting -----------------------------------------------------------------------------------

    def claim(self, task_id: str, *, principal: Principal) -> TaskView:
        def claim(uow: UnitOfWork) -> TaskView:
            session = uow.session
            row, users, roles = self._visible_task(session, task_id, principal)
            instance = _instance_of(session, row)
            require_active(instance)
            if row.assignee is not None:
                raise Conflict(f"task {task_id} is already claimed by {row.assignee}")
            if not permissions.can_claim(principal, row.assignee, users, roles):
                raise Forbidden(f"task {task_id} is not offered to {principal.name}")
            self._set_assignee(session, row, principal.name, expected=None)
            events.record(
                session,
                events.TASK_CLAIMED,
                actor=principal.name,
                instance_id=row.instance_id,
                task_id=row.id,
                element_id=row.element_id,
            )
            return task_view(row, users, roles)

        return self._tx.write(claim)

    def unclaim(self, task_id: str, *, principal: Principal) -> TaskView:
        def unclaim(uow: UnitOfWork) -> TaskView:
            session = uow.session
            row, users, roles = self._visible_task(session, task_id, principal)
            instance = _instance_of(session, row)
            require_active(instance)
            if row.assignee is None:
                raise Conflict(f"task {task_id} is not claimed")
            leader = self._rules.is_instance_leader(principal, instance.started_by, instance.team)
            if row.assignee != principal.name and not leader:
                raise Forbidden(f"task {task_id} is claimed by {row.assignee}")
            self._set_assignee(session, row, None, expected=row.assignee)
            events.record(
                session,
                events.TASK_UNCLAIMED,
                actor=principal.name,
                instance_id=row.instance_id,
                task_id=row.id,
                element_id=row.element_id,
            )
            return task_view(row, users, roles)

        return self._tx.write(unclaim)

    def assign(self, task_id: str, user: str, *, principal: Principal) -> TaskView:
        def assign(uow: UnitOfWork) -> TaskView:
            session = uow.session
            row, users, roles = self._visible_task(session, task_id, principal)
            instance = _instance_of(session, row)
            require_active(instance)
            if not self._rules.is_instance_leader(principal, instance.started_by, instance.team):
                raise Forbidden("only the instance's leader or an admin may assign its tasks")
            target_groups = users_with_groups(session, {user}).get(user)
            if target_groups is None:
                raise InvalidInput(f"there is no user named {user!r}", [Problem("unknown user", path="user")])
            if user not in users and not target_groups.intersection(roles):
                raise InvalidInput(
                    f"{user} is not a candidate for this task", [Problem("not a candidate", path="user")]
                )
            self._set_assignee(session, row, user, expected=row.assignee)
            events.record(
                session,
                events.TASK_ASSIGNED,
                actor=principal.name,
                instance_id=row.instance_id,
                task_id=row.id,
                element_id=row.element_id,
                details={"assignee": user},
            )
            return task_view(row, users, roles)

        return self._tx.write(assign)

    def delegate(self, task_id: str, user: str, *, principal: Principal) -> TaskView:
        """Camunda's delegation: the task goes to `user` (its assignee meanwhile) and its owner, who held
        it (or the instance's leader who hands it on), gets it back when the delegate resolves it."""

        def delegate(uow: UnitOfWork) -> TaskView:
            session = uow.session
            row, users, groups = self._visible_task(session, task_id, principal)
            instance = _instance_of(session, row)
            require_active(instance)
            holder = row.assignee == principal.name
            if not holder and not self._rules.is_instance_leader(
                principal, instance.started_by, instance.team
            ):
                raise Forbidden(f"only the holder of task {task_id} or the instance's leader may delegate it")
            if not users_with_groups(session, {user}):
                raise InvalidInput(f"there is no user named {user!r}", [Problem("unknown user", path="user")])
            owner = row.owner or row.assignee or principal.name
            self._set_assignee(session, row, user, expected=row.assignee, owner=owner, delegation=PENDING)
            events.record(
                session,
                events.TASK_DELEGATED,
                actor=principal.name,
                instance_id=row.instance_id,
                task_id=row.id,
                element_id=row.element_id,
                details={"owner": owner, "delegate": user},
            )
            return task_view(row, users, groups)

        return self._tx.write(delegate)

    def resolve(self, task_id: str, data: JsonObject, *, principal: Principal) -> TaskView:
        """The delegate gives the task back to its owner, with what they filled in as its draft."""
        _check_draft(data)

        def resolve(uow: UnitOfWork) -> TaskView:
            session = uow.session
            row, users, groups = self._visible_task(session, task_id, principal)
            if row.delegation != PENDING:
                raise Conflict(f"task {task_id} is not delegated")
            if row.assignee != principal.name:
                raise Forbidden(f"task {task_id} is delegated to {row.assignee}; only they resolve it")
            owner = row.owner or ""  # a delegated task has its owner
            drafts = _by_person(row.draft)  # what the delegate filled in becomes the owner's draft
            drafts = {"drafts": {**drafts, owner: {**drafts.get(owner, {}), **data}}}
            session.execute(sa.update(OpenTaskRow).where(col(OpenTaskRow.id) == row.id).values(draft=drafts))
            row.draft = drafts
            self._set_assignee(
                session, row, row.owner, expected=principal.name, owner=row.owner, delegation=RESOLVED
            )
            events.record(
                session,
                events.TASK_RESOLVED,
                actor=principal.name,
                instance_id=row.instance_id,
                task_id=row.id,
                element_id=row.element_id,
                details={"owner": row.owner},
            )
            return task_view(row, users, groups)

        return self._tx.write(resolve)

    def save_draft(self, task_id: str, data: JsonObject, *, principal: Principal) -> TaskView:
        _check_draft(data)

        def save(uow: UnitOfWork) -> TaskView:
            session = uow.session
            row, users, roles = self._visible_task(session, task_id, principal)
            if not permissions.can_complete(principal, row.assignee, users, roles):
                raise Forbidden(f"task {task_id} is claimed by {row.assignee}")
            # locked: two candidates saving at once each keep their own draft
            drafts = session.execute(_DRAFTS_FOR_UPDATE, {"task_id": row.id}).scalar_one_or_none()
            drafts = {"drafts": {**_by_person(drafts), principal.name: data}}
            session.execute(sa.update(OpenTaskRow).where(col(OpenTaskRow.id) == row.id).values(draft=drafts))
            row.draft = drafts
            return task_view(row, users, roles)

        return self._tx.write(save)

    def set_variables(
        self,
        task_id: str,
        modifications: JsonObject,
        deletions: list[str] | None = None,
        *,
        principal: Principal,
    ) -> None:
        """Change the process data through a task (Camunda's task variables), unvalidated as in Camunda:
        whoever may complete the task may; its instance's leader too."""
        deletions = list(deletions or [])

        def update(uow: UnitOfWork) -> None:
            session = uow.session
            row, users, roles, instance, _indexed, _form = self._task_to_complete(session, task_id, principal)
            if not permissions.can_complete(principal, row.assignee, users, roles) and not (
                self._rules.is_instance_leader(principal, instance.started_by, instance.team)
            ):
                raise Forbidden(f"task {task_id} is claimed by {row.assignee}; only they can change it")
            loaded = self._instances.load(session, instance)
            where = (task_id, row.element_id)
            self._instances.set_variables(
                session, loaded, modifications, deletions, actor=principal.name, task=where
            )

        self._tx.write(update)

    def complete(self, task_id: str, data: JsonObject, *, principal: Principal) -> InstanceDetailView:
        """Validate the form data, complete the task, run the process on to its next wait states."""

        def complete(uow: UnitOfWork) -> InstanceDetailView:
            session = uow.session
            row, users, roles, instance, indexed, latest_form = self._task_to_complete(
                session, task_id, principal
            )
            require_active(instance)
            if not permissions.can_complete(principal, row.assignee, users, roles):
                if row.assignee is not None:
                    raise Forbidden(f"task {task_id} is claimed by {row.assignee}; only they can complete it")
                raise Forbidden(f"task {task_id} is not offered to {principal.name}")
            if row.delegation == PENDING:  # as in Camunda: the delegate resolves, the owner completes
                raise Conflict(
                    f"task {task_id} is delegated to {row.assignee}: they resolve it, its owner completes it"
                )
            loaded = self._instances.load(session, instance)
            loaded.indexed_tasks = indexed
            # The state decides: a task completed while we waited for the lock is not READY any more.
            ready_user_task(loaded.workflow, task_id)
            entry = loaded.definition.catalog.of(row.element_id)
            values, types = variable_types.split(data if isinstance(data, dict) else None)
            context = variable_types.plain(instance.variables)
            latest = latest_form if binds_latest_form(entry) else _UNKNOWN
            clean, form_schema = self._validated(
                session,
                entry,
                loaded.definition,
                values if isinstance(data, dict) else data,
                context,
                form_id=latest,
            )
            clean = variable_types.join(clean, {n: t for n, t in types.items() if n in clean})
            loaded.may_route = routing_fields(form_schema)
            incident = self._instances.runner.complete_user_task(loaded.workflow, task_id, clean)
            events.record(
                session,
                events.TASK_COMPLETED,
                actor=principal.name,
                instance_id=instance.id,
                task_id=task_id,
                element_id=row.element_id,
                details={"name": row.name, "data": clean},
            )
            self._instances.save(session, loaded, actor=principal.name, incident=incident)
            return InstanceDetailView(
                instance_view(instance, loaded.definition.version), loaded.open_tasks, []
            )

        return self._tx.write(complete)

    # --- helpers ----------------------------------------------------------------------------------

    def _validated(
        self,
        session: Session,
        entry: ElementInfo,
        definition: Definition,
        data: object,
        context: JsonObject,
        *,
        form_id: str | object | None = _UNKNOWN,
    ) -> tuple[JsonObject, JsonObject | None]:
        """The data as the task's form lets it through, and that form's schema (None: no form).
        `form_id`: the form version already known to apply (None: no form), or _UNKNOWN."""
        known = resolve_form_id(session, entry, definition) if form_id is _UNKNOWN else form_id
        form = self._instances.form(session, known if isinstance(known, str) else None)
        if form is None:
            if not isinstance(data, dict):
                raise InvalidInput("task data is a JSON object")
            return data, None
        clean, errors = validate_submission(form.form_schema, data, context, deployed=True)
        problems = [Problem(e.message, path=e.path, element_id=e.field_id) for e in errors]
        if not errors:
            problems += team_problems(session, form.form_schema, clean, self._rules.policy)
        if problems:
            raise InvalidInput(f"the form {form.key} is not filled in correctly", problems)
        return clean, form.form_schema

    def _visible_task(
        self, session: Session, task_id: str, principal: Principal
    ) -> tuple[OpenTask, list[str], list[str]]:
        """The open task and its candidates, if the principal may see it (its instance: _instance_of)."""
        found = session.connection().execute(_TASK_WITH_CANDIDATES, {"task_id": task_id}).all()
        row, users, roles = self._task_and_candidates(session, task_id, principal, found)
        if not self._is_offered(principal, row, users, roles):
            self._refuse_unless_leader(session, principal, row, _instance_of(session, row))
        return row, users, roles

    def _readable_task(
        self, session: Session, task_id: str, principal: Principal
    ) -> tuple[OpenTask, list[str], list[str], ProcessInstanceRow, bool]:
        """As _visible_task, and a teammate (on the instance's team) may read a task that is not theirs:
        the last value says it is read-only for them."""
        found = session.connection().execute(_TASK_WITH_CANDIDATES, {"task_id": task_id}).all()
        row, users, roles = self._task_and_candidates(session, task_id, principal, found)
        instance = _instance_of(session, row)
        if self._is_offered(principal, row, users, roles):
            return row, users, roles, instance, False
        if self._rules.is_instance_leader(principal, instance.started_by, instance.team):
            return row, users, roles, instance, False
        if self._rules.is_teammate(principal, instance.team):
            return row, users, roles, instance, True
        require_visible(session, self._rules, principal, instance)  # 404 to strangers, 403 to others
        raise Forbidden(f"task {row.id} ({row.name}) is not offered to {principal.name}")

    def _task_to_complete(
        self, session: Session, task_id: str, principal: Principal
    ) -> tuple[OpenTask, list[str], list[str], InstanceRecord, IndexedTasks | None, str | None]:
        """The open task, its candidates and its instance, locked, if the principal may see the task;
        on SQLite also every open task of the instance as the index holds it (None elsewhere); and the
        newest version of the task's form."""
        conn = session.connection()
        indexed: IndexedTasks | None = None
        found: Sequence[AnyRow]
        if conn.dialect.name == "sqlite":
            rows = conn.execute(_INSTANCE_TASKS_WITH_INSTANCE, {"task_id": task_id}).all()
            found = [r for r in rows if r.id == task_id]
            indexed = indexed_tasks(rows) if found else None
        else:
            found = conn.execute(_TASK_WITH_LOCKED_INSTANCE, {"task_id": task_id}).all()
        row, users, roles = self._task_and_candidates(session, task_id, principal, found)
        first = found[0]._mapping
        instance = InstanceRecord(**{c.name: first[f"instance__{c.name}"] for c in INSTANCE_RECORD_COLUMNS})
        if not self._is_offered(principal, row, users, roles):
            self._refuse_unless_leader(session, principal, row, instance)
        return row, users, roles, instance, indexed, first["latest_form_id"]

    def _task_and_candidates(
        self, session: Session, task_id: str, principal: Principal, found: Sequence[AnyRow]
    ) -> tuple[OpenTask, list[str], list[str]]:
        if not found:
            self._raise_not_open(session, task_id, principal)
        task_columns = _OPEN_TASK.c.keys()
        row = OpenTask(**{k: found[0]._mapping[k] for k in task_columns})
        users = [f.value for f in found if f.kind == "user"]
        roles = [f.value for f in found if f.kind == "group"]
        return row, users, roles

    def _is_offered(self, principal: Principal, row: OpenTask, users: list[str], roles: list[str]) -> bool:
        return self._rules.is_offered(principal, row.assignee, users, roles)

    def _refuse_unless_leader(
        self,
        session: Session,
        principal: Principal,
        row: OpenTask,
        instance: ProcessInstanceRow | InstanceRecord,
    ) -> None:
        """A task not offered to the principal: its instance's leader may still act on it."""
        if not self._rules.is_instance_leader(principal, instance.started_by, instance.team):
            require_visible(session, self._rules, principal, instance)  # 404 to strangers, 403 to the team
            raise Forbidden(f"task {row.id} ({row.name}) is not offered to {principal.name}")

    def _raise_not_open(self, session: Session, task_id: str, principal: Principal) -> None:
        """A task that was open once answers 409 to whoever may see its instance; anything else is 404."""
        created = session.exec(
            select(AuditEventRow).where(
                AuditEventRow.task_id == task_id, AuditEventRow.type == events.TASK_CREATED
            )
        ).first()
        if created is not None:
            role = (created.details or {}).get("role")
            if not (role and principal.has(role)):  # the task's own role may know it existed
                instance = session.get(ProcessInstanceRow, created.instance_id)
                if instance is None:
                    raise NotFound(f"task {task_id} not found")
                require_visible(session, self._rules, principal, instance)
            raise Conflict(f"task {task_id} is not open (it was completed or cancelled)")
        raise NotFound(f"task {task_id} not found")

    @staticmethod
    def _set_assignee(
        session: Session,
        row: OpenTask,
        user: str | None,
        *,
        expected: str | None,
        owner: str | None = None,
        delegation: str | None = None,
    ) -> None:
        """A guarded update: of two people claiming at once, exactly one wins. A claim, unclaim or
        assignment ends a delegation (owner and delegation given only by delegate and resolve)."""
        claimed_at = utcnow() if user else None
        conn = session.connection()
        values = {"assignee": user, "claimed_at": claimed_at, "owner": owner, "delegation": delegation}
        if expected is None:
            result = conn.execute(_ASSIGN_UNCLAIMED, {"where_id": row.id, **values})
        else:
            result = conn.execute(_REASSIGN, {"where_id": row.id, "where_assignee": expected, **values})
        if result.rowcount != 1:
            raise Conflict(f"task {row.id} was claimed by someone else just now")
        conn.execute(_SET_OFFERS_OPEN, {"where_task_id": row.id, "open": user is None})
        row.assignee, row.claimed_at, row.owner, row.delegation = user, claimed_at, owner, delegation


def _check_draft(data: object) -> None:
    if not isinstance(data, dict):
        raise InvalidInput("a draft is a JSON object")
    if len(json.dumps(data, default=str)) > MAX_DRAFT_BYTES:
        raise InvalidInput(f"a draft is at most {MAX_DRAFT_BYTES} bytes")


# --- drafts -----------------------------------------------------------------------------------------
# A task's drafts belong to the people who saved them: the open_task.draft column holds
# {"drafts": {user name: data}}, and each person reads and overwrites only their own. (A draft saved
# before, a bare object, belonged to nobody in particular: it is shown to no one.)


def own_draft(stored: JsonObject | None, principal: Principal) -> JsonObject | None:
    return _by_person(stored).get(principal.name)


def _by_person(stored: JsonObject | None) -> dict[str, JsonObject]:
    return dict((stored or {}).get("drafts") or {}) if isinstance(stored, dict) else {}


def _instance_of(session: Session, task: OpenTask) -> ProcessInstanceRow:
    """The instance of an open task (it exists: the task's row refers to it)."""
    instance = session.get(ProcessInstanceRow, task.instance_id)
    if instance is None:
        raise NotFound(f"process instance {task.instance_id} not found")
    return instance
