"""Decisions (DMN): the deployed versions, their XML, evaluation, and the history of an instance's
decisions. Decisions are deployed with processes and forms (POST /api/v1/deployments)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import Field

from api import deps
from api.deps import EngineDep, PrincipalDep
from api.routing import Route
from api.schemas import Strict, Version
from engine.views import DecisionDefinitionView, DecisionEvaluationView

router = APIRouter(prefix="/api/v1/decisions", tags=["decisions"], route_class=Route)

#: (method, path) -> API key scope, merged into api.deps.ROUTE_SCOPES
ROUTE_SCOPES: dict[tuple[str, str], str] = {
    ("GET", "/api/v1/decisions"): "definitions:read",
    ("GET", "/api/v1/decisions/evaluations"): "instances:read",
    ("GET", "/api/v1/decisions/{key}/versions"): "definitions:read",
    ("GET", "/api/v1/decisions/{key}/xml"): "definitions:read",
    ("POST", "/api/v1/decisions/{key}/evaluate"): "definitions:read",
}
deps.ROUTE_SCOPES.update(ROUTE_SCOPES)  # the table get_principal checks


class EvaluateDecision(Strict):
    variables: dict[str, Any] = Field(default_factory=dict, description="the decision's inputs by name")
    version: int | None = Field(default=None, ge=1, le=2**31 - 1, description="the latest when absent")


@router.get("", response_model=list[DecisionDefinitionView])
def list_decisions(engine: EngineDep, _: PrincipalDep) -> list[DecisionDefinitionView]:
    """The latest version of every deployed decision."""
    return engine.decisions.list_decisions()


@router.get("/evaluations", response_model=list[DecisionEvaluationView])
def list_evaluations(
    engine: EngineDep,
    principal: PrincipalDep,
    instance_id: Annotated[str, Query(min_length=1, max_length=36, description="a process instance")],
) -> list[DecisionEvaluationView]:
    """The decisions an instance's business rule tasks took: inputs, matched rules, result."""
    return engine.decisions.history(instance_id, principal=principal)


@router.get("/{key}/versions", response_model=list[DecisionDefinitionView])
def list_versions(key: str, engine: EngineDep, _: PrincipalDep) -> list[DecisionDefinitionView]:
    """Every version of a decision, newest first."""
    return engine.decisions.list_versions(key)


@router.get("/{key}/xml", response_class=Response, responses={200: {"content": {"application/xml": {}}}})
def decision_xml(key: str, engine: EngineDep, _: PrincipalDep, version: Version = None) -> Response:
    """The DMN file the latest (or the given) version was deployed from."""
    return Response(
        engine.decisions.get_xml(key, version),
        media_type="application/xml",
        headers={"Content-Disposition": f'attachment; filename="{key}.dmn"'},
    )


@router.post("/{key}/evaluate", response_model=DecisionEvaluationView)
def evaluate(
    key: str, body: EvaluateDecision, engine: EngineDep, principal: PrincipalDep
) -> DecisionEvaluationView:
    """Evaluate the latest (or the given) version; a table with no single answer under its hit
    policy is a 422 naming the inputs."""
    return engine.decisions.evaluate(key, body.variables, version=body.version, actor=principal.name)
