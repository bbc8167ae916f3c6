"""Process definitions, forms and deployments."""

from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile, status

from api.deps import EngineDep, PrincipalDep
from api.routing import Route
from api.schemas import Version
from engine.engine import ProcessEngine
from engine.errors import Forbidden, InvalidInput, Problem
from engine.permissions import can_deploy
from engine.views import DefinitionView, DeploymentView, FormView

router = APIRouter(prefix="/api/v1", tags=["definitions"], route_class=Route)


@router.get("/process-definitions", response_model=list[DefinitionView])
def list_definitions(engine: EngineDep, _: PrincipalDep) -> list[DefinitionView]:
    """The latest version of every deployed process."""
    return engine.repository.list_definitions()


@router.get("/process-definitions/{key}/versions", response_model=list[DefinitionView])
def list_versions(key: str, engine: EngineDep, _: PrincipalDep) -> list[DefinitionView]:
    return engine.repository.list_versions(key)


@router.get(
    "/process-definitions/{key}/xml",
    response_class=Response,
    responses={200: {"content": {"application/xml": {}}}},
)
def definition_xml(key: str, engine: EngineDep, _: PrincipalDep, version: Version = None) -> Response:
    """The BPMN XML of the latest (or the given) version."""
    xml = engine.repository.get_definition_xml(key, version)
    return Response(
        xml,
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{key}.bpmn"'},
    )


@router.get("/forms", response_model=list[FormView])
def list_forms(engine: EngineDep, _: PrincipalDep) -> list[FormView]:
    return engine.repository.list_forms()


@router.get("/forms/{key}", response_model=FormView)
def get_form(key: str, engine: EngineDep, _: PrincipalDep, version: Version = None) -> FormView:
    return engine.repository.get_form(key, version)


@router.post("/deployments", response_model=DeploymentView, status_code=status.HTTP_201_CREATED)
async def deploy(
    engine: EngineDep,
    principal: PrincipalDep,
    response: Response,
    files: Annotated[list[UploadFile], File(description=".bpmn and .form files")],
    name: Annotated[str, Form(max_length=200)] = "",
) -> DeploymentView:
    """Validate and store BPMN and forms. Every problem comes back with file, line and element id;
    content identical to the latest version is not a new version (200 instead of 201)."""
    if not can_deploy(principal):
        raise Forbidden("only designers and admins deploy")
    result = engine.repository.deploy(await _read_uploads(engine, files), name=name, actor=principal.name)
    if result.id is None:
        response.status_code = status.HTTP_200_OK
    return result


@router.post("/deployments/validate", response_model=list[Problem])
async def validate(
    engine: EngineDep,
    principal: PrincipalDep,
    files: Annotated[list[UploadFile], File(description=".bpmn and .form files")],
) -> list[Problem]:
    """The problems a deployment of these files would report (an empty list when it would succeed);
    nothing is stored."""
    if not can_deploy(principal):
        raise Forbidden("only designers and admins deploy")
    return engine.repository.validate(await _read_uploads(engine, files))


async def _read_uploads(engine: ProcessEngine, files: list[UploadFile]) -> list[tuple[str, bytes]]:
    limit = engine.settings.max_upload_bytes
    contents = []
    for upload in files:
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise InvalidInput(f"{upload.filename} is larger than {limit} bytes")
        contents.append((upload.filename or "upload", data))
    return contents
