"""The operator's console in Chromium (zh and en): the instance page offers what the reader may do
now and each action lands in the history: an admin retries an incident with corrected data, the
leader suspends and resumes, and answers the approval by hand when the approval system is down."""

import re

import pytest
from playwright.sync_api import expect

from tests.api.test_version_migration import version_2
from tests.browser.test_instance_console import start, work
from tests.fixtures.broken_process import FAILING
from tests.fixtures.handbook_journey import DIAGNOSIS, STAGE_1, data

pytestmark = pytest.mark.browser


def open_instance(sign_in, user: str, lang: str, instance_id: str):
    page = sign_in(user, lang=lang)
    page.goto(page.url.split("/inbox")[0] + f"/instances/{instance_id}")
    expect(page.locator("#instance-view")).to_be_visible()
    return page


@pytest.mark.parametrize(("lang", "completed"), [("zh", "已完成"), ("en", "Completed")])
def test_an_admin_retries_an_incident_with_corrected_data(sign_in, rest, shot, lang, completed) -> None:
    files = {"files": ("breaks.bpmn", FAILING.replace(b"x = 1 / 0", b"x = 1 / divisor"))}
    rest.call("dora", "POST", "/api/v1/deployments", 201, files=files)
    body = {"process_key": "breaks", "variables": {"divisor": 0}}
    instance_id = rest.call("ada", "POST", "/api/v1/process-instances", 201, json=body)["id"]

    lei = open_instance(sign_in, "lei", lang, instance_id)  # not an admin: no retry offered
    expect(lei.locator("#instance-error")).to_be_visible()
    expect(lei.locator("#retry-form")).to_be_hidden()

    page = open_instance(sign_in, "ada", lang, instance_id)
    expect(page.locator("#retry-form")).to_be_visible()
    page.fill("#retry-variables", "not json")
    page.click("#btn-retry")
    expect(page.locator("#retry-variables")).to_have_attribute("aria-invalid", "true")
    page.fill("#retry-variables", '{"divisor": 4}')
    page.click("#btn-retry")
    expect(page.locator("#instance-status")).to_contain_text(completed)
    expect(page.locator("#retry-form")).to_be_hidden()
    expect(page.locator("#instance-error")).to_be_hidden()
    expect(page.locator('#history-rows tr[data-type="incident_retried"]')).to_have_count(1)
    shot(page, "retried")


@pytest.mark.parametrize(
    ("lang", "suspended", "running"), [("zh", "已挂起", "进行中"), ("en", "Suspended", "Running")]
)
def test_the_leader_suspends_and_resumes_an_instance(sign_in, rest, shot, lang, suspended, running) -> None:
    instance_id = start(rest)
    work(rest, instance_id, STAGE_1)
    page = open_instance(sign_in, "lei", lang, instance_id)
    expect(page.locator("#btn-resume")).to_be_hidden()
    page.fill("#suspend-reason", "等预算确认")
    page.click("#btn-suspend")
    expect(page.locator("#instance-status")).to_have_text(suspended)
    expect(page.locator("#btn-suspend")).to_be_hidden()
    reason = page.locator('#history-rows tr[data-type="instance_suspended"] [data-reason]')
    expect(reason).to_contain_text("等预算确认")
    task = rest.task("dana", instance_id, "Task_collect_data")  # the team's one data member holds it
    rest.call("dana", "POST", f"/api/v1/tasks/{task['id']}/unclaim", 409)
    shot(page, "suspended")

    page.goto(page.url.split("/instances")[0] + "/instances")
    page.select_option("#f-status", "suspended")
    expect(page.locator("#instance-rows tr")).to_have_count(1)
    expect(page.locator(f'tr[data-instance-id="{instance_id}"]')).to_contain_text(suspended)
    page.click(f'tr[data-instance-id="{instance_id}"] th a')
    page.click("#btn-resume")
    expect(page.locator("#instance-status")).to_have_text(running)
    rest.call("dana", "POST", f"/api/v1/tasks/{task['id']}/unclaim")


@pytest.mark.parametrize(
    ("lang", "needs_decision"), [("zh", "请选择审批结果。"), ("en", "Choose the decision.")]
)
def test_the_leader_answers_the_resource_approval_by_hand(sign_in, rest, shot, lang, needs_decision) -> None:
    instance_id = start(rest)
    kickoff = ("Task_kickoff_meeting", "leader", data("kickoff_minutes", resources_need_approval=True))
    work(rest, instance_id, [*STAGE_1[:2], kickoff])

    dana = open_instance(sign_in, "dana", lang, instance_id)  # on the team, not its leader
    expect(dana.locator("#open-tasks [data-waiting=approval]")).to_be_visible()
    expect(dana.locator("#answer-form")).to_be_hidden()

    page = open_instance(sign_in, "lei", lang, instance_id)
    expect(page.locator("#answer-form")).to_be_visible()
    expect(page.locator("#answer-approval")).to_be_visible()
    expect(page.locator("#answer-payload-field")).to_be_hidden()
    page.fill("#answer-reason", "审批系统故障，总监电话批准")
    page.click("#btn-answer")
    expect(page.locator("#console-message")).to_have_text(needs_decision)
    page.check("#answer-approved")
    page.fill("#answer-comment", "同意协调两名数据分析师")
    page.click("#btn-answer")
    expect(page.locator('#open-tasks [data-element-id="Task_collect_data"]')).to_be_visible()
    expect(page.locator("#answer-form")).to_be_hidden()
    row = page.locator('#history-rows tr[data-type="message_answered_by_hand"]')
    expect(row.locator("[data-reason]")).to_contain_text("审批系统故障，总监电话批准")
    shot(page, "answered")
    history = rest.call("lei", "GET", f"/api/v1/process-instances/{instance_id}")["history"]
    [entry] = [h for h in history if h["type"] == "message_answered_by_hand"]
    assert entry["actor"] == "lei"
    assert entry["details"]["payload"] == {"approved": True, "approval_comment": "同意协调两名数据分析师"}


@pytest.mark.parametrize(("lang", "stage"), [("zh", "深度诊断"), ("en", "Diagnosis")])
def test_the_list_filters_by_stage_holder_and_date_and_exports_what_it_shows(
    sign_in, rest, shot, lang, stage, tmp_path
) -> None:
    in_diagnosis = start(rest)
    work(rest, in_diagnosis, STAGE_1)  # Task_collect_data, offered to dana
    at_kickoff = start(rest)

    page = sign_in("lei", lang=lang)
    page.goto(page.url.split("/inbox")[0] + "/instances")
    expect(page.locator("#instance-rows tr")).to_have_count(2)
    expect(page.locator('#f-stage option[value="diagnosis"]')).to_have_text(stage)
    page.select_option("#f-stage", "diagnosis")
    expect(page.locator("#instance-rows tr")).to_have_count(1)
    expect(page.locator(f'tr[data-instance-id="{in_diagnosis}"]')).to_be_visible()
    page.select_option("#f-stage", "")
    page.fill("#f-holder", "dana")
    expect(page.locator("#instance-rows tr")).to_have_count(1)
    page.fill("#f-holder", "")
    page.fill("#f-version", "1")
    expect(page.locator("#instance-rows tr")).to_have_count(2)
    page.fill("#f-version", "2")
    expect(page.locator("#instance-rows tr")).to_have_count(0)
    page.fill("#f-version", "")
    page.fill("#f-started-before", "2020-01-01")
    expect(page.locator("#instance-rows tr")).to_have_count(0)
    page.fill("#f-started-before", "")
    page.fill("#f-started-after", "2020-01-01")
    expect(page.locator("#instance-rows tr")).to_have_count(2)
    page.fill("#f-holder", "dana")
    expect(page.locator("#instance-rows tr")).to_have_count(1)
    shot(page, "filtered")

    with page.expect_download() as download:
        page.click("#btn-export")
    saved = tmp_path / "instances.csv"
    download.value.save_as(saved)
    lines = saved.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 2 and lines[0].startswith("id,process_key,version")
    assert lines[1].startswith(in_diagnosis) and at_kickoff not in lines[1]


@pytest.mark.parametrize(
    ("lang", "needs_reason"),
    [("zh", "请填写原因，它会记入审计日志。"), ("en", "Give a reason: it goes into the audit log.")],
)
def test_an_admin_changes_data_and_moves_the_token(sign_in, rest, shot, lang, needs_reason) -> None:
    instance_id = start(rest)
    work(rest, instance_id, STAGE_1)  # at Task_collect_data

    lei = open_instance(sign_in, "lei", lang, instance_id)  # a leader: neither offered
    expect(lei.locator("#suspend-form")).to_be_visible()
    expect(lei.locator("#variables-form")).to_be_hidden()
    expect(lei.locator("#move-form")).to_be_hidden()

    page = open_instance(sign_in, "ada", lang, instance_id)
    page.fill("#variables-json", '{"title": "提升注册转化率（修订）"}')
    page.click("#btn-variables")
    expect(page.locator("#console-message")).to_have_text(needs_reason)
    expect(page.locator("#variables-reason")).to_have_attribute("aria-invalid", "true")
    page.fill("#variables-reason", "主题笔误")
    page.click("#btn-variables")
    expect(page.locator("#instance-title")).to_have_text("提升注册转化率（修订）")
    page.fill("#variables-json", '{"trigger": "bored"}')
    page.fill("#variables-reason", "试试")
    page.click("#btn-variables")
    expect(page.locator("#console-message")).to_contain_text("start_trigger")

    expect(page.locator('#move-target option[value="skip:Task_collect_data"]')).to_have_count(1)
    page.select_option("#move-target", "skip:Task_collect_data")
    page.fill("#move-reason", "数据组已线下完成收集")
    page.click("#btn-move")
    expect(page.locator("#diagram")).to_have_attribute("data-open", "Task_break_down")
    page.select_option("#move-target", "back_to:Task_collect_data")
    page.fill("#move-reason", "数据需要重新收集")
    page.click("#btn-move")
    expect(page.locator("#diagram")).to_have_attribute("data-open", "Task_collect_data")
    expect(page.locator('#history-rows tr[data-type="token_moved"]')).to_have_count(2)
    expect(page.locator('#history-rows tr[data-type="variables_changed"] [data-reason]')).to_contain_text(
        "主题笔误"
    )
    shot(page, "moved")


@pytest.mark.parametrize(("lang", "can_move"), [("zh", "可以迁移"), ("en", "can move")])
def test_an_admin_checks_and_migrates_instances_to_version_2(sign_in, rest, shot, lang, can_move) -> None:
    collecting = start(rest)
    work(rest, collecting, STAGE_1)  # at Task_collect_data
    breaking_down = start(rest)
    work(rest, breaking_down, [*STAGE_1, DIAGNOSIS[0]])  # at Task_break_down, renamed in version 2
    files = {"files": ("ops_optimization.bpmn", version_2())}
    rest.call("dora", "POST", "/api/v1/deployments", 201, files=files)

    page = sign_in("ada", lang=lang)
    page.goto(page.url.split("/inbox")[0] + "/instances")
    expect(page.locator("#migration-section")).to_be_hidden()
    page.select_option("#f-process", "ops_optimization")
    expect(page.locator("#migration-section")).to_be_visible()
    page.select_option("#mig-version", "2")
    page.click("#btn-mig-check")
    expect(page.locator(f'#mig-rows tr[data-instance-id="{collecting}"]')).to_contain_text(can_move)
    refused = page.locator(f'#mig-rows tr[data-instance-id="{breaking_down}"]')
    expect(refused).to_contain_text("Task_break_down no longer exists")
    page.fill("#mig-mapping", '{"Task_break_down": "Task_breakdown_metrics"}')
    page.click("#btn-mig-check")
    expect(page.locator('#mig-rows tr[data-can-move="true"]')).to_have_count(2)
    shot(page, "checked")
    page.fill("#mig-reason", "新版本增加数据来源核对")
    page.click("#btn-mig-start")
    expect(page.locator("#mig-message")).to_have_attribute("data-batch", re.compile(".+"), timeout=20_000)
    for instance_id in (collecting, breaking_down):
        version = page.locator(f'#instance-rows tr[data-instance-id="{instance_id}"] td').nth(1)
        expect(version).to_have_text("2")
    detail = rest.call("ada", "GET", f"/api/v1/process-instances/{breaking_down}")
    assert [t["element_id"] for t in detail["open_tasks"]] == ["Task_breakdown_metrics"]

    page.goto(page.url.split("/instances")[0] + f"/instances/{collecting}")  # one instance, back to 1
    expect(page.locator("#migrate-form")).to_be_visible()
    page.select_option("#migrate-version", "1")
    page.click("#btn-migrate")
    expect(page.locator("#instance-status")).to_have_attribute("data-version", "1")
    expect(page.locator('#history-rows tr[data-type="instance_migrated"]')).to_have_count(2)
