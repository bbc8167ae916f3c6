"""/engine-rest: incidents, jobs, signals, the engine's name and version.

Incidents are the failing steps of instances, external tasks out of retries and failed jobs
(engine/services/camunda_history.py). Jobs are opsflow's timers, deadlines and deliveries (admins).
opsflow's engine has no signal events: `POST /signal` is a 400 that says so.
"""

from typing import Annotated

from fastapi import Query

from api.camunda.dto import CountResultDto
from api.camunda.dto_history import EngineDto, IncidentDto, JobDto, VersionDto, incident_dto, job_dto
from api.camunda.errors import camunda_router, invalid
from api.camunda.queries import IncidentQueryDto, JobQueryDto
from api.deps import EngineDep, PrincipalDep

#: the Camunda 7 REST API version this subset follows
CAMUNDA_VERSION = "7.23.0"

incident_router = camunda_router("/incident", "incident")
job_router = camunda_router("/job", "job")
signal_router = camunda_router("/signal", "signal")
engine_router = camunda_router("", "engine")


@incident_router.get("", response_model=list[IncidentDto])
def query_incidents(
    q: Annotated[IncidentQueryDto, Query()],
    engine: EngineDep,
    principal: PrincipalDep,
    firstResult: int | None = None,
    maxResults: int | None = None,
) -> list[IncidentDto]:
    page = engine.camunda_history.incidents(
        instance_id=q.processInstanceId,
        incident_type=q.incidentType,
        paging=q.paging(firstResult, maxResults),
        principal=principal,
    )
    return [incident_dto(i) for i in page.items]


@incident_router.get("/count", response_model=CountResultDto)
def count_incidents(
    q: Annotated[IncidentQueryDto, Query()], engine: EngineDep, principal: PrincipalDep
) -> CountResultDto:
    page = engine.camunda_history.incidents(
        instance_id=q.processInstanceId,
        incident_type=q.incidentType,
        paging=q.paging(0, 0),
        principal=principal,
    )
    return CountResultDto(count=page.total)


@job_router.get("", response_model=list[JobDto])
def query_jobs(
    q: Annotated[JobQueryDto, Query()],
    engine: EngineDep,
    principal: PrincipalDep,
    firstResult: int | None = None,
    maxResults: int | None = None,
) -> list[JobDto]:
    page = engine.camunda_history.jobs(
        instance_id=q.processInstanceId,
        with_exception=q.withException,
        paging=q.paging(firstResult, maxResults),
        principal=principal,
    )
    return [job_dto(j) for j in page.items]


@job_router.get("/count", response_model=CountResultDto)
def count_jobs(
    q: Annotated[JobQueryDto, Query()], engine: EngineDep, principal: PrincipalDep
) -> CountResultDto:
    page = engine.camunda_history.jobs(
        instance_id=q.processInstanceId,
        with_exception=q.withException,
        paging=q.paging(0, 0),
        principal=principal,
    )
    return CountResultDto(count=page.total)


@signal_router.post("", status_code=204)
def throw_signal(principal: PrincipalDep) -> None:
    raise invalid("Signals are not supported: opsflow's engine has no signal events (use POST /message)")


@engine_router.get("/version", response_model=VersionDto)
def version(principal: PrincipalDep) -> VersionDto:
    """The Camunda 7 REST version this subset follows."""
    return VersionDto(version=CAMUNDA_VERSION)


@engine_router.get("/engine", response_model=list[EngineDto])
def engines(principal: PrincipalDep) -> list[EngineDto]:
    """One engine, `default`, as a single Camunda engine answers."""
    return [EngineDto(name="default")]


routers = (incident_router, job_router, signal_router, engine_router)
