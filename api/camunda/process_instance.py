"""/engine-rest/process-instance: the running instances the caller may see (query with GET parameters
or a POST body, counts), one instance, deleting (cancelling) it, its variables (read, set, delete) and
its activity instance tree (an ended instance is 404 here, as in Camunda's runtime API).

Query parameters are ProcessInstanceQueryDto's (api/camunda/queries.py): processInstanceIds,
businessKey, businessKeyLike, processDefinitionKey, processDefinitionKeyIn, processDefinitionId,
withIncident, activityIdIn (instances with a token at one of the elements: an open task, an external
task, a message wait) and variables (`name_operator_value`). As in Camunda, the runtime API lists
running and suspended instances; `suspended=true` finds only those an operator suspended.
"""

from typing import Annotated, Any

from fastapi import Body, Query, Request, Response

from api.camunda.dto import (
    ActivityInstanceDto,
    CountResultDto,
    PatchVariablesDto,
    ProcessInstanceDto,
    VariableValueDto,
    VariableValueOutDto,
    engine_rest_url,
    process_instance_dto,
)
from api.camunda.errors import CamundaError, camunda_router, invalid
from api.camunda.queries import ProcessInstanceQueryDto, ids, one_or_many
from api.camunda.variables import binary_content, from_camunda, to_camunda_map, typed_value
from api.deps import EngineDep, PrincipalDep
from engine.engine import ProcessEngine
from engine.errors import NotFound
from engine.queries import Paging
from engine.views import InstanceFilter, InstanceView, Page, Principal

router = camunda_router("/process-instance", "process instance")

InstanceQuery = Annotated[ProcessInstanceQueryDto, Query()]


@router.get("", response_model=list[ProcessInstanceDto])
def query_process_instances(
    q: InstanceQuery,
    request: Request,
    engine: EngineDep,
    principal: PrincipalDep,
    firstResult: int | None = None,
    maxResults: int | None = None,
) -> list[ProcessInstanceDto]:
    """Running instances visible to the caller, newest first unless sorted."""
    page = _query(engine, principal, q, q.paging(firstResult, maxResults))
    base = engine_rest_url(request)
    return [process_instance_dto(i, base) for i in page.items]


@router.post("", response_model=list[ProcessInstanceDto])
def query_process_instances_by_body(
    request: Request,
    engine: EngineDep,
    principal: PrincipalDep,
    body: ProcessInstanceQueryDto | None = Body(default=None),
    firstResult: int | None = None,
    maxResults: int | None = None,
) -> list[ProcessInstanceDto]:
    q = body or ProcessInstanceQueryDto()
    page = _query(engine, principal, q, q.paging(firstResult, maxResults))
    base = engine_rest_url(request)
    return [process_instance_dto(i, base) for i in page.items]


@router.get("/count", response_model=CountResultDto)
def count_process_instances(q: InstanceQuery, engine: EngineDep, principal: PrincipalDep) -> CountResultDto:
    return CountResultDto(count=_query(engine, principal, q, q.paging(0, 0)).total)


@router.post("/count", response_model=CountResultDto)
def count_process_instances_by_body(
    engine: EngineDep, principal: PrincipalDep, body: ProcessInstanceQueryDto | None = Body(default=None)
) -> CountResultDto:
    q = body or ProcessInstanceQueryDto()
    return CountResultDto(count=_query(engine, principal, q, q.paging(0, 0)).total)


@router.get("/{instance_id}", response_model=ProcessInstanceDto)
def get_process_instance(
    instance_id: str, request: Request, engine: EngineDep, principal: PrincipalDep
) -> ProcessInstanceDto:
    return process_instance_dto(_instance(engine, principal, instance_id), engine_rest_url(request))


@router.delete("/{instance_id}", status_code=204, response_class=Response)
def delete_process_instance(
    instance_id: str,
    engine: EngineDep,
    principal: PrincipalDep,
    deleteReason: str | None = None,
    skipCustomListeners: bool = False,
    skipIoMappings: bool = False,
    skipSubprocesses: bool = False,
    failIfNotExists: bool = True,
) -> Response:
    """Cancels the instance (its leader or an admin); the history keeps it, with the reason."""
    try:
        _instance(engine, principal, instance_id)
    except CamundaError:
        if not failIfNotExists:
            return Response(status_code=204)
        raise
    engine.runtime.cancel(instance_id, principal=principal, reason=deleteReason or "")
    return Response(status_code=204)


@router.get("/{instance_id}/activity-instances", response_model=ActivityInstanceDto)
def activity_instances(instance_id: str, engine: EngineDep, principal: PrincipalDep) -> ActivityInstanceDto:
    """The instance as Camunda's activity instance tree: the process at the root, one child per
    token (an open task, a wait for a message or a timer, a failed step)."""
    detail = engine.runtime.get_instance(instance_id, principal=principal)
    instance = detail.instance
    if instance.status not in RUNTIME_STATUSES:
        raise invalid(f"Process instance with id {instance_id} does not exist", status=404)
    children = [
        ActivityInstanceDto(
            id=f"{token.element_id}:{instance.id}:{n}",
            parentActivityInstanceId=instance.id,
            activityId=token.element_id,
            activityType=token.waits_for.split(":")[0] + "Wait" if token.waits_for else token.state,
            processInstanceId=instance.id,
            processDefinitionId=instance.definition_id,
            executionIds=[instance.id],
            incidentIds=[f"instance:{instance.id}"] if token.state == "error" else [],
        )
        for n, token in enumerate(detail.path.tokens if detail.path else [])
    ]
    return ActivityInstanceDto(
        id=instance.id,
        parentActivityInstanceId=None,
        activityId=instance.definition_id,
        activityType="processDefinition",
        processInstanceId=instance.id,
        processDefinitionId=instance.definition_id,
        childActivityInstances=children,
        executionIds=[instance.id],
    )


@router.get("/{instance_id}/variables", response_model=dict[str, VariableValueOutDto])
def get_variables(instance_id: str, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    instance = _instance(engine, principal, instance_id)
    return to_camunda_map(instance.variables, types=instance.variable_types)


@router.post("/{instance_id}/variables", status_code=204, response_class=Response)
def modify_variables(
    instance_id: str, body: PatchVariablesDto, engine: EngineDep, principal: PrincipalDep
) -> Response:
    """Sets `modifications` and removes `deletions` in one change (the instance's leader, an admin or
    an integration account)."""
    _instance(engine, principal, instance_id)
    modifications = from_camunda(body.modifications)
    engine.runtime.set_variables(instance_id, modifications, body.deletions or [], principal=principal)
    return Response(status_code=204)


@router.get("/{instance_id}/variables/{name}", response_model=VariableValueOutDto)
def get_variable(instance_id: str, name: str, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    instance = _instance(engine, principal, instance_id)
    if name not in instance.variables:
        raise invalid(f"process instance variable with name {name} does not exist", status=404)
    return typed_value(instance.variables[name], instance.variable_types.get(name))


@router.put("/{instance_id}/variables/{name}", status_code=204, response_class=Response)
def put_variable(
    instance_id: str, name: str, body: VariableValueDto, engine: EngineDep, principal: PrincipalDep
) -> Response:
    _instance(engine, principal, instance_id)
    engine.runtime.set_variables(instance_id, from_camunda({name: body}), principal=principal)
    return Response(status_code=204)


@router.delete("/{instance_id}/variables/{name}", status_code=204, response_class=Response)
def delete_variable(instance_id: str, name: str, engine: EngineDep, principal: PrincipalDep) -> Response:
    _instance(engine, principal, instance_id)
    engine.runtime.set_variables(instance_id, {}, [name], principal=principal)
    return Response(status_code=204)


@router.get("/{instance_id}/variables/{name}/data", response_class=Response)
def get_variable_data(instance_id: str, name: str, engine: EngineDep, principal: PrincipalDep) -> Response:
    """The content of a Bytes or File variable; 400 for any other."""
    instance = _instance(engine, principal, instance_id)
    if name not in instance.variables:
        raise invalid(f"process instance variable with name {name} does not exist", status=404)
    content = binary_content(instance.variables[name], instance.variable_types.get(name))
    if content is None:
        raise invalid(f"Value of variable with id {name} is not a binary value.")
    return Response(content[0], media_type=content[1])


# --- helpers ----------------------------------------------------------------------------------------


#: what Camunda's runtime API still shows: an ended instance exists only in history
RUNTIME_STATUSES = ("running", "suspended")


def _instance(engine: ProcessEngine, principal: Principal, instance_id: str) -> InstanceView:
    """A running instance: as in Camunda's runtime API, an ended one no longer exists here."""
    try:
        instance = engine.runtime.get_instance(instance_id, principal=principal).instance
    except NotFound:
        instance = None
    if instance is None or instance.status not in RUNTIME_STATUSES:
        raise invalid(f"Process instance with id {instance_id} does not exist", status=404)
    return instance


def instance_filter(q: ProcessInstanceQueryDto) -> InstanceFilter:
    return InstanceFilter(
        ids=ids(q.processInstanceIds),
        business_key=q.businessKey,
        business_key_like=q.businessKeyLike,
        process_keys=one_or_many(q.processDefinitionKey, q.processDefinitionKeyIn),
        definition_id=q.processDefinitionId,
        has_incident=True if q.withIncident else None,
        activity_ids=ids(q.activityIdIn),
        variables=tuple(q.variables or ()),
        statuses=("suspended",) if q.suspended else RUNTIME_STATUSES,  # the runtime API's
    )


def _query(
    engine: ProcessEngine, principal: Principal, q: ProcessInstanceQueryDto, paging: Paging
) -> Page[InstanceView]:
    return engine.camunda.instances(instance_filter(q), paging, principal=principal)
