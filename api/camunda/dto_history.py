"""Camunda-shaped DTOs of history, variable instances, incidents, jobs, identity and the engine, with
their builders from engine records (Camunda's names; dates in Camunda's format, see dto.py)."""

from typing import Any

from pydantic import BaseModel

from api.camunda.dto import CamundaDate
from api.camunda.variables import typed_value
from engine.queries import HistoricInstance, HistoricTask, IncidentRecord, JobRecord, VariableRecord

#: opsflow status -> Camunda's historic process instance state
STATES = {"running": "ACTIVE", "completed": "COMPLETED", "cancelled": "EXTERNALLY_TERMINATED"}


class HistoricProcessInstanceDto(BaseModel):
    id: str
    rootProcessInstanceId: str
    superProcessInstanceId: str | None = None
    superCaseInstanceId: str | None = None
    caseInstanceId: str | None = None
    processDefinitionName: str | None
    processDefinitionKey: str
    processDefinitionVersion: int
    processDefinitionId: str
    businessKey: str | None
    startTime: CamundaDate
    endTime: CamundaDate
    removalTime: CamundaDate = None
    durationInMillis: int | None
    startUserId: str | None
    startActivityId: str | None = None
    deleteReason: str | None = None
    tenantId: str | None = None
    state: str


class HistoricTaskInstanceDto(BaseModel):
    id: str
    processDefinitionKey: str
    processDefinitionId: str
    processInstanceId: str
    executionId: str
    caseDefinitionKey: str | None = None
    caseDefinitionId: str | None = None
    caseInstanceId: str | None = None
    caseExecutionId: str | None = None
    activityInstanceId: str
    name: str | None
    description: str | None = None
    deleteReason: str | None
    owner: str | None = None
    assignee: str | None
    startTime: CamundaDate
    endTime: CamundaDate
    duration: int | None
    taskDefinitionKey: str
    priority: int = 50
    due: CamundaDate = None
    parentTaskId: str | None = None
    followUp: CamundaDate = None
    tenantId: str | None = None
    removalTime: CamundaDate = None
    rootProcessInstanceId: str
    taskState: str | None = None


class HistoricActivityInstanceDto(BaseModel):
    id: str
    parentActivityInstanceId: str
    activityId: str
    activityName: str | None
    activityType: str
    processDefinitionKey: str
    processDefinitionId: str
    processInstanceId: str
    executionId: str
    taskId: str | None
    calledProcessInstanceId: str | None = None
    calledCaseInstanceId: str | None = None
    assignee: str | None
    startTime: CamundaDate
    endTime: CamundaDate
    durationInMillis: int | None
    canceled: bool
    completeScope: bool = False
    tenantId: str | None = None
    removalTime: CamundaDate = None
    rootProcessInstanceId: str


class VariableInstanceDto(BaseModel):
    id: str
    name: str
    type: str
    value: Any = None
    valueInfo: dict[str, Any]
    processDefinitionId: str
    processInstanceId: str
    executionId: str
    caseInstanceId: str | None = None
    caseExecutionId: str | None = None
    taskId: str | None = None
    batchId: str | None = None
    activityInstanceId: str
    tenantId: str | None = None
    errorMessage: str | None = None


class HistoricVariableInstanceDto(VariableInstanceDto):
    processDefinitionKey: str
    createTime: CamundaDate
    removalTime: CamundaDate = None
    rootProcessInstanceId: str
    state: str = "CREATED"


class IncidentDto(BaseModel):
    id: str
    processDefinitionId: str | None
    processInstanceId: str | None
    executionId: str | None
    incidentTimestamp: CamundaDate
    incidentType: str
    activityId: str | None
    failedActivityId: str | None
    causeIncidentId: str
    rootCauseIncidentId: str
    configuration: str | None
    tenantId: str | None = None
    incidentMessage: str | None
    jobDefinitionId: str | None = None
    annotation: str | None = None


class JobDto(BaseModel):
    id: str
    jobDefinitionId: str | None = None
    dueDate: CamundaDate
    processInstanceId: str | None
    executionId: str | None
    processDefinitionId: str | None = None
    processDefinitionKey: str | None = None
    retries: int
    exceptionMessage: str | None
    failedActivityId: str | None = None
    suspended: bool = False
    priority: int = 0
    tenantId: str | None = None
    createTime: CamundaDate


class VersionDto(BaseModel):
    version: str


class EngineDto(BaseModel):
    name: str


class UserProfileDto(BaseModel):
    id: str
    firstName: str | None
    lastName: str | None
    email: str | None


class GroupDto(BaseModel):
    id: str
    name: str
    type: str


def _millis(start: Any, end: Any) -> int | None:
    return None if end is None else int((end - start).total_seconds() * 1000)


def historic_instance_dto(i: HistoricInstance) -> HistoricProcessInstanceDto:
    return HistoricProcessInstanceDto(
        id=i.id,
        rootProcessInstanceId=i.id,
        processDefinitionName=i.definition_name or None,
        processDefinitionKey=i.process_key,
        processDefinitionVersion=i.version,
        processDefinitionId=i.definition_id,
        businessKey=i.business_key,
        startTime=i.started_at,
        endTime=i.ended_at,
        durationInMillis=_millis(i.started_at, i.ended_at),
        startUserId=i.started_by,
        state="ACTIVE" if i.status == "running" and not i.has_incident else STATES.get(i.status, "ACTIVE"),
    )


def historic_task_dto(t: HistoricTask) -> HistoricTaskInstanceDto:
    return HistoricTaskInstanceDto(
        id=t.id,
        processDefinitionKey=t.process_key,
        processDefinitionId=t.definition_id,
        processInstanceId=t.instance_id,
        executionId=t.instance_id,
        activityInstanceId=f"{t.element_id}:{t.id}",
        name=t.name or None,
        deleteReason=("completed" if t.completed else "deleted") if t.ended_at else None,
        assignee=t.assignee,
        startTime=t.created_at,
        endTime=t.ended_at,
        duration=_millis(t.created_at, t.ended_at),
        taskDefinitionKey=t.element_id,
        rootProcessInstanceId=t.instance_id,
        taskState=("Completed" if t.completed else "Deleted") if t.ended_at else "Created",
    )


def historic_activity_dto(t: HistoricTask) -> HistoricActivityInstanceDto:
    return HistoricActivityInstanceDto(
        id=f"{t.element_id}:{t.id}",
        parentActivityInstanceId=t.instance_id,
        activityId=t.element_id,
        activityName=t.name or None,
        activityType="userTask",
        processDefinitionKey=t.process_key,
        processDefinitionId=t.definition_id,
        processInstanceId=t.instance_id,
        executionId=t.instance_id,
        taskId=t.id,
        assignee=t.assignee,
        startTime=t.created_at,
        endTime=t.ended_at,
        durationInMillis=_millis(t.created_at, t.ended_at),
        canceled=bool(t.ended_at and not t.completed),
        rootProcessInstanceId=t.instance_id,
    )


def _variable_fields(v: VariableRecord) -> dict[str, Any]:
    typed = typed_value(v.value, v.declared)
    return {
        "id": f"{v.instance_id}:{v.name}",
        "name": v.name,
        "type": typed["type"],
        "value": typed["value"],
        "valueInfo": typed["valueInfo"],
        "processDefinitionId": v.definition_id,
        "processInstanceId": v.instance_id,
        "executionId": v.instance_id,
        "activityInstanceId": v.instance_id,
    }


def variable_instance_dto(v: VariableRecord) -> VariableInstanceDto:
    return VariableInstanceDto(**_variable_fields(v))


def historic_variable_dto(v: VariableRecord) -> HistoricVariableInstanceDto:
    return HistoricVariableInstanceDto(
        **_variable_fields(v),
        processDefinitionKey=v.process_key,
        createTime=v.created_at,
        rootProcessInstanceId=v.instance_id,
    )


def incident_dto(i: IncidentRecord) -> IncidentDto:
    return IncidentDto(
        id=i.id,
        processDefinitionId=i.definition_id,
        processInstanceId=i.instance_id,
        executionId=i.instance_id,
        incidentTimestamp=i.at,
        incidentType=i.kind,
        activityId=i.element_id,
        failedActivityId=i.element_id,
        causeIncidentId=i.id,
        rootCauseIncidentId=i.id,
        configuration=i.configuration,
        incidentMessage=i.message,
    )


def job_dto(j: JobRecord) -> JobDto:
    return JobDto(
        id=j.id,
        dueDate=j.due_at,
        processInstanceId=j.instance_id,
        executionId=j.instance_id,
        retries=0 if j.failed else 1,
        exceptionMessage=j.last_error,
        createTime=j.created_at,
    )
