"""Bounds on timer values (ISO 8601 dates, durations and repeating intervals), checked before
SpiffWorkflow computes anything from them: `P1000000Y` makes it add up twelve million months, a year
0001 or 9999 overflows its time zone arithmetic, and `R/PT0S` on a non-interrupting boundary event
fires for ever. The same check refuses a literal at deploy and stops a value from data at run time
(an incident on the timer's element)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
)

#: BPMN element name of each kind of timer value
KINDS = {
    "timeDate": TimeDateEventDefinition,
    "timeDuration": DurationTimerEventDefinition,
    "timeCycle": CycleTimerEventDefinition,
}
_DAYS = {"years": 365.25, "months": 30.44, "weeks": 7.0, "days": 1.0}
_SECONDS = {"hours": 3600.0, "minutes": 60.0, "seconds": 1.0}
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


class TimerBoundError(ValueError):
    """A timer value out of bounds, or not a timer value at all."""


@dataclass(frozen=True)
class TimerBounds:
    max_years: int = 100  # how far ahead a date, a duration or a cycle's interval may reach
    min_cycle_seconds: float = 1.0  # the shortest interval of a repeating timer
    max_repetitions: int = 1000  # of a non-interrupting boundary timer, which adds a path each time


def check(kind: str, value: object, bounds: TimerBounds, *, non_interrupting: bool = False) -> None:
    """Raises TimerBoundError when `value` (a timeDate, timeDuration or timeCycle) is unusable."""
    if not isinstance(value, str):
        raise TimerBoundError(f"a {kind} must be text in ISO 8601, not {type(value).__name__}")
    text = value.strip()
    if len(text) > 200:
        raise TimerBoundError(f"a {kind} of {len(text)} characters is not an ISO 8601 value")
    now = datetime.now(UTC)
    if kind == "timeDate":
        _date(text, bounds, now)
    elif kind == "timeDuration":
        _duration(text, bounds)
    elif kind == "timeCycle":
        _cycle(text, bounds, now, non_interrupting)


def _date(text: str, bounds: TimerBounds, now: datetime) -> datetime:
    try:
        if "W" in text.upper():
            when: datetime = TimeDateEventDefinition.parse_iso_week(text)
        else:
            when = datetime.fromisoformat(text)
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
    except (ValueError, TypeError, AttributeError, OverflowError):
        raise TimerBoundError(f"{text!r} is not an ISO 8601 date and time") from None
    latest = now.replace(year=now.year + bounds.max_years) if now.month != 2 or now.day != 29 else now
    if when < _EARLIEST or when > latest:
        raise TimerBoundError(
            f"the date {text!r} lies outside 1970 .. {latest.year}: a timer may reach at most "
            f"{bounds.max_years} years ahead"
        )
    return when


def _duration(text: str, bounds: TimerBounds) -> timedelta:
    if not text.upper().startswith("P"):
        raise TimerBoundError(f"{text!r} is not an ISO 8601 duration (P1D, PT2H)")
    try:
        parts = DurationTimerEventDefinition.parse_iso_duration(text)
    except Exception:
        raise TimerBoundError(f"{text!r} is not an ISO 8601 duration (P1D, PT2H)") from None
    days = sum(parts.get(k, 0) * d for k, d in _DAYS.items())
    seconds = sum(parts.get(k, 0) * s for k, s in _SECONDS.items())
    if days / 365.25 + seconds / (365.25 * 86400) > bounds.max_years:
        raise TimerBoundError(f"the duration {text!r} reaches further than {bounds.max_years} years")
    return timedelta(days=days, seconds=seconds)


def _cycle(text: str, bounds: TimerBounds, now: datetime, non_interrupting: bool) -> None:
    parts = text.upper().replace("--", "/").split("/")
    if not parts[0].startswith("R") or len(parts) not in (2, 3):
        raise TimerBoundError(f"{text!r} is not an ISO 8601 repeating interval (R3/PT10M)")
    count = parts[0][1:]
    if count and not count.isdigit():
        raise TimerBoundError(f"{text!r}: the repetitions {count!r} are not a number")
    interval = None
    for part in parts[1:]:
        if part.startswith("P"):
            interval = _duration(part, bounds)
        else:
            _date(part, bounds, now)
    if interval is None:
        raise TimerBoundError(f"{text!r} names no interval (R3/PT10M)")
    if interval.total_seconds() < bounds.min_cycle_seconds and count != "1":
        raise TimerBoundError(
            f"the interval of {text!r} is shorter than the minimum of {bounds.min_cycle_seconds:g} s"
        )
    if non_interrupting and (not count or int(count) > bounds.max_repetitions):
        raise TimerBoundError(
            f"{text!r} on a non-interrupting boundary event must say how often it repeats, at most "
            f"{bounds.max_repetitions} times (R5/PT1H)"
        )
