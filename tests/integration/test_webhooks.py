"""Webhooks end to end: subscriptions over the API, events from a real process instance, delivered over
real HTTP to a receiver on a loopback port, signed, retried, logged and redelivered."""

import hashlib
import hmac
import time
from collections import Counter
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlmodel import Session, select

from api.main import create_app
from engine.config import Settings
from engine.engine import ProcessEngine
from engine.jobs.executor import JobExecutor
from engine.jobs.webhooks import MAX_ATTEMPTS
from engine.storage.db import make_engine
from engine.storage.tables import AuditEventRow, JobRow, utcnow
from engine.storage.uow import Transactions
from tests.fixtures.handbook_data import VALID
from tests.helpers.api import Api
from tests.integration.receiver import Received, Receiver

HOOKS = "/api/v1/webhooks"
AFTER_ANY_BACKOFF = timedelta(minutes=11)  # the executor's backoff is capped at 10 minutes


def subscribe(api: Api, url: str, event_types: list[str], **extra: object) -> dict:
    return api.call("ada", "POST", HOOKS, 201, json={"url": url, "event_types": event_types, **extra})


def start_and_finish(api: Api) -> str:
    """A handbook instance started by lei and ended at once (a short-term fluctuation): its events are
    instance.started, task.created, task.completed and instance.completed."""
    instance = api.start("lei", VALID["start_trigger"])
    task = api.task_named("lei", "Task_locate_problem", instance["id"])
    api.complete("lei", task["id"], {**VALID["locate_problem"], "problem_type": "short_term"})
    assert api.instance("lei", instance["id"])["instance"]["status"] == "completed"
    return instance["id"]


def queued(engine: ProcessEngine) -> list[JobRow]:
    with Session(engine.db) as session:
        return list(session.exec(select(JobRow).where(JobRow.kind == "webhook")).all())


def drained(engine: ProcessEngine, timeout: float = 60) -> None:
    """Waits until no webhook job is left in the outbox: nothing more can be sent after that."""
    deadline = time.monotonic() + timeout
    while queued(engine):
        assert time.monotonic() < deadline, f"jobs still queued: {queued(engine)}"
        time.sleep(0.02)


def queued_event_ids(engine: ProcessEngine) -> set[str]:
    return {job.payload["event"]["id"] for job in queued(engine)}


def assert_signed(received: Received, secret: str, *, fresh: bool = True) -> None:
    """What a receiver does: HMAC-SHA256 over "<timestamp>.<raw body>", and a fresh timestamp."""
    timestamp = received.headers["x-opsflow-timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + received.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(received.headers["x-opsflow-signature"], f"sha256={expected}")
    if fresh:
        assert abs(time.time() - int(timestamp)) < 300


def deliveries(api: Api, hook_id: str, **params: object) -> dict:
    return api.call("ada", "GET", f"{HOOKS}/{hook_id}/deliveries", params=params)


def test_a_subscriber_gets_the_events_it_asked_for_signed_with_its_secret(
    api: Api, engine: ProcessEngine, receiver: Receiver
) -> None:
    hook = subscribe(api, receiver.url, ["task.created", "instance.completed"])
    secret = hook["secret"]
    assert secret.startswith("whsec_") and len(secret) >= 32
    assert "secret" not in api.call("ada", "GET", f"{HOOKS}/{hook['id']}")
    assert [h["id"] for h in api.call("ada", "GET", HOOKS)] == [hook["id"]]

    worker = engine.worker().start()  # the real worker loop, in a thread
    try:
        instance = api.start("lei", VALID["start_trigger"])
        [created] = receiver.wait_for(1)
        task = api.task_named("lei", "Task_locate_problem", instance["id"])
        api.complete("lei", task["id"], {**VALID["locate_problem"], "problem_type": "short_term"})
        received = receiver.wait_for(2)
    finally:
        worker.stop()

    assert [r.event["type"] for r in received] == ["task.created", "instance.completed"]
    for r in received:
        assert_signed(r, secret)
        event = r.event
        assert r.path == "/hooks/opsflow"
        assert r.headers["content-type"] == "application/json"
        assert r.headers["x-opsflow-event"] == event["type"]
        assert r.headers["x-opsflow-delivery"] == event["id"]
        assert event["instance_id"] == instance["id"]
        assert datetime.fromisoformat(event["occurred_at"]) <= utcnow()
    assert created.event["task_id"] == task["id"] and created.event["element_id"] == "Task_locate_problem"
    assert received[1].event["data"] == {"outcome": "keep_observing"}
    assert received[1].event["actor"] == "lei"
    assert len({r.event["id"] for r in received}) == 2
    # a signature made with another secret does not match
    with pytest.raises(AssertionError):
        assert_signed(received[0], "whsec_not-the-secret")
    # nothing else was sent: instance.started and task.completed were not asked for
    assert len(receiver.requests) == 2 and queued(engine) == []


def test_a_receiver_that_is_down_for_a_while_gets_every_event_exactly_once(
    api: Api, engine: ProcessEngine
) -> None:
    receiver = Receiver()  # down: nothing listens on its port yet
    hook = subscribe(api, receiver.url, ["*"])
    start_and_finish(api)
    expected = queued_event_ids(engine)
    assert len(expected) == 4

    with time_machine.travel(utcnow(), tick=False) as clock:
        for _ in range(3):  # refused three times, each after the backoff
            assert engine.jobs.run_due_jobs() == 4
            assert engine.jobs.run_due_jobs() == 0  # not again before the backoff
            clock.shift(AFTER_ANY_BACKOFF)
        assert {job.attempts for job in queued(engine)} == {3}

        receiver.answers = [503, 503]  # up, but failing twice more
        receiver.start()
        try:
            assert engine.jobs.run_due_jobs() == 4
            assert len(receiver.received) == 2
            clock.shift(AFTER_ANY_BACKOFF)
            assert engine.jobs.run_due_jobs() == 2
            clock.shift(AFTER_ANY_BACKOFF)
            assert engine.jobs.run_due_jobs() == 0
        finally:
            receiver.stop()

    counts = Counter(r.delivery for r in receiver.received)
    assert set(counts) == expected and set(counts.values()) == {1}
    assert len(receiver.requests) == 6 and queued(engine) == []
    for r in receiver.received:
        assert_signed(r, hook["secret"], fresh=False)  # signed when sent, in the travelled time
    log = deliveries(api, hook["id"], limit=500)
    assert log["total"] == 4 * 4 + 2  # three refusals each, the two 503s, and a success each
    assert sum(1 for d in log["items"] if d["delivered"]) == 4


def one_task_with_a_due_date(due: datetime) -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="due_task" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="Task_due" />
    <bpmn:userTask id="Task_due" name="Due" camunda:assignee="ada" camunda:dueDate="{due.isoformat()}" />
    <bpmn:sequenceFlow id="f2" sourceRef="Task_due" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>""".encode()


def test_a_redelivery_of_a_task_event_is_sent_though_the_task_was_done_meanwhile(
    api: Api, engine: ProcessEngine, receiver: Receiver
) -> None:
    """A task's reminder jobs go with the task; a delivery of its event does not."""
    model = one_task_with_a_due_date(utcnow() + timedelta(days=2))
    api.call("ada", "POST", "/api/v1/deployments", 201, files={"files": ("due_task.bpmn", model)})
    hook = subscribe(api, receiver.url, ["task.created"])
    instance = api.call("ada", "POST", "/api/v1/process-instances", 201, json={"process_key": "due_task"})
    assert engine.jobs.run_due_jobs() == 1
    [first] = receiver.received
    api.call("ada", "POST", f"{HOOKS}/{hook['id']}/deliveries/{first.delivery}/redeliver", 202)
    task = api.task_named("ada", "Task_due", instance["id"])
    assert task["due_at"] is not None
    api.complete("ada", task["id"], {})  # before the worker sends the event again

    assert engine.jobs.run_due_jobs() == 1
    again = receiver.received[-1]
    assert len(receiver.received) == 2 and again.delivery == first.delivery and again.event == first.event


class WorkerDied(BaseException):
    """The worker's process went away in the middle of a delivery."""


def test_events_committed_while_no_worker_runs_are_all_delivered_after_a_restart(
    api: Api, engine: ProcessEngine, settings: Settings, receiver: Receiver
) -> None:
    hook = subscribe(api, receiver.url, ["*"])
    start_and_finish(api)  # committed; no worker runs in this server
    expected = queued_event_ids(engine)
    assert len(expected) == 4

    # A worker claims the jobs and dies while sending the first one: its claims stay behind it.
    db = make_engine(settings.database_url)
    dying = JobExecutor(Transactions(db), {}, lock_seconds=1)

    def die(job: JobRow) -> None:
        raise WorkerDied()

    dying.register_outside("webhook", die)
    with pytest.raises(WorkerDied):
        dying.run_due_jobs()
    db.dispose()
    assert {job.lock_owner for job in queued(engine)} == {dying.owner}
    assert receiver.requests == []

    # Our server restarts, now with its worker: it takes the jobs over once the dead claims expire.
    with_worker = settings.model_copy(update={"run_worker": True, "worker_poll_seconds": 0.05})
    api.app_factory = lambda: create_app(with_worker)
    api.restart()
    receiver.wait_for(4)
    drained(engine)  # a duplicate could only come from a job still queued: none is left

    counts = Counter(r.delivery for r in receiver.received)
    assert set(counts) == expected and set(counts.values()) == {1}
    for r in receiver.received:
        assert_signed(r, hook["secret"])
    assert queued(engine) == []
    assert api.call("ada", "GET", HOOKS)[0]["id"] == hook["id"]  # the restarted server answers


def test_a_redelivery_on_request_sends_the_same_event_again_with_the_same_id(
    api: Api, engine: ProcessEngine, receiver: Receiver
) -> None:
    hook = subscribe(api, receiver.url, ["task.created"])
    api.start("lei", VALID["start_trigger"])
    assert engine.jobs.run_due_jobs() == 1
    [first] = receiver.received
    event_id = first.delivery

    answer = api.call("ada", "POST", f"{HOOKS}/{hook['id']}/deliveries/{event_id}/redeliver", 202)
    assert answer["event_id"] == event_id and answer["event_type"] == "task.created"
    assert engine.jobs.run_due_jobs() == 1
    first, again = receiver.received
    assert again.delivery == event_id
    assert again.event == first.event
    assert_signed(again, hook["secret"])

    log = deliveries(api, hook["id"], event_id=event_id)
    attempts = [(d["attempt"], d["delivered"], d["status_code"]) for d in log["items"]]
    assert attempts == [(2, True, 200), (1, True, 200)]
    audit = audit_types(engine)
    assert audit.count("webhook_redelivery_requested") == 1

    # an event this webhook was never sent; an inactive webhook
    api.call("ada", "POST", f"{HOOKS}/{hook['id']}/deliveries/evt_unknown/redeliver", 404)
    api.call("ada", "PATCH", f"{HOOKS}/{hook['id']}", json={"active": False})
    api.call("ada", "POST", f"{HOOKS}/{hook['id']}/deliveries/{event_id}/redeliver", 409)
    assert engine.jobs.run_due_jobs() == 0 and len(receiver.requests) == 2


def test_an_event_given_up_on_is_delivered_when_asked_for_again(api: Api, engine: ProcessEngine) -> None:
    receiver = Receiver()  # down for longer than all the retries
    hook = subscribe(api, receiver.url, ["task.created"])
    api.start("lei", VALID["start_trigger"])
    with time_machine.travel(utcnow(), tick=False) as clock:
        for _ in range(MAX_ATTEMPTS):
            assert engine.jobs.run_due_jobs() == 1
            clock.shift(AFTER_ANY_BACKOFF)
        assert engine.jobs.run_due_jobs() == 0
    [job] = queued(engine)
    assert job.failed_at is not None and job.attempts == MAX_ATTEMPTS

    receiver.start()
    try:
        event_id = job.payload["event"]["id"]
        api.call("ada", "POST", f"{HOOKS}/{hook['id']}/deliveries/{event_id}/redeliver", 202)
        assert engine.jobs.run_due_jobs() == 1
    finally:
        receiver.stop()
    [received] = receiver.received
    assert received.delivery == event_id and queued(engine) == []
    log = deliveries(api, hook["id"])["items"]
    assert [(d["attempt"], d["delivered"]) for d in log] == [
        (MAX_ATTEMPTS + 1, True),
        *((n, False) for n in range(MAX_ATTEMPTS, 0, -1)),
    ]


def test_the_delivery_log_shows_failed_and_successful_attempts(
    api: Api, engine: ProcessEngine, receiver: Receiver
) -> None:
    hook = subscribe(api, receiver.url, ["task.created"])
    receiver.answers = [500]
    api.start("lei", VALID["start_trigger"])
    with time_machine.travel(utcnow(), tick=False) as clock:
        assert engine.jobs.run_due_jobs() == 1  # answered 500
        receiver.stop()
        clock.shift(AFTER_ANY_BACKOFF)
        assert engine.jobs.run_due_jobs() == 1  # nobody listening
        receiver.start()
        clock.shift(AFTER_ANY_BACKOFF)
        assert engine.jobs.run_due_jobs() == 1  # delivered

    log = deliveries(api, hook["id"])
    assert log["total"] == 3
    delivered, refused, failed = log["items"]  # newest first
    event_id = failed["event_id"]
    assert {d["event_id"] for d in log["items"]} == {event_id}
    assert all(d["event_type"] == "task.created" and d["subscription_id"] == hook["id"] for d in log["items"])
    assert (failed["attempt"], failed["status_code"], failed["delivered"]) == (1, 500, False)
    assert failed["error"] == "HTTP 500 Internal Server Error"  # the receiver's own answer is not shown
    assert (refused["attempt"], refused["status_code"], refused["delivered"]) == (2, None, False)
    assert refused["error"].startswith("ConnectError")
    assert (delivered["attempt"], delivered["status_code"], delivered["delivered"]) == (3, 200, True)
    assert delivered["error"] is None
    assert failed["at"] < refused["at"] < delivered["at"]

    second = deliveries(api, hook["id"], offset=1, limit=1)
    assert second["total"] == 3 and [d["attempt"] for d in second["items"]] == [2]
    assert deliveries(api, hook["id"], event_id="evt_other")["total"] == 0
    api.call("ada", "GET", f"{HOOKS}/no-such-hook/deliveries", 404)


def test_a_deactivated_or_deleted_subscription_gets_nothing_more(
    api: Api, engine: ProcessEngine, receiver: Receiver
) -> None:
    paused = subscribe(api, receiver.url, ["task.created"])
    deleted = subscribe(api, receiver.url, ["*"])
    api.start("lei", VALID["start_trigger"])
    assert len(queued(engine)) == 1 + 2

    api.call("ada", "PATCH", f"{HOOKS}/{paused['id']}", json={"active": False})
    api.call("ada", "DELETE", f"{HOOKS}/{deleted['id']}", 204)
    assert len(queued(engine)) == 1  # the deleted subscription's deliveries went with it
    assert engine.jobs.run_due_jobs() == 1  # the paused one's is dropped quietly
    assert queued(engine) == [] and receiver.requests == []
    assert deliveries(api, paused["id"])["total"] == 0
    api.call("ada", "GET", f"{HOOKS}/{deleted['id']}", 404)

    # switched on again, with another URL: new events go there, nothing old is replayed
    other = Receiver().start()
    try:
        changed = api.call("ada", "PATCH", f"{HOOKS}/{paused['id']}", json={"active": True, "url": other.url})
        assert changed["active"] and changed["url"] == other.url
        assert changed["event_types"] == ["task.created"]
        api.start("lei", VALID["start_trigger"])
        assert engine.jobs.run_due_jobs() == 1
        assert [r.event["type"] for r in other.received] == ["task.created"]
    finally:
        other.stop()
    assert receiver.requests == []


def audit_types(engine: ProcessEngine) -> list[str]:
    with Session(engine.db) as session:
        return list(session.exec(select(AuditEventRow.type).order_by(AuditEventRow.id)).all())


def test_subscription_changes_are_audited_and_the_secret_never_is(api: Api, engine: ProcessEngine) -> None:
    hook = subscribe(
        api,
        "https://hooks.example.com/opsflow",
        ["task.created", "task.created"],
        secret="a-shared-secret-of-some-length",
    )
    assert hook["secret"] == "a-shared-secret-of-some-length"
    assert hook["event_types"] == ["task.created"] and hook["created_by"] == "ada" and hook["active"]
    api.call("ada", "PATCH", f"{HOOKS}/{hook['id']}", json={"event_types": ["*", "task.created"]})
    assert api.call("ada", "GET", f"{HOOKS}/{hook['id']}")["event_types"] == ["*"]
    api.call("ada", "PATCH", f"{HOOKS}/{hook['id']}", json={})  # no change, no audit event
    api.call("ada", "DELETE", f"{HOOKS}/{hook['id']}", 204)
    api.call("ada", "DELETE", f"{HOOKS}/{hook['id']}", 404)

    with Session(engine.db) as session:
        rows = session.exec(
            select(AuditEventRow).where(AuditEventRow.type.startswith("webhook_")).order_by(AuditEventRow.id)
        ).all()
        assert [(r.type, r.actor) for r in rows] == [
            ("webhook_created", "ada"),
            ("webhook_updated", "ada"),
            ("webhook_deleted", "ada"),
        ]
        url = "https://hooks.example.com/opsflow"
        assert rows[0].details == {"webhook_id": hook["id"], "url": url, "event_types": ["task.created"]}
        assert rows[1].details == {"webhook_id": hook["id"], "changes": {"event_types": ["*"]}}
        assert not any("secret" in str(r.details) for r in rows)


def test_only_admins_manage_webhooks(api: Api, receiver: Receiver) -> None:
    hook = subscribe(api, receiver.url, ["*"])
    paths = [
        ("POST", HOOKS, {"url": receiver.url, "event_types": ["*"]}),
        ("GET", HOOKS, None),
        ("GET", f"{HOOKS}/{hook['id']}", None),
        ("PATCH", f"{HOOKS}/{hook['id']}", {"active": False}),
        ("DELETE", f"{HOOKS}/{hook['id']}", None),
        ("GET", f"{HOOKS}/{hook['id']}/deliveries", None),
        ("POST", f"{HOOKS}/{hook['id']}/deliveries/evt_x/redeliver", None),
    ]
    for user in ("lei", "dana", "dora"):
        for method, path, body in paths:
            answer = api.call(user, method, path, 403, json=body)
            assert answer["error"] == "forbidden"
    for method, path, body in paths:
        api.call(None, method, path, 401, json=body)
    assert api.call("ada", "GET", f"{HOOKS}/{hook['id']}")["active"] is True


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"url": "ftp://hooks.example.com/x", "event_types": ["*"]}, "url"),
        ({"url": "hooks.example.com/x", "event_types": ["*"]}, "url"),
        ({"url": "http://", "event_types": ["*"]}, "url"),
        ({"url": "http://hooks.example.com:notaport/", "event_types": ["*"]}, "url"),
        ({"url": "https://x.example.com/" + "a" * 2000, "event_types": ["*"]}, "url"),
        ({"event_types": ["*"]}, "url"),
        ({"url": "https://hooks.example.com", "event_types": []}, "event_types"),
        ({"url": "https://h.example.com", "event_types": ["task.created", "task.exploded"]}, "event_types.1"),
        ({"url": "https://hooks.example.com", "event_types": "task.created"}, "event_types"),
        ({"url": "https://hooks.example.com", "event_types": ["*"], "secret": "short"}, "secret"),
        ({"url": "https://hooks.example.com", "event_types": ["*"], "active": False}, "active"),
    ],
)
def test_invalid_subscriptions_are_refused_with_422(api: Api, body: dict, path: str) -> None:
    answer = api.call("ada", "POST", HOOKS, 422, json=body)
    assert answer["error"] == "invalid_input"
    assert path in [p.get("path") for p in answer["problems"]], answer
    assert api.call("ada", "GET", HOOKS) == []


def test_invalid_changes_are_refused_with_422_and_unknown_webhooks_with_404(
    api: Api, receiver: Receiver
) -> None:
    hook = subscribe(api, receiver.url, ["task.created"])
    for body in (
        {"url": "mailto:ops@example.com"},
        {"event_types": ["nope"]},
        {"event_types": []},
        {"active": "maybe"},
        {"secret": "a-new-secret-of-some-length"},
    ):
        api.call("ada", "PATCH", f"{HOOKS}/{hook['id']}", 422, json=body)
    unchanged = api.call("ada", "GET", f"{HOOKS}/{hook['id']}")
    assert unchanged["url"] == hook["url"] and unchanged["event_types"] == hook["event_types"]
    assert unchanged["active"] is True
    api.call("ada", "GET", f"{HOOKS}/no-such-hook", 404)
    api.call("ada", "PATCH", f"{HOOKS}/no-such-hook", 404, json={"active": False})
    api.call("ada", "POST", f"{HOOKS}/no-such-hook/deliveries/evt_x/redeliver", 404)
    api.call("ada", "GET", f"{HOOKS}/{hook['id']}/deliveries", 422, params={"limit": 0})
