"""Process instances."""

from typing import Literal

from fastapi import APIRouter, status

from api.deps import EngineDep, PrincipalDep
from api.routing import Route
from api.schemas import CancelInstance, InstancePage, Limit, Offset, RetryInstance, StartInstance
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
    status: Literal["running", "completed", "cancelled"] | None = None,
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
    """Resolve an incident (admins): the failed script or condition runs again, with corrected data."""
    return engine.runtime.retry(instance_id, principal=principal, variables=body.variables if body else None)
