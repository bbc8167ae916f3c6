"""Who an open task goes to, derived when the task is created (engine.instances writes the index rows):
the model's assignment resolved against the process data (engine.bpmn.assignment), then the instance's
team: the people a team names for a group take the task in the group's stead."""

from collections.abc import Sequence
from datetime import datetime

from engine import deadlines
from engine.bpmn.assignment import Assignment, AssignmentError, Evaluate, due_value, resolve
from engine.bpmn.catalog import ElementInfo
from engine.policy import TeamMember
from engine.types import JsonObject


def derive(
    element_id: str, entry: ElementInfo, variables: JsonObject, evaluate: Evaluate
) -> tuple[Assignment, datetime | None]:
    """The task's assignment and due date. Raises AssignmentError (the instance's incident)."""
    written = entry.assignment
    assignment = resolve(element_id, written, variables, evaluate)
    value = due_value(element_id, written.due_date, variables, evaluate)
    try:
        return assignment, deadlines.due_datetime(value)
    except ValueError as exc:
        raise AssignmentError(element_id, f"camunda:dueDate {written.due_date!r}: {exc}") from exc


def offer(assignment: Assignment, team: Sequence[TeamMember]) -> tuple[list[str], list[str]]:
    """(candidate users, candidate groups) of a user task: the instance's named people for the task's
    groups, or the whole groups where the team names nobody for them."""
    groups = assignment.candidate_groups
    named = sorted({m.user for m in team if m.role in groups and m.user})
    users = sorted(set(named) | set(assignment.candidate_users))
    return users, ([] if named else groups)


def sole_candidate(assignment: Assignment, users: list[str], groups: list[str]) -> str | None:
    """The one person the instance's team names for an unassigned task (its candidates are then exactly
    that user, and no group): the engine assigns it to them, so it arrives in their own tasks instead of
    waiting to be claimed. A model's own `camunda:candidateUsers` stay candidates, as in Camunda."""
    if assignment.assignee is None and not assignment.candidate_users and not groups and len(users) == 1:
        return users[0]
    return None
