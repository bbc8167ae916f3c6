"""Timer values as Camunda writes them for timer start events: an ISO date, an ISO duration, an ISO
repeating interval (`R3/PT10M`), or a Quartz cron expression (`0 0/5 * * * ?`)."""

import re
from datetime import datetime

from croniter import croniter
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition

from engine.bpmn.checks import is_cron

_QUARTZ_DAYS = re.compile(r"\d+")


class TimerValueError(ValueError):
    pass


def literal(expression: str) -> str:
    """The timer's text; SpiffWorkflow's own models quote it as a Python string (`"R2/PT1M"`)."""
    text = expression.strip()
    if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1].strip()
    return text


def quartz_to_croniter(expression: str) -> str:
    """Quartz (seconds first, optional year, `?`, days of week 1-7 from Sunday) as croniter's
    six fields with seconds first (days of week 0-6 from Sunday)."""
    fields = expression.split()
    if len(fields) == 5:  # Unix cron: no seconds
        fields = ["0", *fields]
    if len(fields) == 7:
        if fields[6] not in ("*", "?"):
            raise TimerValueError(f"cron {expression!r}: a year field is not supported")
        fields = fields[:6]
    fields = ["*" if f == "?" else f for f in fields]
    if len(expression.split()) >= 6:  # Quartz numbering of days of the week
        fields[5] = _QUARTZ_DAYS.sub(lambda m: str(int(m[0]) - 1) if 1 <= int(m[0]) <= 7 else m[0], fields[5])
    text = " ".join(fields)
    if not croniter.is_valid(text, second_at_beginning=True):
        raise TimerValueError(f"cron {expression!r} is not a valid cron expression")
    return text


def next_cron(expression: str, after: datetime) -> datetime:
    found: datetime = croniter(quartz_to_croniter(expression), after, second_at_beginning=True).get_next(
        datetime
    )
    return found


def first_due(kind: str, expression: str, now: datetime) -> tuple[datetime, int]:
    """(when the timer is first due, how many more times it fires after that; -1: forever)."""
    text = literal(expression)
    try:
        if kind == "date":
            return TimerEventDefinition.get_datetime(text), 0
        if kind == "duration":
            parsed = TimerEventDefinition.parse_iso_duration(text)
            return now + TimerEventDefinition.get_timedelta_from_start(parsed, now), 0
        if is_cron(text):
            return next_cron(text, now), -1
        cycles, start, _duration = TimerEventDefinition.parse_iso_recurring_interval(text)
        return (start if start > now else now), (cycles - 1 if cycles > 0 else -1)
    except TimerValueError:
        raise
    except Exception as exc:
        raise TimerValueError(f"timer {text!r} is not a valid {kind}: {exc}") from None


def next_due(expression: str, previous: datetime) -> datetime:
    """The next firing of a cycle after one at `previous`."""
    text = literal(expression)
    if is_cron(text):
        return next_cron(text, previous)
    _cycles, _start, duration = TimerEventDefinition.parse_iso_recurring_interval(text)
    found: datetime = previous + duration
    return found
