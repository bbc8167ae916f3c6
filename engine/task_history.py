"""The task history the analytics and a step's details read: a projection of the task events in
audit_event (created, claimed or assigned, completed, overdue) into one task_history row per task
execution with its durations, and into step_week: per step and week of creation, counts and duration
histograms in fixed logarithmic buckets.

`record` runs as the events of a transaction are written (engine.events), in that transaction, so the
projection never lags behind the audit log; `rebuild` derives both tables from the whole audit log
(migration 0014 on an existing database, the analytics benchmark). Both apply the events through the
same `Projector`, so an upgraded database shows the figures a new one would."""

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from engine import events
from engine.storage.db import add_to
from engine.storage.tables import AuditEventRow, ProcessInstanceRow, StepWeekRow, TaskHistoryRow

_RUN = TaskHistoryRow.__table__
_STEP_WEEK = StepWeekRow.__table__
_INSTANCE = ProcessInstanceRow.__table__
_AUDIT = AuditEventRow.__table__
_AUDIT_COLUMNS = ("at", "type", "actor", "instance_id", "task_id", "element_id", "details")

#: Eight buckets per doubling: each bucket is about 9 % wide, which bounds a percentile's error.
BUCKETS_PER_OCTAVE = 8
RUNS, OVERDUE, WAITING, WORK, DURATION = "runs", "overdue", "waiting", "work", "duration"
TAKEN_UP = frozenset({events.TASK_CLAIMED, events.TASK_ASSIGNED})
TASK_EVENTS = frozenset({events.TASK_CREATED, events.TASK_COMPLETED, events.TASK_OVERDUE, *TAKEN_UP})


def bucket(seconds: float) -> int:
    """The histogram bucket of a duration: 0 below one second, then BUCKETS_PER_OCTAVE per doubling
    (bucket b >= 1 holds [2 ** ((b - 1) / 8), 2 ** (b / 8)) seconds)."""
    if seconds < 1:
        return 0
    return 1 + math.floor(math.log2(seconds) * BUCKETS_PER_OCTAVE)


def week_of(moment: datetime) -> date:
    """The Monday (UTC) of the moment's ISO week."""
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


@dataclass(slots=True)
class TaskRun:
    """One row of task_history, as the projection keeps it while applying events."""

    task_id: str
    instance_id: str
    definition_id: str
    element_id: str
    nth: int
    came_from: str | None
    created_at: datetime | None
    claimed_at: datetime | None = None
    claimed_by: str | None = None
    completed_at: datetime | None = None
    completed_by: str | None = None
    completed_seq: int | None = None
    overdue: bool = False
    waiting_seconds: float | None = None
    work_seconds: float | None = None
    duration_seconds: float | None = None

    def row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in _RUN_FIELDS}


_RUN_FIELDS = tuple(f.name for f in fields(TaskRun))


class Projector:
    """Applies task events, in the order they were recorded, to the runs they concern. Knows of the
    history before them what its constructor is given: the runs the events touch, and per instance its
    definition, the last run of each element and the element completed last."""

    def __init__(
        self,
        runs: dict[str, TaskRun],
        definitions: Mapping[str, str],
        last_nth: dict[tuple[str, str], int],
        last_completed: dict[str, tuple[str, int]],
    ) -> None:
        self.runs = runs
        self.definitions = definitions
        self.last_nth = last_nth
        self.last_completed = last_completed
        self.new: dict[str, TaskRun] = {}  # runs that began here, to insert
        self.changed: dict[str, TaskRun] = {}  # runs given, changed here, to update
        self.counts: dict[tuple[str, str, str, int, date], list[float]] = {}  # step_week key -> [n, s]
        self._weeks: dict[datetime, date] = {}

    def apply(self, event: Mapping[Any, Any]) -> None:
        kind, task_id, at = event["type"], event["task_id"], event["at"]
        if kind not in TASK_EVENTS or task_id is None:
            return
        run = self.runs.get(task_id)
        if run is None:
            if kind == events.TASK_CREATED:
                run = self._begin(event, created_at=at)
            elif kind == events.TASK_COMPLETED:
                run = self._begin(event, created_at=None)  # a service task: created unrecorded
            if run is None:
                return
            if run.created_at is not None:
                self._count(run, RUNS, None)
        elif task_id not in self.new:
            self.changed[task_id] = run
        if kind in TAKEN_UP:
            if run.claimed_at is None and run.completed_at is None:
                run.claimed_at = at
                run.claimed_by = (event["details"] or {}).get("assignee") or event["actor"]
                if run.created_at is not None:
                    run.waiting_seconds = _seconds(run.created_at, at)
                    self._count(run, WAITING, run.waiting_seconds)
        elif kind == events.TASK_COMPLETED:
            if run.completed_at is None:
                _, seq = self.last_completed.get(run.instance_id, ("", 0))
                self.last_completed[run.instance_id] = (run.element_id, seq + 1)
                run.completed_at, run.completed_by, run.completed_seq = at, event["actor"], seq + 1
                if run.created_at is not None:
                    run.duration_seconds = _seconds(run.created_at, at)
                    self._count(run, DURATION, run.duration_seconds)
                    if run.claimed_at is None:
                        run.waiting_seconds = run.duration_seconds
                        self._count(run, WAITING, run.waiting_seconds)
                    else:
                        run.work_seconds = _seconds(run.claimed_at, at)
                        self._count(run, WORK, run.work_seconds)
        elif kind == events.TASK_OVERDUE and not run.overdue:
            run.overdue = True
            if run.created_at is not None:
                self._count(run, OVERDUE, None)

    def _begin(self, event: Mapping[Any, Any], *, created_at: datetime | None) -> TaskRun | None:
        instance_id, element_id = event["instance_id"], event["element_id"]
        definition_id = self.definitions.get(instance_id)
        if definition_id is None or element_id is None:
            return None  # an instance no longer stored: nothing to count it under
        nth = self.last_nth.get((instance_id, element_id), 0) + 1
        self.last_nth[(instance_id, element_id)] = nth
        run = TaskRun(
            task_id=event["task_id"],
            instance_id=instance_id,
            definition_id=definition_id,
            element_id=element_id,
            nth=nth,
            came_from=self.last_completed.get(instance_id, (None, 0))[0],
            created_at=created_at,
        )
        self.runs[run.task_id] = self.new[run.task_id] = run
        return run

    def _count(self, run: TaskRun, measure: str, seconds: float | None) -> None:
        assert run.created_at is not None
        week = self._weeks.get(run.created_at)
        if week is None:
            week = self._weeks[run.created_at] = week_of(run.created_at)
        key = (run.definition_id, run.element_id, measure, 0 if seconds is None else bucket(seconds), week)
        entry = self.counts.setdefault(key, [0, 0.0])
        entry[0] += 1
        entry[1] += seconds or 0.0

    def count_rows(self) -> list[dict[str, Any]]:
        """In key order: concurrent transactions adding to the same rows take their locks in one order
        (PostgreSQL would otherwise find two of them waiting for each other)."""
        return [
            {
                "definition_id": d,
                "element_id": e,
                "measure": m,
                "bucket": b,
                "week": w,
                "count": int(n),
                "seconds": s,
            }
            for (d, e, m, b, w), (n, s) in sorted(self.counts.items())
        ]

    def write(self, conn: sa.Connection) -> None:
        """Store the runs begun and changed and add the step counts (nothing read: it can be batched)."""
        if self.changed:
            conn.execute(_UPDATE_RUN, [{**run.row(), "key": run.task_id} for run in self.changed.values()])
        if self.new:
            conn.execute(_INSERT_RUN, [run.row() for run in self.new.values()])
        add_to(conn, _STEP_WEEK, self.count_rows(), ("count", "seconds"))


def record(conn: sa.Connection, audit: list[dict[str, Any]]) -> None:
    """Project the audit rows one transaction is writing (the caller's connection, before commit)."""
    projector = projection(conn, audit)
    if projector is not None:
        projector.write(conn)


def projection(conn: sa.Connection, audit: list[dict[str, Any]]) -> Projector | None:
    """The audit rows applied to what they need of the stored history (read here, in one statement);
    its `write` then stores them without reading anything (engine.events batches it with the audit
    rows). None when no row is a task event."""
    relevant = [e for e in audit if e["type"] in TASK_EVENTS and e["task_id"] is not None]
    if not relevant:
        return None
    projector = _projector_for(conn, relevant)
    for event in relevant:
        projector.apply(event)
    return projector


_INSERT_RUN = _RUN.insert()
_UPDATE_RUN = (
    _RUN.update()
    .where(_RUN.c.task_id == sa.bindparam("key"))
    .values({name: sa.bindparam(name) for name in _RUN_FIELDS if name != "task_id"})
)


#: The statements _projector_for reads the history with, by shape (instances, elements): built and
#: compiled once, their values bound. A completion records two or three task events: building the
#: statement anew each time cost more than the rest of the completion's own SQL.
_HISTORY_QUERIES: dict[tuple[int, int], sa.CompoundSelect[Any]] = {}
#: Shapes beyond this many instances or elements (a bulk operation) are built each time, not kept.
_MOST_KEPT = 8


def _history_query(instances: int, pairs: int) -> sa.CompoundSelect[Any]:
    found = _HISTORY_QUERIES.get((instances, pairs))
    if found is not None:
        return found
    r = _RUN.c
    columns = [_RUN.c[name] for name in _RUN_FIELDS]

    def runs(tag: str, where: Any) -> sa.Select[Any]:
        return sa.select(sa.literal_column(f"'{tag}'").label("tag"), *columns).where(where)

    def latest(where: Any, order: Any) -> Any:
        return (
            sa.select(r.task_id)
            .where(where)
            .order_by(order.desc(), r.task_id.desc())
            .limit(1)
            .scalar_subquery()
        )

    parts: list[sa.Select[Any]] = [runs("run", r.task_id.in_(sa.bindparam("task_ids", expanding=True)))]
    for k in range(instances):
        parts.append(
            runs(
                "last",
                r.task_id
                == latest(
                    sa.and_(r.instance_id == sa.bindparam(f"last_{k}"), r.completed_seq.is_not(None)),
                    r.completed_seq,
                ),
            )
        )
    for k in range(pairs):
        parts.append(
            runs(
                "nth",
                r.task_id
                == latest(
                    sa.and_(
                        r.instance_id == sa.bindparam(f"nth_instance_{k}"),
                        r.element_id == sa.bindparam(f"nth_element_{k}"),
                    ),
                    r.nth,
                ),
            )
        )
    nulls = [sa.cast(sa.null(), c.type).label(c.name) for c in columns]
    i = _INSTANCE.c
    definitions = sa.select(
        sa.literal_column("'definition'"),
        *[
            i.id if c.name == "instance_id" else i.definition_id if c.name == "definition_id" else n
            for c, n in zip(columns, nulls, strict=True)
        ],
    ).where(i.id.in_(sa.bindparam("instances", expanding=True)))
    query = sa.union_all(*parts, definitions)
    if instances <= _MOST_KEPT and pairs <= _MOST_KEPT:
        _HISTORY_QUERIES[(instances, pairs)] = query
    return query


def _projector_for(conn: sa.Connection, relevant: list[dict[str, Any]]) -> Projector:
    """What the events need of the stored history, in one statement: the runs they concern; per
    instance its definition and the run completed last; per element that may run again, its last run."""
    task_ids = sorted({e["task_id"] for e in relevant})
    instances = sorted({e["instance_id"] for e in relevant if e["instance_id"] is not None})
    pairs = sorted(
        {
            (e["instance_id"], e["element_id"])
            for e in relevant
            if e["type"] in (events.TASK_CREATED, events.TASK_COMPLETED) and e["instance_id"] is not None
        }
    )
    params: dict[str, Any] = {"task_ids": task_ids, "instances": instances}
    for k, instance_id in enumerate(instances):
        params[f"last_{k}"] = instance_id
    for k, (instance_id, element_id) in enumerate(pairs):
        params[f"nth_instance_{k}"], params[f"nth_element_{k}"] = instance_id, element_id
    found = conn.execute(_history_query(len(instances), len(pairs)), params).all()
    known: dict[str, TaskRun] = {}
    definition_of: dict[str, str] = {}
    last_nth: dict[tuple[str, str], int] = {}
    last_completed: dict[str, tuple[str, int]] = {}
    for row in found:
        tag, values = row[0], dict(zip(_RUN_FIELDS, row[1:], strict=True))
        if tag == "definition":
            definition_of[values["instance_id"]] = values["definition_id"]
        elif tag == "run":
            known[values["task_id"]] = TaskRun(**values)
        elif tag == "last":
            last_completed[values["instance_id"]] = (values["element_id"], values["completed_seq"])
        else:
            last_nth[(values["instance_id"], values["element_id"])] = values["nth"]
    return Projector(known, definition_of, last_nth, last_completed)


def rebuild(conn: sa.Connection, *, chunk: int = 500) -> dict[str, int]:
    """Derive task_history and step_week anew from the whole audit log, a few hundred instances at a
    time (the events of one instance are applied in the order recorded). Returns the rows written."""
    conn.execute(_STEP_WEEK.delete())
    conn.execute(_RUN.delete())
    i, a = _INSTANCE.c, _AUDIT.c
    definitions: dict[str, str] = {row[0]: row[1] for row in conn.execute(sa.select(i.id, i.definition_id))}
    instance_ids = sorted(definitions)
    counts: dict[tuple[str, str, str, int, date], list[float]] = {}
    written = 0
    for start in range(0, len(instance_ids), chunk):
        some = instance_ids[start : start + chunk]
        projector = Projector({}, definitions, {}, {})
        projector.counts = counts
        # Only the instances' index: a filter on the event types could lead SQLite to the type index.
        # The details are read where they count (who was given a task).
        query = (
            sa.select(
                *[a[name] for name in _AUDIT_COLUMNS if name != "details"],
                sa.case((a.type == events.TASK_ASSIGNED, a.details)).label("details"),
            )
            .where(a.instance_id.in_(some), a.task_id.is_not(None))
            .order_by(a.instance_id, a.id)
        )
        for event in conn.execute(query).mappings():
            projector.apply(dict(event))
        rows = [run.row() for run in projector.new.values()]
        if rows:
            conn.execute(_RUN.insert(), rows)
            written += len(rows)
    summed = Projector({}, definitions, {}, {})
    summed.counts = counts
    count_rows = summed.count_rows()
    for start in range(0, len(count_rows), 10_000):
        conn.execute(_STEP_WEEK.insert(), count_rows[start : start + 10_000])
    return {"task_history": written, "step_week": len(count_rows)}


def _seconds(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds()


def percentile_of(histogram: Iterable[tuple[int, int, float]], share: float, total: int) -> float | None:
    """The nearest-rank percentile from a histogram sorted by bucket ((bucket, count, seconds) rows):
    the mean of the bucket holding the smallest rank that reaches share * total."""
    reached = 0
    for _, count, seconds in histogram:
        reached += count
        if reached >= share * total:
            return seconds / count
    return None
