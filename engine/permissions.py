"""Who may do what: the one table of rules. Services ask these functions; they never decide alone.

| action                | who                                                                        |
|-----------------------|----------------------------------------------------------------------------|
| read definitions      | every signed-in user                                                        |
| deploy                | designer, admin                                                             |
| start an instance     | leader, admin, integration accounts                                         |
| see an instance       | admin, its starter, its team, a candidate of one of its open tasks;         |
|                       | before a team is named: every leader                                        |
| cancel, assign tasks  | admin, the instance's leader (a leader on its team, or its starter)          |
| see a task            | admin, its assignee, its candidates, the instance's leader (to assign it)   |
| claim a task          | admin, its candidates (named users, else holders of its role)               |
| complete a task       | its assignee; a candidate when nobody has claimed it                         |
| manage users          | admin                                                                       |
| send messages         | admin, integration accounts                                                 |
| work external tasks   | admin, integration accounts                                                 |
| manage webhooks       | admin                                                                       |
| notification channels | admin                                                                       |
| process notifications | designer, admin                                                             |
| own notification prefs| every signed-in user                                                        |
| read the audit log    | admin                                                                       |
| resolve incidents     | admin                                                                       |
"""

from engine.views import Principal

DEPLOYERS = ("designer", "admin")
STARTERS = ("leader", "admin", "integration")  # systems start instances too (Camunda clients)


def can_deploy(p: Principal) -> bool:
    return p.has(*DEPLOYERS)


def can_start(p: Principal) -> bool:
    return p.has(*STARTERS)


def can_correlate(p: Principal) -> bool:
    return p.has("admin", "integration")


def can_work_external_tasks(roles: frozenset[str]) -> bool:
    return bool(roles.intersection(("admin", "integration")))


def can_manage_webhooks(p: Principal) -> bool:
    return p.has("admin")


def can_manage_notifications(p: Principal) -> bool:
    return p.has("admin")


def can_set_process_notifications(p: Principal) -> bool:
    return p.has(*DEPLOYERS)


def can_read_audit_log(p: Principal) -> bool:
    return p.has("admin")


def can_resolve_incidents(p: Principal) -> bool:
    return p.has("admin")


def can_manage_users(p: Principal) -> bool:
    return p.has("admin")


def is_instance_leader(p: Principal, started_by: str | None, team: list[dict]) -> bool:
    if p.has("admin"):
        return True
    if not p.has("leader"):
        return False
    team_leaders = {m.get("user") for m in team if m.get("role") == "leader"}
    return p.name in team_leaders or (not team_leaders and started_by == p.name)


def can_see_instance(p: Principal, started_by: str | None, team: list[dict], is_candidate: bool) -> bool:
    if p.has("admin") or started_by == p.name or is_candidate:
        return True
    if any(m.get("user") == p.name for m in team):
        return True
    return not team and p.has("leader")


def is_candidate(p: Principal, candidate_users: list[str], candidate_roles: list[str]) -> bool:
    return p.name in candidate_users or p.has(*candidate_roles)


def can_claim(
    p: Principal, assignee: str | None, candidate_users: list[str], candidate_roles: list[str]
) -> bool:
    return assignee is None and (p.has("admin") or is_candidate(p, candidate_users, candidate_roles))


def can_complete(
    p: Principal, assignee: str | None, candidate_users: list[str], candidate_roles: list[str]
) -> bool:
    if assignee is not None:
        return assignee == p.name
    return is_candidate(p, candidate_users, candidate_roles)
