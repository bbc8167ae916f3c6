"""A designer tunes the handbook's anomaly rule in the dmn-js decision table editor: a broken cell is
reported by validation, the fixed table deploys as version 2, and the engine decides by it at once.
The instance page shows what a business rule task decided."""

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.browser

RULE = "metric_anomaly_rule"


def edit_cell(page: Page, cell_id: str, text: str) -> None:
    """Type into a decision table cell as a person does: click it, select its text, type."""
    cell = page.locator(f'#dmn-canvas td[data-element-id="{cell_id}"] [contenteditable]')
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type(text)
    page.locator("#dmn-canvas .tjs-table thead").click()  # leave the cell: the edit is committed
    page.wait_for_function(
        """([id, text]) => window.opsflowDmnModeler.getActiveViewer().get('elementRegistry')
            .get(id).businessObject.text === text""",
        arg=[cell_id, text],
    )


def test_a_designer_tunes_the_anomaly_rule_and_deploys_version_2(sign_in, rest, shot, server) -> None:
    dora = sign_in("dora", lang="en")
    dora.click('#main-nav a[data-nav="decisions"]')
    dora.wait_for_url(re.compile(r"/designer/decisions"))
    expect(dora.locator("#d-decision")).to_have_value(RULE)
    expect(dora.locator("#d-version")).to_have_value("1")
    expect(dora.locator("h1")).to_have_text("Decision designer")
    expect(dora.locator('#dmn-canvas td[data-element-id="UnaryTests_two_periods"]')).to_contain_text("2")
    expect(dora.locator("#version-rows tr")).to_have_count(1)
    shot(dora, "01-anomaly-rule-v1")

    # a cell that is not FEEL is reported with its element id, and nothing is deployed
    edit_cell(dora, "UnaryTests_two_periods", "< < 2")
    dora.click("#btn-validate")
    expect(dora.locator("#designer-problems")).to_be_visible()
    expect(dora.locator('#designer-problems li[data-element-id="UnaryTests_two_periods"]')).to_contain_text(
        "does not parse"
    )
    shot(dora, "02-problem")

    # two or three missed periods now advise a short-term fluctuation
    edit_cell(dora, "UnaryTests_two_periods", "[2..3]")
    dora.click("#btn-validate")
    expect(dora.locator("#designer-status")).to_contain_text("valid", ignore_case=True)
    dora.click("#btn-deploy")
    expect(dora.locator("#designer-status")).to_contain_text(f"{RULE}")
    expect(dora.locator("#d-version")).to_have_value("2")
    expect(dora.locator("#version-rows tr")).to_have_count(2)
    shot(dora, "03-deployed-v2")

    evaluated = rest.call(
        "dora",
        "POST",
        f"/api/v1/decisions/{RULE}/evaluate",
        json={"variables": {"consecutive_missed_periods": 3}},
    )
    assert evaluated["decision_version"] == 2
    assert evaluated["result"] == [{"start_optimization": True, "classification_hint": "short_term"}]
    versions = rest.call("dora", "GET", f"/api/v1/decisions/{RULE}/versions")
    assert [v["version"] for v in versions] == [2, 1]


def test_the_instance_page_shows_what_the_anomaly_rule_decided(sign_in, rest, shot) -> None:
    rest.call(
        "ada",
        "POST",
        "/api/v1/users",
        201,
        json={"name": "bi", "roles": ["integration"], "password": "opsflow-demo"},
    )
    started = rest.call(
        "bi",
        "POST",
        "/api/v1/messages",
        json={"name": "metric_anomaly", "payload": {"metric": "注册转化率", "consecutive_missed_periods": 3}},
    )
    lei = sign_in("lei")
    lei.goto(re.sub(r"/inbox.*$", "", lei.url) + f"/instances/{started['instance_id']}")
    section = lei.locator("#decisions")
    expect(section).to_be_visible()
    expect(section.locator("h2")).to_have_text("决策")
    entry = section.locator(f'li[data-decision="{RULE}"]')
    expect(entry).to_contain_text("指标异常规则")
    expect(entry.locator("[data-matched]")).to_have_attribute("data-matched", "Rule_three_or_more")
    expect(entry).to_contain_text("structural")
    shot(lei, "01-instance-decisions")
