"""The handbook's diagram as a process owner meets it: the whole collaboration (the approval system, the
handbook, the anomaly trigger, monitoring) on one 1920 x 1080 screen at a size where its words can be
read, the systems it talks to drawn as pools with message flows, and no bookkeeping steps."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

HANDBOOK = Path(__file__).resolve().parents[2] / "processes" / "ops_optimization.bpmn"

FIT = """async (xml) => {
    const viewer = new window.BpmnJS({ container: '#canvas' });
    await viewer.importXML(xml);
    const canvas = viewer.get('canvas');
    canvas.zoom('fit-viewport');
    return canvas.viewbox();
}"""


def test_the_designer_draws_the_systems_as_pools_with_message_flows(sign_in, shot) -> None:
    dora = sign_in("dora")
    expect(dora).to_have_url(re.compile(r"/designer"))
    canvas = dora.locator("#canvas")
    expect(canvas.locator('[data-element-id="Task_locate_problem"]')).to_be_visible()
    for pool, name in (
        ("Participant_approval_system", "公司审批系统"),
        ("Participant_monitoring", "监控与BI系统"),
    ):
        expect(canvas.locator(f'[data-element-id="{pool}"]')).to_contain_text(name)
    messages = {
        "MessageFlow_resource_decision": "approval_decision",
        "MessageFlow_optimization_requested": "optimization_requested",
    }
    for flow, name in messages.items():
        expect(canvas.locator(f'[data-element-id="{flow}_label"]')).to_contain_text(name)
    for bookkeeping in ("Script_init", "Script_count_iteration_design", "Script_count_iteration_diagnosis"):
        expect(canvas.locator(f'[data-element-id="{bookkeeping}"]')).to_have_count(0)
    shot(dora, "designer")


def test_the_whole_collaboration_fits_one_wide_screen(browser, server: str) -> None:
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    try:
        vendor = f"{server}/web/vendor/bpmn-js"
        page.set_content(
            f'<link rel="stylesheet" href="{vendor}/assets/diagram-js.css">'
            f'<link rel="stylesheet" href="{vendor}/assets/bpmn-js.css">'
            f'<script src="{vendor}/bpmn-viewer.development.js"></script>'
            '<body style="margin:0"><div id="canvas" style="width:100vw;height:100vh"></div></body>'
        )
        view = page.evaluate(FIT, HANDBOOK.read_text(encoding="utf-8"))
        # 3,850 px shown at half size: a task's 12 px words at 6 px, a stage at a glance; it was 6,520
        # px, shown at 0.29 (the rework loops 1.5 to 4.7k px lines along the top of the leader's lane)
        assert view["inner"]["width"] <= 4000
        assert view["scale"] >= 0.45
        assert view["inner"]["height"] * view["scale"] <= 1080
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "handbook-diagram-1920x1080.png"))
    finally:
        page.close()
