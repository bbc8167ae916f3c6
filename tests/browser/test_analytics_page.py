"""The analytics page in Chromium (zh and en): a leader sees a handbook optimization's figures as a
table, the weekly trend as an ECharts chart, the heatmap badges over the BPMN diagram, and the goal
against the effect measured in stage 5."""

import re

import pytest
from playwright.sync_api import expect

from tests.fixtures.handbook_journey import DESIGN, DIAGNOSIS, EXECUTION, STAGE_1, TEAM, data

pytestmark = pytest.mark.browser


def work(rest, instance_id: str, steps: list) -> None:
    for element_id, role, form_data in steps:
        task = rest.task(TEAM[role], instance_id, element_id)
        if task["assignee"] is None:  # tasks of the one person the team names are theirs already
            rest.call(TEAM[role], "POST", f"/api/v1/tasks/{task['id']}/claim")
        rest.complete(TEAM[role], task["id"], form_data)


@pytest.mark.parametrize(
    ("lang", "runs_header", "started", "goal_header"),
    [("zh", "次数", "发起", "基线"), ("en", "Runs", "Started", "Baseline")],
)
def test_the_page_shows_the_figures_the_trend_the_heatmap_and_the_goals(
    sign_in, rest, shot, lang, runs_header, started, goal_header
) -> None:
    body = {"process_key": "ops_optimization", "variables": data("start_trigger"), "business_key": "OPT-9"}
    instance_id = rest.call("lei", "POST", "/api/v1/process-instances", 201, json=body)["id"]
    back = ("Task_review_diagnosis", "leader", data("review_diagnosis", diagnosis_decision="back_to_collect"))
    accept = ("Task_review_diagnosis", "leader", data("review_diagnosis", diagnosis_decision="accept"))
    work(rest, instance_id, [*STAGE_1, *DIAGNOSIS, back, *DIAGNOSIS, accept, *DESIGN, *EXECUTION])

    page = sign_in("lei", lang=lang)
    page.goto(page.url.split("/inbox")[0] + "/analytics?process=ops_optimization")
    expect(page.locator("body")).to_have_attribute("data-analytics-loaded", "ops_optimization:1")
    expect(page.locator('#main-nav a[data-nav="analytics"]')).to_be_visible()

    expect(page.locator('[data-figure="started"] dt')).to_have_text(started)
    expect(page.locator('[data-figure="started"] dd')).to_have_text("1")
    expect(page.locator("#an-steps thead")).to_contain_text(runs_header)
    collect = page.locator('#an-steps tr[data-element="Task_collect_data"]')
    expect(collect.locator("td").first).to_have_text("2")  # ran twice: sent back once
    expect(page.locator('#an-loops tr[data-flow="Flow_back_to_collect"] td').nth(1)).to_have_text("1")

    trend = page.locator("#trend-chart")
    expect(trend).to_have_attribute("data-weeks", re.compile(r"^\d{4}-\d{2}-\d{2}:1/0$"))
    expect(trend.locator("canvas")).to_have_count(1)  # drawn by ECharts

    heatmap = page.locator("#heatmap")
    expect(heatmap).to_have_attribute("data-steps", re.compile(r"\bTask_collect_data\b"))
    badge = page.locator('.djs-overlay .heat[data-element="Task_collect_data"]')
    expect(badge).to_have_count(1)
    expect(badge).to_have_attribute("data-runs", "2")
    expect(badge).to_contain_text("×2")
    assert badge.evaluate("node => getComputedStyle(node).backgroundColor") != "rgba(0, 0, 0, 0)"

    goals = page.locator(f'#an-goals tr[data-instance="{instance_id}"]')
    expect(page.locator("#an-goals thead")).to_contain_text(goal_header)
    expect(goals.locator("th")).to_have_text("OPT-9")
    expect(goals.locator("td").nth(3)).to_have_text("20.5%")  # measured after, in the goal's unit
    expect(page.locator("#goals-chart canvas")).to_have_count(1)
    shot(page, "analytics")


def test_people_outside_the_leaders_do_not_get_the_figures(sign_in) -> None:
    page = sign_in("dana")
    expect(page.locator('#main-nav a[data-nav="analytics"]')).to_be_hidden()
    page.goto(page.url.split("/inbox")[0] + "/analytics?process=ops_optimization")
    expect(page.locator("#analytics-error")).to_be_visible()
    expect(page.locator("#analytics-view")).to_be_hidden()
