"""The operator's console: what a leader or an admin may do to an instance that left the happy path.
Suspend and resume it, answer a message it waits for by hand (the approval system is down), change
its data, move its token. Each action is one command on one instance, and goes into its history."""

from collections.abc import Iterator

import sqlalchemy as sa
from sqlmodel import Session, col

from engine import events, permissions
from engine.bpmn.runner import (
    deliver_message,
    move_back_to,
    set_open_data,
    skip_open_step,
    waiting_messages,
)
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from engine.forms import validate_submission
from engine.instances import ACTIVE, InstanceRecord, Instances, Loaded
from engine.permissions import TeamRules
from engine.services.mappers import instance_view
from engine.services.repository import resolve_form_id
from engine.storage.tables import FormDefinitionRow, ProcessInstanceRow
from engine.storage.uow import Transactions, UnitOfWork
from engine.team import routing_fields, team_problems
from engine.types import JsonObject
from engine.views import InstanceView, Principal

MAX_REASON = 1000


def console_actions(rules: TeamRules, principal: Principal, row: ProcessInstanceRow) -> list[str]:
    """What the principal may do to the instance now (the page offers only these): its leader or an
    admin cancels, suspends or resumes it and answers what it waits for; an admin resolves its
    incident, changes its data, moves its token and migrates it to another version."""
    if row.status not in ACTIVE:
        return []
    actions = []
    if rules.is_instance_leader(principal, row.started_by, row.team):
        actions += ["cancel", "suspend" if row.status == "running" else "resume"]
        if row.status == "running":
            actions.append("answer_message")
    if permissions.can_modify_instances(principal):
        if row.status == "running" and row.incident is not None:
            actions.append("retry")
        actions.append("set_variables")
        if row.status == "running":
            actions.append("move_token")
        actions.append("migrate")
    return actions


class ConsoleService:
    def __init__(self, tx: Transactions, instances: Instances, rules: TeamRules) -> None:
        self._tx = tx
        self._instances = instances
        self._rules = rules

    # --- suspend / resume -------------------------------------------------------------------------

    def suspend(self, instance_id: str, *, principal: Principal, reason: str = "") -> InstanceView:
        """Nothing of a suspended instance moves: its tasks cannot be claimed or completed, its timers
        and deadlines wait, its external tasks are not fetched, a message for it is refused."""
        reason = _reason(reason, required=False)

        def suspend(uow: UnitOfWork) -> InstanceView:
            session = uow.session
            row, loaded = self._as_leader(session, instance_id, principal, "suspend")
            if row.status != "running":
                raise Conflict(f"process instance {instance_id} is {row.status}, not running")
            row.status = "suspended"
            self._instances.save(session, loaded, actor=principal.name, incident=None)
            _record(session, events.INSTANCE_SUSPENDED, principal, row, {"reason": reason})
            return instance_view(row, loaded.definition.version)

        return self._tx.write(suspend)

    def resume(self, instance_id: str, *, principal: Principal, reason: str = "") -> InstanceView:
        """It runs on from where it stood: timers that fell due meanwhile fire now."""
        reason = _reason(reason, required=False)

        def resume(uow: UnitOfWork) -> InstanceView:
            session = uow.session
            row, loaded = self._as_leader(session, instance_id, principal, "resume")
            if row.status != "suspended":
                raise Conflict(f"process instance {instance_id} is {row.status}, not suspended")
            row.status = "running"
            _record(session, events.INSTANCE_RESUMED, principal, row, {"reason": reason})
            incident = self._instances.runner.advance(loaded.workflow)
            self._instances.save(session, loaded, actor=principal.name, incident=incident)
            return instance_view(row, loaded.definition.version)

        return self._tx.write(resume)

    # --- a message answered by hand ---------------------------------------------------------------

    def answer_message(
        self, instance_id: str, message: str, payload: JsonObject, *, principal: Principal, reason: str
    ) -> InstanceView:
        """A leader records what the system that should have answered would have said (the approval
        system is down): delivered as that message would have been, audited as a manual answer."""
        reason = _reason(reason, required=True)

        def answer(uow: UnitOfWork) -> InstanceView:
            session = uow.session
            row, loaded = self._as_leader(session, instance_id, principal, "answer a message of")
            _require_running(row)
            waiting = next((w for w in waiting_messages(loaded.workflow) if w.message == message), None)
            if waiting is None:
                raise Conflict(f"process instance {instance_id} does not wait for message {message!r}")
            approval = loaded.definition.catalog.of(waiting.element_id).properties.get("approval")
            if approval and not isinstance(payload.get("approved"), bool):
                raise InvalidInput(
                    "an approval's answer says whether it was approved",
                    [Problem("approved is true or false", path="payload.approved")],
                )
            deliver_message(loaded.workflow, waiting, payload)
            _record(
                session,
                events.MESSAGE_ANSWERED_BY_HAND,
                principal,
                row,
                {"message": message, "payload": payload, "reason": reason, "approval": approval},
                element_id=waiting.element_id,
            )
            incident = self._instances.runner.advance(loaded.workflow)
            self._instances.save(session, loaded, actor=principal.name, incident=incident)
            return instance_view(row, loaded.definition.version)

        return self._tx.write(answer)

    # --- process data -----------------------------------------------------------------------------

    def set_variables(
        self, instance_id: str, changes: JsonObject, *, principal: Principal, reason: str
    ) -> InstanceView:
        """Change process data (admins). A variable that a form of the process has a field for is
        checked by that form's rules, as if the form were submitted with the change."""
        if not permissions.can_modify_instances(principal):
            raise Forbidden("only admins change an instance's data")
        reason = _reason(reason, required=True)
        if not changes:
            raise InvalidInput(
                "no variables to change", [Problem("give at least one variable", path="variables")]
            )

        def change(uow: UnitOfWork) -> InstanceView:
            session = uow.session
            row, loaded = self._locked(session, instance_id, principal)
            if row.status not in ACTIVE:
                raise Conflict(f"process instance {instance_id} is {row.status}: its data is history")
            clean, forms, may_route = self._validated(session, loaded, changes)
            loaded.may_route = may_route
            before = {k: row.variables.get(k) for k in clean}
            set_open_data(loaded.workflow, clean)
            _record(
                session,
                events.VARIABLES_CHANGED,
                principal,
                row,
                {"before": before, "after": clean, "reason": reason, "forms": forms},
            )
            self._instances.save(session, loaded, actor=principal.name, incident=None)
            return instance_view(row, loaded.definition.version)

        return self._tx.write(change)

    def _validated(
        self, session: Session, loaded: Loaded, changes: JsonObject
    ) -> tuple[JsonObject, list[str], frozenset[str]]:
        """The changes as the forms that own them let them through; the forms' keys; the routing
        variables those forms may set."""
        clean = dict(changes)
        problems: list[Problem] = []
        used: list[str] = []
        may_route: frozenset[str] = frozenset()
        current = loaded.row.variables
        for form in self._forms_of(session, loaded):
            schema = form.form_schema
            keys = _top_level_keys(schema)
            owned = keys & changes.keys()
            if not owned:
                continue
            used.append(form.key)
            submitted = {k: current[k] for k in keys if k in current} | {k: changes[k] for k in owned}
            valid, errors = validate_submission(schema, submitted, current, deployed=True)
            for error in errors:
                if error.path.split(".")[0].split("[")[0] in owned:
                    problems.append(Problem(f"{form.key}: {error.message}", path=error.path))
            problems += [
                p for p in team_problems(session, schema, valid, self._rules.policy) if p.path in owned
            ]
            clean.update({k: valid[k] for k in owned if k in valid})
            may_route |= routing_fields(schema) & owned
        if problems:
            raise InvalidInput("the new values break the rules of the forms that own them", problems)
        return clean, sorted(set(used)), may_route

    def _forms_of(self, session: Session, loaded: Loaded) -> Iterator[FormDefinitionRow]:
        seen = set()
        for entry in loaded.definition.catalog.values():
            form_id = resolve_form_id(session, entry, loaded.definition)
            form = self._instances.form(session, form_id) if form_id and form_id not in seen else None
            if form is not None:
                seen.add(form.id)
                yield form

    # --- moving a token ---------------------------------------------------------------------------

    def move_token(
        self,
        instance_id: str,
        *,
        principal: Principal,
        skip: str | None = None,
        back_to: str | None = None,
        reason: str,
    ) -> InstanceView:
        """Skip an open step (it counts as done, without its work) or go back to a step that ran (it
        is open again, everything after it on its branch undone), as Camunda's process instance
        modification does. The process data stays as it is now."""
        if not permissions.can_modify_instances(principal):
            raise Forbidden("only admins move an instance's token")
        reason = _reason(reason, required=True)
        if (skip is None) == (back_to is None):
            raise InvalidInput("name either the open step to skip or the earlier step to go back to")

        def move(uow: UnitOfWork) -> InstanceView:
            session = uow.session
            row, loaded = self._locked(session, instance_id, principal)
            _require_running(row)
            if skip is not None:
                skip_open_step(loaded.workflow, skip)
            else:
                move_back_to(loaded.workflow, back_to or "", row.variables)
            _record(
                session,
                events.TOKEN_MOVED,
                principal,
                row,
                {"skip": skip, "back_to": back_to, "reason": reason},
                element_id=skip or back_to,
            )
            incident = self._instances.runner.advance(loaded.workflow)
            self._instances.save(session, loaded, actor=principal.name, incident=incident, resolved=True)
            return instance_view(row, loaded.definition.version)

        return self._tx.write(move)

    # --- helpers ----------------------------------------------------------------------------------

    def _locked(
        self, session: Session, instance_id: str, principal: Principal
    ) -> tuple[InstanceRecord, Loaded]:
        row = self._instances.lock(session, instance_id)
        require_visible(session, self._rules, principal, row)
        return row, self._instances.load(session, row)

    def _as_leader(
        self, session: Session, instance_id: str, principal: Principal, what: str
    ) -> tuple[InstanceRecord, Loaded]:
        row = self._instances.lock(session, instance_id)
        require_visible(session, self._rules, principal, row)
        if not self._rules.is_instance_leader(principal, row.started_by, row.team):
            raise Forbidden(f"only the instance's leader or an admin may {what} it")
        return row, self._instances.load(session, row)


def require_visible(
    session: Session, rules: TeamRules, principal: Principal, row: ProcessInstanceRow | InstanceRecord
) -> None:
    """A process instance the principal may not see does not exist for them."""
    visible = sa.select(col(ProcessInstanceRow.id)).where(
        col(ProcessInstanceRow.id) == row.id, rules.instance_visible.sql(principal)
    )
    if session.connection().execute(visible).first() is None:
        raise NotFound(f"process instance {row.id} not found")


def _require_running(row: InstanceRecord) -> None:
    if row.status == "suspended":
        raise Conflict(f"process instance {row.id} is suspended: resume it first")
    if row.status != "running":
        raise Conflict(f"process instance {row.id} is {row.status}, not running")


def _reason(reason: str | None, *, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise InvalidInput(
            "say why", [Problem("a reason is required: it goes into the audit log", path="reason")]
        )
    if len(reason) > MAX_REASON:
        raise InvalidInput(
            "the reason is too long", [Problem(f"at most {MAX_REASON} characters", path="reason")]
        )
    return reason


def _record(
    session: Session,
    kind: str,
    principal: Principal,
    row: InstanceRecord,
    details: JsonObject,
    *,
    element_id: str | None = None,
) -> None:
    events.record(
        session, kind, actor=principal.name, instance_id=row.id, element_id=element_id, details=details
    )


def _top_level_keys(schema: JsonObject) -> set[str]:
    """The variables a form has fields for (a field's key or a group's path, first segment)."""
    keys = set()
    stack = list(schema.get("components", []))
    while stack:
        component = stack.pop()
        name = component.get("key") or component.get("path")
        if name:
            keys.add(str(name).split(".")[0])
        elif component.get("components"):
            stack.extend(component["components"])
    return keys
