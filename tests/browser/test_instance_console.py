"""The operator's console in Chromium: the instance diagram draws the path the engine took (with
flow counts and the current token), the instance list shows where each instance stands, and a
leader cancels an instance with a reason."""

import re

import pytest
from playwright.sync_api import expect

from tests.fixtures.broken_process import FAILING
from tests.fixtures.handbook_data import due_at
from tests.fixtures.handbook_journey import DIAGNOSIS, STAGE_1, TEAM, data

pytestmark = pytest.mark.browser


def work(rest, instance_id: str, steps: list) -> None:
    for element_id, role, form_data in steps:
        task = rest.task(TEAM[role], instance_id, element_id)
        if task["assignee"] is None:  # tasks of the one person the team names are theirs already
            rest.call(TEAM[role], "POST", f"/api/v1/tasks/{task['id']}/claim")
        rest.complete(TEAM[role], task["id"], form_data)


def start(rest) -> str:
    body = {"process_key": "ops_optimization", "variables": data("start_trigger")}
    return rest.call("lei", "POST", "/api/v1/process-instances", 201, json=body)["id"]


@pytest.mark.parametrize(("lang", "legend"), [("zh", "走过的次数"), ("en", "times taken")])
def test_the_diagram_draws_the_path_taken_with_its_counts_and_the_current_token(
    sign_in, rest, shot, lang, legend
) -> None:
    instance_id = start(rest)
    back = ("Task_review_diagnosis", "leader", data("review_diagnosis", diagnosis_decision="back_to_collect"))
    work(rest, instance_id, [*STAGE_1, *DIAGNOSIS, back, *DIAGNOSIS])

    page = sign_in("lei", lang=lang)
    page.goto(page.url.split("/inbox")[0] + f"/instances/{instance_id}")
    diagram = page.locator("#diagram")
    expect_attr = lambda name, pattern: expect(diagram).to_have_attribute(name, pattern)  # noqa: E731
    expect_attr("data-open", "Task_review_diagnosis")
    for ran in ("StartEvent_trigger", "Task_locate_problem", "Gateway_problem_type", "Gateway_merge_collect"):
        expect_attr("data-done", re.compile(rf"\b{ran}\b"))
    expect_attr("data-flows", re.compile(r"\bFlow_to_collect:2\b"))
    expect_attr("data-flows", re.compile(r"\bFlow_back_to_collect:1\b"))
    flows = diagram.get_attribute("data-flows")
    assert "Flow_back_to_breakdown" not in flows and "Flow_diagnosis_accept" not in flows
    assert "Task_brainstorm" not in diagram.get_attribute("data-done")
    expect(page.locator('.flow-count[data-flow="Flow_to_collect"]')).to_have_text("×2")
    expect(page.locator('[data-element-id="Task_review_diagnosis"].open-task')).to_have_count(1)
    expect(page.locator('[data-element-id="Flow_back_to_breakdown"].done')).to_have_count(0)
    expect(page.locator(".legend")).to_contain_text(legend)
    shot(page, "path")


@pytest.mark.parametrize(
    ("lang", "approval", "incident"),
    [("zh", "等待审批系统", "故障"), ("en", "waiting for the approval system", "Incident")],
)
def test_the_list_shows_where_each_instance_stands_and_filters_incidents(
    sign_in, rest, shot, lang, approval, incident
) -> None:
    on_step = start(rest)
    work(rest, on_step, STAGE_1)  # Task_collect_data, offered to dana
    waiting = start(rest)
    kickoff = ("Task_kickoff_meeting", "leader", data("kickoff_minutes", resources_need_approval=True))
    work(rest, waiting, [*STAGE_1[:2], kickoff])
    files = {"files": ("breaks.bpmn", FAILING)}
    rest.call("dora", "POST", "/api/v1/deployments", 201, files=files)
    broken = rest.call("lei", "POST", "/api/v1/process-instances", 201, json={"process_key": "breaks"})["id"]

    page = sign_in("lei", lang=lang)
    page.goto(page.url.split("/inbox")[0] + "/instances")
    step = page.locator(f'tr[data-instance-id="{on_step}"] [data-step="Task_collect_data"]')
    expect(step).to_contain_text("dana")
    expect(step.locator("[data-due]")).to_have_attribute(
        "data-due", re.compile("^" + due_at("diagnosis").isoformat()[:16])
    )
    expect(page.locator(f'tr[data-instance-id="{waiting}"] [data-waiting="approval"]')).to_have_text(approval)
    marker = page.locator(f'tr[data-instance-id="{broken}"] [data-incident="Script_divide"]')
    expect(marker).to_have_text(incident)
    shot(page, "list")

    page.click(f'tr[data-instance-id="{waiting}"] th a')  # its page says what it waits for too
    expect(page.locator('#open-tasks [data-waiting="approval"]')).to_contain_text(approval)
    awaiting = re.compile(r"\bTask_await_resource_approval\b")
    expect(page.locator("#diagram")).to_have_attribute("data-waiting", awaiting)
    page.go_back()
    page.check("#f-incident")
    expect(page.locator("#instance-rows tr")).to_have_count(1)
    expect(page.locator(f'tr[data-instance-id="{broken}"]')).to_be_visible()
    page.uncheck("#f-incident")
    page.select_option("#f-process", "ops_optimization")
    expect(page.locator("#instance-rows tr")).to_have_count(2)
    expect(page.locator("#page-next")).to_be_disabled()


@pytest.mark.parametrize(
    ("lang", "needs_reason", "cancelled"),
    [("zh", "请填写取消原因。", "已取消"), ("en", "Give a reason for cancelling.", "Cancelled")],
)
def test_the_leader_cancels_an_instance_with_a_reason_from_its_page(
    sign_in, rest, shot, lang, needs_reason, cancelled
) -> None:
    instance_id = start(rest)
    work(rest, instance_id, STAGE_1)

    dana = sign_in("dana", lang=lang)  # on the team, not its leader: no cancel offered
    dana.goto(dana.url.split("/inbox")[0] + f"/instances/{instance_id}")
    expect(dana.locator("#diagram")).to_have_attribute("data-open", "Task_collect_data")
    expect(dana.locator("#cancel-section")).to_be_hidden()

    page = sign_in("lei", lang=lang)
    page.goto(page.url.split("/inbox")[0] + f"/instances/{instance_id}")
    expect(page.locator("#cancel-section")).to_be_visible()
    page.click("#btn-cancel")  # no reason yet: refused in the page, nothing sent
    expect(page.locator("#instance-error")).to_have_text(needs_reason)
    expect(page.locator("#cancel-reason")).to_have_attribute("aria-invalid", "true")
    page.fill("#cancel-reason", "指标已自行恢复")
    page.click("#btn-cancel")
    expect(page.locator("#instance-status")).to_have_text(cancelled)
    expect(page.locator("#cancel-section")).to_be_hidden()
    expect(page.locator('#history-rows tr[data-type="instance_cancelled"] [data-reason]')).to_contain_text(
        "指标已自行恢复"
    )
    expect(page.locator("#diagram")).to_have_attribute("data-open", "")
    shot(page, "cancelled")
    audit = rest.call("lei", "GET", f"/api/v1/process-instances/{instance_id}")["history"]
    reasons = [h["details"] for h in audit if h["type"] == "instance_cancelled"]
    assert reasons == [{"reason": "指标已自行恢复"}]
