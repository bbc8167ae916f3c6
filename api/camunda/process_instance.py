"""/engine-rest/process-instance: the running instances the caller may see, and their variables
(an ended instance is 404 here, as in Camunda's runtime API).

Filters: processDefinitionKey, businessKey, processDefinitionId, processInstanceIds (comma-separated)
and variables (comma-separated `name_operator_value`, operators eq, neq, gt, gteq, lt, lteq, like with
`%`). A variable value in a filter is compared as the variable's own type: a number as a number, a
boolean as true/false, text as text. Other Camunda filters are ignored, as Camunda ignores unknown
query parameters. `suspended=true` finds the instances an operator suspended; without it, the running ones.
"""

import re
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response

from api.camunda.dto import (
    CountResultDto,
    ProcessInstanceDto,
    VariableValueOutDto,
    engine_rest_url,
    process_instance_dto,
)
from api.camunda.errors import camunda_router, invalid
from api.camunda.variables import to_camunda, to_camunda_map
from api.deps import EngineDep, PrincipalDep
from engine.engine import ProcessEngine
from engine.errors import NotFound
from engine.views import InstanceView, Principal

router = camunda_router("/process-instance", "process instance")

MAX_RESULTS = 1000
PAGE = 500
_VARIABLE_FILTER = re.compile(r"^(?P<name>.+?)_(?P<op>eq|neq|gteq|gt|lteq|lt|like)_(?P<value>.*)$", re.DOTALL)


@dataclass(frozen=True)
class InstanceQuery:
    process_definition_key: str | None = None
    process_definition_id: str | None = None
    business_key: str | None = None
    ids: frozenset[str] | None = None
    variables: tuple[tuple[str, str, str], ...] = ()
    suspended: bool | None = None
    first: int = 0
    max: int = MAX_RESULTS


@router.get("", response_model=list[ProcessInstanceDto])
def query_process_instances(
    request: Request,
    engine: EngineDep,
    principal: PrincipalDep,
    processDefinitionKey: str | None = None,
    processDefinitionId: str | None = None,
    businessKey: str | None = None,
    processInstanceIds: str | None = None,
    variables: str | None = None,
    suspended: bool | None = None,
    firstResult: int | None = None,
    maxResults: int | None = None,
) -> list[ProcessInstanceDto]:
    """Running instances visible to the caller, newest first."""
    query = _query(
        processDefinitionKey,
        processDefinitionId,
        businessKey,
        processInstanceIds,
        variables,
        suspended,
        firstResult,
        maxResults,
    )
    items, _ = _run(engine, principal, query)
    base = engine_rest_url(request)
    return [process_instance_dto(i, base) for i in items]


@router.get("/count", response_model=CountResultDto)
def count_process_instances(
    engine: EngineDep,
    principal: PrincipalDep,
    processDefinitionKey: str | None = None,
    processDefinitionId: str | None = None,
    businessKey: str | None = None,
    processInstanceIds: str | None = None,
    variables: str | None = None,
    suspended: bool | None = None,
) -> CountResultDto:
    query = _query(
        processDefinitionKey,
        processDefinitionId,
        businessKey,
        processInstanceIds,
        variables,
        suspended,
        None,
        None,
    )
    _, total = _run(engine, principal, query)
    return CountResultDto(count=total)


@router.get("/{instance_id}", response_model=ProcessInstanceDto)
def get_process_instance(
    instance_id: str, request: Request, engine: EngineDep, principal: PrincipalDep
) -> ProcessInstanceDto:
    return process_instance_dto(_instance(engine, principal, instance_id), engine_rest_url(request))


@router.get("/{instance_id}/variables", response_model=dict[str, VariableValueOutDto])
def get_variables(instance_id: str, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    return to_camunda_map(_instance(engine, principal, instance_id).variables)


@router.get("/{instance_id}/variables/{name}", response_model=VariableValueOutDto)
def get_variable(instance_id: str, name: str, engine: EngineDep, principal: PrincipalDep) -> dict[str, Any]:
    variables = _instance(engine, principal, instance_id).variables
    if name not in variables:
        raise invalid(f"process instance variable with name {name} does not exist", status=404)
    return to_camunda(variables[name])


@router.get("/{instance_id}/variables/{name}/data", response_class=Response)
def get_variable_data(instance_id: str, name: str, engine: EngineDep, principal: PrincipalDep) -> Response:
    """Binary content of a Bytes or File variable: opsflow has none, so a 400 for every existing variable."""
    variables = _instance(engine, principal, instance_id).variables
    if name not in variables:
        raise invalid(f"process instance variable with name {name} does not exist", status=404)
    raise invalid(f"Value of variable with id {name} is not a binary value.")


# --- helpers ----------------------------------------------------------------------------------------


def _instance(engine: ProcessEngine, principal: Principal, instance_id: str) -> InstanceView:
    """A running instance: as in Camunda's runtime API, an ended one no longer exists here."""
    try:
        instance = engine.runtime.get_instance(instance_id, principal=principal).instance
    except NotFound:
        instance = None
    if instance is None or instance.status not in ("running", "suspended"):
        raise invalid(f"Process instance with id {instance_id} does not exist", status=404)
    return instance


def _query(
    key: str | None,
    definition_id: str | None,
    business_key: str | None,
    ids: str | None,
    variables: str | None,
    suspended: bool | None,
    first: int | None,
    max_results: int | None,
) -> InstanceQuery:
    if (first or 0) < 0 or (max_results or 0) < 0:
        raise invalid("firstResult and maxResults must not be negative")
    filters = []
    for expression in (variables or "").split(","):
        if not expression:
            continue
        match = _VARIABLE_FILTER.match(expression)
        if match is None:
            raise invalid("variable query parameter has to have format KEY_OPERATOR_VALUE")
        filters.append((match["name"], match["op"], match["value"]))
    return InstanceQuery(
        process_definition_key=key or None,
        process_definition_id=definition_id or None,
        business_key=business_key or None,
        ids=frozenset(i for i in ids.split(",") if i) if ids else None,
        variables=tuple(filters),
        suspended=suspended,
        first=first or 0,
        max=min(MAX_RESULTS if max_results is None else max_results, MAX_RESULTS),
    )


def _run(engine: ProcessEngine, principal: Principal, q: InstanceQuery) -> tuple[list[InstanceView], int]:
    def page(offset: int, limit: int):
        return engine.runtime.list_instances(
            principal=principal,
            process_key=q.process_definition_key,
            business_key=q.business_key,
            status="suspended" if q.suspended else "running",
            offset=offset,
            limit=limit,
        )

    if q.ids is None and q.process_definition_id is None and not q.variables:
        found = page(q.first, q.max)
        return found.items, found.total
    everything: list[InstanceView] = []
    while True:
        found = page(len(everything), PAGE)
        everything += found.items
        if not found.items or len(everything) >= found.total:
            break
    matching = [i for i in everything if _matches(i, q)]
    return matching[q.first : q.first + q.max], len(matching)


def _matches(instance: InstanceView, q: InstanceQuery) -> bool:
    if q.ids is not None and instance.id not in q.ids:
        return False
    if q.process_definition_id is not None and instance.definition_id != q.process_definition_id:
        return False
    return all(_compare(instance.variables, name, op, raw) for name, op, raw in q.variables)


_NO_MATCH = object()


def _compare(variables: dict, name: str, op: str, raw: str) -> bool:
    if name not in variables:
        return False
    actual = variables[name]
    if op == "like":
        if not isinstance(actual, str):
            return False
        pattern = "".join(".*" if c == "%" else re.escape(c) for c in raw)
        return re.fullmatch(pattern, actual, re.DOTALL) is not None
    expected = _as_type_of(actual, raw)
    if expected is _NO_MATCH:
        return op == "neq"
    if op == "eq":
        return actual == expected
    if op == "neq":
        return actual != expected
    if isinstance(actual, bool) or actual is None:
        return False
    try:
        return {
            "gt": actual > expected,
            "gteq": actual >= expected,
            "lt": actual < expected,
            "lteq": actual <= expected,
        }[op]
    except TypeError:
        return False


def _as_type_of(actual: Any, raw: str) -> Any:
    if isinstance(actual, bool):
        return {"true": True, "false": False}.get(raw.lower(), _NO_MATCH)
    if isinstance(actual, int | float):
        try:
            return float(raw)
        except ValueError:
            return _NO_MATCH
    if isinstance(actual, str):
        return raw
    if actual is None:
        return None if raw == "null" else _NO_MATCH
    return _NO_MATCH
