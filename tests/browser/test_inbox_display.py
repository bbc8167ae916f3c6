"""What the inbox shows of a task: its stage under the handbook's own name, and the day it is due."""

from datetime import date

import pytest

from tests.fixtures.handbook_data import MILESTONES, due_at
from tests.fixtures.handbook_journey import STAGE_1, TEAM, data

DIAGNOSIS_DAY = date.fromisoformat(MILESTONES["diagnosis"])

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("lang", "stage", "due"),
    [
        ("zh", "深度诊断", DIAGNOSIS_DAY.strftime("%Y/%m/%d")),
        ("en", "Diagnosis", DIAGNOSIS_DAY.strftime("%d/%m/%Y")),
    ],
)
def test_a_task_due_by_a_milestone_shows_the_milestone_s_day_and_stage(
    sign_in, rest, shot, lang, stage, due
) -> None:
    instance = rest.call(
        "lei",
        "POST",
        "/api/v1/process-instances",
        201,
        json={"process_key": "ops_optimization", "variables": data("start_trigger")},
    )
    for element_id, role, form_data in STAGE_1:
        task = rest.task(TEAM[role], instance["id"], element_id)
        if task["assignee"] is None:  # tasks of the one person the team names are theirs already
            rest.call(TEAM[role], "POST", f"/api/v1/tasks/{task['id']}/claim")
        rest.complete(TEAM[role], task["id"], form_data)
    collect = rest.task("dana", instance["id"], "Task_collect_data")
    assert collect["due_at"].startswith(due_at("diagnosis").isoformat()[:16])  # Table 2-1's milestone

    page = sign_in("dana", lang=lang)
    page.goto(page.url.split("/inbox")[0] + "/inbox")  # opens on her tasks: the team names her alone
    row = page.wait_for_selector('tr[data-element-id="Task_collect_data"]')
    assert page.get_attribute("#tab-mine", "aria-selected") == "true"
    cells = row.query_selector_all("td")
    assert cells[1].inner_text() == stage
    assert cells[4].inner_text().startswith(due)
    shot(page, "inbox")
