"""A designer edits the deployed process in the bpmn-js modeler, sees a problem on its element,
fixes it and deploys version 2; new instances run on version 2 while a running one stays on version 1.
The form designer deploys a new version of a form, and a task shows it."""

import copy
import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.formjs import choose, field, fill
from tests.fixtures.handbook_data import VALID

pytestmark = pytest.mark.browser

NEW_NAME = "问题定位（第二版） Locate the problem v2"


def open_group(page: Page, group: str) -> None:
    header = page.locator(f'#properties [data-group-id="group-{group}"] .bio-properties-panel-group-header')
    if "open" not in (header.get_attribute("class") or ""):
        header.click()


def set_property(page: Page, entry: str, value: str, check: str) -> None:
    """Type into a properties panel entry; wait until the model holds it (`check` is a JS expression
    over `bo`, the selected element's business object)."""
    box = page.locator(f"#bio-properties-panel-{entry}")
    box.fill(value)
    box.blur()
    page.wait_for_function(
        "() => { const registry = window.opsflowModeler.get('elementRegistry');"
        f" const bo = registry.get('Task_locate_problem').businessObject; return {check}; }}"
    )


def start_in_browser(page: Page, server: str, business_key: str, version: int) -> str:
    page.goto(f"{server}/start/ops_optimization")
    expect(page.locator("#start-title")).to_contain_text(f"版本 {version}")
    page.fill("#business-key", business_key)
    choose(page, "Field_trigger", "用户反馈集中")
    fill(page, "Field_title", "缩短客服响应时间")
    fill(page, "Field_description", "投诉集中在响应慢。")
    page.click("#btn-start")
    page.wait_for_url(re.compile(r"/instances/[0-9a-f-]+"))
    return re.search(r"/instances/([0-9a-f-]+)", page.url).group(1)


def test_a_designer_deploys_version_2_and_running_instances_stay_on_version_1(
    sign_in, rest, shot, server
) -> None:
    running = rest.call(
        "lei",
        "POST",
        "/api/v1/process-instances",
        201,
        json={
            "process_key": "ops_optimization",
            "business_key": "OPT-V1",
            "variables": VALID["start_trigger"],
        },
    )

    dora = sign_in("dora")
    expect(dora).to_have_url(re.compile(r"/designer"))
    task = dora.locator('#canvas [data-element-id="Task_locate_problem"]')
    expect(task).to_be_visible()
    expect(dora.locator("#d-version")).to_have_value("1")
    expect(dora.locator(".bjs-powered-by")).to_be_visible()
    shot(dora, "01-modeler-v1")

    dora.evaluate("""() => { const m = window.opsflowModeler, canvas = m.get('canvas');
        canvas.zoom(1); canvas.scrollToElement(m.get('elementRegistry').get('Task_locate_problem')); }""")
    task.click()
    expect(dora.locator(".bio-properties-panel-header-label")).to_contain_text("Locate the problem")

    # the form of a user task is editable; a missing form is reported on the element
    open_group(dora, "CamundaPlatform__Form")
    expect(dora.locator("#bio-properties-panel-formRef")).to_have_value("locate_problem")
    set_property(dora, "formRef", "no_such_form", "bo.get('camunda:formRef') === 'no_such_form'")
    dora.click("#btn-validate")
    expect(dora.locator("#designer-problems")).to_contain_text("no_such_form")
    marked = dora.locator('#canvas .djs-element.has-problem[data-element-id="Task_locate_problem"]')
    expect(marked).to_be_visible()
    expect(dora.locator("#canvas .problem-badge")).to_be_visible()
    shot(dora, "02-problem-on-element")

    set_property(dora, "formRef", "locate_problem", "bo.get('camunda:formRef') === 'locate_problem'")
    open_group(dora, "general")
    set_property(dora, "name", NEW_NAME, f"bo.name === {NEW_NAME!r}")
    dora.click("#btn-validate")
    expect(dora.locator("#designer-status")).to_have_text("校验通过：没有问题。")
    expect(dora.locator("#canvas .problem-badge")).to_have_count(0)

    with dora.expect_download() as download:
        dora.click("#btn-download")
    assert NEW_NAME in download.value.path().read_text(encoding="utf-8")

    dora.click("#btn-deploy")
    expect(dora.locator("#designer-status")).to_contain_text("ops_optimization 版本 2")
    expect(dora.locator("#d-version")).to_have_value("2")
    shot(dora, "03-deployed-v2")
    versions = rest.call("dora", "GET", "/api/v1/process-definitions/ops_optimization/versions")
    assert sorted(v["version"] for v in versions) == [1, 2]

    # a new instance runs on version 2
    lei = sign_in("lei")
    new_id = start_in_browser(lei, server, "OPT-V2", version=2)
    expect(lei.locator("#instance-status")).to_have_attribute("data-version", "2")
    expect(lei.locator('#open-tasks [data-element-id="Task_locate_problem"]')).to_contain_text("第二版")
    shot(lei, "04-new-instance-v2")

    # the running instance continues on version 1
    first = rest.task("lei", running["id"], "Task_locate_problem")
    assert first["name"] != NEW_NAME
    rest.complete("lei", first["id"], copy.deepcopy(VALID["locate_problem"]))
    lei.goto(f"{server}/instances/{running['id']}")
    expect(lei.locator("#instance-status")).to_have_attribute("data-version", "1")
    expect(lei.locator("#diagram")).to_have_attribute("data-open", "Task_form_team")
    expect(lei.locator("#history-rows")).not_to_contain_text("第二版")
    shot(lei, "05-running-instance-v1")
    assert rest.call("lei", "GET", f"/api/v1/process-instances/{new_id}")["instance"]["version"] == 2

    # a new process starts from a blank diagram
    dora.click("#btn-new")
    expect(dora.locator("#designer-status")).to_have_text("已新建空白流程。")
    expect(dora.locator('#canvas [data-element-id="StartEvent_1"]')).to_be_visible()
    shot(dora, "06-blank-diagram")


def test_a_form_deployed_in_the_form_designer_shows_in_the_next_task(sign_in, rest, shot, server) -> None:
    instance = rest.call(
        "lei",
        "POST",
        "/api/v1/process-instances",
        201,
        json={"process_key": "ops_optimization", "variables": VALID["start_trigger"]},
    )

    dora = sign_in("dora")
    dora.goto(f"{server}/designer/forms?form=locate_problem")
    expect(dora.locator("#fd-version")).to_have_value("1")
    label = dora.locator('#form-editor .fjs-form-field:has([id$="-Field_anomaly_summary"])').first
    expect(label).to_be_visible()
    label.click()
    dora.locator('#form-editor [data-group-id="group-general"] .bio-properties-panel-group-header').click()
    box = dora.locator("#form-editor #bio-properties-panel-label")  # a CodeMirror text box (FEEL-capable)
    expect(box).to_have_text("异常指标或问题现象")
    box.click()
    dora.keyboard.press("Control+A")
    dora.keyboard.insert_text("异常现象（新版表单）")
    dora.wait_for_function("() => JSON.stringify(window.opsflowFormEditor.saveSchema()).includes('新版表单')")
    shot(dora, "01-form-editor")
    dora.click("#btn-deploy")
    expect(dora.locator("#designer-status")).to_contain_text("locate_problem 版本 2")
    expect(dora.locator("#fd-version")).to_have_value("2")

    lei = sign_in("lei")
    task = rest.task("lei", instance["id"], "Task_locate_problem")
    lei.goto(f"{server}/tasks/{task['id']}")
    expect(field(lei, "Field_anomaly_summary")).to_be_visible()
    expect(lei.locator("#form label", has_text="异常现象（新版表单）")).to_be_visible()
    shot(lei, "02-task-with-new-form")


def test_a_deployment_whose_steps_bind_the_same_variable_shows_the_warning_on_the_step(
    sign_in, rest, shot
) -> None:
    dora = sign_in("dora")
    task = dora.locator('#canvas [data-element-id="Task_roll_out"]')
    expect(task).to_be_visible()
    dora.evaluate("""() => { const m = window.opsflowModeler, canvas = m.get('canvas');
        canvas.zoom(1); canvas.scrollToElement(m.get('elementRegistry').get('Task_roll_out')); }""")
    task.click()
    open_group(dora, "CamundaPlatform__Form")
    box = dora.locator("#bio-properties-panel-formRef")
    box.fill("pilot")  # the roll-out asks the pilot's questions again: its scope and progress
    box.blur()
    dora.wait_for_function(
        "() => window.opsflowModeler.get('elementRegistry').get('Task_roll_out')"
        ".businessObject.get('camunda:formRef') === 'pilot'"
    )
    dora.click("#btn-deploy")
    expect(dora.locator("#designer-status")).to_contain_text(
        "ops_optimization 版本 2"
    )  # deployed all the same
    warnings = dora.locator("#designer-warnings")
    expect(warnings).to_be_visible()
    expect(warnings).to_contain_text("已部署，但有 2 处值得注意")
    items = warnings.locator('li[data-element-id="Task_roll_out"]')
    expect(items).to_have_count(2)
    for variable in ("pilot_scope", "pilot_progress"):
        expect(items.filter(has_text=f"variable '{variable}'")).to_contain_text(
            "Task_pilot (form pilot) and Task_roll_out (form pilot) both bind"
        )
    marked = dora.locator('#canvas .djs-element.has-warning[data-element-id="Task_roll_out"]')
    expect(marked).to_be_visible()
    expect(dora.locator("#canvas .warning-badge")).to_have_count(2)
    expect(dora.locator("#designer-problems")).to_be_hidden()
    shot(dora, "01-step-data-warning")
    deployed = rest.call("dora", "GET", "/api/v1/process-definitions/ops_optimization/versions")
    assert sorted(v["version"] for v in deployed) == [1, 2]
