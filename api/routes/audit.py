"""The audit log: who did what, when, to which instance or task. Admins only."""

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from api.deps import EngineDep, PrincipalDep
from api.routing import Route
from api.schemas import Page
from engine.limits import MAX_AUDIT_LIMIT, MAX_AUDIT_OFFSET
from engine.views import AuditEntry

router = APIRouter(prefix="/api/v1", tags=["audit"], route_class=Route)


class AuditPage(Page):
    items: list[AuditEntry]


class ErrorOut(BaseModel):
    """The one error shape of the API (api/errors.py)."""

    error: str
    message: str
    problems: list[dict[str, Any]]


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "No valid bearer token"},
    403: {"model": ErrorOut, "description": "The caller is not an admin"},
    422: {"model": ErrorOut, "description": "A filter or paging parameter is not valid"},
}


@router.get("/audit", response_model=AuditPage, responses=ERRORS, summary="The audit log")
def audit_log(
    engine: EngineDep,
    principal: PrincipalDep,
    instance: Annotated[str | None, Query(max_length=36, description="events of this instance")] = None,
    actor: Annotated[str | None, Query(max_length=64, description="events done by this user")] = None,
    type: Annotated[str | None, Query(max_length=40, description="e.g. task_completed")] = None,
    since: Annotated[datetime | None, Query(description="at or after this moment (UTC if no zone)")] = None,
    until: Annotated[datetime | None, Query(description="before this moment (UTC if no zone)")] = None,
    sort: Annotated[Literal["-id", "id"], Query(description="-id: newest first; id: oldest first")] = "-id",
    offset: Annotated[int, Query(ge=0, le=MAX_AUDIT_OFFSET)] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_AUDIT_LIMIT)] = 50,
) -> AuditPage:
    """Every audit event matching all the given filters, with the total that match."""
    page = engine.audit.list_events(
        principal=principal,
        instance_id=instance,
        actor=actor,
        type=type,
        since=since,
        until=until,
        sort=sort,
        offset=offset,
        limit=limit,
    )
    return AuditPage(items=page.items, total=page.total, offset=page.offset, limit=page.limit)
