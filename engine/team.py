"""The instance team named at team formation (the `team` variable): rows of user, role and duty.
From then on the instance's tasks of a role go to the people named for it."""

from sqlmodel import Session

from engine.config import LANE_ROLES
from engine.errors import Problem
from engine.services.identity import users_with_roles

#: Process variables the engine itself reads to decide who is offered tasks and who leads the instance.
#: Only a form with a field for one may change it (engine/instances.py refuses every other change).
ROUTING_VARIABLES = ("team",)


def routing_fields(form_schema: dict | None) -> frozenset[str]:
    """The routing variables a form has a field for: the ones completing it may set."""
    if form_schema is None:
        return frozenset()
    keys = {c.get("key") or c.get("path") for c in _walk(form_schema.get("components", []))}
    return frozenset(k for k in ROUTING_VARIABLES if k in keys)


def team_rules(form_schema: dict) -> list[str] | None:
    """The roles a team must name, from `properties.requiredRoles` on the form's `team` list;
    None when the form has no team list."""
    for component in _walk(form_schema.get("components", [])):
        if component.get("type") == "dynamiclist" and component.get("path") == "team":
            required = (component.get("properties") or {}).get("requiredRoles", "")
            return [r.strip() for r in required.split(",") if r.strip()]
    return None


def check_team(session: Session, team: object, required_roles: list[str]) -> list[Problem]:
    """Every row names an existing user who holds the row's role; each required role is filled."""
    if not isinstance(team, list):
        return [Problem("the team must be a list of rows", path="team")]
    problems = []
    names = {row.get("user") for row in team if isinstance(row, dict) and isinstance(row.get("user"), str)}
    known = users_with_roles(session, names)
    for i, row in enumerate(team):
        user, role = row.get("user"), row.get("role")
        if role not in LANE_ROLES:
            continue  # the form validation already reported it
        if user not in known:
            problems.append(Problem(f"there is no user named {user!r}", path=f"team[{i}].user"))
        elif role not in known[user]:
            problems.append(Problem(f"{user} does not hold the role {role}", path=f"team[{i}].user"))
    named = {row.get("role") for row in team}
    for role in required_roles:
        if role not in named:
            problems.append(Problem(f"the team needs at least one member with the role {role}", path="team"))
    return problems


def _walk(components: list[dict]):
    for c in components:
        yield c
        yield from _walk(c.get("components", []))
