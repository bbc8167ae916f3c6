"""Who may see an instance or a task, written once: a rule is a tree of grounds, and each ground says
side by side how it holds in Python (on facts already in memory: a task being worked on) and in SQL (on
process_instance and open_task rows: lists and queries). engine.permissions builds the rules from the
policy; tests/security/test_visibility_agrees.py shows that every form agrees.

SQL forms read the index tables: task_candidate for offers, instance_member for the team (the index of
process_instance.team, rewritten in the same transaction).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from engine.policy import TeamMember
from engine.storage.tables import InstanceMemberRow, OpenTaskRow, ProcessInstanceRow, TaskCandidateRow
from engine.views import Principal

_INSTANCE, _TASK = ProcessInstanceRow.__table__, OpenTaskRow.__table__
_CANDIDATE, _MEMBER = TaskCandidateRow.__table__, InstanceMemberRow.__table__


@dataclass(frozen=True)
class TaskFacts:
    assignee: str | None
    candidate_users: Sequence[str] = ()
    candidate_groups: Sequence[str] = ()


@dataclass(frozen=True)
class Facts:
    """What a rule reads in Python: an instance, and the task in question (task rules) or every open
    task of the instance (instance rules)."""

    started_by: str | None = None
    team: Sequence[TeamMember] = ()
    task: TaskFacts | None = None
    open_tasks: Sequence[TaskFacts] = field(default_factory=tuple)


class Ground:
    def holds(self, p: Principal, facts: Facts) -> bool:
        raise NotImplementedError

    def sql(self, p: Principal) -> sa.ColumnElement[bool]:
        raise NotImplementedError


@dataclass(frozen=True)
class AnyOf(Ground):
    grounds: tuple[Ground, ...]

    def holds(self, p: Principal, facts: Facts) -> bool:
        return any(g.holds(p, facts) for g in self.grounds)

    def sql(self, p: Principal) -> sa.ColumnElement[bool]:
        return sa.or_(sa.false(), *(g.sql(p) for g in self.grounds))


@dataclass(frozen=True)
class AllOf(Ground):
    grounds: tuple[Ground, ...]

    def holds(self, p: Principal, facts: Facts) -> bool:
        return all(g.holds(p, facts) for g in self.grounds)

    def sql(self, p: Principal) -> sa.ColumnElement[bool]:
        return sa.and_(sa.true(), *(g.sql(p) for g in self.grounds))


@dataclass(frozen=True)
class Not(Ground):
    ground: Ground

    def holds(self, p: Principal, facts: Facts) -> bool:
        return not self.ground.holds(p, facts)

    def sql(self, p: Principal) -> sa.ColumnElement[bool]:
        return sa.not_(self.ground.sql(p))


@dataclass(frozen=True)
class InGroup(Ground):
    """The principal is a member of the group (a fact of the principal: a constant in SQL)."""

    group: str | None

    def holds(self, p: Principal, facts: Facts) -> bool:
        return self.group is not None and p.has(self.group)

    def sql(self, p: Principal) -> sa.ColumnElement[bool]:
        return sa.true() if self.holds(p, Facts()) else sa.false()


class StartedIt(Ground):
    def holds(self, p: Principal, facts: Facts) -> bool:
        return facts.started_by == p.name

    def sql(self, p: Principal) -> sa.ColumnElement[bool]:
        return _INSTANCE.c.started_by == p.name


@dataclass(frozen=True)
class OnTeam(Ground):
    """The instance's team names the principal (in the given role, or in any)."""

    role: str | None = None

    def holds(self, p: Principal, facts: Facts) -> bool:
        return any(m.user == p.name and self.role in (None, m.role) for m in facts.team)

    def sql(self, p: Principal) -> sa.ColumnElement[bool]:
        member = sa.select(_MEMBER.c.instance_id).where(_MEMBER.c.user_name == p.name)
        if self.role is not None:
            member = member.where(_MEMBER.c.role == self.role)
        return _INSTANCE.c.id.in_(member)


@dataclass(frozen=True)
class TeamNames(Ground):
    """The instance's team names anybody (in the given role, or in any)."""

    role: str | None = None

    def holds(self, p: Principal, facts: Facts) -> bool:
        return any(self.role in (None, m.role) for m in facts.team)

    def sql(self, p: Principal) -> sa.ColumnElement[bool]:
        member = sa.select(_MEMBER.c.instance_id)
        if self.role is not None:
            member = member.where(_MEMBER.c.role == self.role)
        return _INSTANCE.c.id.in_(member)


def _offered_to(p: Principal, task: TaskFacts) -> bool:
    return p.name in task.candidate_users or p.has(*task.candidate_groups)


def _offers_to(p: Principal) -> sa.ColumnElement[bool]:
    """A task_candidate row that offers its task to the principal, by name or by a group."""
    by_name = (_CANDIDATE.c.kind == "user") & (_CANDIDATE.c.value == p.name)
    if not p.groups:
        return by_name
    return by_name | ((_CANDIDATE.c.kind == "group") & _CANDIDATE.c.value.in_(sorted(p.groups)))


class AssigneeOfTask(Ground):
    def holds(self, p: Principal, facts: Facts) -> bool:
        return facts.task is not None and facts.task.assignee == p.name

    def sql(self, p: Principal) -> sa.ColumnElement[bool]:
        return _TASK.c.assignee == p.name


class CandidateOfTask(Ground):
    def holds(self, p: Principal, facts: Facts) -> bool:
        return facts.task is not None and _offered_to(p, facts.task)

    def sql(self, p: Principal) -> sa.ColumnElement[bool]:
        return _TASK.c.id.in_(sa.select(_CANDIDATE.c.task_id).where(_offers_to(p)))


class OnAnOpenTask(Ground):
    """One of the instance's open tasks is assigned or offered to the principal."""

    def holds(self, p: Principal, facts: Facts) -> bool:
        return any(t.assignee == p.name or _offered_to(p, t) for t in facts.open_tasks)

    def sql(self, p: Principal) -> sa.ColumnElement[bool]:
        assigned = sa.select(_TASK.c.instance_id).where(_TASK.c.assignee == p.name)
        offered = (
            sa.select(_TASK.c.instance_id)
            .join(_CANDIDATE, _CANDIDATE.c.task_id == _TASK.c.id)
            .where(_offers_to(p))
        )
        return _INSTANCE.c.id.in_(assigned) | _INSTANCE.c.id.in_(offered)
