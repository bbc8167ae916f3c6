"""/engine-rest/external-task: fetch and lock (with long polling), complete, failure, BPMN error, extend
lock; list, count, read one, topic names, unlock, set retries. Workers hold the `integration` role (or
admin); the engine checks it.

Long polling: with `asyncResponseTimeout` and nothing to lock, the request waits, probing with a cheap
read every POLL_SECONDS and locking as soon as something can be locked, until a task arrives or the
timeout passes (capped at MAX_WAIT_MS; a client asking more gets an empty answer after the cap and
simply asks again, as Camunda clients do). Over Camunda's own limit (30 minutes) is a 400, as in Camunda.
"""

import asyncio
import time
from typing import Annotated

from fastapi import Body, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.camunda.dto import (
    CompleteExternalTaskDto,
    CountResultDto,
    ExtendLockOnExternalTaskDto,
    ExternalTaskBpmnErrorDto,
    ExternalTaskDto,
    ExternalTaskFailureDto,
    FetchExternalTasksDto,
    FetchExternalTaskTopicDto,
    LockedExternalTaskDto,
    RetriesDto,
    external_task_dto,
    locked_external_task_dto,
)
from api.camunda.errors import camunda_router, invalid
from api.camunda.queries import ExternalTaskQueryDto
from api.camunda.variables import from_camunda
from api.deps import EngineDep, PrincipalDep
from engine.queries import ExternalTaskFilter, Paging
from engine.views import ExternalTaskView, TopicRequest

router = camunda_router("/external-task", "external task")

CAMUNDA_MAX_TIMEOUT_MS = 1_800_000
MAX_WAIT_MS = 30_000
POLL_SECONDS = 0.1


@router.post("/fetchAndLock", response_model=list[LockedExternalTaskDto])
async def fetch_and_lock(
    body: FetchExternalTasksDto, request: Request, engine: EngineDep, principal: PrincipalDep
) -> list[LockedExternalTaskDto]:
    """Locks up to maxTasks tasks of the topics for the worker; `[]` when none is available in time."""
    worker_id = _worker(body.workerId)
    timeout = body.asyncResponseTimeout
    if timeout is not None and timeout > CAMUNDA_MAX_TIMEOUT_MS:
        raise invalid(
            f"The asynchronous response timeout cannot be set to a value greater than "
            f"{CAMUNDA_MAX_TIMEOUT_MS} milliseconds"
        )
    topics = [_topic(t) for t in body.topics or []]
    max_tasks = body.maxTasks or 0
    include_properties = bool(body.includeExtensionProperties)
    queries = engine.camunda_resources

    def fetch() -> list[ExternalTaskView]:
        return engine.external_tasks.fetch_and_lock(
            worker_id, topics, max_tasks=max_tasks, principal_roles=principal.groups
        )

    deadline = time.monotonic() + min(max(timeout or 0, 0), MAX_WAIT_MS) / 1000
    locked = await run_in_threadpool(fetch)
    probe = [(t.name, t.business_key) for t in topics]
    while not locked and max_tasks > 0 and probe and time.monotonic() < deadline:
        await asyncio.sleep(POLL_SECONDS)
        if await request.is_disconnected():
            return []
        if await run_in_threadpool(queries.has_lockable_external_tasks, probe):
            locked = await run_in_threadpool(fetch)
    properties = await run_in_threadpool(queries.extension_properties, [t.id for t in locked])
    wanted = {t.topicName for t in body.topics or [] if t.includeExtensionProperties}
    return [
        locked_external_task_dto(
            task,
            extension_properties=(
                properties.get(task.id, {}) if include_properties or task.topic in wanted else {}
            ),
        )
        for task in locked
    ]


@router.post("/{task_id}/complete", status_code=204, response_class=Response)
def complete(
    task_id: str, body: CompleteExternalTaskDto, engine: EngineDep, principal: PrincipalDep
) -> Response:
    """Completes the task locked by workerId with the variables (localVariables are dropped: opsflow
    has no activity-local scope, and Camunda discards them when the activity ends)."""
    variables = from_camunda(body.variables)
    from_camunda(body.localVariables)  # still checked
    engine.external_tasks.complete(
        task_id, _worker(body.workerId), variables, principal_roles=principal.groups, actor=principal.name
    )
    return Response(status_code=204)


@router.post("/{task_id}/failure", status_code=204, response_class=Response)
def handle_failure(
    task_id: str, body: ExternalTaskFailureDto, engine: EngineDep, principal: PrincipalDep
) -> Response:
    """Reports a failure: retried after retryTimeout ms while retries > 0, an incident at 0."""
    if body.variables or body.localVariables:
        raise invalid("variables on a failure are not supported: complete the task to set variables")
    engine.external_tasks.handle_failure(
        task_id,
        _worker(body.workerId),
        error_message=body.errorMessage or "",
        error_details=body.errorDetails,
        retries=body.retries or 0,
        retry_timeout_ms=body.retryTimeout or 0,
        principal_roles=principal.groups,
        actor=principal.name,
    )
    return Response(status_code=204)


@router.post("/{task_id}/bpmnError", status_code=204, response_class=Response)
def handle_bpmn_error(
    task_id: str, body: ExternalTaskBpmnErrorDto, engine: EngineDep, principal: PrincipalDep
) -> Response:
    """Throws a BPMN error from the task, to be caught by an error boundary event on it (400 if none)."""
    if not body.errorCode:
        raise invalid("errorCode is required")
    engine.external_tasks.bpmn_error(
        task_id,
        _worker(body.workerId),
        error_code=body.errorCode,
        error_message=body.errorMessage or "",
        variables=from_camunda(body.variables),
        principal_roles=principal.groups,
        actor=principal.name,
    )
    return Response(status_code=204)


@router.post("/{task_id}/extendLock", status_code=204, response_class=Response)
def extend_lock(
    task_id: str, body: ExtendLockOnExternalTaskDto, engine: EngineDep, principal: PrincipalDep
) -> Response:
    """Sets the lock to expire newDuration ms from now."""
    engine.external_tasks.extend_lock(
        task_id, _worker(body.workerId), body.newDuration or 0, principal_roles=principal.groups
    )
    return Response(status_code=204)


def _worker(worker_id: str | None) -> str:
    if not worker_id:
        raise invalid("workerId is required")
    return worker_id


def _topic(topic: FetchExternalTaskTopicDto) -> TopicRequest:
    unsupported = [
        name
        for name, given in (
            ("processDefinitionId", topic.processDefinitionId),
            ("processDefinitionIdIn", topic.processDefinitionIdIn),
            ("processDefinitionKey", topic.processDefinitionKey),
            ("processDefinitionKeyIn", topic.processDefinitionKeyIn),
            ("processDefinitionVersionTag", topic.processDefinitionVersionTag),
            ("processVariables", topic.processVariables),
            ("tenantIdIn", topic.tenantIdIn),
        )
        if given
    ]
    if unsupported:
        raise invalid(f"topic {topic.topicName}: the filter(s) {', '.join(unsupported)} are not supported")
    if topic.lockDuration is None or topic.lockDuration <= 0:
        raise invalid(f"topic {topic.topicName}: lockDuration must be a positive number of milliseconds")
    # Camunda: variables null -> all; opsflow has no local variables, so localVariables=true -> none
    names = [] if topic.localVariables else topic.variables
    return TopicRequest(topic.topicName, topic.lockDuration, names, topic.businessKey)


# --- reading and operating ---------------------------------------------------------------------------


@router.get("", response_model=list[ExternalTaskDto])
def query_external_tasks(
    q: Annotated[ExternalTaskQueryDto, Query()],
    engine: EngineDep,
    principal: PrincipalDep,
    firstResult: int | None = None,
    maxResults: int | None = None,
) -> list[ExternalTaskDto]:
    """External tasks (workers and admins), oldest first unless sorted."""
    page = engine.camunda_resources.external_tasks(
        _filter(q), q.paging(firstResult, maxResults), principal=principal
    )
    return [external_task_dto(r) for r in page.items]


@router.post("", response_model=list[ExternalTaskDto])
def query_external_tasks_by_body(
    engine: EngineDep,
    principal: PrincipalDep,
    body: ExternalTaskQueryDto | None = Body(default=None),
    firstResult: int | None = None,
    maxResults: int | None = None,
) -> list[ExternalTaskDto]:
    q = body or ExternalTaskQueryDto()
    page = engine.camunda_resources.external_tasks(
        _filter(q), q.paging(firstResult, maxResults), principal=principal
    )
    return [external_task_dto(r) for r in page.items]


@router.get("/count", response_model=CountResultDto)
def count_external_tasks(
    q: Annotated[ExternalTaskQueryDto, Query()], engine: EngineDep, principal: PrincipalDep
) -> CountResultDto:
    page = engine.camunda_resources.external_tasks(_filter(q), q.paging(0, 0), principal=principal)
    return CountResultDto(count=page.total)


@router.get("/topic-names", response_model=list[str])
def topic_names(
    engine: EngineDep,
    principal: PrincipalDep,
    withLockedTasks: bool = False,
    withUnlockedTasks: bool = False,
    withRetriesLeft: bool = False,
) -> list[str]:
    return engine.camunda_resources.topic_names(
        with_locked=withLockedTasks, with_unlocked=withUnlockedTasks, principal=principal
    )


@router.get("/{task_id}", response_model=ExternalTaskDto)
def get_external_task(task_id: str, engine: EngineDep, principal: PrincipalDep) -> ExternalTaskDto:
    page = engine.camunda_resources.external_tasks(
        ExternalTaskFilter(id=task_id), Paging(0, 1), principal=principal
    )
    if not page.items:
        raise invalid(f"External task with id {task_id} does not exist", status=404)
    return external_task_dto(page.items[0])


@router.post("/{task_id}/unlock", status_code=204, response_class=Response)
def unlock(task_id: str, engine: EngineDep, principal: PrincipalDep) -> Response:
    engine.external_tasks.unlock(task_id, principal_roles=principal.groups)
    return Response(status_code=204)


@router.put("/{task_id}/retries", status_code=204, response_class=Response)
def set_retries(task_id: str, body: RetriesDto, engine: EngineDep, principal: PrincipalDep) -> Response:
    """New retries: at 0 the task is an incident; above, workers fetch it again."""
    if body.retries is None or body.retries < 0:
        raise invalid("The number of retries cannot be negative.")
    engine.external_tasks.set_retries(task_id, body.retries, principal_roles=principal.groups)
    return Response(status_code=204)


def _filter(q: ExternalTaskQueryDto) -> ExternalTaskFilter:
    return ExternalTaskFilter(
        id=q.externalTaskId,
        topic=q.topicName,
        worker_id=q.workerId,
        instance_id=q.processInstanceId,
        activity_id=q.activityId,
        locked=True if q.locked else (False if q.notLocked else None),
        with_retries_left=True if q.withRetriesLeft else (False if q.noRetriesLeft else None),
    )
