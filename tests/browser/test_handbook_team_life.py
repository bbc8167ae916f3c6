"""The handbook as its team lives it, on the pages: a teammate's task opens read-only with who holds it,
and a kick-off milestone in the past is refused at its field, in the page's language."""

import copy
import re

import pytest
from playwright.sync_api import expect

from tests.browser.formjs import field
from tests.fixtures.handbook_data import VALID
from tests.fixtures.handbook_journey import STAGE_1, TEAM, data

pytestmark = pytest.mark.browser


def start(rest) -> str:
    body = {"process_key": "ops_optimization", "variables": data("start_trigger")}
    return rest.call("lei", "POST", "/api/v1/process-instances", 201, json=body)["id"]


@pytest.mark.parametrize(
    ("lang", "badge", "notice"),
    [
        ("zh", "只读", "此任务由 dana 处理，你只能查看。"),
        ("en", "Read-only", "dana works on this task; you can only look."),
    ],
)
def test_a_teammate_opens_another_s_task_read_only_and_sees_who_holds_it(
    sign_in, rest, shot, lang, badge, notice
) -> None:
    instance_id = start(rest)
    for element_id, role, form_data in STAGE_1:
        rest.complete(TEAM[role], rest.task(TEAM[role], instance_id, element_id)["id"], form_data)
    collect = rest.task("dana", instance_id, "Task_collect_data")

    eric = sign_in("eric", lang=lang)  # execution, on the team: not his task
    eric.goto(re.sub(r"/inbox.*$", f"/tasks/{collect['id']}", eric.url))
    expect(eric.locator("#task-state")).to_have_text(badge)
    expect(eric.locator("#task-notice")).to_have_text(notice)
    expect(field(eric, "Field_time_range")).not_to_be_editable()
    for button in ("#btn-claim", "#btn-complete", "#btn-draft"):
        expect(eric.locator(button)).to_be_hidden()
    expect(eric.locator("#task-error")).to_be_hidden()
    shot(eric, "teammate-read-only")


@pytest.mark.parametrize(
    ("lang", "message"),
    [
        ("zh", "日期已过：请选择今天或之后的日期。"),
        ("en", "The date is in the past: choose today or a later day."),
    ],
)
def test_a_kickoff_milestone_in_the_past_is_shown_at_its_field(sign_in, rest, shot, lang, message) -> None:
    instance_id = start(rest)
    for element_id, role, form_data in STAGE_1[:2]:
        rest.complete(TEAM[role], rest.task(TEAM[role], instance_id, element_id)["id"], form_data)
    kickoff = rest.task("lei", instance_id, "Task_kickoff_meeting")
    minutes = copy.deepcopy(VALID["kickoff_minutes"])
    minutes["milestones"][1]["due_date"] = "2020-01-08"
    rest.call("lei", "PUT", f"/api/v1/tasks/{kickoff['id']}/draft", json={"data": minutes})

    lei = sign_in("lei", lang=lang)
    lei.goto(re.sub(r"/inbox.*$", f"/tasks/{kickoff['id']}", lei.url))
    expect(field(lei, "Field_meeting_topic")).to_be_visible()
    with lei.expect_response(lambda r: r.url.endswith("/complete")) as response:
        lei.click("#btn-complete")
    assert response.value.status == 422
    # form-js names a date's error without the row: find it in the second milestone's field
    second = lei.locator('#form .fjs-repeat-row-container:has([id$="-Field_milestones_due_date_1-date"])')
    expect(second.locator('[id$="-error-message"]')).to_have_text(message)
    first = lei.locator('#form .fjs-repeat-row-container:has([id$="-Field_milestones_due_date_0-date"])')
    expect(first.locator('[id$="-error-message"]')).to_have_count(0)
    shot(lei, "milestone-in-the-past")
