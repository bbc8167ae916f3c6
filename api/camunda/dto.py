"""Camunda-shaped DTOs, with Camunda's names (camelCase, `...Dto`), and their builders from engine views.

Requests ignore fields they do not know, as Camunda's clients send more than this subset reads (the
Python client sends `sorting`, `deserializeValues`, `includeExtensionProperties`, ...). Booleans and
numbers accept JSON null as Camunda's Jackson does for Java primitives (null -> false / 0).
Responses include null fields, as Camunda's do; dates use Camunda's `yyyy-MM-dd'T'HH:mm:ss.SSSZ`.
"""

from datetime import datetime
from typing import Annotated, Any

from fastapi import Request
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer

from api.camunda.errors import PREFIX
from api.camunda.variables import format_date, to_camunda_map
from engine.queries import DefinitionRecord, DeploymentRecord, TaskRecord
from engine.types import JsonObject
from engine.views import ExternalTaskView, InstanceView

CamundaDate = Annotated[datetime | None, PlainSerializer(format_date, return_type=str | None)]


class CamundaRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")


class VariableValueDto(BaseModel):
    """A typed value: `value`, `type` (String, Integer, Json, ...) and `valueInfo`."""

    model_config = ConfigDict(extra="ignore")
    value: Any = None
    type: str | None = None
    valueInfo: dict[str, Any] | None = None


Variables = dict[str, VariableValueDto] | None


# --- requests ---------------------------------------------------------------------------------------


class FetchExternalTaskTopicDto(CamundaRequest):
    topicName: str = Field(min_length=1)
    lockDuration: int | None = None
    variables: list[str] | None = None
    businessKey: str | None = None
    processDefinitionId: str | None = None
    processDefinitionIdIn: list[str] | None = None
    processDefinitionKey: str | None = None
    processDefinitionKeyIn: list[str] | None = None
    processDefinitionVersionTag: str | None = None
    processVariables: dict[str, Any] | None = None
    localVariables: bool | None = False
    deserializeValues: bool | None = False
    includeExtensionProperties: bool | None = False
    withoutTenantId: bool | None = False
    tenantIdIn: list[str] | None = None


class FetchExternalTasksDto(CamundaRequest):
    workerId: str | None = None
    maxTasks: int | None = 0
    usePriority: bool | None = False
    asyncResponseTimeout: int | None = None
    topics: list[FetchExternalTaskTopicDto] | None = None
    includeExtensionProperties: bool | None = False
    sorting: list[dict[str, Any]] | None = None


class CompleteExternalTaskDto(CamundaRequest):
    workerId: str | None = None
    variables: Variables = None
    localVariables: Variables = None


class ExternalTaskFailureDto(CamundaRequest):
    workerId: str | None = None
    errorMessage: str | None = None
    errorDetails: str | None = None
    retries: int | None = 0
    retryTimeout: int | None = 0
    variables: Variables = None
    localVariables: Variables = None


class ExternalTaskBpmnErrorDto(CamundaRequest):
    workerId: str | None = None
    errorCode: str | None = None
    errorMessage: str | None = None
    variables: Variables = None


class ExtendLockOnExternalTaskDto(CamundaRequest):
    workerId: str | None = None
    newDuration: int | None = 0


class CorrelationMessageDto(CamundaRequest):
    messageName: str | None = None
    businessKey: str | None = None
    correlationKeys: Variables = None
    localCorrelationKeys: Variables = None
    processVariables: Variables = None
    processVariablesLocal: Variables = None
    processVariablesToTriggeredScope: Variables = None
    tenantId: str | None = None
    withoutTenantId: bool | None = False
    processInstanceId: str | None = None
    all: bool | None = False
    resultEnabled: bool | None = False
    variablesInResultEnabled: bool | None = False


class StartProcessInstanceDto(CamundaRequest):
    variables: Variables = None
    businessKey: str | None = None
    caseInstanceId: str | None = None
    startInstructions: list[dict[str, Any]] | None = None
    skipCustomListeners: bool | None = False
    skipIoMappings: bool | None = False
    withVariablesInReturn: bool | None = False


class UserIdDto(CamundaRequest):
    userId: str | None = None


class CompleteTaskDto(CamundaRequest):
    variables: Variables = None
    withVariablesInReturn: bool | None = False


# --- responses --------------------------------------------------------------------------------------


class ExceptionDto(BaseModel):
    type: str
    message: str
    code: int | None = None


class VariableValueOutDto(BaseModel):
    type: str
    value: Any = None
    valueInfo: dict[str, Any] = Field(default_factory=dict)


class CountResultDto(BaseModel):
    count: int


class AtomLink(BaseModel):
    method: str
    href: str
    rel: str


class ProcessInstanceDto(BaseModel):
    links: list[AtomLink] = Field(default_factory=list)
    id: str
    definitionId: str
    definitionKey: str | None = None
    businessKey: str | None = None
    caseInstanceId: str | None = None
    ended: bool
    suspended: bool = False
    tenantId: str | None = None


class ProcessInstanceWithVariablesDto(ProcessInstanceDto):
    variables: dict[str, VariableValueOutDto] = Field(default_factory=dict)


class ExecutionDto(BaseModel):
    id: str
    processInstanceId: str
    ended: bool
    tenantId: str | None = None


class MessageCorrelationResultDto(BaseModel):
    resultType: str  # "Execution" (a waiting instance received it) or "ProcessDefinition" (it started one)
    execution: ExecutionDto | None = None
    processInstance: ProcessInstanceDto | None = None
    variables: dict[str, VariableValueOutDto] | None = None


class LockedExternalTaskDto(BaseModel):
    activityId: str
    activityInstanceId: str
    errorMessage: str | None
    errorDetails: str | None
    executionId: str
    id: str
    lockExpirationTime: CamundaDate
    createTime: CamundaDate
    processDefinitionId: str
    processDefinitionKey: str
    processDefinitionVersionTag: str | None = None
    processInstanceId: str
    retries: int | None
    suspended: bool = False
    workerId: str | None
    topicName: str
    tenantId: str | None = None
    variables: dict[str, VariableValueOutDto]
    priority: int
    businessKey: str | None
    extensionProperties: dict[str, str] = Field(default_factory=dict)


class CamundaFormRef(BaseModel):
    key: str
    binding: str = "latest"
    version: int | None = None


class TaskDto(BaseModel):
    id: str
    name: str | None
    assignee: str | None
    created: CamundaDate
    due: CamundaDate
    followUp: CamundaDate = None
    lastUpdated: CamundaDate = None
    delegationState: str | None = None
    description: str | None = None
    executionId: str
    owner: str | None = None
    parentTaskId: str | None = None
    priority: int = 50
    processDefinitionId: str
    processInstanceId: str
    taskDefinitionKey: str
    caseExecutionId: str | None = None
    caseInstanceId: str | None = None
    caseDefinitionId: str | None = None
    suspended: bool = False
    formKey: str | None = None
    camundaFormRef: CamundaFormRef | None = None
    tenantId: str | None = None
    taskState: str | None = "Created"


class IdentityLinkDto(BaseModel):
    userId: str | None = None
    groupId: str | None = None
    type: str


class TaskCountByCandidateGroupResultDto(BaseModel):
    groupName: str | None
    taskCount: int


class ActivityInstanceDto(BaseModel):
    id: str
    parentActivityInstanceId: str | None
    activityId: str
    activityType: str
    processInstanceId: str
    processDefinitionId: str
    childActivityInstances: list["ActivityInstanceDto"] = Field(default_factory=list)
    childTransitionInstances: list[JsonObject] = Field(default_factory=list)
    executionIds: list[str] = Field(default_factory=list)
    activityName: str | None = None
    incidentIds: list[str] = Field(default_factory=list)
    incidents: list[JsonObject] = Field(default_factory=list)


class RetriesDto(CamundaRequest):
    retries: int | None = None


class ExternalTaskDto(BaseModel):
    activityId: str
    activityInstanceId: str
    errorMessage: str | None
    executionId: str
    id: str
    lockExpirationTime: CamundaDate
    createTime: CamundaDate
    processDefinitionId: str
    processDefinitionKey: str
    processDefinitionVersionTag: str | None = None
    processInstanceId: str
    retries: int | None
    suspended: bool = False
    workerId: str | None
    topicName: str
    tenantId: str | None = None
    priority: int
    businessKey: str | None


class ProcessDefinitionDto(BaseModel):
    id: str
    key: str
    category: str | None = None
    description: str | None = None
    name: str | None
    version: int
    resource: str
    deploymentId: str
    diagram: str | None = None
    suspended: bool = False
    tenantId: str | None = None
    versionTag: str | None = None
    historyTimeToLive: int | None = None
    startableInTasklist: bool = True


class ProcessDefinitionDiagramDto(BaseModel):
    id: str
    bpmn20Xml: str


class FormDto(BaseModel):
    key: str | None
    contextPath: str | None
    camundaFormRef: JsonObject | None = None


class DeploymentDto(BaseModel):
    links: list[AtomLink] = Field(default_factory=list)
    id: str
    name: str | None
    source: str | None = None
    deploymentTime: CamundaDate = None
    tenantId: str | None = None


class DeploymentWithDefinitionsDto(DeploymentDto):
    deployedProcessDefinitions: dict[str, ProcessDefinitionDto] | None = None
    deployedCaseDefinitions: dict[str, JsonObject] | None = None
    deployedDecisionDefinitions: dict[str, JsonObject] | None = None
    deployedDecisionRequirementsDefinitions: dict[str, JsonObject] | None = None


class PatchVariablesDto(CamundaRequest):
    modifications: Variables = None
    deletions: list[str] | None = None


# --- builders ---------------------------------------------------------------------------------------


def process_instance_dto(
    instance: InstanceView, base_url: str, *, with_variables: bool = False
) -> ProcessInstanceDto:
    fields = {
        "links": [AtomLink(method="GET", href=f"{base_url}/process-instance/{instance.id}", rel="self")],
        "id": instance.id,
        "definitionId": instance.definition_id,
        "definitionKey": instance.process_key,
        "businessKey": instance.business_key,
        "ended": instance.status not in ("running", "suspended"),
        "suspended": instance.status == "suspended",
    }
    if with_variables:
        variables = to_camunda_map(instance.variables, types=instance.variable_types)
        return ProcessInstanceWithVariablesDto(**fields, variables=variables)
    return ProcessInstanceDto(**fields)


def locked_external_task_dto(
    task: ExternalTaskView, *, extension_properties: dict[str, str]
) -> LockedExternalTaskDto:
    return LockedExternalTaskDto(
        activityId=task.element_id,
        activityInstanceId=f"{task.element_id}:{task.id}",
        errorMessage=task.error_message,
        errorDetails=task.error_details,
        executionId=task.id,
        id=task.id,
        lockExpirationTime=task.lock_expires_at,
        createTime=task.created_at,
        processDefinitionId=task.definition_id,
        processDefinitionKey=task.process_key,
        processInstanceId=task.instance_id,
        retries=task.retries,
        workerId=task.worker_id,
        topicName=task.topic,
        variables=to_camunda_map(task.variables, types=task.variable_types),
        priority=task.priority,
        businessKey=task.business_key,
        extensionProperties=extension_properties,
    )


def process_definition_dto(d: DefinitionRecord) -> ProcessDefinitionDto:
    return ProcessDefinitionDto(
        id=d.id,
        key=d.key,
        name=d.name or None,
        version=d.version,
        resource=d.resource_name,
        deploymentId=d.deployment_id,
    )


def deployment_dto(d: DeploymentRecord, base_url: str, *, source: str | None = None) -> DeploymentDto:
    return DeploymentDto(
        links=[AtomLink(method="GET", href=f"{base_url}/deployment/{d.id}", rel="self")],
        id=d.id,
        name=d.name or None,
        source=source,
        deploymentTime=d.deployed_at,
    )


def external_task_dto(r: ExternalTaskView) -> ExternalTaskDto:
    return ExternalTaskDto(
        activityId=r.element_id,
        activityInstanceId=f"{r.element_id}:{r.id}",
        errorMessage=r.error_message,
        executionId=r.id,
        id=r.id,
        lockExpirationTime=r.lock_expires_at,
        createTime=r.created_at,
        processDefinitionId=r.definition_id,
        processDefinitionKey=r.process_key,
        processInstanceId=r.instance_id,
        retries=r.retries,
        workerId=r.worker_id,
        topicName=r.topic,
        priority=r.priority,
        businessKey=r.business_key,
    )


def task_dto(record: TaskRecord) -> TaskDto:
    task = record.task
    return TaskDto(
        id=task.id,
        name=task.name,
        assignee=task.assignee,
        created=task.created_at,
        due=task.due_at,
        lastUpdated=task.claimed_at,
        description=record.documentation or None,
        executionId=task.instance_id,
        processDefinitionId=record.definition_id,
        processInstanceId=task.instance_id,
        taskDefinitionKey=task.element_id,
        camundaFormRef=CamundaFormRef(key=task.form_key) if task.form_key else None,
        owner=task.owner,
        delegationState=task.delegation.upper() if task.delegation else None,
    )


def engine_rest_url(request: Request) -> str:
    """The absolute base of this API, for Camunda's `links`."""
    return str(request.base_url).rstrip("/") + PREFIX
