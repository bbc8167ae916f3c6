"""Process instances."""

from typing import Literal

from fastapi import APIRouter, status

from api.deps import EngineDep, PrincipalDep
from api.routing import Route
from api.schemas import (
    AnswerMessage,
    CancelInstance,
    ChangeVariables,
    InstancePage,
    Limit,
    MoveToken,
    Offset,
    RetryInstance,
    StartInstance,
    SuspendInstance,
)
from engine.views import InstanceDetailView, InstanceView

router = APIRouter(prefix="/api/v1/process-instances", tags=["process instances"], route_class=Route)


@router.post("", response_model=InstanceView, status_code=status.HTTP_201_CREATED)
def start(body: StartInstance, engine: EngineDep, principal: PrincipalDep) -> InstanceView:
    """Start the latest version of a process; `variables` are checked against its start form."""
    return engine.runtime.start_process_instance_by_key(
        body.process_key, principal=principal, business_key=body.business_key, variables=body.variables
    )


@router.get("", response_model=InstancePage)
def list_instances(
    engine: EngineDep,
    principal: PrincipalDep,
    process: str | None = None,
    business_key: str | None = None,
    status: Literal["running", "suspended", "completed", "cancelled"] | None = None,
    has_incident: bool | None = None,
    overdue: bool | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> InstancePage:
    page = engine.runtime.list_instances(
        principal=principal,
        process_key=process,
        business_key=business_key,
        status=status,
        has_incident=has_incident,
        overdue=overdue,
        offset=offset,
        limit=limit,
    )
    return InstancePage(items=page.items, total=page.total, offset=page.offset, limit=page.limit)


@router.get("/{instance_id}", response_model=InstanceDetailView)
def get_instance(instance_id: str, engine: EngineDep, principal: PrincipalDep) -> InstanceDetailView:
    """State, open tasks, and the history of who did what and when."""
    return engine.runtime.get_instance(instance_id, principal=principal)


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
