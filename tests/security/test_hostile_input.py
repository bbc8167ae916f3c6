"""Hostile input gets a clear 4xx in the API's one error shape, stores nothing, and leaves the server
answering: oversized and endlessly nested bodies, NUL characters, unknown fields, XML attacks on
deployments. No answer, 4xx or 5xx, carries a stack trace."""

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.limits import JSON_BODY_BYTES, MAX_JSON_DEPTH, RequestLimits, json_depth
from api.main import create_app
from tests.helpers.server import live_server
from tests.security.conftest import World, form_data, tiny_bpmn

MIB = 1024 * 1024
ERROR_KEYS = {"error", "message", "problems"}


def post_json(world: World, user: str | None, path: str, content: bytes, **headers: str) -> Any:
    if user is not None:
        headers["Authorization"] = f"Bearer {world.api.tokens[user]}"
    headers = {"Content-Type": "application/json", **headers}
    return world.api.client.post(path, content=content, headers=headers)


def deploy(world: World, *files: tuple[str, bytes], path: str = "/api/v1/deployments") -> Any:
    return world.api.client.post(
        path,
        files=[("files", (name, content)) for name, content in files],
        headers={"Authorization": f"Bearer {world.api.tokens['dora']}"},
    )


def assert_error(response: Any, status: int, kind: str, *words: str) -> dict:
    assert response.status_code == status, response.text[:300]
    body = response.json()
    assert body.keys() == ERROR_KEYS and body["error"] == kind, body
    for word in words:
        assert word in body["message"], body
    return body


def definitions(world: World) -> list[tuple[str, int]]:
    listed = world.api.call("ada", "GET", "/api/v1/process-definitions")
    return sorted((d["key"], d["version"]) for d in listed)


def instance_count(world: World) -> int:
    return world.api.call("ada", "GET", "/api/v1/process-instances", params={"limit": 1})["total"]


def assert_still_answering(world: World) -> None:
    assert world.api.call(None, "GET", "/health") == {"status": "ok"}
    name = world.unique("after_attack_")
    assert deploy(world, (f"{name}.bpmn", tiny_bpmn(name))).status_code == 201


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def padded(xml: bytes, size: int) -> bytes:
    """The document with a comment that makes it `size` bytes larger."""
    return xml.replace(b"</bpmn:definitions>", b"<!--" + b"x" * size + b"--></bpmn:definitions>")


# --- body size ------------------------------------------------------------------------------------


def test_a_json_body_over_one_mebibyte_is_refused_with_413_and_starts_nothing(world: World) -> None:
    before = instance_count(world)
    padding = "x" * (JSON_BODY_BYTES + 1)
    body = json.dumps({"process_key": "ops_optimization", "variables": {"description": padding}}).encode()
    response = post_json(world, "lei", "/api/v1/process-instances", body)
    assert_error(response, 413, "payload_too_large", str(JSON_BODY_BYTES))
    assert instance_count(world) == before
    assert_still_answering(world)


def test_a_json_body_streamed_without_a_length_is_cut_off_at_the_limit(world: World) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"process_key": "ops_optimization", "variables": {"description": "'
        for _ in range(3):
            yield b"x" * (JSON_BODY_BYTES // 2)
        yield b'"}}'

    before = instance_count(world)
    response = world.api.client.post(
        "/api/v1/process-instances",
        content=chunks(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {world.api.tokens['lei']}"},
    )
    assert_error(response, 413, "payload_too_large")
    assert instance_count(world) == before


def test_an_upload_over_the_upload_limit_is_refused_with_413_and_stores_nothing(world: World) -> None:
    before = definitions(world)
    limit = world.settings.max_upload_bytes
    response = deploy(world, ("huge.bpmn", padded(tiny_bpmn("huge"), limit)))
    assert_error(response, 413, "payload_too_large", str(limit))
    assert definitions(world) == before
    assert_still_answering(world)


def test_an_upload_streamed_without_a_length_is_cut_off_at_the_upload_limit(world: World) -> None:
    before = definitions(world)
    head = (
        b'--b\r\nContent-Disposition: form-data; name="files"; filename="big.bpmn"\r\n'
        b"Content-Type: application/xml\r\n\r\n"
    )

    def chunks() -> Iterator[bytes]:
        yield head + tiny_bpmn("streamed")
        for _ in range(world.settings.max_upload_bytes // MIB + 1):
            yield b"<!--" + b"x" * MIB + b"-->"
        yield b"\r\n--b--\r\n"

    response = world.api.client.post(
        "/api/v1/deployments",
        content=chunks(),
        headers={
            "Content-Type": "multipart/form-data; boundary=b",
            "Authorization": f"Bearer {world.api.tokens['dora']}",
        },
    )
    assert_error(response, 413, "payload_too_large", str(world.settings.max_upload_bytes))
    assert definitions(world) == before
    assert_still_answering(world)


def test_an_upload_larger_than_a_json_body_but_within_the_upload_limit_reaches_the_deployment(
    world: World,
) -> None:
    name = world.unique("big_but_fine_")
    roomy = padded(tiny_bpmn(name), 2 * JSON_BODY_BYTES)
    assert deploy(world, (f"{name}.bpmn", roomy)).status_code == 201


def test_a_real_server_answers_413_to_a_declared_length_without_waiting_for_the_body(world: World) -> None:
    app = create_app(world.settings, engine=world.engine)
    with live_server(app) as base:
        host, port = base.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            conn.sendall(
                b"POST /api/v1/process-instances HTTP/1.1\r\nHost: test\r\n"
                b"Content-Type: application/json\r\nContent-Length: 52428800\r\n\r\n{"
            )  # 50 MiB announced, one byte sent: only an answer that does not wait for the rest arrives
            answer = b""
            while chunk := conn.recv(65536):  # the server closes the connection after a refused body
                answer += chunk
            answer = answer.decode()
        assert answer.startswith("HTTP/1.1 413"), answer
        assert '"error":"payload_too_large"' in answer
        assert httpx.get(f"{base}/health", timeout=10).json() == {"status": "ok"}


def test_a_content_length_over_the_limit_is_refused_without_reading_the_body() -> None:
    reached_the_app = []

    async def app(scope: dict, receive: Any, send: Any) -> None:
        reached_the_app.append(scope["path"])

    async def receive() -> dict:
        raise AssertionError("the body must not be read")

    status, body = run_asgi(
        RequestLimits(app, multipart_bytes=5 * MIB),
        headers=[(b"content-type", b"application/json"), (b"content-length", str(50 * MIB).encode())],
        receive=receive,
    )
    assert status == 413 and json.loads(body)["error"] == "payload_too_large"
    assert reached_the_app == []


def test_a_streamed_upload_is_not_read_past_the_limit() -> None:
    chunk = b"x" * (64 * 1024)
    sent_chunks = 0

    async def receive() -> dict:
        nonlocal sent_chunks
        sent_chunks += 1
        return {"type": "http.request", "body": chunk, "more_body": sent_chunks < 1000}  # 64 MiB on offer

    async def app(scope: dict, receive: Any, send: Any) -> None:  # reads everything, as a form parser does
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"read it all"})

    status, body = run_asgi(
        RequestLimits(app, multipart_bytes=1 * MIB),
        headers=[(b"content-type", b"multipart/form-data; boundary=x"), (b"transfer-encoding", b"chunked")],
        receive=receive,
    )
    assert status == 413 and json.loads(body)["error"] == "payload_too_large"
    assert sent_chunks == MIB // len(chunk) + 1


def test_a_request_without_a_body_reaches_the_app_untouched() -> None:
    """No length and no chunks: HTTP/1 has no body then, so there is nothing to read or check."""
    seen = []

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def app(scope: dict, app_receive: Any, send: Any) -> None:
        seen.append(app_receive)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    for headers in ([], [(b"content-length", b"0")], [(b"content-type", b"application/json")]):
        seen.clear()
        assert run_asgi(RequestLimits(app, multipart_bytes=MIB), headers=headers, receive=receive)[0] == 204
        assert seen == [receive]


def test_a_chunked_json_body_is_checked_as_any_other() -> None:
    body = nested(MAX_JSON_DEPTH + 1)
    chunks = [body[:10], body[10:]]

    async def receive() -> dict:
        return {"type": "http.request", "body": chunks.pop(0), "more_body": bool(chunks)}

    async def app(scope: dict, receive: Any, send: Any) -> None:
        raise AssertionError("a body nested too deep must not reach the app")

    headers = [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")]
    status, body = run_asgi(RequestLimits(app, multipart_bytes=MIB), headers=headers, receive=receive)
    assert status == 422 and "nested more than" in json.loads(body)["message"]


def run_asgi(app: Any, *, headers: list[tuple[bytes, bytes]], receive: Any) -> tuple[int, bytes]:
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/api/v1/deployments",
        "raw_path": b"/api/v1/deployments",
        "query_string": b"",
        "headers": headers,
        "http_version": "1.1",
        "scheme": "http",
    }
    # a thread of its own: an earlier test (Playwright's sync API) may leave this thread's loop running
    worker = threading.Thread(target=asyncio.run, args=(app(scope, receive, send),))
    worker.start()
    worker.join(30)
    start = next(m for m in sent if m["type"] == "http.response.start")
    return start["status"], b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


# --- nesting, NUL, unknown fields -------------------------------------------------------------------


def test_json_nested_deeper_than_the_limit_is_refused_with_422(world: World) -> None:
    before = instance_count(world)
    for depth in (MAX_JSON_DEPTH + 1, 10_000, 200_000):
        body = b'{"process_key": "ops_optimization", "variables": {"evidence": ' + nested(depth) + b"}}"
        response = post_json(world, "lei", "/api/v1/process-instances", body)
        assert_error(response, 422, "invalid_input", "nested more than")
    assert instance_count(world) == before
    assert_still_answering(world)


def test_json_within_the_depth_limit_reaches_the_route(world: World) -> None:
    evidence = nested(MAX_JSON_DEPTH - 2)
    body = b'{"process_key": "ops_optimization", "variables": {"evidence": ' + evidence + b"}}"
    response = post_json(world, "lei", "/api/v1/process-instances", body)
    assert_error(response, 422, "invalid_input", "start form")  # the form's own check, not the depth


def test_brackets_inside_strings_do_not_count_as_nesting() -> None:
    assert json_depth(b'{"a": "[[[[[[[[[[{{{{{{{{", "b": [1, {"c": "\\"]]]"}]}') == 3
    assert json_depth(nested(100_000)) == 100_000
    assert json_depth(b'"just a string"') == 0


@pytest.mark.parametrize(
    "path", ["/api/v1/process-instances/%00", "/api/v1/tasks?business_key=%00", "/api/v1/tasks?stage=a%00b"]
)
def test_a_nul_character_in_the_url_is_refused_with_422(world: World, path: str) -> None:
    response = world.api.client.get(path, headers={"Authorization": f"Bearer {world.api.tokens['ada']}"})
    assert_error(response, 422, "invalid_input", "NUL")


def test_a_nul_character_in_a_json_string_is_refused_with_422_but_an_escaped_backslash_u_is_text(
    world: World,
) -> None:
    response = post_json(world, "lei", "/api/v1/process-instances", b'{"process_key": "ops\\u0000"}')
    assert_error(response, 422, "invalid_input", "NUL")
    response = post_json(world, "lei", "/api/v1/process-instances", b'{"process_key": "ops\\\\u0000"}')
    assert_error(response, 404, "not_found")  # the key `ops\u0000` as six plain characters: no such process


UNKNOWN_FIELD_BODIES = {
    "POST /api/v1/process-instances": {"process_key": "ops_optimization"},
    "POST /api/v1/process-instances/{instance}/cancel": {"reason": "x"},
    "POST /api/v1/tasks/{task}/assign": {"user": "dana"},
    "PUT /api/v1/tasks/{task}/draft": {"data": {}},
    "POST /api/v1/tasks/{task}/complete": {"data": {}},
    "POST /api/v1/session": {"name": "lars", "password": "whatever-it-is"},  # refused before checking
    "POST /api/v1/users": {"name": "someone", "roles": ["data"]},
    "POST /api/v1/messages": {"name": "alarm"},
    "POST /api/v1/webhooks": {"url": "https://hooks.example/x", "event_types": ["*"]},
    "POST /api/v1/api-keys": {"name": "k", "system": "ivan", "scopes": ["tasks:read"]},
}


@pytest.mark.parametrize("endpoint", list(UNKNOWN_FIELD_BODIES))
def test_an_unknown_field_in_a_json_body_is_refused_with_422_naming_it(world: World, endpoint: str) -> None:
    method, path = endpoint.split()
    team = world.teams["own"]
    path = path.replace("{instance}", team.instance_id).replace("{task}", team.task_id)
    body = {**UNKNOWN_FIELD_BODIES[endpoint], "is_admin": True}
    response = world.api.call("ada", method, path, None, json=body)
    assert isinstance(response, dict), response
    assert response["error"] == "invalid_input", response
    assert "is_admin" in [p.get("path") for p in response["problems"]], response


def test_an_unknown_field_nested_in_a_webhook_update_is_refused_too(world: World) -> None:
    created = world.api.call(
        "ada", "POST", "/api/v1/webhooks", 201, json={"url": "https://hooks.example/y", "event_types": ["*"]}
    )
    body = world.api.call("ada", "PATCH", f"/api/v1/webhooks/{created['id']}", 422, json={"secret": "x" * 20})
    assert "secret" in [p.get("path") for p in body["problems"]]
    world.api.call("ada", "DELETE", f"/api/v1/webhooks/{created['id']}", 204)


# --- XML attacks on deployments ------------------------------------------------------------------------

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" targetNamespace="x">
  <bpmn:process id="xxe" isExecutable="true"><bpmn:documentation>&secret;</bpmn:documentation>
  </bpmn:process>
</bpmn:definitions>"""


def laughs(levels: int, where: str = "text") -> bytes:
    """Entity expansion: `lol<levels>` stands for 10**levels "lol"s."""
    declarations = "".join(f' <!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">\n' for i in range(1, levels + 1))
    name = f' name="&lol{levels};"' if where == "attribute" else ""
    return f"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol0 "lol">
{declarations}]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" targetNamespace="x">
  <bpmn:process id="laughs"{name} isExecutable="true"><bpmn:documentation>&lol{levels};</bpmn:documentation>
  </bpmn:process>
</bpmn:definitions>""".encode()


DEEP = (
    b'<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="D" targetNamespace="x">'
    + b"<bpmn:documentation>" * 10_000
    + b"</bpmn:documentation>" * 10_000
    + b"</bpmn:definitions>"
)

#: attack -> (the file, what the problem says)
NO_DOCTYPE = "DOCTYPE declarations are not allowed"
XML_ATTACKS = {
    "an external entity (XXE)": (XXE, NO_DOCTYPE),
    "an external entity in an attribute": (
        XXE.replace(b'isExecutable="true">', b'name="&secret;" isExecutable="true">'),
        NO_DOCTYPE,
    ),
    "a billion laughs": (laughs(9), NO_DOCTYPE),  # refused before any parsing
    "a thousand laughs": (laughs(3), NO_DOCTYPE),
    "a thousand laughs in an attribute": (laughs(3, where="attribute"), NO_DOCTYPE),
    "a document nested 10,000 deep": (DEEP, "Excessive depth"),
}


@pytest.mark.parametrize("attack", list(XML_ATTACKS))
def test_an_xml_attack_on_a_deployment_is_refused_stores_nothing_and_the_server_goes_on(
    world: World, attack: str
) -> None:
    content, says = XML_ATTACKS[attack]
    before = definitions(world)
    body = assert_error(deploy(world, ("attack.bpmn", content)), 422, "invalid_input")
    [problem] = body["problems"]
    assert problem["file"] == "attack.bpmn" and says in problem["message"], problem
    assert "root:" not in json.dumps(body)  # nothing of /etc/passwd
    validated = deploy(world, ("attack.bpmn", content), path="/api/v1/deployments/validate")
    assert validated.status_code == 200 and [p["message"] for p in validated.json()] == [problem["message"]]
    assert definitions(world) == before
    assert_still_answering(world)


@pytest.mark.parametrize("path", ["/api/v1/deployments", "/api/v1/deployments/validate"])
def test_a_6_mb_bpmn_file_is_refused_with_413_and_stores_nothing(world: World, path: str) -> None:
    before = definitions(world)
    response = deploy(world, ("big.bpmn", padded(tiny_bpmn("big"), 6_000_000)), path=path)
    assert_error(response, 413, "payload_too_large", "larger than")
    assert definitions(world) == before
    assert_still_answering(world)


# --- no stack traces ------------------------------------------------------------------------------------

TRACE_MARKERS = ("Traceback", 'File "', "sqlalchemy", "psycopg")


def assert_no_trace(response: Any) -> None:
    for marker in TRACE_MARKERS:
        assert marker not in response.text, f"{marker!r} in {response.status_code} {response.text[:500]}"


def test_no_error_answer_carries_a_stack_trace(world: World) -> None:
    client, token = world.api.client, {"Authorization": f"Bearer {world.api.tokens['ada']}"}
    as_json = {**token, "Content-Type": "application/json"}
    answers = {
        404: client.get("/api/v1/nowhere", headers=token),
        405: client.delete("/api/v1/tasks", headers=token),
        401: client.get("/api/v1/me"),
        403: client.get("/api/v1/audit", headers={"Authorization": f"Bearer {world.api.tokens['lei']}"}),
        413: client.post("/api/v1/process-instances", content=b" " * (JSON_BODY_BYTES + 1), headers=as_json),
        422: client.post("/api/v1/process-instances", content=b"{not json", headers=as_json),
    }
    more_422 = [
        client.get("/api/v1/tasks", params={"limit": 0}, headers=token),
        client.post("/api/v1/process-instances", content=nested(50_000), headers=as_json),
        client.post("/api/v1/users", json={"name": "x", "roles": ["king"]}, headers=token),
        deploy(world, ("broken.bpmn", b"<unclosed>")),
    ]
    for status, response in [*answers.items(), *((422, r) for r in more_422)]:
        assert response.status_code == status, response.text[:300]
        assert response.json().keys() == ERROR_KEYS
        assert_no_trace(response)


def test_an_unexpected_failure_answers_500_without_its_details(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError('secret detail: File "/srv/opsflow/engine.py", line 1')

    monkeypatch.setattr(world.engine.repository, "list_definitions", broken)
    response = world.api.client.get(
        "/api/v1/process-definitions", headers={"Authorization": f"Bearer {world.api.tokens['ada']}"}
    )
    assert_error(response, 500, "internal", "internal server error")
    assert "secret detail" not in response.text
    assert_no_trace(response)


def test_a_valid_start_still_works_through_the_limits(world: World) -> None:
    started = world.api.start("lei", form_data("start_trigger"))
    assert started["status"] == "running"
    world.api.call("ada", "POST", f"/api/v1/process-instances/{started['id']}/cancel")
