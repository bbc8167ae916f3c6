"""Who may do what: the one table of rules. Services ask these; they never decide alone.

What an account may do is given by its groups: the platform's own (`admin`, `designer`, `integration`)
and the policy's (engine.policy: for the handbook, `leader` leads instances and starts them).

| action                | who                                                                          |
|-----------------------|------------------------------------------------------------------------------|
| read definitions      | every signed-in user                                                          |
| deploy                | designer, admin                                                               |
| start an instance     | admin, integration; the process's candidate starters (camunda:               |
|                       | candidateStarterGroups/Users), else the policy's starters (the leaders)       |
| see an instance       | admin, its starter, its team, whoever an open task of it is assigned or      |
|                       | offered to; before a team is named: every leader                              |
| cancel, assign tasks  | admin, the instance's leader (a leader its team names, else its starter if a  |
|                       | leader)                                                                       |
| see a task            | admin, its assignee, its candidates, the instance's leader                    |
| claim a task          | admin, its candidates (named users, members of its groups)                    |
| complete a task       | its assignee; a candidate when nobody has claimed it                          |
| delegate a task       | its assignee (who becomes its owner), the instance's leader                   |
| resolve a task        | its delegate (the assignee while the delegation is pending)                   |
| manage users, groups  | admin                                                                         |
| send messages         | admin, integration                                                            |
| work external tasks   | admin, integration                                                            |
| manage webhooks       | admin                                                                         |
| notification channels | admin                                                                         |
| process notifications | designer, admin                                                               |
| own notification prefs| every signed-in user                                                          |
| read the audit log    | admin                                                                         |
| resolve incidents     | admin                                                                         |
| suspend, resume,      | admin, the instance's leader                                                  |
| answer a message      |                                                                               |
| change data, move a   | admin                                                                         |
| token, migrate        |                                                                               |

"See an instance" and "see a task" are rules of engine.visibility, built here: one definition with a
Python form and a SQL form.
"""

from collections.abc import Sequence

from engine.policy import GroupSpec, Policy, TeamMember
from engine.views import Principal
from engine.visibility import (
    AllOf,
    AnyOf,
    AssigneeOfTask,
    CandidateOfTask,
    Facts,
    Ground,
    InGroup,
    Not,
    OnAnOpenTask,
    OnTeam,
    StartedIt,
    TaskFacts,
    TeamNames,
)

ADMIN, DESIGNER, INTEGRATION = "admin", "designer", "integration"
#: The platform's own groups, which exist from the start whatever the policy.
PLATFORM_GROUPS = (
    GroupSpec(DESIGNER, "流程设计", "Designer"),
    GroupSpec(ADMIN, "管理员", "Admin"),
    GroupSpec(INTEGRATION, "集成账户", "Integration"),
)


def can_deploy(p: Principal) -> bool:
    return p.has(DESIGNER, ADMIN)


def can_correlate(p: Principal) -> bool:
    return p.has(ADMIN, INTEGRATION)


def can_work_external_tasks(groups: frozenset[str]) -> bool:
    return bool(groups.intersection((ADMIN, INTEGRATION)))


def can_manage_webhooks(p: Principal) -> bool:
    return p.has(ADMIN)


def can_manage_notifications(p: Principal) -> bool:
    return p.has(ADMIN)


def can_set_process_notifications(p: Principal) -> bool:
    return p.has(DESIGNER, ADMIN)


def can_read_audit_log(p: Principal) -> bool:
    return p.has(ADMIN)


def can_resolve_incidents(p: Principal) -> bool:
    return p.has(ADMIN)


def can_modify_instances(p: Principal) -> bool:
    """Change an instance's data, move its token, migrate it to another version."""
    return p.has(ADMIN)


def can_manage_users(p: Principal) -> bool:
    return p.has(ADMIN)


def is_candidate(p: Principal, candidate_users: list[str], candidate_groups: list[str]) -> bool:
    return p.name in candidate_users or p.has(*candidate_groups)


def can_claim(
    p: Principal, assignee: str | None, candidate_users: list[str], candidate_groups: list[str]
) -> bool:
    return assignee is None and (p.has(ADMIN) or is_candidate(p, candidate_users, candidate_groups))


def can_complete(
    p: Principal, assignee: str | None, candidate_users: list[str], candidate_groups: list[str]
) -> bool:
    if assignee is not None:
        return assignee == p.name
    return is_candidate(p, candidate_users, candidate_groups)


class TeamRules:
    """The rules that depend on the policy: who starts, who leads an instance, who sees what."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        leader = policy.leader
        #: admin, or a leader whom the team names as its leader, or (no leader named) who started it
        self.instance_leader: Ground = AnyOf(
            (
                InGroup(ADMIN),
                AllOf(
                    (
                        InGroup(leader),
                        AnyOf((OnTeam(leader), AllOf((StartedIt(), Not(TeamNames(leader)))))),
                    )
                )
                if leader
                else AnyOf(()),
            )
        )
        #: the task is the principal's to work on: admin, its assignee, its candidates
        self.offered: Ground = AnyOf((InGroup(ADMIN), AssigneeOfTask(), CandidateOfTask()))
        self.task_visible: Ground = AnyOf((self.offered, self.instance_leader))
        #: read-only: the instance's team names the principal (teammates follow each other's work)
        self.task_readable: Ground = OnTeam()
        #: reading one task: whoever may work on it, and the instance's teammates (read-only)
        self.task_seen: Ground = AnyOf((self.task_visible, self.task_readable))
        self.instance_visible: Ground = AnyOf(
            (
                InGroup(ADMIN),
                StartedIt(),
                OnTeam(),
                OnAnOpenTask(),
                AllOf((InGroup(leader), Not(TeamNames()))) if leader else AnyOf(()),
            )
        )

    def can_start(self, p: Principal, starter_groups: Sequence[str], starter_users: Sequence[str]) -> bool:
        if p.has(ADMIN, INTEGRATION):
            return True
        if starter_groups or starter_users:
            return p.name in starter_users or p.has(*starter_groups)
        return p.has(*self.policy.starters)

    def is_instance_leader(self, p: Principal, started_by: str | None, team: Sequence[TeamMember]) -> bool:
        return self.instance_leader.holds(p, Facts(started_by, team))

    def is_offered(
        self, p: Principal, assignee: str | None, candidate_users: list[str], candidate_groups: list[str]
    ) -> bool:
        return self.offered.holds(p, Facts(task=TaskFacts(assignee, candidate_users, candidate_groups)))

    def is_teammate(self, p: Principal, team: Sequence[TeamMember]) -> bool:
        return self.task_readable.holds(p, Facts(team=team))

    def leaders_of(self, started_by: str | None, team: Sequence[TeamMember]) -> list[str]:
        """Who an instance's escalations go to: the leaders its team names, else its starter."""
        return sorted(self.policy.leaders_of(team)) or ([started_by] if started_by else [])
