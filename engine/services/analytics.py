"""Process analytics from the history the engine already writes (process_instance rows and the audit
events task_created / task_claimed / task_assigned / task_completed / task_overdue), computed in SQL
on both databases: counts by outcome, cycle time and per-step percentiles, rework loops taken, weekly
trend; and, for the handbook, each optimization's goal against the effect it measured."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from lxml import etree

from engine import events
from engine.analytics_sql import PERCENTILES, percentile, ranked, seconds_between, week_start
from engine.bpmn.xml import BPMN_NS
from engine.errors import Forbidden, InvalidInput, NotFound, Problem
from engine.permissions import ADMIN
from engine.storage.tables import AnyRow, AnySelect, AuditEventRow, ProcessDefinitionRow, ProcessInstanceRow
from engine.storage.uow import Transactions, UnitOfWork
from engine.views import (
    GoalFigures,
    LoopFigures,
    Percentiles,
    Principal,
    ProcessAnalyticsView,
    StepFigures,
    WeekFigures,
)

_AUDIT = AuditEventRow.__table__
_INSTANCE = ProcessInstanceRow.__table__
_DEFINITION = ProcessDefinitionRow.__table__
#: elements whose completion the history records: where a rework loop is seen to start and end
_RECORDED = {"userTask", "serviceTask"}
#: a task counts as taken up when someone claims it or is given it
_TAKEN_UP = (events.TASK_CLAIMED, events.TASK_ASSIGNED)


class AnalyticsService:
    def __init__(self, tx: Transactions, leader_group: str | None) -> None:
        self._tx = tx
        self._readers = (ADMIN, leader_group) if leader_group else (ADMIN,)

    def process(
        self,
        key: str,
        *,
        version: int | None,
        period_from: datetime,
        period_to: datetime,
        principal: Principal,
    ) -> ProcessAnalyticsView:
        self._require_reader(principal)
        if period_from.tzinfo is None or period_to.tzinfo is None:
            raise InvalidInput("from and to need a time zone", [Problem("no time zone", path="from")])
        if period_to <= period_from:
            raise InvalidInput("to must be after from", [Problem("not after from", path="to")])

        def read(uow: UnitOfWork) -> ProcessAnalyticsView:
            conn = uow.session.connection()
            versions = conn.execute(
                sa.select(_DEFINITION.c.id, _DEFINITION.c.version, _DEFINITION.c.bpmn_xml)
                .where(_DEFINITION.c.key == key)
                .order_by(_DEFINITION.c.version)
            ).all()
            if version is not None:
                versions = [v for v in versions if v.version == version]
            if not versions:
                raise NotFound(f"process {key}" + (f" version {version}" if version is not None else ""))
            scope = _Scope([v.id for v in versions], period_from, period_to)
            diagram = _Diagram(versions[-1].bpmn_xml)
            counts = _instance_counts(conn, scope)
            return ProcessAnalyticsView(
                process_key=key,
                version=version,
                diagram_version=versions[-1].version,
                period_from=period_from,
                period_to=period_to,
                started=counts["started"],
                completed=sum(counts["outcomes"].values()),
                cancelled=counts["cancelled"],
                outcomes=counts["outcomes"],
                cycle_time=_cycle_time(conn, scope),
                steps=_steps(conn, scope, diagram),
                loops=_loops(conn, scope, diagram),
                trend=_trend(conn, scope),
            )

        return self._tx.read(read)

    def handbook_goals(
        self, *, principal: Principal, process_key: str = "ops_optimization"
    ) -> list[GoalFigures]:
        """Every optimization of the handbook that set a goal, oldest first, with its measured effect
        (None until stage 5 measured it)."""
        self._require_reader(principal)
        variables = _INSTANCE.c.variables
        goal = variables["goal"]
        columns = (
            goal["metric"].as_string(),
            goal["unit"].as_string(),
            goal["baseline"].as_float(),
            goal["target"].as_float(),
            variables["before"].as_float(),
            variables["after"].as_float(),
        )
        query = (
            sa.select(
                _INSTANCE.c.id,
                _INSTANCE.c.business_key,
                _INSTANCE.c.status,
                _INSTANCE.c.started_at,
                *columns,
            )
            .where(_INSTANCE.c.process_key == process_key, goal["metric"].as_string().is_not(None))
            .order_by(_INSTANCE.c.started_at, _INSTANCE.c.id)
        )

        def read(uow: UnitOfWork) -> list[GoalFigures]:
            return [_goal(row) for row in uow.session.connection().execute(query)]

        return self._tx.read(read)

    def _require_reader(self, principal: Principal) -> None:
        if not principal.has(*self._readers):
            raise Forbidden("only leaders and admins read the analytics")


@dataclass(frozen=True)
class _Scope:
    definition_ids: list[str]
    start: datetime
    end: datetime

    def instances(self) -> AnySelect:
        return sa.select(_INSTANCE.c.id).where(_INSTANCE.c.definition_id.in_(self.definition_ids))


class _Diagram:
    """What the figures need of the BPMN: element names and types, the loops' flows."""

    def __init__(self, bpmn_xml: str) -> None:
        root = etree.fromstring(bpmn_xml.encode())
        self.kinds: dict[str, str] = {}
        self.names: dict[str, str] = {}
        self.flows: list[tuple[str, str, str, str]] = []  # (id, source, target, name)
        for element in root.iter(f"{{{BPMN_NS}}}*"):
            kind = etree.QName(element).localname
            element_id = element.get("id")
            if kind == "sequenceFlow":
                ends = (element.get("sourceRef"), element.get("targetRef"))
                self.flows.append((element_id, *ends, element.get("name") or ""))
            elif element_id:
                self.kinds[element_id] = kind
                self.names[element_id] = element.get("name") or ""
        self.loops = self._back_edges()

    def follows(self, source: str, target: str) -> bool:
        """Whether `target` is the next recorded element after `source` along some flow."""
        after = (t for _, s, t, _ in self.flows if s == source)
        return any(target in self._recorded(t, self._successors) for t in after)

    def _successors(self, element: str) -> list[str]:
        return [t for _, s, t, _ in self.flows if s == element]

    def _back_edges(self) -> list[tuple[str, str, set[str], set[str]]]:
        """(flow id, name, the recorded elements just before it, those just after): the flows that go
        back to an element on the path from a start event (a depth-first search over the flows)."""
        outgoing: dict[str, list[tuple[str, str]]] = {}
        incoming: dict[str, list[str]] = {}
        for flow_id, source, target, _ in self.flows:
            outgoing.setdefault(source, []).append((flow_id, target))
            incoming.setdefault(target, []).append(source)
        back: list[str] = []
        done: set[str] = set()
        for start in (e for e, kind in self.kinds.items() if kind == "startEvent"):
            stack = [(start, iter(outgoing.get(start, [])))]
            on_path = {start}
            while stack:
                node, children = stack[-1]
                step = next(children, None)
                if step is None:
                    stack.pop()
                    on_path.discard(node)
                    done.add(node)
                    continue
                flow_id, target = step
                if target in on_path:
                    back.append(flow_id)
                elif target not in done:
                    on_path.add(target)
                    stack.append((target, iter(outgoing.get(target, []))))
        by_id = {f[0]: f for f in self.flows}
        loops = []
        for flow_id in back:
            _, source, target, name = by_id[flow_id]
            before = self._recorded(source, lambda e: incoming.get(e, []))
            after = self._recorded(target, lambda e: [t for _, t in outgoing.get(e, [])])
            loops.append((flow_id, name, before, after))
        return loops

    def _recorded(self, element: str, neighbours: Callable[[str], list[str]]) -> set[str]:
        """The nearest recorded elements from `element` (itself included) walking `neighbours`."""
        found: set[str] = set()
        seen: set[str] = set()
        todo = [element]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            if self.kinds.get(current) in _RECORDED:
                found.add(current)
            else:
                todo.extend(neighbours(current))
        return found


def _instance_counts(conn: sa.Connection, scope: _Scope) -> dict[str, Any]:
    i = _INSTANCE.c
    in_scope = i.definition_id.in_(scope.definition_ids)
    started = conn.execute(
        sa.select(sa.func.count()).where(in_scope, i.started_at >= scope.start, i.started_at < scope.end)
    ).scalar_one()
    ended = conn.execute(
        sa.select(i.status, i.outcome, sa.func.count())
        .where(in_scope, i.ended_at >= scope.start, i.ended_at < scope.end)
        .group_by(i.status, i.outcome)
    ).all()
    return {
        "started": started,
        "cancelled": sum(n for status, _, n in ended if status == "cancelled"),
        "outcomes": {outcome or "": n for status, outcome, n in ended if status == "completed"},
    }


def _percentiles(conn: sa.Connection, timed: sa.Subquery, value: str) -> Percentiles:
    column = timed.c[value]
    rank, count = ranked(column)
    ranked_rows = sa.select(column.label("v"), rank.label("r"), count.label("n")).subquery()
    v, r, n = ranked_rows.c.v, ranked_rows.c.r, ranked_rows.c.n
    row = conn.execute(
        sa.select(sa.func.count(v), *(percentile(v, r, n, share) for _, share in PERCENTILES))
    ).one()
    return Percentiles(row[0], *row[1:])


def _cycle_time(conn: sa.Connection, scope: _Scope) -> Percentiles:
    i = _INSTANCE.c
    timed = (
        sa.select(seconds_between(i.started_at, i.ended_at).label("seconds"))
        .where(
            i.definition_id.in_(scope.definition_ids),
            i.status == "completed",
            i.ended_at >= scope.start,
            i.ended_at < scope.end,
        )
        .subquery()
    )
    return _percentiles(conn, timed, "seconds")


def _steps(conn: sa.Connection, scope: _Scope, diagram: _Diagram) -> list[StepFigures]:
    a = _AUDIT.c

    def first(kinds: tuple[str, ...]) -> sa.ColumnElement[Any]:
        return sa.func.min(sa.case((a.type.in_(kinds), a.at)))

    # one row per task: when it was created, first taken up, completed; whether it went overdue
    per_task = (
        sa.select(
            sa.func.max(a.element_id).label("element_id"),
            first((events.TASK_CREATED,)).label("created_at"),
            first(_TAKEN_UP).label("claimed_at"),
            first((events.TASK_COMPLETED,)).label("completed_at"),
            sa.func.max(sa.case((a.type == events.TASK_OVERDUE, 1), else_=0)).label("overdue"),
        )
        .where(
            a.type.in_((events.TASK_CREATED, *_TAKEN_UP, events.TASK_COMPLETED, events.TASK_OVERDUE)),
            a.instance_id.in_(scope.instances()),
            a.task_id.is_not(None),
            # a task created in the period has all its events after the period's start: an index range
            a.at >= scope.start,
        )
        .group_by(a.task_id)
        .subquery()
    )
    t = per_task.c
    waiting = seconds_between(t.created_at, sa.func.coalesce(t.claimed_at, t.completed_at))
    timed = (
        sa.select(
            t.element_id,
            t.completed_at,
            t.overdue,
            waiting.label("waiting"),
            seconds_between(t.claimed_at, t.completed_at).label("work"),
            seconds_between(t.created_at, t.completed_at).label("duration"),
        )
        .where(t.created_at >= scope.start, t.created_at < scope.end)
        .subquery()
    )
    measures = ("waiting", "work", "duration")
    ranks = []
    for measure in measures:
        rank, count = ranked(timed.c[measure], timed.c.element_id)
        ranks += [rank.label(f"{measure}_r"), count.label(f"{measure}_n")]
    rows = sa.select(timed, *ranks).subquery()
    r = rows.c
    figures = [sa.func.count(), sa.func.count(r.completed_at), sa.func.sum(r.overdue)]
    for measure in measures:
        value, rank, count = r[measure], r[f"{measure}_r"], r[f"{measure}_n"]
        figures += [sa.func.count(value), *(percentile(value, rank, count, s) for _, s in PERCENTILES)]
    result = conn.execute(sa.select(r.element_id, *figures).group_by(r.element_id)).all()
    steps = []
    for row in result:
        element_id, runs, completed, overdue, *rest = row
        parts = [Percentiles(*rest[i : i + 4]) for i in range(0, 12, 4)]
        steps.append(
            StepFigures(
                element_id=element_id,
                name=diagram.names.get(element_id, ""),
                runs=runs,
                completed=completed,
                overdue=overdue or 0,
                overdue_share=(overdue or 0) / runs if runs else None,
                waiting=parts[0],
                work=parts[1],
                duration=parts[2],
            )
        )
    return sorted(steps, key=lambda s: (-s.runs, s.element_id))


def _loops(conn: sa.Connection, scope: _Scope, diagram: _Diagram) -> list[LoopFigures]:
    """Tasks created again in an instance, by the task completed just before (the one whose completion
    led back): a loop of the diagram goes from the recorded elements before its flow to those after."""
    a = _AUDIT.c
    created = (
        sa.select(
            a.id,
            a.instance_id,
            a.element_id,
            sa.func.row_number().over(partition_by=[a.instance_id, a.element_id], order_by=a.id).label("nth"),
        )
        .where(a.type == events.TASK_CREATED, a.instance_id.in_(scope.instances()))
        .subquery()
    )
    c = created.c
    earlier = _AUDIT.alias("earlier")
    e = earlier.c
    previous_id = (
        sa.select(sa.func.max(e.id))
        .where(e.instance_id == c.instance_id, e.type == events.TASK_COMPLETED, e.id < c.id)
        .scalar_subquery()
    )
    previous = _AUDIT.alias("previous")
    # the period applies to when the task was created again
    timed_again = (
        sa.select(c.instance_id, c.element_id, previous_id.label("previous_id"))
        .select_from(created.join(_AUDIT, _AUDIT.c.id == c.id))
        .where(c.nth > 1, _AUDIT.c.at >= scope.start, _AUDIT.c.at < scope.end)
        .subquery()
    )
    pairs = conn.execute(
        sa.select(
            previous.c.element_id,
            timed_again.c.element_id,
            sa.func.count(),
            sa.func.count(sa.distinct(timed_again.c.instance_id)),
        )
        .select_from(timed_again.join(previous, previous.c.id == timed_again.c.previous_id))
        .group_by(previous.c.element_id, timed_again.c.element_id)
    ).all()
    loops: dict[str, list[Any]] = {}
    unexplained = []
    for source, target, taken, instances in pairs:
        for flow_id, name, before, after in diagram.loops:
            if source in before and target in after:
                entry = loops.setdefault(flow_id, [name, source, target, 0, 0])
                entry[3] += taken
                entry[4] += instances
                break
        else:
            if diagram.follows(source, target):
                continue  # the steps after a loop's entry run again too: not a loop of their own
            unexplained.append(LoopFigures(None, "", source, target, taken, instances))
    named = [
        LoopFigures(flow_id, name, source, target, taken, instances)
        for flow_id, (name, source, target, taken, instances) in loops.items()
    ]
    for flow_id, name, before, after in diagram.loops:
        if flow_id not in loops:  # a loop never taken is a figure too
            named.append(LoopFigures(flow_id, name, min(before, default=""), min(after, default=""), 0, 0))
    return sorted(named, key=lambda x: (-x.taken, x.flow_id or "")) + unexplained


def _trend(conn: sa.Connection, scope: _Scope) -> list[WeekFigures]:
    i = _INSTANCE.c
    in_scope = i.definition_id.in_(scope.definition_ids)
    started_week = week_start(i.started_at)
    ended_week = week_start(i.ended_at)
    started = conn.execute(
        sa.select(started_week, sa.func.count())
        .where(in_scope, i.started_at >= scope.start, i.started_at < scope.end)
        .group_by(started_week)
    ).all()
    completed = conn.execute(
        sa.select(ended_week, sa.func.count())
        .where(in_scope, i.status == "completed", i.ended_at >= scope.start, i.ended_at < scope.end)
        .group_by(ended_week)
    ).all()
    weeks: dict[str, list[int]] = {}
    for week, n in started:
        weeks.setdefault(week, [0, 0])[0] = n
    for week, n in completed:
        weeks.setdefault(week, [0, 0])[1] = n
    return [WeekFigures(week, s, c) for week, (s, c) in sorted(weeks.items())]


def _goal(row: AnyRow) -> GoalFigures:
    instance_id, business_key, status, started_at, metric, unit, baseline, target = row[:8]
    before, after = row[8:]
    progress = achieved = None
    if after is not None and baseline is not None and target is not None:
        if target != baseline:
            progress = (after - baseline) / (target - baseline)
        achieved = after <= target if target < baseline else after >= target
    return GoalFigures(
        instance_id=instance_id,
        business_key=business_key,
        status=status,
        started_at=started_at,
        metric=metric,
        unit=unit,
        baseline=baseline,
        target=target,
        before=before,
        after=after,
        progress=progress,
        achieved=achieved,
    )
