"""The audit log for administrators: every audit event, filtered and paged (the append-only
`audit_event` table, read as it is: nothing here writes)."""

from datetime import UTC, datetime

from sqlmodel import col, func, select

from engine import permissions
from engine.errors import Forbidden, InvalidInput
from engine.limits import MAX_AUDIT_LIMIT, MAX_AUDIT_OFFSET
from engine.services.mappers import audit_view
from engine.storage.tables import AuditEventRow
from engine.storage.uow import Transactions, UnitOfWork
from engine.views import AuditEntry, Page, Principal

SORTS = ("-id", "id")  # newest first, or by id ascending (ids grow with time)


class AuditService:
    def __init__(self, tx: Transactions) -> None:
        self._tx = tx

    def list_events(
        self,
        *,
        principal: Principal,
        instance_id: str | None = None,
        actor: str | None = None,
        type: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        sort: str = "-id",
        offset: int = 0,
        limit: int = 50,
    ) -> Page[AuditEntry]:
        """Audit events matching every given filter (`since`: at or after that moment; `until`: before
        it; a time without a zone is UTC), with the total that match. Admins only."""
        if not permissions.can_read_audit_log(principal):
            raise Forbidden("only admins read the audit log")
        if sort not in SORTS:
            raise InvalidInput(f"sort is one of {', '.join(SORTS)}")
        if not (0 <= offset <= MAX_AUDIT_OFFSET) or not (1 <= limit <= MAX_AUDIT_LIMIT):
            raise InvalidInput(f"offset is 0-{MAX_AUDIT_OFFSET} and limit is 1-{MAX_AUDIT_LIMIT}")
        since = _utc(since) if since is not None else None
        until = _utc(until) if until is not None else None

        def query(uow: UnitOfWork) -> Page[AuditEntry]:
            session = uow.session
            q = select(AuditEventRow)
            for column, value in (
                (AuditEventRow.instance_id, instance_id),
                (AuditEventRow.actor, actor),
                (AuditEventRow.type, type),
            ):
                if value is not None:
                    q = q.where(column == value)
            if since is not None:
                q = q.where(AuditEventRow.at >= since)
            if until is not None:
                q = q.where(AuditEventRow.at < until)
            total = session.exec(select(func.count()).select_from(q.subquery())).one()
            by_id = col(AuditEventRow.id).desc() if sort == "-id" else col(AuditEventRow.id).asc()
            rows = session.exec(q.order_by(by_id).offset(offset).limit(limit)).all()
            return Page([audit_view(r) for r in rows], total, offset, limit)

        return self._tx.read(query)


def _utc(moment: datetime) -> datetime:
    """The moment in UTC (a time without a zone is UTC); beyond the years 1-9999 in UTC, the first or
    last moment there is."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        return (datetime.min if moment.year == 1 else datetime.max).replace(tzinfo=UTC)
