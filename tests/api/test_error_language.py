"""Errors speak the reader's language: a client that prefers Chinese (as the pages do in Chinese mode)
reads the messages of the team's work in Chinese, roles by their names; the places stay as they are."""

import pytest

from tests.fixtures.handbook_data import VALID
from tests.helpers.api import Api

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)

ZH = {"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}


@pytest.fixture
def form_team(api: Api) -> str:
    instance_id = api.start("lei", VALID["start_trigger"])["id"]
    locate = api.task_named("lei", "Task_locate_problem", instance_id)
    api.complete("lei", locate["id"], VALID["locate_problem"])
    return api.task_named("lei", "Task_form_team", instance_id)["id"]


def submit_team(api: Api, task_id: str, team: list[dict], headers: dict) -> dict:
    return api.call(
        "lei",
        "POST",
        f"/api/v1/tasks/{task_id}/complete",
        422,
        json={"data": {"team": team}},
        headers=headers,
    )


def test_a_team_with_an_unknown_user_and_a_missing_role_is_explained_in_chinese(
    api: Api, form_team: str
) -> None:
    team = [m for m in VALID["form_team"]["team"] if m["role"] != "execution"]
    team[1] = {**team[1], "user": "zhangsan"}
    body = submit_team(api, form_team, team, ZH)
    assert body["message"] == "表单填写有误"
    messages = {p["path"]: p["message"] for p in body["problems"]}
    assert messages["team[1].user"] == "没有名为“zhangsan”的用户"
    assert messages["team"] == "团队至少需要一名执行组成员"


def test_english_readers_and_clients_without_a_preference_read_english(api: Api, form_team: str) -> None:
    team = [m for m in VALID["form_team"]["team"] if m["role"] != "execution"]
    for headers in ({"Accept-Language": "en-GB,zh;q=0.5"}, {}):
        body = submit_team(api, form_team, team, headers)
        assert body["problems"][0]["message"] == "the team needs at least one member with the role execution"


def test_a_task_someone_else_claimed_is_refused_in_chinese(api: Api, form_team: str, outsiders) -> None:
    api.claim("lei", form_team)
    body = api.call(outsiders["leader"], "POST", f"/api/v1/tasks/{form_team}/claim", 409, headers=ZH)
    assert body["error"] == "conflict"
    assert body["message"] == "此任务已被 lei 认领"


def test_a_message_without_a_translation_stays_as_it_was_written(api: Api) -> None:
    body = api.call("lei", "GET", "/api/v1/tasks", 422, params={"scope": "everything"}, headers=ZH)
    assert body["message"] == "请求无效"
    [problem] = body["problems"]
    assert problem["path"] == "query.scope" and problem["message"].startswith("Input should be")
