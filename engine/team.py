"""The instance team named at team formation (the policy's team variable: rows of user, role and duty).
From then on the instance's tasks of a role go to the people named for it."""

from collections.abc import Iterator

from sqlmodel import Session

from engine.errors import Problem
from engine.policy import Policy
from engine.services.identity import users_with_groups
from engine.types import JsonObject

#: Process variables the engine itself reads to decide who is offered tasks and who leads the instance.
#: Only a form with a field for one may change it (engine/instances.py refuses every other change).
ROUTING_VARIABLES = ("team",)


def routing_fields(form_schema: JsonObject | None) -> frozenset[str]:
    """The routing variables a form has a field for: the ones completing it may set."""
    if form_schema is None:
        return frozenset()
    keys = {c.get("key") or c.get("path") for c in _walk(form_schema.get("components", []))}
    return frozenset(k for k in ROUTING_VARIABLES if k in keys)


def team_problems(
    session: Session, form_schema: JsonObject, data: JsonObject, policy: Policy
) -> list[Problem]:
    """What is wrong with the team a form names, if the form has the team list and the data names one."""
    if policy.team_variable is None or policy.team_variable not in data:
        return []
    required = required_roles(form_schema, policy)
    if required is None:
        return []
    return check_team(session, data[policy.team_variable], required, policy)


def required_roles(form_schema: JsonObject, policy: Policy) -> list[str] | None:
    """The roles a team must name, from the policy's property (`requiredRoles`) on the form's team list;
    None when the form has no team list."""
    for component in _walk(form_schema.get("components", [])):
        if component.get("type") == "dynamiclist" and component.get("path") == policy.team_variable:
            required = (component.get("properties") or {}).get(policy.required_roles_property, "")
            return [r.strip() for r in required.split(",") if r.strip()]
    return None


def check_team(session: Session, team: object, required: list[str], policy: Policy) -> list[Problem]:
    """Every row names an existing user who is in the row's role (group); each required role is filled."""
    where = policy.team_variable or "team"
    if not isinstance(team, list):
        return [Problem("the team must be a list of rows", path=where)]
    problems = []
    names = {u for row in team if isinstance(row, dict) and isinstance(u := row.get("user"), str)}
    known = users_with_groups(session, names)
    for i, row in enumerate(team):
        user, role = row.get("user"), row.get("role")
        if not isinstance(role, str):
            continue  # the form validation already reported it
        if user not in known:
            problems.append(Problem(f"there is no user named {user!r}", path=f"{where}[{i}].user"))
        elif role not in known[user]:
            problems.append(Problem(f"{user} is not in the group {role}", path=f"{where}[{i}].user"))
    named = {row.get("role") for row in team}
    for role in required:
        if role not in named:
            problems.append(Problem(f"the team needs at least one member with the role {role}", path=where))
    return problems


def _walk(components: list[JsonObject]) -> Iterator[JsonObject]:
    for c in components:
        yield c
        yield from _walk(c.get("components", []))
