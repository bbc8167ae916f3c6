"""Process analytics for leaders and admins: figures per process and version over a period, and the
handbook's goals against the effects measured in stage 5."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import EngineDep, PrincipalDep
from api.routing import Route
from api.schemas import DB_INT_MAX
from engine.views import GoalFigures, ProcessAnalyticsView

router = APIRouter(prefix="/api/v1/analytics", tags=["analytics"], route_class=Route)

#: the period when none is given: the last twelve weeks
DEFAULT_PERIOD = timedelta(weeks=12)

_MOMENT = "ISO 8601; UTC when it names no zone"


@router.get("/processes/{key}", response_model=ProcessAnalyticsView)
def process_figures(
    key: str,
    engine: EngineDep,
    principal: PrincipalDep,
    version: Annotated[
        int | None, Query(ge=1, le=DB_INT_MAX, description="one version; all versions when absent")
    ] = None,
    period_from: Annotated[datetime | None, Query(alias="from", description=_MOMENT)] = None,
    period_to: Annotated[datetime | None, Query(alias="to", description=_MOMENT)] = None,
) -> ProcessAnalyticsView:
    """Instances started and completed (by outcome) in [from, to), cycle-time percentiles, per step
    (user task) its runs, waiting / work / total time percentiles (seconds) and overdue share, how
    often each rework loop was taken, and instances started / completed per week."""
    end = _utc(period_to) or datetime.now(UTC)
    start = _utc(period_from) or end - DEFAULT_PERIOD
    return engine.analytics.process(
        key, version=version, period_from=start, period_to=end, principal=principal
    )


@router.get("/handbook-goals", response_model=list[GoalFigures])
def handbook_goals(engine: EngineDep, principal: PrincipalDep) -> list[GoalFigures]:
    """Each optimization's goal from its kick-off (Table 2-1: metric, baseline, target) against the
    effect measured in stage 5 (before, after), oldest first."""
    return engine.analytics.handbook_goals(principal=principal)


def _utc(moment: datetime | None) -> datetime | None:
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment
