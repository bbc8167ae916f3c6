"""Process instances: start, read, cancel."""

import uuid
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from engine import events, permissions, variable_types
from engine.bpmn.assignment import StartFacts
from engine.bpmn.parser import start_event
from engine.bpmn.path import sequence_flows, taken_path
from engine.bpmn.runner import BpmnWorkflow, WaitingMessage, deliver_message, waiting_messages
from engine.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from engine.forms import validate_submission
from engine.instances import ACTIVE, Definition, InstanceRecord, Instances, Loaded, require_active
from engine.permissions import TeamRules
from engine.services import incidents, instance_filter
from engine.services import instance_summaries as summary
from engine.services.console import console_actions, require_visible
from engine.services.mappers import TASK_VIEW_COLUMNS, audit_view, instance_view, task_views
from engine.services.repository import latest_definition_id, latest_definitions, resolve_form_id
from engine.storage.tables import (
    AuditEventRow,
    MessageSubscriptionRow,
    OpenTaskRow,
    ProcessDefinitionRow,
    ProcessInstanceRow,
    utcnow,
)
from engine.storage.uow import Transactions, UnitOfWork
from engine.team import routing_fields
from engine.types import JsonObject
from engine.views import (
    CorrelationResultView,
    InstanceDetailView,
    InstanceFilter,
    InstanceSummaryView,
    InstanceView,
    Page,
    PathView,
    Principal,
    TokenView,
)

STATUSES = ("running", "suspended", "completed", "cancelled")
_OPEN_TASKS_OF = (
    sa.select(*TASK_VIEW_COLUMNS)
    .where(col(OpenTaskRow.instance_id) == sa.bindparam("instance_id"))
    .order_by(col(OpenTaskRow.created_at), col(OpenTaskRow.id))
)


class RuntimeService:
    def __init__(self, tx: Transactions, instances: Instances, rules: TeamRules) -> None:
        self._tx = tx
        self._instances = instances
        self._rules = rules
        self._flows: dict[str, dict[tuple[str, str], str]] = {}
        instances.message_starter = self._start_by_thrown_message

    def start_process_instance_by_key(
        self,
        key: str,
        *,
        principal: Principal,
        business_key: str | None = None,
        variables: JsonObject | None = None,
        validate_start_form: bool = True,
    ) -> InstanceView:
        variables = dict(variables or {})
        if business_key is not None and not (0 < len(business_key) <= 200):
            raise InvalidInput("a business key is 1-200 characters")

        def start(uow: UnitOfWork) -> InstanceView:
            session = uow.session
            definition = self._instances.definition(session, latest_definition_id(session, key))
            entry = start_event(definition.catalog, definition.key)
            facts = (entry.start if entry else None) or StartFacts()
            starters = facts.starter_groups, facts.starter_users
            if not self._rules.can_start(principal, *starters):
                raise Forbidden(f"{principal.name} may not start {key}: {self._starters(*starters)} start it")
            if entry is None:
                # Only a message (or a timer) starts it: by hand it would wait with nothing to do.
                raise Conflict(
                    f"process {key} has no plain start event: it starts when its start message "
                    "arrives (POST /api/v1/messages), not by hand"
                )
            form = self._instances.form(session, resolve_form_id(session, entry, definition))
            data, may_route = variables, frozenset[str]()
            if form is not None and validate_start_form:
                values, types = variable_types.split(variables)
                data, errors = validate_submission(form.form_schema, values, {}, deployed=True)
                if errors:
                    raise InvalidInput(
                        "the start form is not filled in correctly",
                        [Problem(e.message, path=e.path, element_id=e.field_id) for e in errors],
                    )
                data = variable_types.join(data, {n: t for n, t in types.items() if n in data})
                may_route = routing_fields(form.form_schema)
            return self._create(session, definition, principal.name, business_key, data, may_route=may_route)

        return self._tx.write(start)

    def _starters(self, groups: Sequence[str], users: Sequence[str]) -> str:
        named = [*groups, *users] or list(self._rules.policy.starters)
        return ", ".join([*named, "admins", "integration accounts"])

    def correlate_message(
        self,
        name: str,
        *,
        principal: Principal,
        business_key: str | None = None,
        correlation_keys: JsonObject | None = None,
        payload: JsonObject | None = None,
        instance_id: str | None = None,
    ) -> CorrelationResultView:
        """Deliver a message to the one instance waiting for it (matched by instance id, business key and
        correlation keys compared with process variables), or start the process whose start event
        waits for it. Nothing or several matching is an error: a message is never guessed. A message
        addressed to an instance never starts a new one."""
        if not permissions.can_correlate(principal):
            raise Forbidden("only admins and integration accounts send messages")
        payload, correlation_keys = dict(payload or {}), dict(correlation_keys or {})

        def correlate(uow: UnitOfWork) -> CorrelationResultView:
            session = uow.session
            query = (
                select(ProcessInstanceRow)
                .join(
                    MessageSubscriptionRow, col(MessageSubscriptionRow.instance_id) == ProcessInstanceRow.id
                )
                .where(
                    col(MessageSubscriptionRow.message_name) == name,
                    col(ProcessInstanceRow.status).in_(ACTIVE),
                )
            )
            if business_key is not None:
                query = query.where(ProcessInstanceRow.business_key == business_key)
            if instance_id is not None:
                query = query.where(ProcessInstanceRow.id == instance_id)
            candidates = [
                r
                for r in session.exec(query).all()
                if all(r.variables.get(k) == v for k, v in correlation_keys.items())
            ]
            if len(candidates) > 1:
                raise Conflict(
                    f"message {name!r} matches {len(candidates)} waiting instances; "
                    "narrow it with a business key or correlation keys"
                )
            if candidates:
                require_active(candidates[0])  # refused, not held: the sender tries again later
                row = self._instances.lock(session, candidates[0].id)
                loaded = self._instances.load(session, row)
                waiting = _waiting_for(loaded.workflow, name)
                deliver_message(loaded.workflow, waiting, payload)
                events.record(
                    session,
                    events.MESSAGE_CORRELATED,
                    actor=principal.name,
                    instance_id=row.id,
                    element_id=waiting.element_id,
                    details={"message": name, "payload": payload},
                )
                incident = self._instances.runner.advance(loaded.workflow)
                self._instances.save(session, loaded, actor=principal.name, incident=incident)
                return CorrelationResultView(
                    name, row.id, started=False, instance=instance_view(row, loaded.definition.version)
                )
            if instance_id is not None:
                raise NotFound(f"process instance {instance_id} is not waiting for message {name!r}")
            starters = [d for d in latest_definitions(session) if start_event(d.catalog, d.key, message=name)]
            if len(starters) > 1:
                keys = ", ".join(d.key for d in starters)
                raise Conflict(f"message {name!r} starts several processes ({keys}); it cannot choose")
            if not starters:
                where = f" with business key {business_key!r}" if business_key else ""
                raise NotFound(f"no instance waits for message {name!r}{where} and no process starts with it")
            view = self._create(
                session,
                self._instances.definition(session, starters[0].id),
                principal.name,
                business_key,
                {},
                message=(name, payload),
            )
            return CorrelationResultView(name, view.id, started=True, instance=view)

        return self._tx.write(correlate)

    def _create(
        self,
        session: Session,
        definition: Definition,
        actor: str,
        business_key: str | None,
        data: JsonObject,
        *,
        message: tuple[str, JsonObject] | None = None,
        may_route: frozenset[str] = frozenset(),
    ) -> InstanceView:
        row = InstanceRecord(
            id=str(uuid.uuid4()),
            definition_id=definition.id,
            process_key=definition.key,
            business_key=business_key,
            status="running",
            outcome=None,
            serializer_version="",
            version=0,  # not written yet: save() inserts it
            variables={},
            team=[],
            incident=None,
            started_by=actor,
            started_at=utcnow(),
        )
        runner = self._instances.runner
        workflow = runner.attach(self._instances.store.new_workflow(definition.id))
        self._instances.bind(session, row.id, definition, workflow)
        details = {
            "process_key": definition.key,
            "version": definition.version,
            "business_key": business_key,
            "variables": data,
        }
        if message:
            details["message"] = message[0]
        events.record(session, events.INSTANCE_STARTED, actor=actor, instance_id=row.id, details=details)
        entry = start_event(definition.catalog, definition.key, message=message[0] if message else None)
        initiator = entry.start.initiator if entry and entry.start else None
        if initiator:  # camunda:initiator: the starter's name as a process variable
            data = {**data, initiator: actor}
        incident = runner.start(workflow, data, by_message=message is not None)
        if message and incident is None:
            deliver_message(workflow, _waiting_for(workflow, message[0]), message[1])
            incident = runner.advance(workflow)
        loaded = Loaded(row, definition, workflow, may_route=may_route)
        self._instances.save(session, loaded, actor=actor, incident=incident)
        return instance_view(row, definition.version)

    def _start_by_thrown_message(
        self, session: Session, source: InstanceRecord, name: str, payload: object
    ) -> str | None:
        """A message an instance throws (a message end or throw event) starts the one process whose
        message start event catches it, in the same transaction, as Camunda's message correlation
        would: the new instance is of its own process, starts with the thrower's data (a BPMN message
        event carries no payload of its own here), shares its business key, and names the instance that
        started it (`started_by_instance`). No such process: the message only goes out as an event."""
        starters = [d for d in latest_definitions(session) if start_event(d.catalog, d.key, message=name)]
        if len(starters) != 1:
            return None
        own = payload if isinstance(payload, dict) else {}
        data = {**source.variables, **own, "started_by_instance": source.id}
        actor = source.started_by or "engine"
        definition = self._instances.definition(session, starters[0].id)
        return self._create(session, definition, actor, source.business_key, {}, message=(name, data)).id

    def start_by_timer(self, session: Session, definition_id: str) -> None:
        """A timer start event fired (engine/jobs/timer_start.py): a new instance of the version that
        scheduled it, in the job's transaction."""
        self._create(session, self._instances.definition(session, definition_id), "timer", None, {})

    def cancel(self, instance_id: str, *, principal: Principal, reason: str = "") -> InstanceView:
        def cancel(uow: UnitOfWork) -> InstanceView:
            session = uow.session
            row = self._instances.lock(session, instance_id)
            require_visible(session, self._rules, principal, row)
            if not self._rules.is_instance_leader(principal, row.started_by, row.team):
                raise Forbidden("only the instance's leader or an admin may cancel it")
            if row.status not in ACTIVE:
                raise Conflict(f"process instance {instance_id} is already {row.status}")
            loaded = self._instances.load(session, row)
            self._instances.runner.cancel(loaded.workflow)
            row.status = "cancelled"
            self._instances.save(session, loaded, actor=principal.name, incident=None)
            events.record(
                session,
                events.INSTANCE_CANCELLED,
                actor=principal.name,
                instance_id=row.id,
                details={"reason": reason} if reason else None,
            )
            return instance_view(row, loaded.definition.version)

        return self._tx.write(cancel)

    def set_variables(
        self,
        instance_id: str,
        modifications: JsonObject,
        deletions: list[str] | None = None,
        *,
        principal: Principal,
    ) -> InstanceView:
        """Change a running instance's data (Camunda's POST/PUT/DELETE variables): its leader, an admin
        or an integration account may. Deleting a variable also forgets its declared type."""
        deletions = list(deletions or [])

        def update(uow: UnitOfWork) -> InstanceView:
            session = uow.session
            row = self._instances.lock(session, instance_id)
            require_visible(session, self._rules, principal, row)
            if not (
                self._rules.is_instance_leader(principal, row.started_by, row.team)
                or permissions.can_correlate(principal)
            ):
                raise Forbidden(
                    "only the instance's leader, an admin or an integration account may change its variables"
                )
            if row.status != "running":
                raise Conflict(f"process instance {instance_id} is already {row.status}")
            loaded = self._instances.load(session, row)
            self._instances.set_variables(session, loaded, modifications, deletions, actor=principal.name)
            return instance_view(row, loaded.definition.version)

        return self._tx.write(update)

    def retry(
        self, instance_id: str, *, principal: Principal, variables: JsonObject | None = None
    ) -> InstanceView:
        """Resolve an incident: whatever failed runs again (a script or condition, an external task
        whose retries ran out, a job that gave up), with corrected process data if given."""
        if not permissions.can_resolve_incidents(principal):
            raise Forbidden("only admins resolve incidents")

        def retry(uow: UnitOfWork) -> InstanceView:
            session = uow.session
            row = self._instances.lock(session, instance_id)
            require_visible(session, self._rules, principal, row)
            if row.status == "suspended":
                raise Conflict(f"process instance {instance_id} is suspended: resume it first")
            failed_jobs = incidents.failed_jobs(session, row.id)
            if row.status != "running" or (row.incident is None and not failed_jobs):
                raise Conflict(f"process instance {instance_id} has no incident to resolve")
            loaded = self._instances.load(session, row)
            incident = self._instances.runner.retry_failed(loaded.workflow, dict(variables or {}))
            restored = incidents.restore_external_tasks(session, row.id)
            incidents.rerun_jobs(session, failed_jobs)
            events.record(
                session,
                events.INCIDENT_RETRIED,
                actor=principal.name,
                instance_id=row.id,
                element_id=(row.incident or {}).get("element_id"),
                details={"variables": variables or {}, "external_tasks": restored, "jobs": failed_jobs},
            )
            self._instances.save(session, loaded, actor=principal.name, incident=incident, resolved=True)
            return instance_view(row, loaded.definition.version)

        return self._tx.write(retry)

    def get_instance(self, instance_id: str, *, principal: Principal) -> InstanceDetailView:
        def get(uow: UnitOfWork) -> InstanceDetailView:
            session = uow.session
            row = session.get(ProcessInstanceRow, instance_id)
            if row is None:
                raise NotFound(f"process instance {instance_id} not found")
            require_visible(session, self._rules, principal, row)
            definition = self._instances.definition(session, row.definition_id)
            version = definition.version
            tasks = session.connection().execute(_OPEN_TASKS_OF, {"instance_id": row.id}).all()
            history = session.exec(
                select(AuditEventRow)
                .where(col(AuditEventRow.instance_id) == row.id)
                .order_by(col(AuditEventRow.id))
            ).all()
            flows = self._flows_of(session, row.definition_id)
            path = self._instances.read_workflow(session, row, lambda workflow: taken_path(workflow, flows))
            return InstanceDetailView(
                instance_view(row, version),
                task_views(session, tasks),
                [audit_view(a) for a in history],
                PathView(path.elements, path.flows, [TokenView(**asdict(t)) for t in path.tokens]),
                self._actions(principal, row),
                summary.waiting_of(session, [row], lambda _: definition.catalog)[row.id],
            )

        return self._tx.read(get)

    def _actions(self, principal: Principal, row: ProcessInstanceRow) -> list[str]:
        """What the principal may do to the instance now (the page offers only these)."""
        return console_actions(self._rules, principal, row)

    def _flows_of(self, session: Session, definition_id: str) -> dict[tuple[str, str], str]:
        """A version's sequence flows by (source, target); versions never change, so kept once read."""
        found = self._flows.get(definition_id)
        if found is None:
            xml = session.exec(
                select(ProcessDefinitionRow.bpmn_xml).where(ProcessDefinitionRow.id == definition_id)
            ).one()
            found = self._flows.setdefault(definition_id, sequence_flows(xml))
        return found

    def list_instances(
        self,
        *,
        principal: Principal,
        where: InstanceFilter | None = None,
        offset: int = 0,
        limit: int = 50,
        **criteria: Any,
    ) -> Page[InstanceSummaryView]:
        """Instances the principal may see, newest first, each with where it stands (open tasks and
        their holders and due dates, waiting messages and timers). The filter comes as `where`, or
        as its fields by name."""
        where = where or InstanceFilter(**criteria)
        if where.statuses is not None and not set(where.statuses) <= set(STATUSES):
            raise InvalidInput(f"status is one of {', '.join(STATUSES)}")
        if where.started_after and where.started_before and where.started_after >= where.started_before:
            raise InvalidInput(
                "started_after must come before started_before",
                [Problem("an empty period", path="started_before")],
            )
        now = utcnow()

        def query(uow: UnitOfWork) -> Page[InstanceSummaryView]:
            session = uow.session
            q = select(ProcessInstanceRow).where(*instance_filter.conditions(where, now))
            q = q.where(self._rules.instance_visible.sql(principal))
            total = session.exec(select(func.count()).select_from(q.subquery())).one()
            rows = session.exec(
                q.order_by(col(ProcessInstanceRow.started_at).desc(), ProcessInstanceRow.id)
                .offset(offset)
                .limit(limit)
            ).all()

            def definition(definition_id: str) -> Definition:
                return self._instances.definition(session, definition_id)

            items = summary.summaries(
                session, rows, lambda d: definition(d).version, lambda d: definition(d).catalog, now
            )
            return Page(items, total, offset, limit)

        return self._tx.read(query)


def _waiting_for(workflow: BpmnWorkflow, name: str) -> WaitingMessage:
    found = next((w for w in waiting_messages(workflow) if w.message == name), None)
    if found is None:  # the subscription index said otherwise: it is rebuilt on the next save
        raise Conflict(f"the instance no longer waits for message {name!r}")
    return found
