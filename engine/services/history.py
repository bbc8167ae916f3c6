"""History reads: the audit events a user may see, after a cursor (for live pages polling the database);
and the runs of one step of an instance, from the task history (engine.task_history)."""

from typing import Any

import sqlalchemy as sa
from sqlmodel import col, func, select

from engine import events, variable_types
from engine.errors import NotFound
from engine.permissions import TeamRules
from engine.services.console import require_visible
from engine.services.mappers import audit_view
from engine.storage.tables import (
    AuditEventRow,
    OpenTaskRow,
    ProcessDefinitionRow,
    ProcessInstanceRow,
    TaskCandidateRow,
    TaskHistoryRow,
)
from engine.storage.uow import Transactions, UnitOfWork
from engine.views import AuditEntry, Principal, StepExecutionView
from engine.visibility import Facts, TaskFacts

_RUN = TaskHistoryRow.__table__
_AUDIT = AuditEventRow.__table__
_OPEN_TASK = OpenTaskRow.__table__
_CANDIDATE = TaskCandidateRow.__table__
_DEFINITION = ProcessDefinitionRow.__table__


class HistoryService:
    def __init__(self, tx: Transactions, rules: TeamRules) -> None:
        self._tx = tx
        self._rules = rules

    def last_event_id(self) -> int:
        """The id of the newest audit event (0 when there is none): where a live page starts."""
        return self._tx.read(lambda uow: uow.session.exec(select(func.max(AuditEventRow.id))).one() or 0)

    def events_since(
        self, after_id: int, *, principal: Principal, limit: int = 200
    ) -> tuple[list[AuditEntry], int]:
        """Instance and task events with an id above `after_id` whose instance `principal` may see (by the
        same rule as reading the instance), oldest first; and the cursor to pass next time (the highest id
        read, seen or not). Events that belong to no instance (deployments, users) are left out."""

        def read(uow: UnitOfWork) -> tuple[list[AuditEntry], int]:
            session = uow.session
            rows = session.exec(
                select(AuditEventRow)
                .where(col(AuditEventRow.id) > after_id)
                .order_by(col(AuditEventRow.id))
                .limit(limit)
            ).all()
            if not rows:
                return [], after_id
            visible: dict[str, bool] = {}
            for instance_id in {r.instance_id for r in rows if r.instance_id}:
                instance = session.get(ProcessInstanceRow, instance_id)
                try:
                    if instance is None:
                        raise NotFound(instance_id)
                    require_visible(session, self._rules, principal, instance)
                    visible[instance_id] = True
                except NotFound:
                    visible[instance_id] = False
            seen = [audit_view(r) for r in rows if r.instance_id and visible[r.instance_id]]
            last = rows[-1].id
            assert last is not None  # a row read back: the database numbered it
            return seen, last

        return self._tx.read(read)

    def step_executions(
        self, instance_id: str, element_id: str, *, principal: Principal
    ) -> list[StepExecutionView]:
        """Each run of a step (a user or service task) in the instance, first run first. Whoever may see
        the instance sees who held and completed each run, and when; the data a run submitted only who
        may read that task (the rule for reading one task, `task_seen`: whoever may work on it, as its
        holder or in the group it was offered to, the instance's leader, its team). Other elements
        (gateways, events, scripts) leave no runs: the answer is empty."""

        def read(uow: UnitOfWork) -> list[StepExecutionView]:
            session = uow.session
            instance = session.get(ProcessInstanceRow, instance_id)
            if instance is None:
                raise NotFound(f"process instance {instance_id} not found")
            require_visible(session, self._rules, principal, instance)
            conn = session.connection()
            r = _RUN.c
            runs = conn.execute(
                sa.select(_RUN)
                .where(r.instance_id == instance_id, r.element_id == element_id)
                .order_by(r.nth)
            ).all()
            if not runs:
                return []
            task_ids = [run.task_id for run in runs]
            a = _AUDIT.c
            told = conn.execute(
                sa.select(a.task_id, a.type, a.details).where(
                    a.instance_id == instance_id,
                    a.task_id.in_(task_ids),
                    a.type.in_((events.TASK_CREATED, events.TASK_COMPLETED)),
                )
            ).all()
            created = {t.task_id: t.details or {} for t in told if t.type == events.TASK_CREATED}
            completed = {t.task_id: t.details or {} for t in told if t.type == events.TASK_COMPLETED}
            o = _OPEN_TASK.c
            held = {t: who for t, who in conn.execute(sa.select(o.id, o.assignee).where(o.id.in_(task_ids)))}
            offered: dict[str, tuple[list[str], list[str]]] = {}
            c = _CANDIDATE.c
            for task_id, kind, value in conn.execute(
                sa.select(c.task_id, c.kind, c.value).where(c.task_id.in_(task_ids))
            ):
                users, groups = offered.setdefault(task_id, ([], []))
                (users if kind == "user" else groups).append(value)
            d = _DEFINITION.c
            forms = {
                definition_id: catalog.of(element_id).form_key if catalog is not None else None
                for definition_id, catalog in conn.execute(
                    sa.select(d.id, d.catalog).where(d.id.in_({run.definition_id for run in runs}))
                )
            }
            views = []
            for run in runs:
                role = created.get(run.task_id, {}).get("role")
                # an open task: who it is offered to now; a finished one: who did it, its first group
                users, groups = offered.get(run.task_id, ([], [role] if role else []))
                holder = held.get(run.task_id) if run.task_id in held else run.completed_by or run.claimed_by
                facts = Facts(instance.started_by, instance.team, task=TaskFacts(holder, users, groups))
                readable = self._rules.task_seen.holds(principal, facts)
                submitted = completed.get(run.task_id, {}).get("data")
                entry = created.get(run.task_id, {})
                views.append(_execution(run, entry, held, forms.get(run.definition_id), readable, submitted))
            return views

        return self._tx.read(read)


def _execution(
    run: sa.Row[Any],
    created: dict[str, Any],
    held: dict[str, str | None],
    form_key: str | None,
    readable: bool,
    submitted: Any,
) -> StepExecutionView:
    data = variable_types.plain(submitted) if readable and isinstance(submitted, dict) else None
    return StepExecutionView(
        task_id=run.task_id,
        element_id=run.element_id,
        name=created.get("name") or "",
        run=run.nth,
        created_at=run.created_at,
        claimed_at=run.claimed_at,
        claimed_by=run.claimed_by,
        completed_at=run.completed_at,
        completed_by=run.completed_by,
        assignee=held.get(run.task_id),
        overdue=run.overdue,
        waiting_seconds=run.waiting_seconds,
        work_seconds=run.work_seconds,
        duration_seconds=run.duration_seconds,
        form_key=form_key,
        data_readable=readable,
        data=data,
    )
