"""Table 2-2 in the diagnosis report task reads as the handbook prints it: one line per problem module."""

import pytest

from tests.fixtures.handbook_journey import DIAGNOSIS, STAGE_1, TEAM, data

pytestmark = pytest.mark.browser


def test_each_problem_of_the_diagnosis_report_is_one_line_of_seven_cells(sign_in, rest, shot) -> None:
    instance = rest.call(
        "lei",
        "POST",
        "/api/v1/process-instances",
        201,
        json={"process_key": "ops_optimization", "variables": data("start_trigger")},
    )
    for element_id, role, form_data in [*STAGE_1, *DIAGNOSIS[:3]]:
        task = rest.task(TEAM[role], instance["id"], element_id)
        rest.complete(TEAM[role], task["id"], form_data)
    report = rest.task("dana", instance["id"], "Task_diagnosis_report")
    assert report["assignee"] == "dana"  # the one data specialist the team names

    page = sign_in("dana")
    page.goto(page.url.split("/inbox")[0] + f"/tasks/{report['id']}")
    page.locator("#form .fjs-repeat-render-add").click()
    rows = page.locator("#form .fjs-repeat-row-container")
    assert rows.count() == 2
    for row in range(2):
        inputs = rows.nth(row).locator("input")
        assert inputs.count() == 7
        tops = {round(inputs.nth(i).bounding_box()["y"]) for i in range(7)}
        assert len(tops) == 1, f"row {row}: the seven cells are not on one line: {tops}"
    # the first row's labels are the header; the second row's are hidden from sight, not from readers
    assert rows.nth(0).locator("label", has_text="问题模块").is_visible()
    second = rows.nth(1).locator("label", has_text="问题模块")
    assert second.count() == 1 and second.bounding_box()["width"] <= 1
    shot(page, "table-2-2")
