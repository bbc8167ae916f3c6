"""The whole handbook journey with e-mail notifications on: each person of the team is told about
each task that reaches them, in their own language, once; the leader is told when the instance ends."""

import re

import pytest

from engine.engine import ProcessEngine
from tests.api.conftest import outsiders  # noqa: F401 (a fixture: do_step checks people off the team)
from tests.api.test_handbook_journey import assert_finished_optimized, do_step, start_handbook
from tests.fixtures.handbook_journey import JOURNEY, TEAM
from tests.helpers.api import Api
from tests.notifications.conftest import EMAILS, drain, email_channel, set_preferences
from tests.notifications.platforms import Mailbox, text_of

pytestmark = pytest.mark.usefixtures("outsiders")

LANGUAGES = {"lei": "zh", "dana": "en", "eric": "en", "sara": "zh"}


def worded(name: str, language: str) -> str:
    """The handbook names tasks "中文 English"."""
    zh, en = re.match(r"^(.*?)\s+([A-Za-z].*)$", name).groups()
    return en if language == "en" else zh


def test_each_role_is_told_about_each_of_its_tasks_once_in_its_language(
    api: Api, engine: ProcessEngine, mailbox: Mailbox
) -> None:
    email_channel(api, mailbox)
    for user, language in LANGUAGES.items():
        set_preferences(api, user, language=language)
    instance_id = start_handbook(api)
    expected: dict[str, list[str]] = {user: [] for user in LANGUAGES}
    team_formed = False
    for element_id, role, form_data in JOURNEY:
        drain(engine)  # the worker's turn: the new task's notice goes out before anyone acts
        doer = TEAM[role]
        task = api.task_named(doer, element_id, instance_id)
        if team_formed:  # the team names one person per role: the engine assigns them the task
            prefix = "Task assigned to you: " if LANGUAGES[doer] == "en" else "任务已指派给你："
        else:
            prefix = "New task for you: " if LANGUAGES[doer] == "en" else "新任务待处理："
        expected[doer].append(prefix + worded(task["name"], LANGUAGES[doer]))
        do_step(api, instance_id, element_id, role, form_data, team_formed)
        team_formed = team_formed or element_id == "Task_form_team"
    drain(engine)
    assert_finished_optimized(api, instance_id)
    expected["lei"].append("流程已完成：OPT-2026-001 · 提升用户注册转化率")

    for user in LANGUAGES:
        got = [m["Subject"] for m in mailbox.to(EMAILS[user])]
        assert sorted(got) == sorted(expected[user]), user
    assert len(mailbox.messages) == sum(len(subjects) for subjects in expected.values())
    for message in mailbox.messages:
        assert "OPT-2026-001 · 提升用户注册转化率" in text_of(message)
    assert mailbox.to(EMAILS["ada"]) == []  # no incident on this journey
