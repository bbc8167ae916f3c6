"""camunda:inputOutput and camunda:in/camunda:out pass variables as Camunda does."""

from tests.bpmn_foreign.conftest import DATA, complete, deploy, instance, open_tasks, problems_of, start
from tests.helpers.api import Api


def test_input_parameters_are_the_tasks_own_and_output_parameters_go_on(api: Api) -> None:
    deploy(api, "io_mapping.bpmn")
    started = start(api, "io_mapping", customer="ACME", preferred="phone")
    variables = instance(api, started["id"])["variables"]
    assert variables["limit"] == "100" and variables["who"] == "ACME"
    assert variables["channels"] == ["mail", "phone"]
    assert variables["contact"] == {"name": "ACME", "tier": "gold"}
    [approve] = open_tasks(api, started["id"])
    complete(api, approve, amount=80)
    after = instance(api, started["id"])["variables"]
    assert after["approved_amount"] == 80
    assert not {"limit", "who", "channels", "contact"} & after.keys()


def test_a_call_activity_passes_only_what_camunda_in_and_out_map(api: Api) -> None:
    deploy(api, "call_io.bpmn")
    started = start(api, "call_io", order="A-7", amount=21, secret="s3")
    variables = instance(api, started["id"])["variables"]
    assert variables["outcome"] == "A-7-42"
    assert not {"label", "order_in", "doubled"} & variables.keys()
    assert variables["secret"] == "s3"


def test_a_parameter_computed_by_a_script_is_refused(api: Api) -> None:
    text = (
        (DATA / "io_mapping.bpmn")
        .read_text()
        .replace(
            '<camunda:inputParameter name="limit">100</camunda:inputParameter>',
            '<camunda:inputParameter name="limit"><camunda:script scriptFormat="groovy">100</camunda:script>'
            "</camunda:inputParameter>",
        )
    )
    files = [("files", ("io.bpmn", text.encode()))]
    [problem] = problems_of(api.call("dora", "POST", "/api/v1/deployments", 422, files=files))
    assert problem["element_id"] == "approve" and "computed by a script" in problem["message"]
