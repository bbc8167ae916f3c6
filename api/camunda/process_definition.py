"""/engine-rest/process-definition: start the latest version of a process by its key.

Like Camunda's REST start (and unlike its `submit-form`), the start form is not validated: the
variables become the instance's data as sent. Starting needs the `leader` or `admin` role.
"""

from fastapi import Body, Request

from api.camunda.dto import (
    ProcessInstanceDto,
    ProcessInstanceWithVariablesDto,
    StartProcessInstanceDto,
    engine_rest_url,
    process_instance_dto,
)
from api.camunda.errors import REST_EXCEPTION, CamundaError, camunda_router, invalid
from api.camunda.variables import from_camunda
from api.deps import EngineDep, PrincipalDep
from engine.errors import NotFound

router = camunda_router("/process-definition", "process definition")


@router.post("/key/{key}/start", response_model=ProcessInstanceDto | ProcessInstanceWithVariablesDto)
def start_process_instance_by_key(
    key: str,
    request: Request,
    engine: EngineDep,
    principal: PrincipalDep,
    body: StartProcessInstanceDto | None = Body(default=None),
) -> ProcessInstanceDto:
    """200 and the new ProcessInstanceDto (with `variables` when `withVariablesInReturn`)."""
    body = body or StartProcessInstanceDto()
    if body.startInstructions:
        raise invalid("startInstructions are not supported: an instance starts at its start event")
    if body.caseInstanceId:
        raise invalid("caseInstanceId is not supported: opsflow has no CMMN cases")
    variables = from_camunda(body.variables)
    try:
        instance = engine.runtime.start_process_instance_by_key(
            key,
            principal=principal,
            business_key=body.businessKey,
            variables=variables,
            validate_start_form=False,
        )
    except NotFound:
        raise CamundaError(
            404, REST_EXCEPTION, f"No matching process definition with key: {key} and no tenant-id"
        ) from None
    return process_instance_dto(
        instance, engine_rest_url(request), with_variables=bool(body.withVariablesInReturn)
    )


@router.post("/key/{key}/tenant-id/{tenant_id}/start", response_model=ProcessInstanceDto)
def start_process_instance_by_key_and_tenant(
    key: str, tenant_id: str, engine: EngineDep, principal: PrincipalDep
) -> ProcessInstanceDto:
    """Always 404: opsflow has no tenants, so no definition belongs to one."""
    raise CamundaError(
        404, REST_EXCEPTION, f"No matching process definition with key: {key} and tenant-id: {tenant_id}"
    )
