"""Process analytics from the history the engine writes (process_instance rows, and the task history
projected from the task events: task_history and its weekly histograms step_week, see
engine.task_history), computed in SQL on both databases: counts by outcome, cycle time and per-step
percentiles, rework loops taken, weekly trend; and, for the handbook, each optimization's goal
against the effect it measured (instance_goal, see engine.goals)."""

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from engine import task_history
from engine.analytics_diagram import Diagram
from engine.analytics_sql import PERCENTILES, seconds_between, unindexed, week_start
from engine.errors import Forbidden, InvalidInput, NotFound, Problem
from engine.permissions import ADMIN
from engine.storage.tables import (
    AnyRow,
    InstanceGoalRow,
    ProcessDefinitionRow,
    ProcessInstanceRow,
    StepWeekRow,
    TaskHistoryRow,
)
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

_INSTANCE = ProcessInstanceRow.__table__
_DEFINITION = ProcessDefinitionRow.__table__
_RUN = TaskHistoryRow.__table__
_STEP_WEEK = StepWeekRow.__table__
_GOAL = InstanceGoalRow.__table__


class AnalyticsService:
    def __init__(self, tx: Transactions, leader_group: str | None) -> None:
        self._tx = tx
        self._readers = (ADMIN, leader_group) if leader_group else (ADMIN,)
        self._diagrams: dict[str, Diagram] = {}  # by definition id: a deployed version never changes

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
                sa.select(_DEFINITION.c.id, _DEFINITION.c.version)
                .where(_DEFINITION.c.key == key)
                .order_by(_DEFINITION.c.version)
            ).all()
            if version is not None:
                versions = [v for v in versions if v.version == version]
            if not versions:
                raise NotFound(f"process {key}" + (f" version {version}" if version is not None else ""))
            scope = _Scope([v.id for v in versions], period_from, period_to)
            diagram = self._diagram(conn, versions[-1].id)
            instances = _instances(conn, scope)
            return ProcessAnalyticsView(
                process_key=key,
                version=version,
                diagram_version=versions[-1].version,
                period_from=period_from,
                period_to=period_to,
                started=instances.started,
                completed=sum(instances.outcomes.values()),
                cancelled=instances.cancelled,
                outcomes=instances.outcomes,
                cycle_time=instances.cycle_time,
                steps=_steps(conn, scope, diagram),
                loops=_loops(conn, scope, diagram),
                trend=instances.trend,
            )

        return self._tx.read(read)

    def handbook_goals(
        self, *, principal: Principal, process_key: str = "ops_optimization"
    ) -> list[GoalFigures]:
        """Every optimization of the handbook that set a goal, oldest first, with its measured effect
        (None until stage 5 measured it)."""
        self._require_reader(principal)
        g = _GOAL.c
        query = (
            sa.select(
                g.instance_id,
                g.business_key,
                g.status,
                g.started_at,
                g.metric,
                g.unit,
                g.baseline,
                g.target,
                g.before,
                g.after,
            )
            .where(g.process_key == process_key)
            .order_by(g.started_at, g.instance_id)
        )

        def read(uow: UnitOfWork) -> list[GoalFigures]:
            return [_goal(row) for row in uow.session.connection().execute(query)]

        return self._tx.read(read)

    def _diagram(self, conn: sa.Connection, definition_id: str) -> "Diagram":
        found = self._diagrams.get(definition_id)
        if found is None:
            xml = conn.execute(
                sa.select(_DEFINITION.c.bpmn_xml).where(_DEFINITION.c.id == definition_id)
            ).scalar_one()
            found = self._diagrams[definition_id] = Diagram(xml)
        return found

    def _require_reader(self, principal: Principal) -> None:
        if not principal.has(*self._readers):
            raise Forbidden("only leaders and admins read the analytics")


@dataclass(frozen=True)
class _Scope:
    definition_ids: list[str]
    start: datetime
    end: datetime


@dataclass(frozen=True)
class _InstanceFigures:
    started: int
    cancelled: int
    outcomes: dict[str, int]
    cycle_time: Percentiles
    trend: list[WeekFigures]


def _instances(conn: sa.Connection, scope: _Scope) -> _InstanceFigures:
    """Instances started in the period (by week), and those ended in it: by outcome, cycle times, by
    week. Two statements, each reading one index of process_instance alone; the few thousand ended
    instances' cycle times are ranked here, exactly."""
    i = _INSTANCE.c
    in_scope = i.definition_id.in_(scope.definition_ids)
    started_week = week_start(i.started_at)
    started = conn.execute(
        sa.select(started_week, sa.func.count())
        .where(in_scope, i.started_at >= scope.start, i.started_at < scope.end)
        .group_by(started_week)
    ).all()
    ended = conn.execute(
        sa.select(
            i.status, i.outcome, week_start(i.ended_at), seconds_between(i.started_at, i.ended_at)
        ).where(in_scope, i.ended_at >= scope.start, i.ended_at < scope.end)
    ).all()
    weeks: dict[str, list[int]] = {}
    for week, n in started:
        weeks.setdefault(week, [0, 0])[0] = n
    outcomes: dict[str, int] = {}
    cancelled = 0
    cycle_times = []
    for status, outcome, week, seconds in ended:
        if status == "completed":
            outcomes[outcome or ""] = outcomes.get(outcome or "", 0) + 1
            weeks.setdefault(week, [0, 0])[1] += 1
            cycle_times.append(seconds)
        elif status == "cancelled":
            cancelled += 1
    cycle_times.sort()
    return _InstanceFigures(
        started=sum(n for _, n in started),
        cancelled=cancelled,
        outcomes=outcomes,
        cycle_time=Percentiles(
            len(cycle_times), *(_nearest_rank(cycle_times, share) for _, share in PERCENTILES)
        ),
        trend=[WeekFigures(week, s, c) for week, (s, c) in sorted(weeks.items())],
    )


def _nearest_rank(ordered: list[float], share: float) -> float | None:
    """The smallest value whose rank (from 1) reaches share * count."""
    if not ordered:
        return None
    return ordered[max(math.ceil(share * len(ordered)), 1) - 1]


#: A step's histograms: measure -> bucket -> [count, seconds]
_Histograms = dict[str, dict[int, list[float]]]


def _steps(conn: sa.Connection, scope: _Scope, diagram: Diagram) -> list[StepFigures]:
    """Per step, the tasks created in the period: the weeks wholly inside it from step_week, the days
    before the first and after the last whole week from task_history (bucketed alike)."""
    histograms: dict[str, _Histograms] = {}

    def add(element_id: str, measure: str, bucket: int, count: float, seconds: float) -> None:
        entry = histograms.setdefault(element_id, {}).setdefault(measure, {}).setdefault(bucket, [0, 0.0])
        entry[0] += count
        entry[1] += seconds

    first_week, end_week = _whole_weeks(scope.start, scope.end)
    edges = [(scope.start, scope.end)]
    if first_week < end_week:
        w = _STEP_WEEK.c
        summed = conn.execute(
            sa.select(w.element_id, w.measure, w.bucket, sa.func.sum(w.count), sa.func.sum(w.seconds))
            .where(w.definition_id.in_(scope.definition_ids), w.week >= first_week, w.week < end_week)
            .group_by(w.element_id, w.measure, w.bucket)
        )
        for element_id, measure, bucket, count, seconds in summed:
            add(element_id, measure, bucket, count, seconds)
        edges = [(scope.start, _midnight(first_week)), (_midnight(end_week), scope.end)]
    t = _RUN.c
    raw = [
        sa.select(t.element_id, t.overdue, t.waiting_seconds, t.work_seconds, t.duration_seconds).where(
            t.definition_id.in_(scope.definition_ids), t.created_at >= start, t.created_at < end
        )
        for start, end in edges
        if start < end
    ]
    if raw:
        for element_id, overdue, *seconds in conn.execute(sa.union_all(*raw)):
            add(element_id, task_history.RUNS, 0, 1, 0.0)
            if overdue:
                add(element_id, task_history.OVERDUE, 0, 1, 0.0)
            for measure, value in zip(_MEASURES, seconds, strict=True):
                if value is not None:
                    add(element_id, measure, task_history.bucket(value), 1, value)
    steps = []
    for element_id, measures in histograms.items():
        runs = int(sum(n for n, _ in measures.get(task_history.RUNS, {}).values()))
        overdue = int(sum(n for n, _ in measures.get(task_history.OVERDUE, {}).values()))
        waiting, work, duration = (_percentiles(measures.get(m, {})) for m in _MEASURES)
        steps.append(
            StepFigures(
                element_id=element_id,
                name=diagram.names.get(element_id, ""),
                runs=runs,
                completed=duration.count,
                overdue=overdue,
                overdue_share=overdue / runs if runs else None,
                waiting=waiting,
                work=work,
                duration=duration,
            )
        )
    return sorted(steps, key=lambda s: (-s.runs, s.element_id))


_MEASURES = (task_history.WAITING, task_history.WORK, task_history.DURATION)


def _percentiles(histogram: dict[int, list[float]]) -> Percentiles:
    """Nearest-rank percentiles from a histogram: each the mean of the bucket holding that rank, so
    within one bucket's width (about 9 %) of the exact value, and exact when the bucket holds one value."""
    ordered = [(b, int(n), s) for b, (n, s) in sorted(histogram.items())]
    total = sum(n for _, n, _ in ordered)
    if not total:
        return Percentiles(0, None, None, None)
    values = [task_history.percentile_of(ordered, share, total) for _, share in PERCENTILES]
    return Percentiles(total, *values)


def _whole_weeks(start: datetime, end: datetime) -> tuple[date, date]:
    """The Mondays of the first week that begins at or after `start` and of the first that does not end
    by `end`: the weeks between lie wholly inside the period."""
    first = task_history.week_of(start)
    if _midnight(first) < start:
        first += timedelta(days=7)
    return first, task_history.week_of(end)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _loops(conn: sa.Connection, scope: _Scope, diagram: Diagram) -> list[LoopFigures]:
    """Tasks created again in an instance (runs after the first, created in the period), by the element
    completed just before (the one whose completion led back): a loop of the diagram goes from the
    recorded elements before its flow to those after."""
    t = _RUN.c
    pairs = conn.execute(
        sa.select(t.came_from, t.element_id, sa.func.count(), sa.func.count(sa.distinct(t.instance_id)))
        .where(
            t.definition_id.in_(scope.definition_ids),
            # literally the partial index's condition, so that both databases may read that index (in
            # its order: grouped already); SQLite must not pick the index on created_at instead
            t.nth > sa.literal_column("1"),
            unindexed(t.created_at) >= scope.start,
            unindexed(t.created_at) < scope.end,
            t.came_from.is_not(None),
        )
        .group_by(t.came_from, t.element_id)
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
