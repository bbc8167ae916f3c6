"""Version migration of many instances: check which can move, then move them in a batch."""

from datetime import UTC, datetime

from fastapi import APIRouter, status

from api.deps import EngineDep, PrincipalDep
from api.routing import Route
from api.schemas import InstanceCriteria, MigrationRequest
from engine.views import InstanceFilter, MigrationBatchView, MigrationCheckView

router = APIRouter(prefix="/api/v1/migrations", tags=["version migration"], route_class=Route)


@router.post("/check", response_model=list[MigrationCheckView])
def check(body: MigrationRequest, engine: EngineDep, principal: PrincipalDep) -> list[MigrationCheckView]:
    """For each running or suspended instance of the process that matches, whether it can move to the
    target version and, if not, why (an active element that no longer exists, a changed task type)."""
    return engine.migrations.check(
        body.process_key,
        body.target_version,
        principal=principal,
        where=_filter(body.where),
        mapping=body.mapping,
    )


@router.post("", response_model=MigrationBatchView, status_code=status.HTTP_202_ACCEPTED)
def start(body: MigrationRequest, engine: EngineDep, principal: PrincipalDep) -> MigrationBatchView:
    """Move every matching instance in the background; GET the batch for its progress."""
    return engine.migrations.start_batch(
        body.process_key,
        body.target_version,
        principal=principal,
        where=_filter(body.where),
        mapping=body.mapping,
        reason=body.reason,
    )


@router.get("/{batch_id}", response_model=MigrationBatchView)
def progress(batch_id: str, engine: EngineDep, principal: PrincipalDep) -> MigrationBatchView:
    return engine.migrations.batch(batch_id, principal=principal)


def _filter(c: InstanceCriteria) -> InstanceFilter:
    return InstanceFilter(
        version=c.version,
        business_key=c.business_key or None,
        statuses=(c.status,) if c.status else None,
        stage=c.stage,
        holder=c.holder,
        overdue=c.overdue,
        started_after=_utc(c.started_after),
        started_before=_utc(c.started_before),
    )


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment
