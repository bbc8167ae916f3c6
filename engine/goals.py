"""The handbook's goal figures of an instance (Table 2-1: the goal the kick-off set, as metric, unit,
baseline and target; the effect stage 5 measured, before and after), kept in instance_goal so that the
analytics read a narrow row per optimization instead of extracting them from every instance's JSON data.

`Instances.save` writes the row in the transaction that changes the data, only when the figures or
the status of an instance with figures change; `rebuild` derives the table from the stored instances
(migration 0014)."""

from collections.abc import Mapping
from dataclasses import astuple, dataclass
from datetime import datetime
from typing import Any, Protocol

import sqlalchemy as sa

from engine.storage.tables import InstanceGoalRow, ProcessInstanceRow

_GOAL = InstanceGoalRow.__table__
_INSTANCE = ProcessInstanceRow.__table__


@dataclass(frozen=True)
class Goal:
    metric: str
    unit: str | None
    baseline: float | None
    target: float | None
    before: float | None
    after: float | None


def goal_of(variables: Mapping[str, Any] | None) -> Goal | None:
    """The goal figures in an instance's data; None unless a goal names its metric."""
    goal = (variables or {}).get("goal")
    if not isinstance(goal, Mapping) or goal.get("metric") in (None, ""):
        return None
    unit = goal.get("unit")
    return Goal(
        metric=str(goal["metric"]),
        unit=None if unit is None else str(unit),
        baseline=_number(goal.get("baseline")),
        target=_number(goal.get("target")),
        before=_number((variables or {}).get("before")),
        after=_number((variables or {}).get("after")),
    )


class Instance(Protocol):
    """What the row keeps of its instance (a process_instance row or record)."""

    id: str
    process_key: str
    business_key: str | None
    started_at: datetime


def write(conn: sa.Connection, instance: Instance, status: str, goal: Goal | None) -> None:
    """The instance's row as `goal` says (none when it is None), with the instance's status."""
    conn.execute(_GOAL.delete().where(_GOAL.c.instance_id == instance.id))
    if goal is not None:
        conn.execute(_GOAL.insert(), [_row(instance, status, goal)])


def rebuild(conn: sa.Connection, *, chunk: int = 1000) -> int:
    """Derive instance_goal from the stored instances' data, a thousand at a time; returns the rows."""
    conn.execute(_GOAL.delete())
    i = _INSTANCE.c
    ids = sorted(conn.execute(sa.select(i.id)).scalars())
    written = 0
    for start in range(0, len(ids), chunk):
        some = ids[start : start + chunk]
        rows = [
            _row(instance, instance.status, goal)
            for instance in conn.execute(
                sa.select(i.id, i.process_key, i.business_key, i.started_at, i.status, i.variables).where(
                    i.id.in_(some)
                )
            )
            if (goal := goal_of(instance.variables)) is not None
        ]
        if rows:
            conn.execute(_GOAL.insert(), rows)
            written += len(rows)
    return written


def _row(instance: Instance, status: str, goal: Goal) -> dict[str, Any]:
    names = ("metric", "unit", "baseline", "target", "before", "after")
    return {
        "instance_id": instance.id,
        "process_key": instance.process_key,
        "business_key": instance.business_key,
        "started_at": instance.started_at,
        "status": status,
        **dict(zip(names, astuple(goal), strict=True)),
    }


def _number(value: object) -> float | None:
    """A number the data holds, as a float (a numeric string too); None for anything else."""
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
