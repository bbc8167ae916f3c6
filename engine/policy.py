"""How an organisation runs its instances in teams: the words of its handbook that the generic engine
must know, in one object given to the engine (build_engine(settings, policy=...)). Nothing else in
engine/ names a lane, the leader or the team variable.

The operations handbook (HANDBOOK): four lanes (leader, data, execution, support); a leader starts an
instance and, once the team formation task names its people (the `team` variable: rows of user, role
and duty), the instance's tasks of a role go to the people named for it, and the leaders named there
lead it (cancel, assign, escalations). A form's team list names the roles every team must fill in its
`requiredRoles` property.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from engine.types import JsonObject


class TeamMember(BaseModel):
    """One row of an instance's team: who (a user name) fills which role (a group). The row's other
    fields (the handbook's duty) are the form's: kept, stored and shown as written."""

    model_config = ConfigDict(frozen=True, extra="allow", strict=True)

    user: str
    role: str


#: Reads the team column and the team variable: a list of rows, each with a user and a role.
TEAM = TypeAdapter(list[TeamMember])


@dataclass(frozen=True)
class GroupSpec:
    """A group that exists from the start."""

    id: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class Policy:
    #: The groups of the handbook's lanes (created with the database, filled by admins).
    lanes: tuple[GroupSpec, ...] = ()
    #: The group whose members lead instances (and the team role that names an instance's leaders);
    #: None: an organisation without instance leaders (only admins cancel and assign).
    leader: str | None = None
    #: The process variable that names an instance's team; None: no teams.
    team_variable: str | None = None
    #: The form property, on the team list, naming the roles (groups) every team must fill.
    required_roles_property: str = "requiredRoles"
    #: Who may start a process that names no candidate starters (besides admins and integrations).
    starters: tuple[str, ...] = ()

    @property
    def lane_ids(self) -> tuple[str, ...]:
        return tuple(g.id for g in self.lanes)

    def team_of(self, variables: JsonObject) -> list[TeamMember] | None:
        """The team the process data names (rows with a user and a role), or None."""
        if self.team_variable is None:
            return None
        try:
            return TEAM.validate_python(variables.get(self.team_variable))
        except ValidationError:
            return None

    def leaders_of(self, team: Sequence[TeamMember]) -> set[str]:
        """The users a team names as its leaders."""
        if self.leader is None:
            return set()
        return {m.user for m in team if m.role == self.leader and m.user}


HANDBOOK = Policy(
    lanes=(
        GroupSpec("leader", "组长", "Leader"),
        GroupSpec("data", "数据组", "Data"),
        GroupSpec("execution", "执行组", "Execution"),
        GroupSpec("support", "支持组", "Support"),
    ),
    leader="leader",
    team_variable="team",
    starters=("leader",),
)
