"""/engine-rest/deployment: deploy as Camunda Modeler's "Deploy" button does (multipart/form-data with
`deployment-name`, `deployment-source`, optional `enable-duplicate-filtering`, `deploy-changed-only`,
and the files, .bpmn, .dmn and .form, under any field names), list deployments, read one.

Files whose content is the latest version already do not make a new version (Camunda's duplicate
filtering is always on); a deployment where nothing changed answers the deployment that holds those
versions, with no new definitions in it. Designers and admins deploy.
"""

from typing import Annotated

from fastapi import Query, Request
from starlette.datastructures import UploadFile

from api.camunda.dto import (
    CountResultDto,
    DeploymentDto,
    DeploymentWithDefinitionsDto,
    deployment_dto,
    engine_rest_url,
    process_definition_dto,
)
from api.camunda.errors import camunda_router, invalid
from api.camunda.queries import DeploymentQueryDto
from api.deps import EngineDep, PrincipalDep
from engine.errors import Forbidden
from engine.permissions import can_deploy
from engine.queries import DefinitionFilter, Paging

router = camunda_router("/deployment", "deployment")

#: multipart fields that are options, not files
OPTIONS = {
    "deployment-name",
    "deployment-source",
    "deployment-activation-time",
    "enable-duplicate-filtering",
    "deploy-changed-only",
    "tenant-id",
}


@router.post("/create", response_model=DeploymentWithDefinitionsDto)
async def create_deployment(
    request: Request, engine: EngineDep, principal: PrincipalDep
) -> DeploymentWithDefinitionsDto:
    """A new deployment of the files; 200 and the deployment with the definitions it created."""
    if not can_deploy(principal):
        raise Forbidden("only designers and admins deploy")
    limit = engine.settings.max_upload_bytes
    form = await request.form(max_part_size=limit + 1)
    if form.get("tenant-id"):
        raise invalid("Parameter 'tenant-id' is not supported: opsflow has no tenants")
    files = []
    for field, value in form.multi_items():
        if field in OPTIONS:
            continue
        if not isinstance(value, UploadFile):
            raise invalid(f"Unknown form field '{field}'")
        data = await value.read(limit + 1)
        if len(data) > limit:
            raise invalid(f"{value.filename} is larger than {limit} bytes")
        files.append((value.filename or field, data))
    if not files:
        raise invalid("No deployment resources contained in the form upload.")
    name = str(form.get("deployment-name") or "")
    source = str(form.get("deployment-source") or "") or None
    result = engine.repository.deploy(files, name=name, actor=principal.name)
    deployment_id = result.id
    if deployment_id is None:  # nothing new: the deployment holding the latest of these versions
        keys = tuple(result.unchanged) or None
        page = engine.camunda_resources.definitions(
            DefinitionFilter(keys=keys, latest_only=True), Paging(0, 1)
        )
        deployment_id = page.items[0].deployment_id if page.items else ""
    deployments = engine.camunda_resources.deployments(
        id=deployment_id, name=None, name_like=None, paging=Paging(0, 1)
    )
    base = engine_rest_url(request)
    created = [d.id for d in result.definitions]
    definitions = (
        engine.camunda_resources.definitions(DefinitionFilter(ids=tuple(created)), Paging()).items
        if created
        else []
    )
    dto = deployment_dto(deployments.items[0], base, source=source) if deployments.items else None
    return DeploymentWithDefinitionsDto(
        **(dto.model_dump() if dto else {"id": deployment_id, "name": name, "source": source}),
        deployedProcessDefinitions={d.id: process_definition_dto(d) for d in definitions},
        deployedDecisionDefinitions={
            d.id: {"id": d.id, "key": d.key, "version": d.version} for d in result.decisions
        }
        or None,
    )


@router.get("", response_model=list[DeploymentDto])
def query_deployments(
    q: Annotated[DeploymentQueryDto, Query()],
    request: Request,
    engine: EngineDep,
    principal: PrincipalDep,
    firstResult: int | None = None,
    maxResults: int | None = None,
) -> list[DeploymentDto]:
    page = engine.camunda_resources.deployments(
        id=q.id, name=q.name, name_like=q.nameLike, paging=q.paging(firstResult, maxResults)
    )
    base = engine_rest_url(request)
    return [deployment_dto(d, base) for d in page.items]


@router.get("/count", response_model=CountResultDto)
def count_deployments(
    q: Annotated[DeploymentQueryDto, Query()], engine: EngineDep, principal: PrincipalDep
) -> CountResultDto:
    page = engine.camunda_resources.deployments(
        id=q.id, name=q.name, name_like=q.nameLike, paging=q.paging(0, 0)
    )
    return CountResultDto(count=page.total)


@router.get("/{deployment_id}", response_model=DeploymentDto)
def get_deployment(
    deployment_id: str, request: Request, engine: EngineDep, principal: PrincipalDep
) -> DeploymentDto:
    page = engine.camunda_resources.deployments(
        id=deployment_id, name=None, name_like=None, paging=Paging(0, 1)
    )
    if not page.items:
        raise invalid(f"Deployment with id '{deployment_id}' does not exist", status=404)
    return deployment_dto(page.items[0], engine_rest_url(request))
