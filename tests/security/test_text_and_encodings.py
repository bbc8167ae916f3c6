"""Text that is not text, documents in other encodings, and forms nested without end: each is refused
at the door with a 422 that says where (or, for a declared XML encoding, read correctly), and nothing
stored breaks later answers for anyone."""

import json

import pytest

from tests.security.conftest import TINY_BPMN, World, tiny_bpmn
from tests.security.test_hostile_input import assert_error, deploy, post_json

LONE = "\\udfff"  # as it appears in JSON text: a low surrogate with no high one before it


def still_readable(world: World) -> None:
    """What broke for everyone when a lone surrogate was stored: the lists and the instance."""
    world.api.call("ada", "GET", "/api/v1/process-instances")
    world.api.call("ada", "GET", "/api/v1/audit")
    world.api.instance("ada", world.teams["own"].instance_id)
    world.api.call("ada", "GET", "/engine-rest/process-instance")


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ('{"process_key": "ops_optimization", "variables": {"note": "x' + LONE + '"}}', "variables.note"),
        ('{"process_key": "ops_optimization", "variables": {"k' + LONE + '": 1}}', "variables.k\\udfff"),
        (
            '{"process_key": "ops_optimization", "variables": {"a": [1, {"b": "' + LONE + '"}]}}',
            "variables.a.1.b",
        ),
        ('{"process_key": "ops_optimization", "variables": {"n": "\\ud800 high alone"}}', "variables.n"),
        ('{"process_key": "ops_optimization", "variables": {"n": "\\uDBFF\\u0041"}}', "variables.n"),
    ],
)
def test_a_lone_surrogate_in_a_variable_key_or_value_is_refused_with_422_naming_it(
    world: World, body: str, path: str
) -> None:
    response = post_json(world, "lei", "/api/v1/process-instances", body.encode())
    problem = assert_error(response, 422, "invalid_input", "surrogate")["problems"][0]
    assert problem["path"] == path
    still_readable(world)


def test_a_lone_surrogate_in_a_draft_is_refused_and_the_task_still_answers(world: World) -> None:
    team = world.teams["own"]
    body = '{"data": {"summary": "half ' + LONE + '"}}'
    response = world.api.client.put(
        f"/api/v1/tasks/{team.task_id}/draft",
        content=body.encode(),
        headers={"Authorization": f"Bearer {world.api.tokens['dana']}", "Content-Type": "application/json"},
    )
    assert assert_error(response, 422, "invalid_input", "surrogate")["problems"][0]["path"] == "data.summary"
    world.api.call("dana", "GET", f"/api/v1/tasks/{team.task_id}")
    still_readable(world)


def test_a_surrogate_pair_is_a_character_and_is_kept(world: World) -> None:
    team = world.teams["own"]
    body = '{"data": {"summary": "fixed \\ud83d\\ude00"}}'
    response = world.api.client.put(
        f"/api/v1/tasks/{team.task_id}/draft",
        content=body.encode(),
        headers={"Authorization": f"Bearer {world.api.tokens['dana']}", "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    assert world.api.call("dana", "GET", f"/api/v1/tasks/{team.task_id}")["draft"] == {"summary": "fixed 😀"}


@pytest.mark.parametrize(
    "variables",
    [
        '{"note": {"value": "x' + LONE + '", "type": "String"}}',
        '{"n' + LONE + '": {"value": 1, "type": "Integer"}}',
        # inside a Json-typed value the escape is itself escaped: only the variable's reader sees it
        '{"doc": {"value": "{\\"a\\": \\"\\\\udfff\\"}", "type": "Json"}}',
    ],
)
def test_a_lone_surrogate_in_engine_rest_variables_is_refused(world: World, variables: str) -> None:
    body = '{"variables": ' + variables + "}"
    response = post_json(
        world, "ivan", "/engine-rest/process-definition/key/ops_optimization/start", body.encode()
    )
    assert 400 <= response.status_code < 500 and "surrogate" in response.text, response.text
    still_readable(world)


def test_a_lone_surrogate_in_a_message_payload_is_refused(world: World) -> None:
    body = '{"name": "alarm", "payload": {"source": "' + LONE + '"}}'
    response = post_json(world, "ivan", "/api/v1/messages", body.encode())
    assert (
        assert_error(response, 422, "invalid_input", "surrogate")["problems"][0]["path"] == "payload.source"
    )
    still_readable(world)


# --- BPMN in other encodings ----------------------------------------------------------------------


def _declared(xml: str, encoding: str) -> str:
    return xml.replace('encoding="UTF-8"', f'encoding="{encoding}"')


@pytest.mark.parametrize(
    ("encoding", "lane"),
    [("UTF-16", "组长 (leader)"), ("UTF-16LE", "组长 (leader)"), ("ISO-8859-1", "Prüfer (leader)")],
)
def test_bpmn_in_the_encoding_its_declaration_names_is_read_and_runs(
    world: World, encoding: str, lane: str
) -> None:
    key = world.unique("encoded_")
    xml = _declared(TINY_BPMN.replace("PROCESS_ID", key).replace("组长 (leader)", lane), encoding)
    xml = xml.replace('name="A"', 'name="Größe prüfen"')
    content = xml.encode(encoding.replace("LE", "-le") if encoding.endswith("LE") else encoding)
    if encoding == "UTF-16LE":
        content = b"\xff\xfe" + content  # with a byte order mark, as Windows editors write it
    response = deploy(world, (f"{key}.bpmn", content))
    assert response.status_code == 201, response.text
    stored = world.api.call("lei", "GET", f"/api/v1/process-definitions/{key}/xml")
    assert "Größe prüfen" in stored.text and lane in stored.text
    instance = world.api.start("lei", {}, process_key=key)
    assert [t["name"] for t in world.api.inbox("lei", instance=instance["id"])] == ["Größe prüfen"]


def test_bpmn_whose_bytes_do_not_match_its_declared_encoding_is_refused_with_its_line(world: World) -> None:
    key = world.unique("misdeclared_")
    content = _declared(TINY_BPMN.replace("PROCESS_ID", key), "UTF-16").encode("utf-8")
    problem = assert_error(deploy(world, (f"{key}.bpmn", content)), 422, "invalid_input")["problems"][0]
    assert problem["file"] == f"{key}.bpmn" and problem["line"] is not None
    content = tiny_bpmn(key).replace(b"A", "Größe".encode("latin-1"), 1)  # declared UTF-8, is not
    problem = assert_error(deploy(world, (f"{key}.bpmn", content)), 422, "invalid_input")["problems"][0]
    assert problem["file"] == f"{key}.bpmn" and problem["line"] is not None


def test_a_doctype_is_refused_in_utf_16_as_well(world: World) -> None:
    key = world.unique("doctype_")
    xml = _declared(TINY_BPMN.replace("PROCESS_ID", key), "UTF-16")
    xml = xml.replace("?>\n", '?>\n<!DOCTYPE d [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n', 1)
    body = assert_error(deploy(world, (f"{key}.bpmn", xml.encode("utf-16"))), 422, "invalid_input")
    assert "DOCTYPE" in body["problems"][0]["message"]


# --- forms nested without end -------------------------------------------------------------------


def _form(key: str, depth: int) -> bytes:
    group: dict = {"type": "textfield", "key": "deep", "label": "Deep", "id": "Field_deep"}
    for i in range(depth):
        group = {"type": "group", "id": f"Group_{i}", "label": "g", "components": [group]}
    return json.dumps({"id": key, "type": "default", "components": [group]}).encode()


@pytest.mark.parametrize("depth", [100_000, 100])
def test_a_form_nested_without_end_is_refused_with_422_naming_the_file(world: World, depth: int) -> None:
    if depth == 100_000:
        content = b'{"id": "deep", "components": ' + b"[" * depth + b"]" * depth + b"}"
    else:
        content = _form("deep_form", depth)
    body = assert_error(deploy(world, ("deep_form.form", content)), 422, "invalid_input")
    assert body["problems"][0]["file"] == "deep_form.form"
    assert "nested" in body["problems"][0]["message"]
    assert world.api.call(None, "GET", "/health") == {"status": "ok"}


def test_a_form_with_a_few_groups_still_deploys(world: World) -> None:
    key = world.unique("grouped_form_")
    assert deploy(world, (f"{key}.form", _form(key, 5))).status_code == 201
