"""Camunda's query parameters, one pydantic model per resource, used both as the GET query string
(`Annotated[TaskQueryDto, Query()]`) and as the POST body (`POST /task`, `POST /task/count`), so that a
parameter is declared once.

In a query string Camunda writes lists comma-separated (`taskDefinitionKeyIn=a,b`) and variable
conditions as `name_operator_value`; in a body, JSON arrays and `{name, operator, value}` objects. The
model accepts both. Sorting: `sortBy`/`sortOrder` in the query string, `sorting: [{sortBy, sortOrder}]`
in a body; a `sortBy` Camunda does not know is a 400 as in Camunda, one it knows that opsflow cannot
sort by is a 400 naming it. A parameter the model does not declare is a 400 naming it when it is set
(true, non-empty): opsflow never ignores a filter and answers more than was asked. False and empty
values filter nothing, so clients that send every parameter with its default work.
"""

import json
import re
from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, field_validator

from api.camunda.errors import invalid
from api.camunda.variables import parse_date
from engine.queries import MAX_RESULTS, Paging, Sorting
from engine.views import VariableCondition

_CONDITION = re.compile(r"^(?P<name>.+?)_(?P<op>eq|neq|gteq|gt|lteq|lt|like)_(?P<value>.*)$", re.DOTALL)

#: parameters every Camunda client may send that change nothing here
HARMLESS = {
    "deserializeValues",
    "withoutTenantId",
    "includeExtensionProperties",
    "active",
    "withoutDueDate",
    "firstResult",
    "maxResults",
}


class SortingDto(BaseModel):
    model_config = ConfigDict(extra="ignore")
    sortBy: str | None = None
    sortOrder: str | None = None


class CamundaQuery(BaseModel):
    """The common part: sorting, variable conditions, list splitting and the check for parameters opsflow
    does not support."""

    model_config = ConfigDict(extra="allow")

    sortBy: str | None = None
    sortOrder: str | None = None
    sorting: list[SortingDto] | None = None

    #: Camunda's sortBy values of this resource -> the engine's sort key (None: Camunda's, not ours)
    SORT: ClassVar[dict[str, str | None]] = {}
    #: fields holding lists, written comma-separated in a query string
    LISTS: ClassVar[tuple[str, ...]] = ()
    #: fields holding variable conditions
    CONDITIONS: ClassVar[tuple[str, ...]] = ()

    @field_validator("*", mode="before")
    @classmethod
    def _lists(cls, value: Any, info: Any) -> Any:
        if info.field_name in cls.LISTS:
            items = value if isinstance(value, list) else [value] if isinstance(value, str) else value
            if isinstance(items, list):
                return [
                    part
                    for item in items
                    for part in (str(item).split(",") if isinstance(item, str) else [item])
                    if part != ""
                ]
        if info.field_name in cls.CONDITIONS:
            return _conditions(info.field_name, value)
        if isinstance(value, list) and len(value) == 1 and info.field_name not in ("sorting",):
            return value[0]  # a repeated query parameter given once
        return value

    def check_supported(self) -> None:
        extra = self.model_extra or {}
        set_ = sorted(name for name, value in extra.items() if name not in HARMLESS and _is_set(value))
        if set_:
            raise invalid(f"Parameter(s) not supported by opsflow: {', '.join(set_)}")

    def paging(self, first: int | None, max_results: int | None) -> Paging:
        self.check_supported()
        if (first or 0) < 0 or (max_results or 0) < 0:
            raise invalid("firstResult and maxResults must not be negative")
        limit = MAX_RESULTS if max_results is None else min(max_results, MAX_RESULTS)
        return Paging(first or 0, limit, self.sort_order())

    def sort_order(self) -> tuple[Sorting, ...]:
        pairs = [(s.sortBy, s.sortOrder) for s in self.sorting or []]
        if self.sortBy is not None or self.sortOrder is not None:
            if self.sortBy is None or self.sortOrder is None:
                raise invalid("Only a single sorting parameter specified. sortBy and sortOrder required")
            pairs.insert(0, (self.sortBy, self.sortOrder))
        order = []
        for by, direction in pairs:
            if by not in self.SORT:
                raise invalid(f"Cannot set query parameter 'sortBy' to value '{by}'")
            key = self.SORT[by]
            if key is None:
                raise invalid(f"Sorting by '{by}' is not supported by opsflow")
            if direction not in ("asc", "desc"):
                raise invalid(f"Cannot set query parameter 'sortOrder' to value '{direction}'")
            order.append(Sorting(key, direction == "desc"))
        return tuple(order)


def _is_set(value: Any) -> bool:
    if isinstance(value, list):
        return any(_is_set(v) for v in value)
    if isinstance(value, str):
        return value.strip().lower() not in ("", "false")
    return value not in (None, False, [], {})


def _conditions(field: str, value: Any) -> list[VariableCondition] | None:
    if value is None:
        return None
    items = value if isinstance(value, list) else [value]
    found = []
    for item in items:
        if isinstance(item, VariableCondition):
            found.append(item)
        elif isinstance(item, dict):
            name, operator = item.get("name"), item.get("operator")
            if not isinstance(name, str) or not isinstance(operator, str):
                raise invalid(f"{field}: each condition has a name, an operator and a value")
            found.append(VariableCondition(name, operator, item.get("value")))
        elif isinstance(item, str):
            for expression in item.split(","):
                if not expression:
                    continue
                match = _CONDITION.match(expression)
                if match is None:
                    raise invalid(f"{field} query parameter has to have format KEY_OPERATOR_VALUE")
                found.append(VariableCondition(match["name"], match["op"], _scalar(match["value"])))
        else:
            raise invalid(f"{field}: a list of conditions")
    return found


def _scalar(text: str) -> Any:
    """A value in a query string as the JSON scalar it spells (120, true), else as text."""
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, bool | int | float) else text


def date(field: str, value: str | None) -> datetime | None:
    return None if value is None else parse_date(field, value)


def ids(values: list[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(values)


def one_or_many(one: str | None, many: list[str] | None) -> tuple[str, ...] | None:
    """`processDefinitionKey` and `processDefinitionKeyIn` together: what both allow."""
    if one is None:
        return ids(many)
    if many is None:
        return (one,)
    return (one,) if one in many else ()


class TaskQueryDto(CamundaQuery):
    processInstanceId: str | None = None
    processInstanceIdIn: list[str] | None = None
    processInstanceBusinessKey: str | None = None
    processInstanceBusinessKeyLike: str | None = None
    processDefinitionKey: str | None = None
    processDefinitionKeyIn: list[str] | None = None
    processDefinitionId: str | None = None
    taskId: str | None = None
    taskIdIn: list[str] | None = None
    taskDefinitionKey: str | None = None
    taskDefinitionKeyIn: list[str] | None = None
    name: str | None = None
    nameLike: str | None = None
    assignee: str | None = None
    assigneeIn: list[str] | None = None
    assigneeLike: str | None = None
    candidateGroup: str | None = None
    candidateGroups: list[str] | None = None
    candidateUser: str | None = None
    includeAssignedTasks: bool | None = None
    assigned: bool | None = None
    unassigned: bool | None = None
    dueBefore: str | None = None
    dueAfter: str | None = None
    createdBefore: str | None = None
    createdAfter: str | None = None
    processVariables: list[Any] | None = None

    LISTS = (
        "processInstanceIdIn",
        "processDefinitionKeyIn",
        "taskIdIn",
        "taskDefinitionKeyIn",
        "assigneeIn",
        "candidateGroups",
    )
    CONDITIONS = ("processVariables",)
    SORT = {
        "created": "created",
        "dueDate": "due",
        "name": "name",
        "nameCaseInsensitive": "name_ci",
        "assignee": "assignee",
        "id": "id",
        "instanceId": "instance",
        "executionId": "instance",
        "lastUpdated": "updated",
        "priority": None,
        "followUpDate": None,
        "description": None,
        "caseInstanceId": None,
        "caseExecutionId": None,
        "tenantId": None,
        "processVariable": None,
        "executionVariable": None,
        "taskVariable": None,
        "caseExecutionVariable": None,
        "caseInstanceVariable": None,
    }


class ProcessInstanceQueryDto(CamundaQuery):
    processInstanceIds: list[str] | None = None
    businessKey: str | None = None
    businessKeyLike: str | None = None
    processDefinitionKey: str | None = None
    processDefinitionKeyIn: list[str] | None = None
    processDefinitionId: str | None = None
    withIncident: bool | None = None
    activityIdIn: list[str] | None = None
    variables: list[Any] | None = None
    suspended: bool | None = None

    LISTS = ("processInstanceIds", "processDefinitionKeyIn", "activityIdIn")
    CONDITIONS = ("variables",)
    SORT = {
        "instanceId": "id",
        "definitionKey": "key",
        "definitionId": "definition",
        "businessKey": "business_key",
        "tenantId": None,
    }


class ProcessDefinitionQueryDto(CamundaQuery):
    processDefinitionId: str | None = None
    processDefinitionIdIn: list[str] | None = None
    key: str | None = None
    keysIn: list[str] | None = None
    keyLike: str | None = None
    name: str | None = None
    nameLike: str | None = None
    version: int | None = None
    deploymentId: str | None = None
    latestVersion: bool | None = None

    LISTS = ("processDefinitionIdIn", "keysIn")
    SORT = {
        "category": None,
        "key": "key",
        "id": "id",
        "name": "name",
        "version": "version",
        "deploymentId": "deployment",
        "deployTime": "deployed",
        "tenantId": None,
        "versionTag": None,
    }


class DeploymentQueryDto(CamundaQuery):
    id: str | None = None
    name: str | None = None
    nameLike: str | None = None

    SORT = {"id": "id", "name": "name", "deploymentTime": "deployed", "tenantId": None}


class ExternalTaskQueryDto(CamundaQuery):
    externalTaskId: str | None = None
    topicName: str | None = None
    workerId: str | None = None
    processInstanceId: str | None = None
    activityId: str | None = None
    locked: bool | None = None
    notLocked: bool | None = None
    withRetriesLeft: bool | None = None
    noRetriesLeft: bool | None = None

    SORT = {
        "id": "id",
        "lockExpirationTime": "lock_expires",
        "processInstanceId": "instance",
        "processDefinitionKey": "key",
        "taskPriority": "priority",
        "createTime": "created",
        "processDefinitionId": None,
        "tenantId": None,
    }


class VariableInstanceQueryDto(CamundaQuery):
    variableName: str | None = None
    variableNameIn: list[str] | None = None
    variableNameLike: str | None = None
    processInstanceIdIn: list[str] | None = None
    processInstanceId: str | None = None  # history's name for it

    LISTS = ("variableNameIn", "processInstanceIdIn")
    SORT = {
        "variableName": None,
        "variableType": None,
        "activityInstanceId": None,
        "tenantId": None,
        "instanceId": None,
    }


class HistoricProcessInstanceQueryDto(CamundaQuery):
    processInstanceId: str | None = None
    processInstanceIds: list[str] | None = None
    processInstanceBusinessKey: str | None = None
    processInstanceBusinessKeyLike: str | None = None
    processDefinitionKey: str | None = None
    processDefinitionKeyIn: list[str] | None = None
    processDefinitionId: str | None = None
    finished: bool | None = None
    unfinished: bool | None = None
    completed: bool | None = None
    externallyTerminated: bool | None = None
    startedBy: str | None = None

    LISTS = ("processInstanceIds", "processDefinitionKeyIn")
    SORT = {
        "instanceId": "id",
        "definitionKey": "key",
        "definitionId": "definition",
        "businessKey": "business_key",
        "startTime": "started",
        "endTime": "ended",
        "duration": None,
        "definitionName": None,
        "definitionVersion": None,
        "tenantId": None,
    }


class HistoricTaskQueryDto(CamundaQuery):
    taskId: str | None = None
    processInstanceId: str | None = None
    processDefinitionKey: str | None = None
    taskDefinitionKey: str | None = None
    finished: bool | None = None
    unfinished: bool | None = None
    taskAssignee: str | None = None

    SORT = {
        "taskId": "id",
        "startTime": "started",
        "endTime": "ended",
        "taskName": "name",
        "activityInstanceId": None,
        "processDefinitionId": None,
        "processInstanceId": None,
        "executionId": None,
        "duration": None,
        "taskDescription": None,
        "taskDefinitionKey": None,
        "deleteReason": None,
        "assignee": None,
        "owner": None,
        "dueDate": None,
        "followUpDate": None,
        "priority": None,
        "tenantId": None,
    }


class HistoricActivityInstanceQueryDto(CamundaQuery):
    processInstanceId: str | None = None
    activityId: str | None = None
    activityType: str | None = None
    finished: bool | None = None
    unfinished: bool | None = None

    SORT = {
        "activityInstanceId": "id",
        "startTime": "started",
        "endTime": "ended",
        "activityName": "name",
        "instanceId": None,
        "executionId": None,
        "activityId": None,
        "activityType": None,
        "duration": None,
        "definitionId": None,
        "occurrence": None,
        "tenantId": None,
    }


class IncidentQueryDto(CamundaQuery):
    processInstanceId: str | None = None
    incidentType: str | None = None

    SORT = {"incidentId": None, "incidentTimestamp": None, "incidentType": None, "processInstanceId": None}


class JobQueryDto(CamundaQuery):
    processInstanceId: str | None = None
    withException: bool | None = None

    SORT = {
        "jobId": "id",
        "jobDueDate": "due",
        "executionId": None,
        "processInstanceId": None,
        "jobRetries": None,
    }


class UserQueryDto(CamundaQuery):
    id: str | None = None
    idIn: list[str] | None = None
    memberOfGroup: str | None = None

    LISTS = ("idIn",)
    SORT = {"userId": "id", "firstName": None, "lastName": None, "email": None}


class GroupQueryDto(CamundaQuery):
    id: str | None = None
    idIn: list[str] | None = None
    name: str | None = None
    member: str | None = None

    LISTS = ("idIn",)
    SORT = {"id": "id", "name": "name", "type": None}
