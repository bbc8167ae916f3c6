"""A shared world for the security tests of one module, built once per storage kind: the handbook and
a message-started process deployed, two teams, and an instance of each waiting in the same task.

Team A is the demo users (lei leader, dana data, eric execution, sara support); team B is made of
other people (lars, dina, emil, sven), so that for every demo user team B is "another team".
"""

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from engine.config import Settings
from engine.engine import ProcessEngine, build_engine
from engine.seed import DEMO_USERS, deploy_handbook
from tests.conftest import empty_database
from tests.fixtures.handbook_data import VALID
from tests.helpers.api import Api

MESSAGES_BPMN = Path(__file__).resolve().parents[1] / "engine" / "data" / "messages.bpmn"
PASSWORD = "s3cret-pass"
SIGNS_IN = "lars"  # the one user with a password
TEAM_A = {"leader": "lei", "data": "dana", "execution": "eric", "support": "sara"}
TEAM_B = {"leader": "lars", "data": "dina", "execution": "emil", "support": "sven"}
INTEGRATION = "ivan"
#: the task both instances wait in once their team is formed and the kick-off is done: the data role's
WAITING_TASK = "Task_collect_data"

TINY_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Defs" targetNamespace="http://example.com">
  <bpmn:process id="PROCESS_ID" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_leader" name="组长 (leader)">
        <bpmn:flowNodeRef>StartEvent_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Task_a</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>EndEvent_1</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent_1"><bpmn:outgoing>Flow_1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="Task_a" name="A">
      <bpmn:incoming>Flow_1</bpmn:incoming><bpmn:outgoing>Flow_2</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="EndEvent_1"><bpmn:incoming>Flow_2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent_1" targetRef="Task_a" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Task_a" targetRef="EndEvent_1" />
  </bpmn:process>
</bpmn:definitions>
"""


def tiny_bpmn(process_id: str) -> bytes:
    """A valid one-task process (the leader's lane) with the given id."""
    return TINY_BPMN.replace("PROCESS_ID", process_id).encode()


def form_data(form: str, **changes: object) -> dict:
    return {**copy.deepcopy(VALID[form]), **changes}


@dataclass
class Team:
    members: dict[str, str]  # role -> user name
    instance_id: str  # waiting in WAITING_TASK
    task_id: str  # that task, offered to the team's data member only

    @property
    def leader(self) -> str:
        return self.members["leader"]


@dataclass
class World:
    api: Api
    engine: ProcessEngine
    settings: Settings
    teams: dict[str, Team]  # "own" (team A, the demo users) and "other" (team B)
    counter: int = 0
    spare_instances: dict[str, str] = field(default_factory=dict)  # team leader -> a running instance
    shared: dict[str, str] = field(default_factory=dict)  # things tests create once and reuse

    def unique(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def start_with_team(self, members: dict[str, str]) -> str:
        """An instance started by the team's leader, its team formed from `members`, the kick-off done."""
        api, leader = self.api, members["leader"]
        instance_id = api.start(leader, form_data("start_trigger"))["id"]
        api.complete(
            leader,
            api.task_named(leader, "Task_locate_problem", instance_id)["id"],
            form_data("locate_problem"),
        )
        team = [{**row, "user": members[row["role"]]} for row in VALID["form_team"]["team"]]
        api.complete(leader, api.task_named(leader, "Task_form_team", instance_id)["id"], {"team": team})
        api.complete(
            leader,
            api.task_named(leader, "Task_kickoff_meeting", instance_id)["id"],
            form_data("kickoff_minutes"),
        )
        return instance_id

    def team(self, members: dict[str, str]) -> Team:
        instance_id = self.start_with_team(members)
        task = self.api.task_named(members["data"], WAITING_TASK, instance_id)
        # The team names one data member, so the engine assigned it to them; the matrix's cells start
        # from an unclaimed task, offered to them only.
        assert task["candidate_users"] == [members["data"]] and task["assignee"] == members["data"]
        self.api.call(members["data"], "POST", f"/api/v1/tasks/{task['id']}/unclaim")
        return Team(members, instance_id, task["id"])


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def module_db_url(request: pytest.FixtureRequest, _database_urls: dict[str, str]) -> str:
    """Like `db_url`, but one empty database per module and storage kind."""
    return empty_database(request.param, _database_urls)


@pytest.fixture(scope="module")
def world(module_db_url: str) -> Iterator[World]:
    settings = Settings(database_url=module_db_url, run_worker=False)
    engine = build_engine(settings)
    deploy_handbook(engine)
    engine.repository.deploy([("messages.bpmn", MESSAGES_BPMN.read_bytes())], actor="test")
    users = {**DEMO_USERS, **{name: [role] for role, name in TEAM_B.items()}, INTEGRATION: ["integration"]}
    for name, roles in users.items():  # one password is enough (hashing one takes half a second)
        engine.identity.create_user(name, roles, password=PASSWORD if name == SIGNS_IN else None)
    tokens = {name: engine.identity.issue_token(name) for name in users}
    client = TestClient(create_app(settings, engine=engine), raise_server_exceptions=False)
    client.__enter__()
    api = Api(client, tokens, app_factory=lambda: create_app(settings, engine=engine))
    world = World(api, engine, settings, {})
    world.teams = {"own": world.team(TEAM_A), "other": world.team(TEAM_B)}
    yield world
    api.client.__exit__(None, None, None)
    engine.close()
