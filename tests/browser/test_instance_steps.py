"""A step of the instance diagram in Chromium (zh and en): a click on it shows each time it ran, who
did it, when, and the data it submitted; the history's steps open the same panel from the keyboard."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_instance_console import start, work
from tests.fixtures.handbook_journey import DIAGNOSIS, STAGE_1, data

pytestmark = pytest.mark.browser


@pytest.mark.parametrize(
    ("lang", "first_run", "completed", "data_heading"),
    [("zh", "第 1 次", "完成", "提交的数据"), ("en", "Run 1", "Completed", "Data submitted")],
)
def test_a_click_on_a_step_shows_who_did_it_when_and_what_it_submitted(
    sign_in, rest, shot, lang, first_run, completed, data_heading
) -> None:
    instance_id = start(rest)
    back = ("Task_review_diagnosis", "leader", data("review_diagnosis", diagnosis_decision="back_to_collect"))
    work(rest, instance_id, [*STAGE_1, *DIAGNOSIS, back, *DIAGNOSIS])

    page = sign_in("lei", lang=lang)
    page.goto(page.url.split("/inbox")[0] + f"/instances/{instance_id}")
    expect(page.locator("#diagram")).to_have_attribute("data-open", "Task_review_diagnosis")
    panel = page.locator("#step-panel")
    expect(panel).to_be_hidden()

    page.locator('#diagram .djs-shape[data-element-id="Task_collect_data"]').click()
    expect(panel).to_have_attribute("data-element", "Task_collect_data")
    expect(panel).to_have_attribute("data-runs", "2")  # sent back once by the review
    first = panel.locator('li[data-run="1"]')
    expect(first.locator("h3")).to_have_text(first_run)
    expect(first.locator('[data-field="completed"] dt')).to_have_text(completed)
    expect(first.locator('[data-field="completed"] dd')).to_contain_text("dana")
    expect(first.locator("h4")).to_have_text(data_heading)
    expect(first.locator('dd[data-key="duplicates_removed"]')).to_have_text("1240")
    # in the words of the step's form: its field's label, its options' labels
    expect(first.locator('dt[title="data_sources"]')).to_be_visible()
    expect(first.locator('dt[title="data_sources"]')).not_to_have_text("data_sources")
    expect(first.locator('dd[data-key="data_sources"]')).to_be_visible()
    expect(first.locator('dd[data-key="data_sources"]')).not_to_contain_text("user_behavior")
    expect(panel.locator('li[data-run="2"] [data-data="shown"]')).to_have_count(1)
    shot(page, "step")

    page.locator("#step-close").click()
    expect(panel).to_be_hidden()
    # the open review, from the history: not completed yet, held by the team's leader
    page.locator('#history-rows button[data-step="Task_review_diagnosis"]').first.press("Enter")
    expect(panel).to_have_attribute("data-element", "Task_review_diagnosis")
    review = panel.locator('li[data-run="2"]')
    expect(review.locator('[data-field="completed"] dd')).to_contain_text("lei")
    expect(review.locator("[data-data]")).to_have_count(0)
