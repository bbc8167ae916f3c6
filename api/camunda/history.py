"""/engine-rest/history: process instances of every status, user tasks, activity instances (user
tasks: what the audit log records with times) and variables, answered from opsflow's instance and
audit tables (engine/services/camunda_history.py). GET with query parameters, POST with the same in a
body where Camunda has it, and counts.
"""

from typing import Annotated

from fastapi import Body, Query

from api.camunda.dto import CountResultDto
from api.camunda.dto_history import (
    HistoricActivityInstanceDto,
    HistoricProcessInstanceDto,
    HistoricTaskInstanceDto,
    HistoricVariableInstanceDto,
    historic_activity_dto,
    historic_instance_dto,
    historic_task_dto,
    historic_variable_dto,
)
from api.camunda.errors import camunda_router, invalid
from api.camunda.queries import (
    HistoricActivityInstanceQueryDto,
    HistoricProcessInstanceQueryDto,
    HistoricTaskQueryDto,
    VariableInstanceQueryDto,
    one_or_many,
)
from api.camunda.variable_instance import variable_page
from api.deps import EngineDep, PrincipalDep
from engine.engine import ProcessEngine
from engine.queries import HistoricInstance, HistoricInstanceFilter, HistoricTask, HistoricTaskFilter, Paging
from engine.views import Page, Principal

router = camunda_router("/history", "history")


# --- process instances ------------------------------------------------------------------------------


@router.get("/process-instance", response_model=list[HistoricProcessInstanceDto])
def historic_process_instances(
    q: Annotated[HistoricProcessInstanceQueryDto, Query()],
    engine: EngineDep,
    principal: PrincipalDep,
    firstResult: int | None = None,
    maxResults: int | None = None,
) -> list[HistoricProcessInstanceDto]:
    page = _instances(engine, principal, q, q.paging(firstResult, maxResults))
    return [historic_instance_dto(i) for i in page.items]


@router.post("/process-instance", response_model=list[HistoricProcessInstanceDto])
def historic_process_instances_by_body(
    engine: EngineDep,
    principal: PrincipalDep,
    body: HistoricProcessInstanceQueryDto | None = Body(default=None),
    firstResult: int | None = None,
    maxResults: int | None = None,
) -> list[HistoricProcessInstanceDto]:
    q = body or HistoricProcessInstanceQueryDto()
    page = _instances(engine, principal, q, q.paging(firstResult, maxResults))
    return [historic_instance_dto(i) for i in page.items]


@router.get("/process-instance/count", response_model=CountResultDto)
def count_historic_process_instances(
    q: Annotated[HistoricProcessInstanceQueryDto, Query()], engine: EngineDep, principal: PrincipalDep
) -> CountResultDto:
    return CountResultDto(count=_instances(engine, principal, q, q.paging(0, 0)).total)


@router.get("/process-instance/{instance_id}", response_model=HistoricProcessInstanceDto)
def historic_process_instance(
    instance_id: str, engine: EngineDep, principal: PrincipalDep
) -> HistoricProcessInstanceDto:
    q = HistoricProcessInstanceQueryDto(processInstanceId=instance_id)
    page = _instances(engine, principal, q, Paging(0, 1))
    if not page.items:
        raise invalid(f"Historic process instance with id {instance_id} does not exist", status=404)
    return historic_instance_dto(page.items[0])


# --- tasks and activities ---------------------------------------------------------------------------


@router.get("/task", response_model=list[HistoricTaskInstanceDto])
def historic_tasks(
    q: Annotated[HistoricTaskQueryDto, Query()],
    engine: EngineDep,
    principal: PrincipalDep,
    firstResult: int | None = None,
    maxResults: int | None = None,
) -> list[HistoricTaskInstanceDto]:
    page = _tasks(engine, principal, q, q.paging(firstResult, maxResults))
    return [historic_task_dto(t) for t in page.items]


@router.post("/task", response_model=list[HistoricTaskInstanceDto])
def historic_tasks_by_body(
    engine: EngineDep,
    principal: PrincipalDep,
    body: HistoricTaskQueryDto | None = Body(default=None),
    firstResult: int | None = None,
    maxResults: int | None = None,
) -> list[HistoricTaskInstanceDto]:
    q = body or HistoricTaskQueryDto()
    page = _tasks(engine, principal, q, q.paging(firstResult, maxResults))
    return [historic_task_dto(t) for t in page.items]


@router.get("/task/count", response_model=CountResultDto)
def count_historic_tasks(
    q: Annotated[HistoricTaskQueryDto, Query()], engine: EngineDep, principal: PrincipalDep
) -> CountResultDto:
    return CountResultDto(count=_tasks(engine, principal, q, q.paging(0, 0)).total)


@router.get("/activity-instance", response_model=list[HistoricActivityInstanceDto])
def historic_activity_instances(
    q: Annotated[HistoricActivityInstanceQueryDto, Query()],
    engine: EngineDep,
    principal: PrincipalDep,
    firstResult: int | None = None,
    maxResults: int | None = None,
) -> list[HistoricActivityInstanceDto]:
    """User task activities (the audit log times them); activityType other than userTask finds none."""
    if q.activityType is not None and q.activityType != "userTask":
        q.check_supported()
        return []
    task_query = HistoricTaskQueryDto(
        processInstanceId=q.processInstanceId,
        taskDefinitionKey=q.activityId,
        finished=q.finished,
        unfinished=q.unfinished,
        sorting=q.sorting,
        sortBy={
            "activityInstanceId": "taskId",
            "startTime": "startTime",
            "endTime": "endTime",
            "activityName": "taskName",
        }.get(q.sortBy or "", q.sortBy),
        sortOrder=q.sortOrder,
    )
    q.check_supported()
    page = _tasks(engine, principal, task_query, task_query.paging(firstResult, maxResults))
    return [historic_activity_dto(t) for t in page.items]


@router.get("/activity-instance/count", response_model=CountResultDto)
def count_historic_activity_instances(
    q: Annotated[HistoricActivityInstanceQueryDto, Query()], engine: EngineDep, principal: PrincipalDep
) -> CountResultDto:
    return CountResultDto(count=len(historic_activity_instances(q, engine, principal, 0, None)))


# --- variables --------------------------------------------------------------------------------------


@router.get("/variable-instance", response_model=list[HistoricVariableInstanceDto])
def historic_variables(
    q: Annotated[VariableInstanceQueryDto, Query()],
    engine: EngineDep,
    principal: PrincipalDep,
    firstResult: int | None = None,
    maxResults: int | None = None,
) -> list[HistoricVariableInstanceDto]:
    """The variables of instances of every status, as they are now (or were when the instance ended)."""
    page = variable_page(engine, principal, q, q.paging(firstResult, maxResults), statuses=None)
    return [historic_variable_dto(v) for v in page.items]


@router.get("/variable-instance/count", response_model=CountResultDto)
def count_historic_variables(
    q: Annotated[VariableInstanceQueryDto, Query()], engine: EngineDep, principal: PrincipalDep
) -> CountResultDto:
    return CountResultDto(count=variable_page(engine, principal, q, q.paging(0, 0), statuses=None).total)


# --- helpers ----------------------------------------------------------------------------------------


def _instances(
    engine: ProcessEngine, principal: Principal, q: HistoricProcessInstanceQueryDto, paging: Paging
) -> Page[HistoricInstance]:
    finished = True if q.finished else (False if q.unfinished else None)
    states = ("completed",) if q.completed else (("cancelled",) if q.externallyTerminated else None)
    f = HistoricInstanceFilter(
        ids=one_or_many(q.processInstanceId, q.processInstanceIds),
        business_key=q.processInstanceBusinessKey,
        business_key_like=q.processInstanceBusinessKeyLike,
        process_definition_keys=one_or_many(q.processDefinitionKey, q.processDefinitionKeyIn),
        process_definition_id=q.processDefinitionId,
        finished=finished,
        started_by=q.startedBy,
        states=states,
    )
    return engine.camunda_history.instances(f, paging, principal=principal)


def _tasks(
    engine: ProcessEngine, principal: Principal, q: HistoricTaskQueryDto, paging: Paging
) -> Page[HistoricTask]:
    f = HistoricTaskFilter(
        instance_id=q.processInstanceId,
        task_id=q.taskId,
        process_definition_key=q.processDefinitionKey,
        task_definition_key=q.taskDefinitionKey,
        finished=True if q.finished else (False if q.unfinished else None),
        assignee=q.taskAssignee,
    )
    return engine.camunda_history.tasks(f, paging, principal=principal)
