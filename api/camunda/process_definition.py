"""/engine-rest/process-definition: query definitions (every version, or the latest), read one by id or
by key (its latest version), its BPMN XML, its start form and the variables it starts from; start an
instance with variables (not validated, as Camunda's REST start) or by submitting the start form
(validated against the form, as Camunda's submit-form).

opsflow starts the latest version of a process: starting an older version by its id is a 400 that says
so. Starting needs a starter role (the process's starter groups, `leader` by default, or admin).
"""

from typing import Annotated

from fastapi import Body, Query, Request, Response

from api.camunda.dto import (
    CountResultDto,
    FormDto,
    ProcessDefinitionDiagramDto,
    ProcessDefinitionDto,
    ProcessInstanceDto,
    ProcessInstanceWithVariablesDto,
    StartProcessInstanceDto,
    VariableValueOutDto,
    engine_rest_url,
    process_definition_dto,
    process_instance_dto,
)
from api.camunda.errors import REST_EXCEPTION, CamundaError, camunda_router, invalid
from api.camunda.queries import ProcessDefinitionQueryDto, ids
from api.camunda.variables import from_camunda
from api.deps import EngineDep, PrincipalDep
from engine.engine import ProcessEngine
from engine.errors import NotFound
from engine.queries import DefinitionFilter, DefinitionRecord, Paging
from engine.types import JsonObject
from engine.views import Principal

router = camunda_router("/process-definition", "process definition")


@router.get("", response_model=list[ProcessDefinitionDto])
def query_process_definitions(
    q: Annotated[ProcessDefinitionQueryDto, Query()],
    engine: EngineDep,
    principal: PrincipalDep,
    firstResult: int | None = None,
    maxResults: int | None = None,
) -> list[ProcessDefinitionDto]:
    page = engine.camunda_resources.definitions(_filter(q), q.paging(firstResult, maxResults))
    return [process_definition_dto(d) for d in page.items]


@router.get("/count", response_model=CountResultDto)
def count_process_definitions(
    q: Annotated[ProcessDefinitionQueryDto, Query()], engine: EngineDep, principal: PrincipalDep
) -> CountResultDto:
    return CountResultDto(count=engine.camunda_resources.definitions(_filter(q), q.paging(0, 0)).total)


@router.get("/key/{key}", response_model=ProcessDefinitionDto)
def get_latest_by_key(key: str, engine: EngineDep, principal: PrincipalDep) -> ProcessDefinitionDto:
    return process_definition_dto(_by_key(engine, key))


@router.get("/key/{key}/xml", response_model=ProcessDefinitionDiagramDto)
def get_xml_by_key(key: str, engine: EngineDep, principal: PrincipalDep) -> ProcessDefinitionDiagramDto:
    definition = _by_key(engine, key)
    return ProcessDefinitionDiagramDto(id=definition.id, bpmn20Xml=_xml(engine, definition))


@router.get("/key/{key}/startForm", response_model=FormDto)
def get_start_form_by_key(key: str, engine: EngineDep, principal: PrincipalDep) -> FormDto:
    return _form(_by_key(engine, key))


@router.get("/key/{key}/form-variables", response_model=dict[str, VariableValueOutDto])
def get_form_variables_by_key(key: str, engine: EngineDep, principal: PrincipalDep) -> JsonObject:
    """A start form starts from nothing: always `{}` (opsflow's forms carry their own defaults)."""
    _by_key(engine, key)
    return {}


@router.post("/key/{key}/start", response_model=ProcessInstanceDto | ProcessInstanceWithVariablesDto)
def start_process_instance_by_key(
    key: str,
    request: Request,
    engine: EngineDep,
    principal: PrincipalDep,
    body: StartProcessInstanceDto | None = Body(default=None),
) -> ProcessInstanceDto:
    """200 and the new ProcessInstanceDto (with `variables` when `withVariablesInReturn`)."""
    return _start(engine, principal, request, key, body or StartProcessInstanceDto(), validate=False)


@router.post("/key/{key}/submit-form", response_model=ProcessInstanceDto)
def submit_start_form_by_key(
    key: str,
    request: Request,
    engine: EngineDep,
    principal: PrincipalDep,
    body: StartProcessInstanceDto | None = Body(default=None),
) -> ProcessInstanceDto:
    """Starts with the start form's fields, validated against the form (400 lists what is wrong)."""
    return _start(engine, principal, request, key, body or StartProcessInstanceDto(), validate=True)


@router.post("/key/{key}/tenant-id/{tenant_id}/start", response_model=ProcessInstanceDto)
def start_process_instance_by_key_and_tenant(
    key: str, tenant_id: str, engine: EngineDep, principal: PrincipalDep
) -> ProcessInstanceDto:
    """Always 404: opsflow has no tenants, so no definition belongs to one."""
    raise CamundaError(
        404, REST_EXCEPTION, f"No matching process definition with key: {key} and tenant-id: {tenant_id}"
    )


@router.get("/{definition_id}", response_model=ProcessDefinitionDto)
def get_process_definition(
    definition_id: str, engine: EngineDep, principal: PrincipalDep
) -> ProcessDefinitionDto:
    return process_definition_dto(_by_id(engine, definition_id))


@router.get("/{definition_id}/xml", response_model=ProcessDefinitionDiagramDto)
def get_xml(definition_id: str, engine: EngineDep, principal: PrincipalDep) -> ProcessDefinitionDiagramDto:
    definition = _by_id(engine, definition_id)
    return ProcessDefinitionDiagramDto(id=definition.id, bpmn20Xml=_xml(engine, definition))


@router.get("/{definition_id}/diagram", response_class=Response)
def get_diagram(definition_id: str, engine: EngineDep, principal: PrincipalDep) -> Response:
    """No diagram image is deployed with opsflow's processes (bpmn.io draws them from the XML): 204,
    as Camunda answers a definition without one."""
    _by_id(engine, definition_id)
    return Response(status_code=204)


@router.get("/{definition_id}/startForm", response_model=FormDto)
def get_start_form(definition_id: str, engine: EngineDep, principal: PrincipalDep) -> FormDto:
    return _form(_by_id(engine, definition_id))


@router.get("/{definition_id}/form-variables", response_model=dict[str, VariableValueOutDto])
def get_form_variables(definition_id: str, engine: EngineDep, principal: PrincipalDep) -> JsonObject:
    _by_id(engine, definition_id)
    return {}


@router.post("/{definition_id}/start", response_model=ProcessInstanceDto | ProcessInstanceWithVariablesDto)
def start_process_instance(
    definition_id: str,
    request: Request,
    engine: EngineDep,
    principal: PrincipalDep,
    body: StartProcessInstanceDto | None = Body(default=None),
) -> ProcessInstanceDto:
    key = _latest_key(engine, definition_id)
    return _start(engine, principal, request, key, body or StartProcessInstanceDto(), validate=False)


@router.post("/{definition_id}/submit-form", response_model=ProcessInstanceDto)
def submit_start_form(
    definition_id: str,
    request: Request,
    engine: EngineDep,
    principal: PrincipalDep,
    body: StartProcessInstanceDto | None = Body(default=None),
) -> ProcessInstanceDto:
    key = _latest_key(engine, definition_id)
    return _start(engine, principal, request, key, body or StartProcessInstanceDto(), validate=True)


# --- helpers ----------------------------------------------------------------------------------------


def _filter(q: ProcessDefinitionQueryDto) -> DefinitionFilter:
    return DefinitionFilter(
        id=q.processDefinitionId,
        ids=ids(q.processDefinitionIdIn),
        key=q.key,
        keys=ids(q.keysIn),
        key_like=q.keyLike,
        name=q.name,
        name_like=q.nameLike,
        version=q.version,
        deployment_id=q.deploymentId,
        latest_only=bool(q.latestVersion),
    )


def _by_id(engine: ProcessEngine, definition_id: str) -> DefinitionRecord:
    page = engine.camunda_resources.definitions(DefinitionFilter(id=definition_id), Paging(0, 1))
    if not page.items:
        raise invalid(f"No matching definition with id {definition_id}", status=404)
    return page.items[0]


def _by_key(engine: ProcessEngine, key: str) -> DefinitionRecord:
    page = engine.camunda_resources.definitions(DefinitionFilter(key=key, latest_only=True), Paging(0, 1))
    if not page.items:
        raise CamundaError(
            404, REST_EXCEPTION, f"No matching process definition with key: {key} and no tenant-id"
        )
    return page.items[0]


def _latest_key(engine: ProcessEngine, definition_id: str) -> str:
    definition = _by_id(engine, definition_id)
    if _by_key(engine, definition.key).id != definition.id:
        raise invalid(
            f"opsflow starts the latest version of a process: {definition_id} is version "
            f"{definition.version} of {definition.key}; start it by key"
        )
    return definition.key


def _xml(engine: ProcessEngine, definition: DefinitionRecord) -> str:
    return engine.repository.get_definition_xml(definition.key, definition.version)


def _form(definition: DefinitionRecord) -> FormDto:
    if definition.start_form_key is None:
        return FormDto(key=None, contextPath=None)
    return FormDto(
        key=f"camunda-forms:deployment:{definition.start_form_key}",
        contextPath=None,
        camundaFormRef={"key": definition.start_form_key, "binding": "latest", "version": None},
    )


def _start(
    engine: ProcessEngine,
    principal: Principal,
    request: Request,
    key: str,
    body: StartProcessInstanceDto,
    *,
    validate: bool,
) -> ProcessInstanceDto:
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
            validate_start_form=validate,
        )
    except NotFound:
        raise CamundaError(
            404, REST_EXCEPTION, f"No matching process definition with key: {key} and no tenant-id"
        ) from None
    return process_instance_dto(
        instance, engine_rest_url(request), with_variables=bool(body.withVariablesInReturn)
    )
