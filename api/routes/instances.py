"""Process instances."""

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response, status

from api.deps import EngineDep, PrincipalDep
from api.instance_export import EXPORT_MAX, instances_csv
from api.routing import Route
from api.schemas import (
    DB_INT_MAX,
    AnswerMessage,
    CancelInstance,
    ChangeVariables,
    InstancePage,
    Limit,
    MigrateInstance,
    MoveToken,
    Offset,
    RetryInstance,
    StartInstance,
    SuspendInstance,
)
from engine.views import InstanceDetailView, InstanceFilter, InstanceView, StepExecutionView

router = APIRouter(prefix="/api/v1/process-instances", tags=["process instances"], route_class=Route)


@router.post("", response_model=InstanceView, status_code=status.HTTP_201_CREATED)
def start(body: StartInstance, engine: EngineDep, principal: PrincipalDep) -> InstanceView:
    """Start the latest version of a process; `variables` are checked against its start form."""
    return engine.runtime.start_process_instance_by_key(
        body.process_key, principal=principal, business_key=body.business_key, variables=body.variables
    )


Status = Literal["running", "suspended", "completed", "cancelled"]


def instance_filter(
    process: str | None = None,
    version: Annotated[int | None, Query(ge=1, le=DB_INT_MAX)] = None,
    business_key: str | None = None,
    status: Status | None = None,
    stage: Annotated[str | None, Query(max_length=64)] = None,
    holder: Annotated[
        str | None, Query(max_length=64, description="assigned to, or offered by name to")
    ] = None,
    has_incident: bool | None = None,
    overdue: bool | None = None,
    started_after: Annotated[datetime | None, Query(description="inclusive; a date: its start, UTC")] = None,
    started_before: Annotated[datetime | None, Query(description="exclusive; a date: its start, UTC")] = None,
) -> InstanceFilter:
    return InstanceFilter(
        process_key=process,
        version=version,
        business_key=business_key or None,
        statuses=(status,) if status else None,
        stage=stage,
        holder=holder,
        has_incident=has_incident,
        overdue=overdue,
        started_after=_utc(started_after),
        started_before=_utc(started_before),
    )


FilterDep = Annotated[InstanceFilter, Depends(instance_filter)]


@router.get("", response_model=InstancePage)
def list_instances(
    engine: EngineDep, principal: PrincipalDep, where: FilterDep, offset: Offset = 0, limit: Limit = 50
) -> InstancePage:
    page = engine.runtime.list_instances(principal=principal, where=where, offset=offset, limit=limit)
    return InstancePage(items=page.items, total=page.total, offset=page.offset, limit=page.limit)


@router.get("/export", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def export_instances(engine: EngineDep, principal: PrincipalDep, where: FilterDep) -> Response:
    """The filtered list as CSV (UTF-8 with a byte order mark, so spreadsheets read the Chinese), at
    most 10,000 rows, newest first."""
    page = engine.runtime.list_instances(principal=principal, where=where, offset=0, limit=EXPORT_MAX)
    headers = {"Content-Disposition": 'attachment; filename="process-instances.csv"'}
    if page.total > len(page.items):
        headers["X-Truncated"] = f"{len(page.items)} of {page.total}"
    return Response(instances_csv(page.items), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/{instance_id}", response_model=InstanceDetailView)
def get_instance(instance_id: str, engine: EngineDep, principal: PrincipalDep) -> InstanceDetailView:
    """State, open tasks, and the history of who did what and when."""
    return engine.runtime.get_instance(instance_id, principal=principal)


@router.get("/{instance_id}/elements/{element_id}/executions", response_model=list[StepExecutionView])
def step_executions(
    instance_id: str, element_id: str, engine: EngineDep, principal: PrincipalDep
) -> list[StepExecutionView]:
    """Each run of one step (a user or service task) of the instance, first run first: who held and
    completed it, when, and the data it submitted (`data` only for whoever may read that task:
    `data_readable` says so). Empty for elements that are not tasks."""
    return engine.history.step_executions(instance_id, element_id, principal=principal)


@router.post("/{instance_id}/cancel", response_model=InstanceView)
def cancel(
    instance_id: str, engine: EngineDep, principal: PrincipalDep, body: CancelInstance | None = None
) -> InstanceView:
    return engine.runtime.cancel(instance_id, principal=principal, reason=body.reason if body else "")


@router.post("/{instance_id}/retry", response_model=InstanceView)
def retry(
    instance_id: str, engine: EngineDep, principal: PrincipalDep, body: RetryInstance | None = None
) -> InstanceView:
    """Resolve an incident (admins): whatever failed runs again (a script or condition, an external
    task whose retries ran out, a job that gave up), with corrected data."""
    return engine.runtime.retry(instance_id, principal=principal, variables=body.variables if body else None)


@router.post("/{instance_id}/suspend", response_model=InstanceView)
def suspend(
    instance_id: str, engine: EngineDep, principal: PrincipalDep, body: SuspendInstance | None = None
) -> InstanceView:
    """Nothing of it moves until resumed: no task claimed or completed, no timer fired, no message taken."""
    return engine.console.suspend(instance_id, principal=principal, reason=body.reason if body else "")


@router.post("/{instance_id}/resume", response_model=InstanceView)
def resume(
    instance_id: str, engine: EngineDep, principal: PrincipalDep, body: SuspendInstance | None = None
) -> InstanceView:
    return engine.console.resume(instance_id, principal=principal, reason=body.reason if body else "")


@router.post("/{instance_id}/answer-message", response_model=InstanceView)
def answer_message(
    instance_id: str, body: AnswerMessage, engine: EngineDep, principal: PrincipalDep
) -> InstanceView:
    """The leader records the answer of a system that is down (the approval system's decision)."""
    return engine.console.answer_message(
        instance_id, body.message, body.payload, principal=principal, reason=body.reason
    )


@router.patch("/{instance_id}/variables", response_model=InstanceView)
def change_variables(
    instance_id: str, body: ChangeVariables, engine: EngineDep, principal: PrincipalDep
) -> InstanceView:
    """Change process data (admins), checked by the form that owns each variable where one does."""
    return engine.console.set_variables(instance_id, body.variables, principal=principal, reason=body.reason)


@router.post("/{instance_id}/move-token", response_model=InstanceView)
def move_token(instance_id: str, body: MoveToken, engine: EngineDep, principal: PrincipalDep) -> InstanceView:
    """Skip an open step or go back to an earlier one (admins)."""
    return engine.console.move_token(
        instance_id, principal=principal, skip=body.skip, back_to=body.back_to, reason=body.reason
    )


def _utc(moment: datetime | None) -> datetime | None:
    """A moment without a zone is taken as UTC (as the engine stores every time)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


@router.post("/{instance_id}/migrate", response_model=InstanceView)
def migrate(
    instance_id: str, body: MigrateInstance, engine: EngineDep, principal: PrincipalDep
) -> InstanceView:
    """Move the instance to another version of its process (admins); 409 with the reasons when it cannot."""
    return engine.migrations.migrate(
        instance_id, body.target_version, principal=principal, mapping=body.mapping, reason=body.reason
    )
