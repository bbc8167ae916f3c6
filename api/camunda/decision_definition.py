"""/engine-rest/decision-definition: list deployed decisions, read one, and evaluate one.

`POST /key/{key}/evaluate` (and `/{id}/evaluate`) take Camunda's `{"variables": {name: {value, type,
valueInfo}}}` and answer Camunda's result: one object per matched rule (or one for an aggregation),
each `{outputName: {value, type, valueInfo}}`. Where Camunda answers a UNIQUE table with no match with
an empty list, and with several matches with a 500, we answer 400 naming the inputs: the caller sent
data the table has no single answer for. Any signed-in user may read and evaluate decisions (API keys:
the `definitions:read` scope); an evaluation is recorded in the decision history.
"""

from typing import Any

from fastapi import Body, Query
from pydantic import BaseModel

from api.camunda.dto import CamundaRequest, Variables
from api.camunda.errors import PREFIX, REST_EXCEPTION, CamundaError, camunda_router
from api.camunda.variables import from_camunda, to_camunda
from api.deps import EngineDep, PrincipalDep
from engine.engine import ProcessEngine
from engine.errors import NotFound
from engine.views import DecisionDefinitionView, DecisionEvaluationView

router = camunda_router("/decision-definition", "decision definition")

#: (method, path) -> API key scope, merged into api.camunda.ROUTE_SCOPES
ROUTE_SCOPES: dict[tuple[str, str], str] = {
    ("GET", f"{PREFIX}/decision-definition"): "definitions:read",
    ("GET", f"{PREFIX}/decision-definition/count"): "definitions:read",
    ("GET", f"{PREFIX}/decision-definition/key/{{key}}"): "definitions:read",
    ("GET", f"{PREFIX}/decision-definition/key/{{key}}/xml"): "definitions:read",
    ("POST", f"{PREFIX}/decision-definition/key/{{key}}/evaluate"): "definitions:read",
    ("GET", f"{PREFIX}/decision-definition/{{definition_id}}"): "definitions:read",
    ("GET", f"{PREFIX}/decision-definition/{{definition_id}}/xml"): "definitions:read",
    ("POST", f"{PREFIX}/decision-definition/{{definition_id}}/evaluate"): "definitions:read",
}


class DecisionDefinitionDto(BaseModel):
    id: str
    key: str
    category: str = "http://camunda.org/schema/1.0/dmn"
    name: str
    version: int
    resource: str
    deploymentId: str
    decisionRequirementsDefinitionId: str | None = None
    decisionRequirementsDefinitionKey: str | None = None
    tenantId: str | None = None
    versionTag: str | None = None
    historyTimeToLive: int | None = None


class DecisionDefinitionDiagramDto(BaseModel):
    id: str
    dmnXml: str


class EvaluateDecisionDto(CamundaRequest):
    variables: Variables = None


class CountResultDto(BaseModel):
    count: int


@router.get("", response_model=list[DecisionDefinitionDto])
def list_decision_definitions(
    engine: EngineDep,
    _: PrincipalDep,
    key: str | None = None,
    latestVersion: bool = False,
    firstResult: int = Query(0, ge=0),
    maxResults: int = Query(1000, ge=0, le=1000),
) -> list[DecisionDefinitionDto]:
    found = engine.decisions.list_decisions(key, latest_only=latestVersion)
    return [_dto(d) for d in found[firstResult : firstResult + maxResults]]


@router.get("/count", response_model=CountResultDto)
def count_decision_definitions(
    engine: EngineDep,
    _: PrincipalDep,
    key: str | None = None,
    latestVersion: bool = False,
) -> CountResultDto:
    return CountResultDto(count=len(engine.decisions.list_decisions(key, latest_only=latestVersion)))


@router.get("/key/{key}", response_model=DecisionDefinitionDto)
def get_decision_definition_by_key(key: str, engine: EngineDep, _: PrincipalDep) -> DecisionDefinitionDto:
    """The latest version."""
    return _dto(_by_key(engine, key))


@router.get("/key/{key}/xml", response_model=DecisionDefinitionDiagramDto)
def get_decision_definition_xml_by_key(
    key: str, engine: EngineDep, _: PrincipalDep
) -> DecisionDefinitionDiagramDto:
    found = _by_key(engine, key)
    return DecisionDefinitionDiagramDto(id=found.id, dmnXml=engine.decisions.get_xml_by_id(found.id))


@router.post("/key/{key}/evaluate", response_model=list[dict[str, Any]])
def evaluate_by_key(
    key: str,
    engine: EngineDep,
    principal: PrincipalDep,
    body: EvaluateDecisionDto | None = Body(default=None),
) -> list[dict[str, Any]]:
    """Evaluate the latest version of the decision."""
    variables = from_camunda(body.variables if body else None)
    try:
        evaluation = engine.decisions.evaluate(key, variables, actor=principal.name)
    except NotFound:
        raise _no_decision(key) from None
    return _result(evaluation)


@router.get("/{definition_id}", response_model=DecisionDefinitionDto)
def get_decision_definition(definition_id: str, engine: EngineDep, _: PrincipalDep) -> DecisionDefinitionDto:
    return _dto(engine.decisions.get_decision_by_id(definition_id))


@router.get("/{definition_id}/xml", response_model=DecisionDefinitionDiagramDto)
def get_decision_definition_xml(
    definition_id: str, engine: EngineDep, _: PrincipalDep
) -> DecisionDefinitionDiagramDto:
    return DecisionDefinitionDiagramDto(
        id=definition_id, dmnXml=engine.decisions.get_xml_by_id(definition_id)
    )


@router.post("/{definition_id}/evaluate", response_model=list[dict[str, Any]])
def evaluate_by_id(
    definition_id: str,
    engine: EngineDep,
    principal: PrincipalDep,
    body: EvaluateDecisionDto | None = Body(default=None),
) -> list[dict[str, Any]]:
    variables = from_camunda(body.variables if body else None)
    return _result(engine.decisions.evaluate_by_id(definition_id, variables, actor=principal.name))


def _result(evaluation: DecisionEvaluationView) -> list[dict[str, Any]]:
    """Camunda's shape: one map of typed output values per result."""
    return [{name: to_camunda(value) for name, value in row.items()} for row in evaluation.result]


def _by_key(engine: ProcessEngine, key: str) -> DecisionDefinitionView:
    try:
        return engine.decisions.get_decision(key)
    except NotFound:
        raise _no_decision(key) from None


def _no_decision(key: str) -> CamundaError:
    return CamundaError(
        404, REST_EXCEPTION, f"No matching decision definition with key: {key} and no tenant-id"
    )


def _dto(view: DecisionDefinitionView) -> DecisionDefinitionDto:
    return DecisionDefinitionDto(
        id=view.id,
        key=view.key,
        name=view.name,
        version=view.version,
        resource=view.resource_name,
        deploymentId=view.deployment_id,
    )
