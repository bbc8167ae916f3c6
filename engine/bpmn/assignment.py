"""Who a user task is offered to, as Camunda users write it, and when it is due.

At deploy (parse time) the catalog keeps what the model says: `camunda:assignee`, `camunda:candidateUsers`,
`camunda:candidateGroups` and `camunda:dueDate` as written, and the group of the task's lane. A lane maps
to a group by its extension property `group` (`<camunda:property name="group" value="accounting"/>`),
else by its id (`Lane_data` or `data`) or a word of its name (`数据组 (data)`) naming an existing group.

When the task is created (the open-task index is derived) each value is resolved against the process
data: a comma-separated list of names and expressions, an expression being `${...}` (`${initiator}`,
`${approvers}`, `${region + '_sales'}`) evaluated in the sandbox to a name, a list of names, or a
comma-separated string of names. `camunda:initiator="starter"` on the start event stores the starter's
name in the variable `starter`. An expression that fails is an AssignmentError (the instance gets an
incident), never a literal name.
"""

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from lxml import etree

from engine.bpmn.sandbox import check_expression
from engine.bpmn.xml import NS, camunda, camunda_properties, local_name
from engine.errors import Problem, Where
from engine.types import JsonObject

#: What the sandbox evaluates an expression with: (expression, variables) -> value.
Evaluate = Callable[[str, JsonObject], object]
_EXPRESSION = re.compile(r"\$\{(.*?)\}", re.S)
#: The lane extension property that names its group.
LANE_GROUP_PROPERTY = "group"


class AssignmentError(Exception):
    def __init__(self, element_id: str, message: str) -> None:
        super().__init__(message)
        self.element_id = element_id
        self.message = message


@dataclass(frozen=True)
class Assignment:
    assignee: str | None
    candidate_users: list[str]
    candidate_groups: list[str]  # the lane's group when the task names none

    @property
    def first_group(self) -> str | None:
        return self.candidate_groups[0] if self.candidate_groups else None


@dataclass(frozen=True)
class Lane:
    name: str
    group: str | None  # None: the lane maps to no group


@dataclass(frozen=True)
class WrittenAssignment:
    """A user task's assignment as the model writes it, kept in the catalog and resolved when the task
    is created. Every element's catalog entry has one (empty but for the lane's group elsewhere)."""

    lane_group: str | None = None
    candidate_groups: tuple[str, ...] = ()
    candidate_users: tuple[str, ...] = ()
    assignee: str | None = None
    due_date: str | None = None

    @property
    def names_anybody(self) -> bool:
        return bool(self.candidate_groups or self.candidate_users or self.assignee or self.lane_group)


@dataclass(frozen=True)
class StartFacts:
    """A start event's `camunda:initiator` (the variable the starter's name is stored in) and who may
    start its process (the process's candidate starter groups and users)."""

    initiator: str | None = None
    starter_groups: tuple[str, ...] = ()
    starter_users: tuple[str, ...] = ()


# --- deploy time --------------------------------------------------------------------------------------


def split_items(value: str | None) -> list[str]:
    """`sales, ${extra}, ${a + ',' + b}` -> its items: commas inside ${...} do not split."""
    if not value:
        return []
    items: list[str] = []
    depth, current = 0, ""
    i = 0
    while i < len(value):
        if value.startswith("${", i):
            depth += 1
            current += "${"
            i += 2
            continue
        char = value[i]
        if char == "}" and depth:
            depth -= 1
        if char == "," and not depth:
            items.append(current)
            current = ""
        else:
            current += char
        i += 1
    items.append(current)
    return [item.strip() for item in items if item.strip()]


def lane_groups(process: etree._Element, groups: set[str]) -> dict[str, Lane]:
    """flow node id -> its lane."""
    by_node: dict[str, Lane] = {}
    for lane in process.xpath(".//bpmn:lane", namespaces=NS):
        name = lane.get("name") or ""
        lane_id = lane.get("id") or ""
        group = camunda_properties(lane).get(LANE_GROUP_PROPERTY) or None
        if group is None:
            candidates = [lane_id, lane_id.removeprefix("Lane_"), name, *re.findall(r"[A-Za-z_]+", name)]
            group = next((c.lower() for c in candidates if c and c.lower() in groups), None)
        for ref in lane.xpath("./bpmn:flowNodeRef/text()", namespaces=NS):
            # Nested lanes come later in document order and are more specific: let them win.
            by_node[ref.strip()] = Lane(name or lane_id, group)
    return by_node


def user_task_facts(node: etree._Element, lane: Lane | None) -> WrittenAssignment:
    """The assignment of a user task, as written."""
    return WrittenAssignment(
        lane_group=lane.group if lane else None,
        candidate_groups=tuple(split_items(camunda(node, "candidateGroups"))),
        candidate_users=tuple(split_items(camunda(node, "candidateUsers"))),
        assignee=camunda(node, "assignee"),
        due_date=camunda(node, "dueDate"),
    )


def start_facts(node: etree._Element, process: etree._Element) -> StartFacts:
    """Of a start event: who its starter is stored as, and who may start the process."""
    return StartFacts(
        initiator=camunda(node, "initiator"),
        starter_groups=tuple(split_items(camunda(process, "candidateStarterGroups"))),
        starter_users=tuple(split_items(camunda(process, "candidateStarterUsers"))),
    )


def expression_problems(written: WrittenAssignment, where: Where) -> list[Problem]:
    """Every ${...} of a task's assignment and due date must compile under the sandbox's policy."""
    problems = []
    for attribute, items in _written(written):
        for item in items:
            for source in _EXPRESSION.findall(item):
                error = check_expression(source) if source.strip() else "it is empty"
                if error:
                    problems.append(
                        Problem(f"camunda:{attribute} expression {item!r} does not compile: {error}", **where)
                    )
    return problems


def offer_warnings(
    written: WrittenAssignment, where: Where, members: Mapping[str, int], users: set[str]
) -> list[Problem]:
    """Why nobody could be offered a user task yet, as far as deploy can tell (expressions are only
    known when the task is created): the groups it names do not exist or have no members, the users
    it names do not exist. Warnings, not refusals: groups are filled after deploying."""
    groups = list(written.candidate_groups) or ([written.lane_group] if written.lane_group else [])
    named_users = [*written.candidate_users, *([written.assignee] if written.assignee else [])]
    if not groups and not named_users:
        return []  # the parser warns about a task that names nobody at all
    literal_groups = [g for g in groups if "${" not in g]
    literal_users = [u for u in named_users if "${" not in u]
    if len(literal_groups) < len(groups) or len(literal_users) < len(named_users):
        return []  # an expression may name anyone
    if any(members.get(g) for g in literal_groups) or any(u in users for u in literal_users):
        return []
    reasons = [
        f"group {g} does not exist yet" if g not in members else f"group {g} has no members yet"
        for g in literal_groups
    ] + [f"there is no user {u}" for u in literal_users]
    return [Problem(f"nobody could be offered this user task yet: {'; '.join(reasons)}", **where)]


# --- when the task is created -----------------------------------------------------------------------


def resolve(
    element_id: str, written: WrittenAssignment, variables: JsonObject, evaluate: Evaluate
) -> Assignment:
    """The task's assignee and candidates from the process data. Raises AssignmentError."""
    assignee = _names(
        element_id, "assignee", [written.assignee] if written.assignee else [], variables, evaluate
    )
    if len(assignee) > 1:
        raise AssignmentError(
            element_id, f"camunda:assignee {written.assignee!r} names {len(assignee)} users"
        )
    groups = _names(element_id, "candidateGroups", written.candidate_groups, variables, evaluate)
    if not groups and written.lane_group:
        groups = [written.lane_group]
    users = _names(element_id, "candidateUsers", written.candidate_users, variables, evaluate)
    return Assignment(assignee[0] if assignee else None, users, groups)


def due_value(element_id: str, expression: str | None, variables: JsonObject, evaluate: Evaluate) -> object:
    """What `camunda:dueDate` gives: `${...}` evaluated, a literal ISO date, datetime or duration as it
    is, anything else evaluated as an expression (how opsflow 0.1 models wrote it)."""
    if not expression:
        return None
    found = _EXPRESSION.fullmatch(expression.strip())
    if found is None and re.fullmatch(r"P[0-9WTDHMYS.]+|\d{4}-\d{2}-\d{2}([T ][0-9:.+\-Z]*)?", expression):
        return expression
    return _evaluate(element_id, "dueDate", found.group(1) if found else expression, variables, evaluate)


def _names(
    element_id: str, attribute: str, items: Sequence[str], variables: JsonObject, evaluate: Evaluate
) -> list[str]:
    names: list[str] = []
    for item in items:
        found = _EXPRESSION.fullmatch(item)
        if found is None:
            names.append(item)
            continue
        value = _evaluate(element_id, attribute, found.group(1), variables, evaluate)
        if value is None:
            continue
        if isinstance(value, str):
            names += split_items(value)
        elif isinstance(value, list | tuple | set | frozenset) and all(isinstance(v, str) for v in value):
            names += [v.strip() for v in value if v.strip()]
        else:
            raise AssignmentError(
                element_id,
                f"camunda:{attribute} {item!r} gave {value!r}: a name, a list of names or a comma-separated "
                "string of names was expected",
            )
    return list(dict.fromkeys(names))


def _evaluate(
    element_id: str, attribute: str, source: str, variables: JsonObject, evaluate: Evaluate
) -> object:
    try:
        return evaluate(source, dict(variables))
    except Exception as exc:  # the sandbox's own errors and the expression's alike
        raise AssignmentError(
            element_id, f"camunda:{attribute} expression ${{{source}}} could not be evaluated: {exc}"
        ) from exc


def _written(written: WrittenAssignment) -> list[tuple[str, Sequence[str]]]:
    return [
        ("assignee", [written.assignee] if written.assignee else []),
        ("candidateGroups", written.candidate_groups),
        ("candidateUsers", written.candidate_users),
        ("dueDate", [written.due_date] if written.due_date else []),
    ]


def lane_of(node: etree._Element, lanes: dict[str, Lane]) -> Lane | None:
    current: etree._Element | None = node
    while current is not None and local_name(current) != "process":
        if current.get("id") in lanes:
            return lanes[current.get("id")]
        current = current.getparent()
    return None
