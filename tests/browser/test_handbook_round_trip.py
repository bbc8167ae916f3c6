"""The handbook survives a round trip through the designer: bpmn-js loads it, a designer marks every
gateway's default flow again (which makes bpmn-js drop that flow's condition, as it does whenever a flow
becomes the default), the designer page saves the file, and the saved file deploys and runs."""

import copy
import re

import pytest
from lxml import etree
from playwright.sync_api import expect

from tests.fixtures.handbook_data import VALID

pytestmark = pytest.mark.browser

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"

#: What a designer does in the replace menu's "Default flow" entry, for each exclusive gateway with a
#: default: bpmn-js's ReplaceConnectionBehavior then removes the new default flow's condition.
REMARK_DEFAULTS = """() => {
    const modeler = window.opsflowModeler, modeling = modeler.get('modeling');
    const gateways = modeler.get('elementRegistry').filter(
        (e) => e.type === 'bpmn:ExclusiveGateway' && e.businessObject.default);
    for (const gateway of gateways) {
        const flow = gateway.businessObject.default;
        modeling.updateProperties(gateway, { default: undefined });
        modeling.updateProperties(gateway, { default: flow });
    }
    return gateways.map((g) => g.id);
}"""

#: The first stage: user task -> its form (the reference data in VALID is that form's)
KICKOFF = (
    ("Task_locate_problem", "locate_problem"),
    ("Task_form_team", "form_team"),
    ("Task_kickoff_meeting", "kickoff_minutes"),
)


def saved_defaults(xml: bytes) -> dict[str, etree._Element]:
    """gateway id -> its default flow, in the saved file."""
    root = etree.fromstring(xml)
    flows = {f.get("id"): f for f in root.iter(f"{BPMN}sequenceFlow")}
    gateways = [g for g in root.iter(f"{BPMN}exclusiveGateway") if g.get("default")]
    return {g.get("id"): flows[g.get("default")] for g in gateways}


def deploy(rest: object, xml: bytes) -> dict:
    """The saved file, deployed as a designer deploys a downloaded file: on its own, through the API."""
    files = {"files": ("ops_optimization.bpmn", xml, "application/xml")}
    return rest.call("dora", "POST", "/api/v1/deployments", 201, files=files, data={"name": "round trip"})


def start(rest: object, **variables: object) -> str:
    body = {"process_key": "ops_optimization", "variables": {**VALID["start_trigger"], **variables}}
    return rest.call("lei", "POST", "/api/v1/process-instances", 201, json=body)["id"]


def test_the_handbook_saved_by_the_designer_deploys_and_runs(sign_in, rest, shot) -> None:
    dora = sign_in("dora")
    expect(dora).to_have_url(re.compile(r"/designer"))
    expect(dora.locator('#canvas [data-element-id="Task_locate_problem"]')).to_be_visible()
    expect(dora.locator("#d-version")).to_have_value("1")

    remarked = dora.evaluate(REMARK_DEFAULTS)
    assert "Gateway_problem_type" in remarked and len(remarked) >= 9
    shot(dora, "01-defaults-marked-again")
    with dora.expect_download() as download:
        dora.click("#btn-download")
    xml = download.value.path().read_bytes()

    # the edit did what a designer's does: the default flows carry no condition any more
    defaults = saved_defaults(xml)
    assert set(remarked) <= set(defaults)
    assert all(flow.find(f"{BPMN}conditionExpression") is None for flow in defaults.values())

    deployed = deploy(rest, xml)
    assert {d["key"]: d["version"] for d in deployed["definitions"]}["ops_optimization"] == 2
    # the process's declaration of the variables its steps share survives: no step data is reported
    process = etree.fromstring(xml).find(f"{BPMN}process[@id='ops_optimization']")
    shared = process.find(
        f"{BPMN}extensionElements/{CAMUNDA}properties/{CAMUNDA}property[@name='sharedVariables']"
    )
    assert shared is not None and shared.get("value") == "team, goal, milestones, iteration_count"
    assert [w for w in deployed["warnings"] if "bind the variable" in w["message"]] == []

    # the structural path takes the default flows (now without conditions) into diagnosis
    structural = start(rest)
    for element_id, form in KICKOFF:
        task = rest.task("lei", structural, element_id)
        rest.complete("lei", task["id"], copy.deepcopy(VALID[form]))
    detail = rest.call("lei", "GET", f"/api/v1/process-instances/{structural}")
    assert detail["instance"]["version"] == 2
    assert [t["element_id"] for t in detail["open_tasks"]] == ["Task_collect_data"]

    # a short-term fluctuation still takes the conditional flow to its end event
    short_term = start(rest)
    task = rest.task("lei", short_term, "Task_locate_problem")
    rest.complete("lei", task["id"], {**copy.deepcopy(VALID["locate_problem"]), "problem_type": "short_term"})
    detail = rest.call("lei", "GET", f"/api/v1/process-instances/{short_term}")
    assert detail["instance"]["status"] == "completed"
    assert detail["instance"]["outcome"] == "keep_observing"
