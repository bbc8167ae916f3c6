"""A leader starts the handbook and forms the team in the browser; the data specialist's inbox shows
her task as soon as it arrives, she gets the server's validation message at the field, corrects it and
completes; the instance page shows how far the instance has come."""

import copy
import re

import pytest
from playwright.sync_api import expect

from tests.browser.formjs import choose, error_of, field, fill, tick
from tests.fixtures.handbook_data import VALID

pytestmark = pytest.mark.browser

TEAM = [
    ("lei", "组长", "统筹进度、决策拍板"),
    ("dana", "数据组", "数据支撑、效果量化"),
    ("eric", "执行组", "方案落地"),
]


def test_leader_forms_the_team_and_the_data_specialist_completes_her_task_live(sign_in, rest, shot) -> None:
    lei = sign_in("lei")
    expect(lei.locator("#count-mine")).to_have_text("0")
    shot(lei, "01-leader-inbox")

    # start the handbook from its start form
    lei.click("#start-link")
    expect(field(lei, "Field_title")).to_be_visible()
    lei.fill("#business-key", "OPT-UI-001")
    choose(lei, "Field_trigger", "业务指标异常")
    fill(lei, "Field_title", "提升用户注册转化率")
    fill(lei, "Field_description", "近3个周期注册转化率持续低于预期。")
    shot(lei, "02-start-form")
    lei.click("#btn-start")
    lei.wait_for_url(re.compile(r"/instances/[0-9a-f-]+"))
    instance_id = re.search(r"/instances/([0-9a-f-]+)", lei.url).group(1)
    first_task = lei.locator('#open-tasks [data-element-id="Task_locate_problem"] a')
    expect(first_task).to_be_visible()
    expect(lei.locator("#instance-status")).to_have_attribute("data-version", "1")
    shot(lei, "03-instance-started")

    # stage 1: locate the problem, then form the team
    first_task.click()
    expect(field(lei, "Field_anomaly_summary")).to_be_visible()
    tick(lei, "Field_problem_sources", "数据监控（BI系统）", "投诉记录")
    fill(lei, "Field_anomaly_summary", "注册转化率连续3周为15%，低于20%的目标。")
    tick(lei, "Field_problem_type", "长期结构性问题")
    shot(lei, "04-locate-problem")
    lei.click("#btn-complete")
    next_task = lei.locator('#task-done [data-next-task="Task_form_team"]')
    expect(next_task).to_be_visible()

    dana = sign_in("dana")  # the data specialist has her inbox open meanwhile
    expect(dana.locator("#count-mine")).to_have_text("0")
    dana.evaluate("window.__sameDocument = true")

    next_task.click()
    expect(field(lei, "Field_team_user", 0)).to_be_visible()
    for row, (user, role, duty) in enumerate(TEAM):
        fill(lei, "Field_team_user", user, row)
        choose(lei, "Field_team_role", role, row)
        fill(lei, "Field_team_duty", duty, row)
    shot(lei, "05-form-team")
    lei.click("#btn-complete")
    expect(lei.locator('#task-done [data-next-task="Task_kickoff_meeting"]')).to_be_visible()

    # the kick-off minutes come in through the API; dana's inbox updates by itself
    kickoff = rest.task("lei", instance_id, "Task_kickoff_meeting")
    rest.complete("lei", kickoff["id"], copy.deepcopy(VALID["kickoff_minutes"]))
    # the team names her alone for the data role: the task is hers at once, not waiting to be claimed
    expect(dana.locator("#count-mine")).to_have_text("1")
    expect(dana.locator("#count-offered")).to_have_text("0")
    assert dana.evaluate("window.__sameDocument") is True, "the inbox must update without a reload"
    row = dana.locator('#task-rows tr[data-element-id="Task_collect_data"]')
    expect(row).to_be_visible()
    expect(row).to_contain_text("OPT-UI-001")
    shot(dana, "06-data-inbox-live")

    # the task page: context from earlier steps, claim, a server-side error at its field, complete
    row.locator("th a").click()
    expect(field(dana, "Field_time_range")).to_be_visible()
    expect(dana.locator("#context [data-context=goal]")).to_contain_text("注册转化率")
    minutes = dana.locator('#context [data-context=step][data-element-id="Task_kickoff_meeting"]')
    expect(minutes).to_be_visible()
    minutes.locator("summary").click()
    expect(minutes.locator(".fjs-form")).to_contain_text("会议主题")

    expect(dana.locator("#btn-claim")).to_be_hidden()
    dana.click("#lang-switch")  # English labels come from the form's label_en properties
    expect(dana.locator("#form label", has_text="Time range")).to_be_visible()
    expect(dana.locator("#task-state")).to_have_text("Claimed by me")
    shot(dana, "07-task-english")
    dana.click("#lang-switch")
    expect(dana.locator("#task-state")).to_have_text("我已认领")
    tick(dana, "Field_data_sources", "用户行为数据", "客服工单数据")
    fill(dana, "Field_duplicates_removed", "1240")
    fill(dana, "Field_missing_values_handled", "312")
    fill(dana, "Field_errors_corrected", "57")  # the time range stays empty: an error
    dana.click("#btn-draft")
    expect(dana.locator("#task-notice")).to_have_text("草稿已保存。")
    dana.reload()  # the draft comes back
    expect(field(dana, "Field_duplicates_removed")).to_have_value("1240")
    expect(dana.locator("#task-state")).to_have_text("我已认领")
    with dana.expect_response(lambda r: r.url.endswith("/complete")) as response:
        dana.click("#btn-complete")
    assert response.value.status == 422
    expect(error_of(dana, "Field_time_range")).to_have_text("此项为必填项。")
    expect(dana.locator("#form-problems")).to_contain_text("时间范围")
    expect(field(dana, "Field_time_range")).to_have_attribute("aria-invalid", "true")
    shot(dana, "08-task-server-error")

    fill(dana, "Field_time_range", "近3个月")
    tick(dana, "Field_comparison_dimensions", "环比", "渠道")  # the handbook asks to state them
    expect(error_of(dana, "Field_time_range")).to_have_count(0)
    with dana.expect_response(lambda r: r.url.endswith("/complete")) as response:
        dana.click("#btn-complete")
    assert response.value.status == 200
    expect(dana.locator("#task-done")).to_be_visible()
    expect(dana.locator('#task-done [data-next-task="Task_break_down"]')).to_be_visible()
    # the next step and who holds it are named; nothing reads "null"
    expect(dana.locator('#task-done [data-next-step="Task_break_down"]')).to_contain_text("→ dana")
    expect(dana.locator("#task-done")).not_to_contain_text("null")
    shot(dana, "09-task-done")

    # the instance page shows the progress
    dana.click('#task-done a[href^="/instances/"]')
    diagram = dana.locator("#diagram")
    expect(diagram).to_have_attribute("data-open", "Task_break_down")
    for done in ("Task_locate_problem", "Task_form_team", "Task_kickoff_meeting", "Task_collect_data"):
        expect(diagram).to_have_attribute("data-done", re.compile(rf"\b{done}\b"))
    expect(dana.locator(".djs-element.done").first).to_be_visible()
    expect(dana.locator('#history-rows tr[data-type="task_completed"]')).to_have_count(4)
    expect(dana.locator("#team-rows tr")).to_have_count(3)
    expect(dana.locator(".bjs-powered-by")).to_be_visible()  # the bpmn.io watermark stays
    shot(dana, "10-instance-progress")

    # the leader's open instance page followed along
    lei.goto(lei.url.split("/tasks/")[0] + f"/instances/{instance_id}")
    expect(lei.locator("#diagram")).to_have_attribute("data-open", "Task_break_down")
