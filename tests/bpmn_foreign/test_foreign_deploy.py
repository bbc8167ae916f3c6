"""What Camunda deploys, we deploy: things we cannot do for a model are warnings, not refusals,
and what we refuse is named for what it is."""

from tests.bpmn_foreign.conftest import complete, deploy, instance, open_tasks, problems_of, start
from tests.helpers.api import Api


def test_a_user_task_offered_to_nobody_deploys_with_a_warning_and_an_admin_can_do_it(api: Api) -> None:
    result = deploy(api, "unassigned_task.bpmn")
    [warning] = result["warnings"]
    assert warning["element_id"] == "review" and "only admins see it" in warning["message"]
    assert warning["file"] == "unassigned_task.bpmn" and warning["line"] == 6

    started = start(api, "unassigned")
    [task] = open_tasks(api, started["id"])  # what the admin sees of the instance
    assert task["element_id"] == "review" and task["candidate_groups"] == task["candidate_users"] == []
    assert api.inbox("dana", instance=started["id"]) == []
    complete(api, task)
    assert instance(api, started["id"])["status"] == "completed"


def test_elements_with_the_ids_start_and_end_keep_their_ids(api: Api) -> None:
    deploy(api, "reserved_ids.bpmn")
    started = start(api, "reserved")
    [task] = open_tasks(api, started["id"])
    complete(api, task)
    done = instance(api, started["id"])
    assert done["status"] == "completed" and done["outcome"] == "done"


def test_task_and_manual_task_are_passed_through(api: Api) -> None:
    deploy(api, "pass_through.bpmn")
    started = start(api, "pass_through")
    assert instance(api, started["id"])["status"] == "completed"


def test_conditions_and_scripts_in_languages_we_do_not_run_are_refused_by_name(api: Api) -> None:
    problems = problems_of(deploy(api, "foreign_languages.bpmn", expect=422))
    by_element = {p["element_id"]: p["message"] for p in problems}
    assert "written in groovy, which this engine does not run" in by_element["groovy_flow"]
    assert "written in javascript, which this engine does not run" in by_element["js"]
    assert "camunda:resource 'deployment://compute.py'" in by_element["from_file"]
    assert all(p["file"] == "foreign_languages.bpmn" and p["line"] for p in problems)


def test_an_activity_with_two_plain_outgoing_flows_goes_down_both(api: Api) -> None:
    deploy(api, "parallel_exits.bpmn")
    started = start(api, "parallel_exits")
    [prepare] = open_tasks(api, started["id"])
    complete(api, prepare)
    assert sorted(t["element_id"] for t in open_tasks(api, started["id"])) == ["call", "mail"]


def test_an_activity_with_conditional_exits_takes_those_that_hold_and_the_plain_ones(api: Api) -> None:
    deploy(api, "conditional_exits.bpmn")
    started = start(api, "conditional_exits")
    [assess] = open_tasks(api, started["id"])
    complete(api, assess, amount=500, urgent=False)
    assert sorted(t["element_id"] for t in open_tasks(api, started["id"])) == ["big", "log"]


def test_an_exclusive_flow_without_condition_is_taken_when_no_condition_before_it_holds(api: Api) -> None:
    deploy(api, "plain_exclusive.bpmn")
    vip = start(api, "plain_exclusive", vip=True)
    plain = start(api, "plain_exclusive", vip=False)
    assert [t["element_id"] for t in open_tasks(api, vip["id"])] == ["vip"]
    assert [t["element_id"] for t in open_tasks(api, plain["id"])] == ["normal"]


def test_a_multi_instance_over_a_camunda_collection_makes_one_task_per_element(api: Api) -> None:
    deploy(api, "collection.bpmn")
    started = start(api, "per_item", items=["a", "b", "c"])
    tasks = open_tasks(api, started["id"])
    assert [t["element_id"] for t in tasks] == ["check_item"] * 3
    for task in tasks:
        complete(api, task)
    assert instance(api, started["id"])["status"] == "completed"


def test_camunda_generated_form_fields_become_a_validated_form(api: Api) -> None:
    result = deploy(api, "form_data.bpmn")
    [form] = result["forms"]
    assert form["key"] == "generated_form.fill"
    fields = {c["key"]: c for c in form["schema"]["components"]}
    assert fields["customer"]["type"] == "textfield"
    assert fields["customer"]["validate"] == {"required": True, "maxLength": 20}
    assert fields["amount"]["type"] == "number" and fields["amount"]["defaultValue"] == 10
    assert [v["value"] for v in fields["channel"]["values"]] == ["mail", "phone"]

    started = start(api, "generated_form")
    [task] = open_tasks(api, started["id"])
    assert task["form_key"] == "generated_form.fill"
    refused = complete(api, task, expect=422, amount=0)
    assert {p["path"] for p in problems_of(refused)} >= {"customer", "amount"}
    complete(api, task, customer="ACME", amount=5, urgent=True, channel="mail")
    assert instance(api, started["id"])["status"] == "completed"


def test_a_modeler_form_without_id_is_found_by_its_file_name(api: Api) -> None:
    result = deploy(api, "form_by_file.bpmn", "ticket.form")
    assert [f["key"] for f in result["forms"]] == ["ticket"]
    started = start(api, "form_by_file")
    [task] = open_tasks(api, started["id"])
    assert task["form_key"] == "ticket"
    complete(api, task, expect=422)
    complete(api, task, title="printer on fire")


def test_a_data_store_we_have_no_implementation_for_is_refused_not_a_server_error(api: Api) -> None:
    [problem] = problems_of(deploy(api, "data_store.bpmn", expect=422))
    assert problem["file"] == "data_store.bpmn" and "Archive has no implementation" in problem["message"]
