"""On the task page a leader hands a task to another of its candidates (Assign); people who lead nothing
are not offered the choice."""

import re

import pytest
from playwright.sync_api import expect

from engine.seed import DEMO_PASSWORD

pytestmark = pytest.mark.browser


def test_a_leader_assigns_a_task_to_another_candidate_on_the_task_page(sign_in, rest, shot) -> None:
    rest.call(
        "ada",
        "POST",
        "/api/v1/users",
        201,
        json={"name": "lee", "groups": ["leader"], "password": DEMO_PASSWORD},
    )
    variables = {"trigger": "user_feedback", "title": "指派", "description": "交给另一位组长"}
    started = rest.call(
        "lei",
        "POST",
        "/api/v1/process-instances",
        201,
        json={"process_key": "ops_optimization", "variables": variables},
    )
    task = rest.task("lei", started["id"], "Task_locate_problem")

    lei = sign_in("lei", lang="en")
    lei.goto(re.sub(r"/inbox.*$", f"/tasks/{task['id']}", lei.url))
    expect(lei.locator("#btn-assign")).to_have_text("Assign")
    expect(lei.locator("#assign-user option")).to_have_count(2)  # the leaders: lee and lei herself
    lei.select_option("#assign-user", "lee")
    shot(lei, "01-assign")
    lei.click("#btn-assign")
    expect(lei.locator("#task-state")).to_have_text("Claimed by lee")
    expect(lei.locator("#task-notice")).to_have_text("Assigned to lee.")
    assert rest.call("lee", "GET", f"/api/v1/tasks/{task['id']}")["task"]["assignee"] == "lee"

    eric = sign_in("eric")
    eric.goto(re.sub(r"/inbox.*$", f"/tasks/{task['id']}", eric.url))
    expect(eric.locator("#task-error")).to_be_visible()  # not his to see, nor to hand on
    expect(eric.locator("#task-assign")).to_be_hidden()
