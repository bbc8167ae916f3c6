"""Typed engine errors; the HTTP layer maps each family to one status code."""

from dataclasses import dataclass, field
from typing import TypedDict


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, and where: a file line, an element id, a field path."""

    message: str
    file: str | None = None
    line: int | None = None
    element_id: str | None = None
    path: str | None = None

    def as_dict(self) -> dict[str, str | int]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class Where(TypedDict, total=False):
    """Where a problem is, for `Problem(message, **where)`."""

    file: str | None
    line: int | None
    element_id: str | None
    path: str | None


@dataclass
class OpsflowError(Exception):
    message: str
    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        if not self.problems:
            return self.message
        details = "; ".join(_describe(p) for p in self.problems)
        return f"{self.message}: {details}"


def _describe(p: Problem) -> str:
    where = ", ".join(
        part
        for part in (
            p.file,
            f"line {p.line}" if p.line else None,
            f"element {p.element_id}" if p.element_id else None,
            f"field {p.path}" if p.path else None,
        )
        if part
    )
    return f"{where}: {p.message}" if where else p.message


class NotFound(OpsflowError):
    """The thing does not exist, or the caller may not know that it does."""


class TooManyAttempts(OpsflowError):
    """Refused for a while after repeated failures (sign-in)."""


class Forbidden(OpsflowError):
    """The caller is known but may not do this."""


class Unauthenticated(OpsflowError):
    """No valid credentials."""


class InvalidInput(OpsflowError):
    """A request that can never succeed as sent (form data, variables, arguments)."""


class InvalidDeployment(InvalidInput):
    """BPMN or form files that cannot become a version."""


class Conflict(OpsflowError):
    """The request is valid but the current state does not allow it (task not open, already claimed)."""


class ConcurrentUpdate(Conflict):
    """Someone else changed the same instance first; retrying may succeed."""


class SsoRefused(Unauthenticated):
    """A sign-on that is not accepted; `reason` says which check failed (the sign-in page names it)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
