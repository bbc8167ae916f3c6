"""Who may see an instance or a task is one rule (engine.visibility, built by engine.permissions) with a
Python form and a SQL form. For any instances, teams, open tasks and principals, every place that
applies it agrees with the rule's Python form:

- instances: the instance list (SQL), reading one instance (SQL, through require_visible);
- tasks: the Camunda task query (SQL) lists the tasks the principal may work on (task_visible); reading
  one task (TaskService, Python) also lets the instance's teammates in, read-only (task_seen).
"""

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.engine import ProcessEngine
from engine.errors import Forbidden, NotFound
from engine.policy import TeamMember
from engine.queries import Paging, TaskFilter
from engine.storage.tables import (
    InstanceMemberRow,
    OpenTaskRow,
    ProcessInstanceRow,
    TaskCandidateRow,
    utcnow,
)
from engine.views import Principal
from engine.visibility import Facts, TaskFacts
from tests.security.conftest import tiny_bpmn

USERS = ("ann", "bob", "cat")
GROUPS = ("admin", "leader", "data", "sales")
ROLES = ("leader", "data", "sales")

names = st.sampled_from(USERS)
team_rows = st.lists(st.tuples(names, st.sampled_from(ROLES)), max_size=3, unique=True)
tasks = st.lists(
    st.tuples(
        st.none() | names,
        st.lists(names, max_size=2, unique=True),
        st.lists(st.sampled_from(ROLES), max_size=2, unique=True),
    ),
    max_size=3,
)
instances = st.lists(st.tuples(st.none() | names, team_rows, tasks), min_size=1, max_size=3)
principals = st.builds(
    lambda name, groups: Principal(f"id-{name}", name, frozenset(groups)),
    names,
    st.lists(st.sampled_from(GROUPS), max_size=2, unique=True),
)


@dataclass(frozen=True)
class Definition:
    """A deployed one-task process and the saved state of one of its instances: the invented instances
    below share it, so that reading one reads a real workflow (the instance page draws its path)."""

    id: str
    state: str
    serializer_version: str


@pytest.fixture
def definition(engine: ProcessEngine) -> Definition:
    engine.repository.deploy([("p.bpmn", tiny_bpmn("p"))], actor="test")
    admin = Principal("id-ada", "ada", frozenset({"admin"}))
    started = engine.runtime.start_process_instance_by_key("p", principal=admin)
    with engine.db.begin() as conn:
        row = conn.execute(sa.select(ProcessInstanceRow).where(ProcessInstanceRow.id == started.id)).one()
    _clear(engine)
    return Definition(row.definition_id, row.state, row.serializer_version)


Written = list[tuple[str, Facts, list[tuple[str, TaskFacts]]]]


def _write(engine: ProcessEngine, definition: Definition, world: list) -> Written:
    """The world as index rows, as the engine writes them; returns each instance's facts and tasks."""
    written = []
    now = utcnow()
    with engine.db.begin() as conn:
        for started_by, team, open_tasks in world:
            instance_id = str(uuid.uuid4())
            members = [TeamMember(user=u, role=r, duty="") for u, r in team]
            conn.execute(
                sa.insert(ProcessInstanceRow),
                {
                    "id": instance_id,
                    "definition_id": definition.id,
                    "process_key": "p",
                    "status": "running",
                    "state": definition.state,
                    "serializer_version": definition.serializer_version,
                    "version": 1,
                    "variables": {},
                    "team": members,
                    "started_by": started_by,
                    "started_at": now,
                },
            )
            if team:
                conn.execute(
                    sa.insert(InstanceMemberRow),
                    [{"instance_id": instance_id, "user_name": u, "role": r} for u, r in team],
                )
            task_facts = []
            for assignee, users, groups in open_tasks:
                task_id = str(uuid.uuid4())
                conn.execute(
                    sa.insert(OpenTaskRow),
                    {
                        "id": task_id,
                        "instance_id": instance_id,
                        "process_key": "p",
                        "element_id": "Task",
                        "name": "Task",
                        "assignee": assignee,
                        "created_at": now,
                    },
                )
                offers = [("user", u) for u in users] + [("group", g) for g in groups]
                if offers:
                    conn.execute(
                        sa.insert(TaskCandidateRow),
                        [
                            {"task_id": task_id, "kind": k, "value": v, "open": assignee is None}
                            for k, v in offers
                        ],
                    )
                task_facts.append((task_id, TaskFacts(assignee, users, groups)))
            facts = Facts(started_by, members, open_tasks=[t for _, t in task_facts])
            written.append((instance_id, facts, task_facts))
    return written


def _clear(engine: ProcessEngine) -> None:
    with engine.db.begin() as conn:
        for table in (TaskCandidateRow, OpenTaskRow, InstanceMemberRow, ProcessInstanceRow):
            conn.execute(sa.delete(table))


def _sees(read: Callable[[], object]) -> bool:
    try:
        read()
    except (NotFound, Forbidden):
        return False
    return True


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(world=instances, principal=principals)
def test_every_form_of_the_visibility_rule_agrees(
    engine: ProcessEngine, definition: Definition, world: list, principal: Principal
) -> None:
    rules = engine.rules
    written = _write(engine, definition, world)
    try:
        listed = {i.id for i in engine.runtime.list_instances(principal=principal, limit=500).items}
        queried = {r.task.id for r in engine.camunda.tasks(TaskFilter(), Paging(), principal=principal).items}
        for instance_id, facts, task_facts in written:
            expected = rules.instance_visible.holds(principal, facts)
            assert (instance_id in listed) == expected, ("instance list", facts)
            read = _sees(lambda i=instance_id: engine.runtime.get_instance(i, principal=principal))
            assert read == expected, ("instance", facts)
            for task_id, task in task_facts:
                task_in_instance = Facts(facts.started_by, facts.team, task=task)
                expected = rules.task_visible.holds(principal, task_in_instance)
                assert (task_id in queried) == expected, ("Camunda task query", task_in_instance)
                read = _sees(lambda t=task_id: engine.tasks.get_task(t, principal=principal))
                assert read == rules.task_seen.holds(principal, task_in_instance), ("task", task_in_instance)
    finally:
        _clear(engine)


def test_the_rule_reads_as_the_permission_table_says(engine: ProcessEngine) -> None:
    """A few cases by hand, so that the agreement above is agreement on the right rule."""
    rules = engine.rules
    leader = Principal("l", "lei", frozenset({"leader"}))
    data = Principal("d", "dana", frozenset({"data"}))
    before_team = Facts(started_by="someone")
    with_team = Facts(
        started_by="lei", team=[TeamMember(user="dana", role="data"), TeamMember(user="lee", role="leader")]
    )
    assert rules.instance_visible.holds(leader, before_team)  # every leader, before a team is named
    assert not rules.instance_visible.holds(data, before_team)
    assert rules.instance_visible.holds(data, with_team)  # named on the team
    assert not rules.is_instance_leader(leader, "lei", with_team.team)  # the team names another leader
    offered = Facts(task=TaskFacts(None, [], ["data"]))
    assert rules.task_visible.holds(data, offered) and not rules.task_visible.holds(leader, offered)
