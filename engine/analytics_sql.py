"""SQL pieces that differ between SQLite and PostgreSQL, so that the analytics queries keep one shape:
the seconds between two timestamps, the Monday of a timestamp's week, and a column no index is chosen
for."""

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


class unindexed(FunctionElement[Any]):
    """The column, as a term SQLite does not choose an index by (its unary +): a query whose best index
    is only usable for its GROUP BY, not its range, would otherwise be sent to the range's index."""

    inherit_cache = True
    name = "unindexed"

    def __init__(self, column: Any) -> None:
        super().__init__(column)
        self.type = column.type  # the column's own: comparisons bind parameters as it does


@compiles(unindexed, "sqlite")
def _unindexed_sqlite(element: unindexed, compiler: Any, **kw: Any) -> str:
    (column,) = list(element.clauses)
    return f"+{compiler.process(column, **kw)}"


@compiles(unindexed, "postgresql")
def _unindexed_postgresql(element: unindexed, compiler: Any, **kw: Any) -> str:
    (column,) = list(element.clauses)
    return str(compiler.process(column, **kw))


PERCENTILES = (("p50", 0.5), ("p90", 0.9), ("p95", 0.95))
