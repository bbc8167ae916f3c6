"""/engine-rest/task: query user tasks (GET with query parameters, POST with a query body, counts),
read one, its form variables and identity links; claim, unclaim, set the assignee, delegate, resolve,
complete, submit its form. Task variables are in task_variables.py.

The query covers every open task the caller may see (as admin: all), not only their inbox. Its
parameters are TaskQueryDto's (api/camunda/queries.py): a parameter opsflow does not support is a 400
naming it. As in Camunda, the candidate filters find unassigned tasks unless includeAssignedTasks=true.

Completing validates the variables against the task's form, as the native API does (400 lists every
offending field).
"""

from typing import Annotated, Any, NoReturn

from fastapi import Body, Query, Response
from fastapi.responses import JSONResponse

from api.camunda.dto import (
    CompleteTaskDto,
    CountResultDto,
    IdentityLinkDto,
    TaskCountByCandidateGroupResultDto,
    TaskDto,
    UserIdDto,
    VariableValueOutDto,
    task_dto,
)
from api.camunda.errors import CamundaError, camunda_router, invalid
from api.camunda.queries import TaskQueryDto, date, ids, one_or_many
from api.camunda.variables import from_camunda, to_camunda_map
from api.deps import EngineDep, PrincipalDep
from engine.engine import ProcessEngine
from engine.errors import Conflict, Forbidden, NotFound, OpsflowError
from engine.queries import Paging, TaskFilter, TaskRecord
from engine.views import Page, Principal, TaskDetailView

router = camunda_router("/task", "task")

TaskQuery = Annotated[TaskQueryDto, Query()]


@router.get("", response_model=list[TaskDto])
def query_tasks(
    q: TaskQuery,
    engine: EngineDep,
    principal: PrincipalDep,
    firstResult: int | None = None,
    maxResults: int | None = None,
) -> list[TaskDto]:
    """Open tasks, oldest first unless sorted."""
    return [task_dto(r) for r in _query(engine, principal, q, q.paging(firstResult, maxResults)).items]


@router.post("", response_model=list[TaskDto])
def query_tasks_by_body(
    engine: EngineDep,
    principal: PrincipalDep,
    body: TaskQueryDto | None = Body(default=None),
    firstResult: int | None = None,
    maxResults: int | None = None,
) -> list[TaskDto]:
    """The same query with its parameters in the body (`sorting` for several sort criteria)."""
    q = body or TaskQueryDto()
    return [task_dto(r) for r in _query(engine, principal, q, q.paging(firstResult, maxResults)).items]


@router.get("/count", response_model=CountResultDto)
def count_tasks(q: TaskQuery, engine: EngineDep, principal: PrincipalDep) -> CountResultDto:
    return CountResultDto(count=_query(engine, principal, q, q.paging(0, 0)).total)


@router.post("/count", response_model=CountResultDto)
def count_tasks_by_body(
    engine: EngineDep, principal: PrincipalDep, body: TaskQueryDto | None = Body(default=None)
) -> CountResultDto:
    q = body or TaskQueryDto()
    return CountResultDto(count=_query(engine, principal, q, q.paging(0, 0)).total)


@router.get("/report/candidate-group-count", response_model=list[TaskCountByCandidateGroupResultDto])
def candidate_group_count(
    engine: EngineDep, principal: PrincipalDep
) -> list[TaskCountByCandidateGroupResultDto]:
    """Open unassigned tasks per candidate group (admins)."""
    return [
        TaskCountByCandidateGroupResultDto(groupName=group, taskCount=count)
        for group, count in engine.camunda.candidate_group_counts(principal=principal)
    ]


@router.get("/{task_id}", response_model=TaskDto)
def get_task(task_id: str, engine: EngineDep, principal: PrincipalDep) -> TaskDto:
    detail = _task(engine, principal, task_id)
    return task_dto(TaskRecord(detail.task, detail.instance.definition_id, detail.documentation))


@router.get("/{task_id}/form-variables", response_model=dict[str, VariableValueOutDto])
def get_form_variables(
    task_id: str,
    engine: EngineDep,
    principal: PrincipalDep,
    variableNames: str | None = None,
    deserializeValues: bool = True,
) -> dict[str, Any]:
    """The variables the task's form starts from: the instance's variables (only `variableNames`,
    comma-separated, when given). Json values are sent as JSON text whatever deserializeValues says."""
    detail = _task(engine, principal, task_id)
    names = [n for n in variableNames.split(",") if n] if variableNames is not None else None
    return to_camunda_map(detail.instance.variables, names, detail.instance.variable_types)


@router.post("/{task_id}/claim", status_code=204, response_class=Response)
def claim(
    task_id: str, engine: EngineDep, principal: PrincipalDep, body: UserIdDto | None = Body(default=None)
) -> Response:
    """Claims the task for userId (default: the caller). Claiming for someone else is assigning, which
    the instance's leader or an admin may do; a task claimed by another is a 400."""
    user = (body.userId if body else None) or principal.name
    try:
        if user == principal.name:
            try:
                engine.tasks.claim(task_id, principal=principal)
            except NotFound:  # claiming reads the task itself: no look-up first for the usual case
                _refuse_unknown(engine, principal, task_id)
        else:
            if _require_known(engine, principal, task_id).task.assignee is not None:
                raise Conflict(f"Task '{task_id}' is already claimed by someone else.")
            engine.tasks.assign(task_id, user, principal=principal)
    except Conflict as exc:
        current = _current_assignee(engine, principal, task_id)
        if current == user:  # Camunda: claiming a task one already holds changes nothing
            return Response(status_code=204)
        if current is not None:
            raise CamundaError(400, "TaskAlreadyClaimedException", str(exc)) from None
        raise
    return Response(status_code=204)


@router.post("/{task_id}/unclaim", status_code=204, response_class=Response)
def unclaim(task_id: str, engine: EngineDep, principal: PrincipalDep) -> Response:
    """Resets the assignee; an unassigned task stays as it is (204), as in Camunda."""
    if _task(engine, principal, task_id).task.assignee is not None:
        engine.tasks.unclaim(task_id, principal=principal)
    return Response(status_code=204)


@router.post("/{task_id}/delegate", status_code=204, response_class=Response)
def delegate(task_id: str, body: UserIdDto, engine: EngineDep, principal: PrincipalDep) -> Response:
    """Delegates the task to userId; its owner gets it back when the delegate resolves it."""
    if not body.userId:
        raise invalid("userId is required")
    engine.tasks.delegate(task_id, body.userId, principal=principal)
    return Response(status_code=204)


@router.post("/{task_id}/resolve", status_code=204, response_class=Response)
def resolve(
    task_id: str,
    engine: EngineDep,
    principal: PrincipalDep,
    body: CompleteTaskDto | None = Body(default=None),
) -> Response:
    """Gives a delegated task back to its owner; the variables are kept as the task's draft."""
    variables = from_camunda(body.variables, typed=False) if body else {}  # a draft: form data
    engine.tasks.resolve(task_id, variables, principal=principal)
    return Response(status_code=204)


@router.post(
    "/{task_id}/complete",
    status_code=204,
    response_class=Response,
    responses={200: {"model": dict[str, VariableValueOutDto], "description": "with withVariablesInReturn"}},
)
def complete(
    task_id: str,
    engine: EngineDep,
    principal: PrincipalDep,
    body: CompleteTaskDto | None = Body(default=None),
) -> Response:
    """204; with `withVariablesInReturn`, 200 and the instance's variables after completing."""
    body = body or CompleteTaskDto()
    detail = engine.tasks.complete(task_id, from_camunda(body.variables), principal=principal)
    if body.withVariablesInReturn:
        return JSONResponse(to_camunda_map(detail.instance.variables, types=detail.instance.variable_types))
    return Response(status_code=204)


@router.post("/{task_id}/assignee", status_code=204, response_class=Response)
def set_assignee(task_id: str, body: UserIdDto, engine: EngineDep, principal: PrincipalDep) -> Response:
    """Sets the assignee (the instance's leader or an admin); userId null gives the task back."""
    _require_known(engine, principal, task_id)
    if body.userId is None:
        if _task(engine, principal, task_id).task.assignee is not None:
            engine.tasks.unclaim(task_id, principal=principal)
        return Response(status_code=204)
    if body.userId == principal.name and _task(engine, principal, task_id).task.assignee is None:
        engine.tasks.claim(task_id, principal=principal)
    else:
        engine.tasks.assign(task_id, body.userId, principal=principal)
    return Response(status_code=204)


@router.post("/{task_id}/submit-form", status_code=204, response_class=Response)
def submit_form(
    task_id: str,
    engine: EngineDep,
    principal: PrincipalDep,
    body: CompleteTaskDto | None = Body(default=None),
) -> Response:
    """Completes the task with its form's fields (validated against the form); 200 and the variables
    with `withVariablesInReturn`."""
    return complete(task_id, engine, principal, body)


@router.get("/{task_id}/identity-links", response_model=list[IdentityLinkDto])
def identity_links(
    task_id: str, engine: EngineDep, principal: PrincipalDep, type: str | None = None
) -> list[IdentityLinkDto]:
    """Its assignee, owner and candidates (users and groups)."""
    task = _task(engine, principal, task_id).task
    links = [IdentityLinkDto(userId=u, type="candidate") for u in task.candidate_users]
    links += [IdentityLinkDto(groupId=g, type="candidate") for g in task.candidate_groups]
    if task.assignee:
        links.append(IdentityLinkDto(userId=task.assignee, type="assignee"))
    if task.owner:
        links.append(IdentityLinkDto(userId=task.owner, type="owner"))
    return [link for link in links if type is None or link.type == type]


# --- helpers ----------------------------------------------------------------------------------------


def task_filter(q: TaskQueryDto) -> TaskFilter:
    if q.assigned and q.unassigned:
        raise invalid("assigned and unassigned cannot both be true")
    candidate_groups = q.candidateGroups
    if q.candidateGroup is not None:
        candidate_groups = [*(candidate_groups or []), q.candidateGroup]
    return TaskFilter(
        process_instance_ids=one_or_many(q.processInstanceId, q.processInstanceIdIn),
        business_key=q.processInstanceBusinessKey,
        business_key_like=q.processInstanceBusinessKeyLike,
        process_definition_keys=one_or_many(q.processDefinitionKey, q.processDefinitionKeyIn),
        process_definition_id=q.processDefinitionId,
        task_definition_keys=one_or_many(q.taskDefinitionKey, q.taskDefinitionKeyIn),
        task_ids=one_or_many(q.taskId, q.taskIdIn),
        name=q.name,
        name_like=q.nameLike,
        assignees=one_or_many(q.assignee, q.assigneeIn),
        assignee_like=q.assigneeLike,
        candidate_groups=ids(candidate_groups),
        candidate_user=q.candidateUser,
        include_assigned_tasks=bool(q.includeAssignedTasks),
        assigned=True if q.assigned else (False if q.unassigned else None),
        due_before=date("dueBefore", q.dueBefore),
        due_after=date("dueAfter", q.dueAfter),
        created_before=date("createdBefore", q.createdBefore),
        created_after=date("createdAfter", q.createdAfter),
        process_variables=tuple(q.processVariables or ()),
    )


def _query(engine: ProcessEngine, principal: Principal, q: TaskQueryDto, paging: Paging) -> Page[TaskRecord]:
    return engine.camunda.tasks(task_filter(q), paging, principal=principal)


def _require_known(engine: ProcessEngine, principal: Principal, task_id: str) -> TaskDetailView:
    """The task; Camunda answers a task the caller may not see but that exists with 403, not 404."""
    try:
        return engine.tasks.get_task(task_id, principal=principal)
    except NotFound:
        _refuse_unknown(engine, principal, task_id)


def _refuse_unknown(engine: ProcessEngine, principal: Principal, task_id: str) -> NoReturn:
    """The engine found no such task for the principal: 403 if it exists (not theirs to see), else 404."""
    if engine.camunda.task_exists(task_id):
        raise Forbidden(f"task {task_id} is not offered to {principal.name}") from None
    raise invalid(f"No matching task with id {task_id}", status=404) from None


def _task(engine: ProcessEngine, principal: Principal, task_id: str) -> TaskDetailView:
    try:
        return engine.tasks.get_task(task_id, principal=principal)
    except NotFound:
        raise invalid(f"No matching task with id {task_id}", status=404) from None


def _current_assignee(engine: ProcessEngine, principal: Principal, task_id: str) -> str | None:
    try:
        return engine.tasks.get_task(task_id, principal=principal).task.assignee
    except OpsflowError:
        return None
