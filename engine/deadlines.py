"""Due dates of user tasks, from what the model's `camunda:dueDate` gives. What happens when one
passes (a reminder to the task's holder, then escalation to the leader) is in engine/jobs/task_due.py
and engine/jobs/task_escalate.py."""

from datetime import UTC, date, datetime, time, timedelta

from engine.bpmn.runner import duration as iso_duration
from engine.storage.tables import utcnow

MAX_YEARS_AHEAD = 200


def due_datetime(value: object) -> datetime | None:
    """A task's due date from what its `camunda:dueDate` gave: a date means by the end of that day
    (UTC); a datetime is taken as is; an ISO string of either, or a duration (counted from now). None:
    no due date. Anything else is a ValueError."""
    try:
        due = _due_datetime(value)
    except OverflowError:
        raise ValueError(f"{value!r} lies beyond the dates the engine can compute with") from None
    if due is not None and due > utcnow() + timedelta(days=366 * MAX_YEARS_AHEAD):
        raise ValueError(f"the due date {value!r} lies more than {MAX_YEARS_AHEAD} years ahead")
    return due


def _due_datetime(value: object) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value + timedelta(days=1), time(), UTC)
    if isinstance(value, str):
        if value.startswith("P"):
            try:
                return utcnow() + duration(value)
            except Exception:
                raise ValueError(f"{value!r} is not an ISO-8601 duration") from None
        try:
            if len(value) == 10:
                return _due_datetime(date.fromisoformat(value))
            return _due_datetime(datetime.fromisoformat(value))
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not a date, a datetime or an ISO-8601 duration")


def duration(text: str) -> timedelta:
    return iso_duration(text, utcnow())
