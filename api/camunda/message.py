"""/engine-rest/message: correlate a message to the one instance waiting for it, or start the process
whose message start event it is. Senders hold the `integration` role (or admin); the engine checks it.

As in Camunda, nothing matching and several matching are both 400 (RestException, "Cannot correlate
message ..."), not 404 and 409. opsflow never guesses, so `all: true` is refused, and so are the
correlation features it does not have (see UNSUPPORTED).
"""

from fastapi import Request, Response
from fastapi.responses import JSONResponse

from api.camunda.dto import (
    CorrelationMessageDto,
    ExecutionDto,
    MessageCorrelationResultDto,
    engine_rest_url,
    process_instance_dto,
)
from api.camunda.errors import REST_EXCEPTION, CamundaError, camunda_router, invalid
from api.camunda.variables import from_camunda
from api.deps import EngineDep, PrincipalDep
from engine.errors import Conflict, NotFound

router = camunda_router("/message", "message")

#: Camunda request fields opsflow cannot honour, and why (a non-empty value is a 400).
UNSUPPORTED = {
    "processInstanceId": "correlate by businessKey or correlationKeys instead",
    "all": "a message goes to exactly one instance",
    "localCorrelationKeys": "opsflow has no local variables",
    "processVariablesLocal": "opsflow has no local variables",
    "processVariablesToTriggeredScope": "opsflow has no local variables",
    "tenantId": "opsflow has no tenants",
    "variablesInResultEnabled": "read the instance's variables with GET /process-instance/{id}/variables",
}


@router.post(
    "",
    status_code=204,
    response_class=Response,
    responses={200: {"model": list[MessageCorrelationResultDto], "description": "with resultEnabled"}},
)
def deliver_message(
    body: CorrelationMessageDto, request: Request, engine: EngineDep, principal: PrincipalDep
) -> Response:
    """204; with `resultEnabled`, 200 and one MessageCorrelationResultDto (`Execution` when a waiting
    instance received it, `ProcessDefinition` when it started one)."""
    name = body.messageName
    if not name:
        raise invalid("No message name supplied")
    if body.tenantId is not None and body.withoutTenantId:
        raise invalid("Parameter 'tenantId' cannot be used together with parameter 'withoutTenantId'.")
    if body.variablesInResultEnabled and not body.resultEnabled:
        raise invalid(
            "Parameter 'variablesInResultEnabled' cannot be used without 'resultEnabled' set to true."
        )
    for field, why in UNSUPPORTED.items():
        if getattr(body, field):
            raise invalid(f"Parameter '{field}' is not supported: {why}")
    correlation_keys = from_camunda(body.correlationKeys)
    payload = from_camunda(body.processVariables)
    try:
        result = engine.runtime.correlate_message(
            name,
            principal=principal,
            business_key=body.businessKey,
            correlation_keys=correlation_keys,
            payload=payload,
        )
    except (NotFound, Conflict) as exc:
        raise CamundaError(400, REST_EXCEPTION, f"Cannot correlate message '{name}': {exc}") from None
    if not body.resultEnabled:
        return Response(status_code=204)
    if result.started:
        instance = engine.runtime.get_instance(result.instance_id, principal=principal).instance
        dto = MessageCorrelationResultDto(
            resultType="ProcessDefinition",
            processInstance=process_instance_dto(instance, engine_rest_url(request)),
        )
    else:
        dto = MessageCorrelationResultDto(
            resultType="Execution",
            execution=ExecutionDto(id=result.instance_id, processInstanceId=result.instance_id, ended=False),
        )
    return JSONResponse([dto.model_dump(mode="json")])
