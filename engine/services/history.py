"""History reads: the audit events a user may see, after a cursor (for live pages polling the database)."""

from sqlmodel import col, func, select

from engine.errors import NotFound
from engine.permissions import TeamRules
from engine.services.console import require_visible
from engine.services.mappers import audit_view
from engine.storage.tables import AuditEventRow, ProcessInstanceRow
from engine.storage.uow import Transactions, UnitOfWork
from engine.views import AuditEntry, Principal


class HistoryService:
    def __init__(self, tx: Transactions, rules: TeamRules) -> None:
        self._tx = tx
        self._rules = rules

    def last_event_id(self) -> int:
        """The id of the newest audit event (0 when there is none): where a live page starts."""
        return self._tx.read(lambda uow: uow.session.exec(select(func.max(AuditEventRow.id))).one() or 0)

    def events_since(
        self, after_id: int, *, principal: Principal, limit: int = 200
    ) -> tuple[list[AuditEntry], int]:
        """Instance and task events with an id above `after_id` whose instance `principal` may see (by the
        same rule as reading the instance), oldest first; and the cursor to pass next time (the highest id
        read, seen or not). Events that belong to no instance (deployments, users) are left out."""

        def read(uow: UnitOfWork) -> tuple[list[AuditEntry], int]:
            session = uow.session
            rows = session.exec(
                select(AuditEventRow)
                .where(col(AuditEventRow.id) > after_id)
                .order_by(col(AuditEventRow.id))
                .limit(limit)
            ).all()
            if not rows:
                return [], after_id
            visible: dict[str, bool] = {}
            for instance_id in {r.instance_id for r in rows if r.instance_id}:
                instance = session.get(ProcessInstanceRow, instance_id)
                try:
                    if instance is None:
                        raise NotFound(instance_id)
                    require_visible(session, self._rules, principal, instance)
                    visible[instance_id] = True
                except NotFound:
                    visible[instance_id] = False
            seen = [audit_view(r) for r in rows if r.instance_id and visible[r.instance_id]]
            last = rows[-1].id
            assert last is not None  # a row read back: the database numbered it
            return seen, last

        return self._tx.read(read)
