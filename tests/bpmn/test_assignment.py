"""Camunda's assignment attributes as the catalog keeps them and as a task's creation resolves them
(engine.bpmn.assignment), without a database."""

import pytest

from engine.bpmn.assignment import (
    AssignmentError,
    WrittenAssignment,
    due_value,
    lane_groups,
    resolve,
    split_items,
)
from engine.bpmn.sandbox import make_script_engine
from engine.bpmn.xml import parse_xml

evaluate = make_script_engine().environment.evaluate


@pytest.mark.parametrize(
    "written, items",
    [
        ("accounting", ["accounting"]),
        ("accounting, sales ,", ["accounting", "sales"]),
        ("${initiator}", ["${initiator}"]),
        ("sales, ${', '.join(extra)}, ${a + ',' + b}", ["sales", "${', '.join(extra)}", "${a + ',' + b}"]),
        (None, []),
    ],
)
def test_a_list_splits_at_commas_outside_expressions(written: str | None, items: list[str]) -> None:
    assert split_items(written) == items


def test_names_and_expressions_resolve_against_the_process_data() -> None:
    written = WrittenAssignment(
        assignee="${initiator}",
        candidate_groups=("sales", "${region + '_sales'}"),
        candidate_users=("${reviewers}", "${backup}", "${nobody}"),
        lane_group="leader",
    )
    data = {"initiator": "sam", "region": "north", "reviewers": "ann, bob", "backup": ["cat"], "nobody": None}
    assignment = resolve("Task_x", written, data, evaluate)
    assert assignment.assignee == "sam"
    assert assignment.candidate_groups == ["sales", "north_sales"]  # the task's own groups before its lane's
    assert assignment.candidate_users == ["ann", "bob", "cat"]
    assert resolve("Task_x", WrittenAssignment(lane_group="leader"), {}, evaluate).candidate_groups == [
        "leader"
    ]


@pytest.mark.parametrize(
    "written, message",
    [
        (
            WrittenAssignment(assignee="${missing}"),
            "camunda:assignee expression ${missing} could not be evaluated",
        ),
        (WrittenAssignment(assignee="${people}"), "camunda:assignee '${people}' names 2 users"),
        (WrittenAssignment(candidate_groups=("${42}",)), "camunda:candidateGroups '${42}' gave 42"),
    ],
)
def test_an_expression_that_names_nobody_properly_is_an_error_never_a_name(
    written: WrittenAssignment, message: str
) -> None:
    with pytest.raises(AssignmentError) as raised:
        resolve("Task_x", written, {"people": ["ann", "bob"]}, evaluate)
    assert message in raised.value.message and raised.value.element_id == "Task_x"


def test_a_due_date_is_a_literal_an_expression_or_as_opsflow_wrote_it_an_expression_without_braces() -> None:
    assert due_value("T", "2030-01-31", {}, evaluate) == "2030-01-31"
    assert due_value("T", "P3D", {}, evaluate) == "P3D"
    assert due_value("T", "${due}", {"due": "2030-02-01"}, evaluate) == "2030-02-01"
    assert due_value("T", "due", {"due": None}, evaluate) is None


def test_a_lane_maps_to_a_group_by_its_property_else_its_id_or_name() -> None:
    root = parse_xml(
        """<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
              xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
          <bpmn:process id="p" isExecutable="true"><bpmn:laneSet id="s">
            <bpmn:lane id="Lane_0x7a" name="Accounts">
              <bpmn:extensionElements><camunda:properties>
                <camunda:property name="group" value="accounting" />
              </camunda:properties></bpmn:extensionElements>
              <bpmn:flowNodeRef>a</bpmn:flowNodeRef>
            </bpmn:lane>
            <bpmn:lane id="Lane_data" name="x"><bpmn:flowNodeRef>b</bpmn:flowNodeRef></bpmn:lane>
            <bpmn:lane id="Lane_1" name="销售 (sales)"><bpmn:flowNodeRef>c</bpmn:flowNodeRef></bpmn:lane>
            <bpmn:lane id="Lane_2" name="Somebody"><bpmn:flowNodeRef>d</bpmn:flowNodeRef></bpmn:lane>
          </bpmn:laneSet></bpmn:process>
        </bpmn:definitions>""".encode(),
        "lanes.bpmn",
    )
    lanes = lane_groups(root.find("{http://www.omg.org/spec/BPMN/20100524/MODEL}process"), {"data", "sales"})
    assert {node: lane.group for node, lane in lanes.items()} == {
        "a": "accounting",  # named, whether or not the group exists yet
        "b": "data",
        "c": "sales",
        "d": None,
    }
