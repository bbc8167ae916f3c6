"""The words form-js writes itself (add a row, select, remove a row) follow the page's language."""

import pytest

from tests.fixtures.handbook_journey import STAGE_1, TEAM, data

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("lang", "add", "remove", "select"),
    [("zh", "添加一行", "删除第 1 行", "请选择"), ("en", "Add new", "Remove list item 1", "Select")],
)
def test_the_kickoff_form_s_own_controls_speak_the_page_s_language(
    sign_in, rest, shot, lang, add, remove, select
) -> None:
    instance = rest.call(
        "lei",
        "POST",
        "/api/v1/process-instances",
        201,
        json={"process_key": "ops_optimization", "variables": data("start_trigger")},
    )
    for element_id, role, form_data in STAGE_1[:2]:
        task = rest.task(TEAM[role], instance["id"], element_id)
        rest.complete(TEAM[role], task["id"], form_data)
    kickoff = rest.task("lei", instance["id"], "Task_kickoff_meeting")
    assert kickoff["assignee"] == "lei"  # the team's one leader

    page = sign_in("lei", lang=lang)
    page.goto(page.url.split("/inbox")[0] + f"/tasks/{kickoff['id']}")
    adders = page.locator("#form .fjs-repeat-render-add")
    adders.first.wait_for()
    assert {text.strip() for text in adders.all_inner_texts()} == {add}
    adders.last.click()  # a milestone row more: its stage select and remove button are translated too
    assert page.locator(f'#form [aria-label="{remove}"]').count() > 0
    assert select in page.locator("#form .fjs-form-field-select").last.inner_text()
    shot(page, "kickoff-form")
