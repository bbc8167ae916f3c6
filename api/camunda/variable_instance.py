"""/engine-rest/variable-instance: the variables of running instances, one entry per variable (with
the type it was declared with), filtered by name and instance; counts."""

from typing import Annotated

from fastapi import Query

from api.camunda.dto import CountResultDto
from api.camunda.dto_history import VariableInstanceDto, variable_instance_dto
from api.camunda.errors import camunda_router
from api.camunda.queries import VariableInstanceQueryDto, one_or_many
from api.deps import EngineDep, PrincipalDep
from engine.engine import ProcessEngine
from engine.queries import Paging, VariableRecord
from engine.views import InstanceFilter, Page, Principal

router = camunda_router("/variable-instance", "variable instance")


@router.get("", response_model=list[VariableInstanceDto])
def query_variable_instances(
    q: Annotated[VariableInstanceQueryDto, Query()],
    engine: EngineDep,
    principal: PrincipalDep,
    firstResult: int | None = None,
    maxResults: int | None = None,
) -> list[VariableInstanceDto]:
    page = variable_page(engine, principal, q, q.paging(firstResult, maxResults))
    return [variable_instance_dto(v) for v in page.items]


@router.get("/count", response_model=CountResultDto)
def count_variable_instances(
    q: Annotated[VariableInstanceQueryDto, Query()], engine: EngineDep, principal: PrincipalDep
) -> CountResultDto:
    return CountResultDto(count=variable_page(engine, principal, q, q.paging(0, 0)).total)


def variable_page(
    engine: ProcessEngine,
    principal: Principal,
    q: VariableInstanceQueryDto,
    paging: Paging,
    *,
    statuses: tuple[str, ...] | None = ("running", "suspended"),  # the runtime API's; None: history
) -> Page[VariableRecord]:
    names = one_or_many(q.variableName, q.variableNameIn)
    instances = one_or_many(q.processInstanceId, q.processInstanceIdIn)
    f = InstanceFilter(ids=instances, statuses=statuses)
    return engine.camunda.variables(f, names, q.variableNameLike, paging, principal=principal)
