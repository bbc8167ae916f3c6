"""/engine-rest/task: query user tasks, read one, its form variables; claim, unclaim, delegate, resolve,
complete.

The query covers every open task the caller may see (as admin: all), not only their inbox. Filters:
processInstanceId, processInstanceBusinessKey, processDefinitionKey, processDefinitionId,
taskDefinitionKey, name, assignee, candidateGroup, candidateUser (directly or through a role),
includeAssignedTasks, assigned, unassigned, firstResult, maxResults (at most 1000). As in Camunda, the
candidate filters find unassigned tasks unless includeAssignedTasks=true. Other Camunda filters are
ignored, as Camunda ignores unknown query parameters.

Completing validates the variables against the task's form, as the native API does (400 lists every
offending field).
"""

from typing import Any

from fastapi import Body, Response
from fastapi.responses import JSONResponse

from api.camunda.dto import CompleteTaskDto, CountResultDto, TaskDto, UserIdDto, VariableValueOutDto, task_dto
from api.camunda.errors import CamundaError, camunda_router, invalid
from api.camunda.variables import from_camunda, to_camunda_map
from api.deps import EngineDep, PrincipalDep
from engine.engine import ProcessEngine
from engine.errors import Conflict, NotFound, OpsflowError
from engine.services.camunda_queries import MAX_RESULTS, CamundaQueries, TaskFilter, TaskRecord
from engine.views import Page, Principal, TaskDetailView

router = camunda_router("/task", "task")


@router.get("", response_model=list[TaskDto])
def query_tasks(
    engine: EngineDep,
    principal: PrincipalDep,
    processInstanceId: str | None = None,
    processInstanceBusinessKey: str | None = None,
    processDefinitionKey: str | None = None,
    processDefinitionId: str | None = None,
    taskDefinitionKey: str | None = None,
    name: str | None = None,
    assignee: str | None = None,
    candidateGroup: str | None = None,
    candidateUser: str | None = None,
    includeAssignedTasks: bool = False,
    assigned: bool | None = None,
    unassigned: bool | None = None,
    firstResult: int | None = None,
    maxResults: int | None = None,
) -> list[TaskDto]:
    """Open tasks, oldest first."""
    task_filter = _filter(locals())
    page = _query(engine, principal, task_filter, firstResult, maxResults)
    return [task_dto(r) for r in page.items]


@router.get("/count", response_model=CountResultDto)
def count_tasks(
    engine: EngineDep,
    principal: PrincipalDep,
    processInstanceId: str | None = None,
    processInstanceBusinessKey: str | None = None,
    processDefinitionKey: str | None = None,
    processDefinitionId: str | None = None,
    taskDefinitionKey: str | None = None,
    name: str | None = None,
    assignee: str | None = None,
    candidateGroup: str | None = None,
    candidateUser: str | None = None,
    includeAssignedTasks: bool = False,
    assigned: bool | None = None,
    unassigned: bool | None = None,
) -> CountResultDto:
    return CountResultDto(count=_query(engine, principal, _filter(locals()), 0, 0).total)


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
    return to_camunda_map(detail.instance.variables, names)


@router.post("/{task_id}/claim", status_code=204, response_class=Response)
def claim(
    task_id: str, engine: EngineDep, principal: PrincipalDep, body: UserIdDto | None = Body(default=None)
) -> Response:
    """Claims the task for userId (default: the caller). Claiming for someone else is assigning, which
    the instance's leader or an admin may do; a task claimed by another is a 400."""
    user = (body.userId if body else None) or principal.name
    try:
        if user == principal.name:
            engine.tasks.claim(task_id, principal=principal)
        else:
            if _task(engine, principal, task_id).task.assignee is not None:
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
    variables = from_camunda(body.variables) if body else {}
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
        return JSONResponse(to_camunda_map(detail.instance.variables))
    return Response(status_code=204)


# --- helpers ----------------------------------------------------------------------------------------

_FILTER_PARAMS = {
    "processInstanceId": "process_instance_id",
    "processInstanceBusinessKey": "process_instance_business_key",
    "processDefinitionKey": "process_definition_key",
    "processDefinitionId": "process_definition_id",
    "taskDefinitionKey": "task_definition_key",
    "name": "name",
    "assignee": "assignee",
    "candidateGroup": "candidate_group",
    "candidateUser": "candidate_user",
}


def _filter(params: dict[str, Any]) -> TaskFilter:
    assigned, unassigned = params.get("assigned"), params.get("unassigned")
    if assigned and unassigned:
        raise invalid("assigned and unassigned cannot both be true")
    return TaskFilter(
        **{field: params[param] for param, field in _FILTER_PARAMS.items() if params.get(param) is not None},
        include_assigned_tasks=bool(params.get("includeAssignedTasks")),
        assigned=True if assigned else (False if unassigned else None),
    )


def _query(
    engine: ProcessEngine,
    principal: Principal,
    task_filter: TaskFilter,
    first: int | None,
    max_results: int | None,
) -> Page[TaskRecord]:
    limit = MAX_RESULTS if max_results is None else max_results
    return CamundaQueries.of(engine).tasks(task_filter, principal=principal, offset=first or 0, limit=limit)


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
