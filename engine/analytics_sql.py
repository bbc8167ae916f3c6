"""SQL pieces that differ between SQLite and PostgreSQL, so that the analytics queries keep one shape:
the seconds between two timestamps, the Monday of a timestamp's week, and percentiles by nearest rank
(ROW_NUMBER and COUNT over a window: SQLite has no percentile_cont)."""

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class seconds_between(FunctionElement[Any]):
    """Seconds from the first timestamp to the second, as a float."""

    type = sa.Float()
    inherit_cache = True
    name = "seconds_between"


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (
        f"((julianday({compiler.process(end, **kw)}) - julianday({compiler.process(start, **kw)})) * 86400.0)"
    )


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return f"EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - {compiler.process(start, **kw)}))"


class week_start(FunctionElement[Any]):
    """The Monday (UTC) of the timestamp's ISO week, as text YYYY-MM-DD."""

    type = sa.String()
    inherit_cache = True
    name = "week_start"


@compiles(week_start, "sqlite")
def _week_sqlite(element: week_start, compiler: Any, **kw: Any) -> str:
    (moment,) = list(element.clauses)
    return f"date({compiler.process(moment, **kw)}, '-6 days', 'weekday 1')"


@compiles(week_start, "postgresql")
def _week_postgresql(element: week_start, compiler: Any, **kw: Any) -> str:
    (moment,) = list(element.clauses)
    return f"to_char(date_trunc('week', {compiler.process(moment, **kw)} AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"


PERCENTILES = (("p50", 0.5), ("p90", 0.9), ("p95", 0.95))


def ranked(value: Any, *partition: Any) -> tuple[Any, Any]:
    """The rank of `value` among the non-null values of its partition, and how many there are. NULLs
    get a partition of their own, so the ranks of the others are 1..n on both databases (which sort
    NULLs at opposite ends)."""
    rank = sa.func.row_number().over(
        partition_by=[*partition, sa.case((value.is_(None), 1), else_=0)], order_by=value
    )
    count = sa.func.count(value).over(partition_by=list(partition) or None)
    return rank, count


def percentile(value: Any, rank: Any, count: Any, share: float) -> Any:
    """Aggregate: the nearest-rank percentile, the smallest value whose rank reaches share * count."""
    return sa.func.min(sa.case((sa.and_(value.is_not(None), rank >= share * count), value)))
