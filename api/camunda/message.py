"""/engine-rest/message: correlate a message to the one instance waiting for it, or start the process
whose message start event it is. Senders hold the `integration` role (or admin); the engine checks it.

As in Camunda, nothing matching and several matching are both 400 (RestException, "Cannot correlate
message ..."), not 404 and 409. `processInstanceId` addresses one instance; `all: true` delivers to every
instance waiting for the message (each in its own transaction: one instance per command), and starts
nothing; `variablesInResultEnabled` adds each instance's variables to the result. The correlation
features opsflow does not have are refused by name (see UNSUPPORTED).
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
from api.camunda.variables import from_camunda, to_camunda_map
from api.deps import EngineDep, PrincipalDep
from engine.errors import Conflict, NotFound

router = camunda_router("/message", "message")

#: Camunda request fields opsflow cannot honour, and why (a non-empty value is a 400).
UNSUPPORTED = {
    "localCorrelationKeys": "opsflow has no local variables",
    "processVariablesLocal": "opsflow has no local variables",
    "processVariablesToTriggeredScope": "opsflow has no local variables",
    "tenantId": "opsflow has no tenants",
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
    correlation_keys = from_camunda(body.correlationKeys, typed=False)
    payload = from_camunda(body.processVariables)
    targets: list[str | None] = [body.processInstanceId]
    if body.all and body.processInstanceId is None:
        targets = list(
            engine.camunda.waiting_for_message(name, business_key=body.businessKey, principal=principal)
        )
    results = []
    for instance_id in targets:
        try:
            result = engine.runtime.correlate_message(
                name,
                principal=principal,
                business_key=body.businessKey,
                correlation_keys=correlation_keys,
                payload=payload,
                instance_id=instance_id,
            )
        except (NotFound, Conflict) as exc:
            if body.all:
                continue  # it stopped waiting meanwhile: `all` means all that still wait
            raise CamundaError(400, REST_EXCEPTION, f"Cannot correlate message '{name}': {exc}") from None
        results.append(result)
    if not body.resultEnabled:
        return Response(status_code=204)
    base = engine_rest_url(request)
    dtos = []
    for result in results:
        instance = result.instance
        variables = (
            to_camunda_map(instance.variables, types=instance.variable_types)
            if body.variablesInResultEnabled and instance is not None
            else None
        )
        if result.started:
            dto = MessageCorrelationResultDto(
                resultType="ProcessDefinition",
                processInstance=process_instance_dto(instance, base) if instance else None,
                variables=variables,
            )
        else:
            dto = MessageCorrelationResultDto(
                resultType="Execution",
                execution=ExecutionDto(
                    id=result.instance_id,
                    processInstanceId=result.instance_id,
                    ended=instance is not None and instance.status != "running",
                ),
                variables=variables,
            )
        # `variables` only when asked for, as Camunda's two result DTOs (clients index it when present)
        exclude = None if body.variablesInResultEnabled else {"variables"}
        dtos.append(dto.model_dump(mode="json", exclude=exclude))
    return JSONResponse(dtos)
