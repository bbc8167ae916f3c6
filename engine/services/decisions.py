"""Deployed decisions for people and systems: versions, XML, standalone evaluation, history."""

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from engine.dmn import DecisionError, ResultMappingError
from engine.errors import InvalidInput, NotFound
from engine.permissions import TeamRules
from engine.services.console import require_visible
from engine.services.decision_store import Decisions, decision_view
from engine.storage.tables import DecisionDefinitionRow, DecisionEvaluationRow, ProcessInstanceRow
from engine.storage.uow import Transactions, UnitOfWork
from engine.types import JsonObject
from engine.views import DecisionDefinitionView, DecisionEvaluationView, Principal

_DEFINITION = DecisionDefinitionRow.__table__


class DecisionService:
    def __init__(self, tx: Transactions, decisions: Decisions, rules: TeamRules) -> None:
        self._tx = tx
        self._decisions = decisions
        self._rules = rules

    def list_decisions(
        self, key: str | None = None, *, latest_only: bool = True
    ) -> list[DecisionDefinitionView]:
        def query(uow: UnitOfWork) -> list[DecisionDefinitionView]:
            statement = select(DecisionDefinitionRow)
            if key is not None:
                statement = statement.where(DecisionDefinitionRow.key == key)
            if latest_only:
                latest = (
                    select(DecisionDefinitionRow.key, func.max(DecisionDefinitionRow.version).label("v"))
                    .group_by(DecisionDefinitionRow.key)
                    .subquery()
                )
                statement = statement.join(
                    latest,
                    (col(DecisionDefinitionRow.key) == latest.c.key)
                    & (DecisionDefinitionRow.version == latest.c.v),
                )
            order = (DecisionDefinitionRow.key, col(DecisionDefinitionRow.version).desc())
            return [decision_view(r) for r in uow.session.exec(statement.order_by(*order)).all()]

        return self._tx.read(query)

    def list_versions(self, key: str) -> list[DecisionDefinitionView]:
        found = self.list_decisions(key, latest_only=False)
        if not found:
            raise NotFound(f"decision {key} is not deployed")
        return found

    def get_decision(self, key: str, version: int | None = None) -> DecisionDefinitionView:
        return self._tx.read(lambda uow: decision_view(self._find(uow.session, key, version)))

    def get_decision_by_id(self, definition_id: str) -> DecisionDefinitionView:
        def query(uow: UnitOfWork) -> DecisionDefinitionView:
            row = uow.session.get(DecisionDefinitionRow, definition_id)
            if row is None:
                raise NotFound(f"decision definition {definition_id} not found")
            return decision_view(row)

        return self._tx.read(query)

    def get_xml(self, key: str, version: int | None = None) -> str:
        """The DMN file the latest (or the given) version was deployed from."""
        return self._tx.read(lambda uow: self._find(uow.session, key, version).dmn_xml)

    def get_xml_by_id(self, definition_id: str) -> str:
        return self._tx.read(
            lambda uow: self._decisions.cache.get(uow.session, self._exists(uow, definition_id))[0].dmn_xml
        )

    def evaluate(
        self, key: str, variables: JsonObject, *, version: int | None = None, actor: str | None = None
    ) -> DecisionEvaluationView:
        """Evaluate the latest (or the given) version on `variables`; recorded in the decision history
        (with no instance). A table that gives no answer is bad input: InvalidInput, inputs shown."""
        return self._tx.write(
            lambda uow: self._evaluate(uow, self._find(uow.session, key, version).id, variables, actor)
        )

    def evaluate_by_id(
        self, definition_id: str, variables: JsonObject, *, actor: str | None = None
    ) -> DecisionEvaluationView:
        return self._tx.write(
            lambda uow: self._evaluate(uow, self._exists(uow, definition_id), variables, actor)
        )

    def _evaluate(
        self, uow: UnitOfWork, definition_id: str, variables: JsonObject, actor: str | None
    ) -> DecisionEvaluationView:
        try:
            evaluated = self._decisions.run(uow.session, definition_id, variables, actor=actor)
        except (DecisionError, ResultMappingError) as exc:
            raise InvalidInput(str(exc)) from exc
        return evaluation_view(evaluated.record, evaluated.definition.name)

    def history(self, instance_id: str, *, principal: Principal) -> list[DecisionEvaluationView]:
        """Every decision an instance's business rule tasks took, oldest first (for those who may
        see the instance)."""

        def query(uow: UnitOfWork) -> list[DecisionEvaluationView]:
            instance = uow.session.get(ProcessInstanceRow, instance_id)
            if instance is None:
                raise NotFound(f"process instance {instance_id} not found")
            require_visible(uow.session, self._rules, principal, instance)
            rows = uow.session.exec(
                select(DecisionEvaluationRow, DecisionDefinitionRow.name)
                .join(
                    DecisionDefinitionRow, col(DecisionDefinitionRow.id) == DecisionEvaluationRow.decision_id
                )
                .where(DecisionEvaluationRow.instance_id == instance_id)
                .order_by(col(DecisionEvaluationRow.id))
            ).all()
            return [evaluation_view(row.model_dump(), name) for row, name in rows]

        return self._tx.read(query)

    @staticmethod
    def _find(session: Session, key: str, version: int | None) -> DecisionDefinitionRow:
        query = select(DecisionDefinitionRow).where(DecisionDefinitionRow.key == key)
        if version is not None:
            query = query.where(DecisionDefinitionRow.version == version)
        row = session.exec(query.order_by(col(DecisionDefinitionRow.version).desc())).first()
        if row is None:
            suffix = f" version {version}" if version is not None else ""
            raise NotFound(f"decision {key}{suffix} is not deployed")
        return row

    @staticmethod
    def _exists(uow: UnitOfWork, definition_id: str) -> str:
        found = uow.session.connection().execute(
            sa.select(_DEFINITION.c.id).where(_DEFINITION.c.id == definition_id)
        )
        if found.scalar() is None:
            raise NotFound(f"decision definition {definition_id} not found")
        return definition_id


def evaluation_view(record: JsonObject, name: str) -> DecisionEvaluationView:
    """A decision_evaluation row (as a dict of its columns) for people."""
    return DecisionEvaluationView(
        record["at"],
        record["decision_key"],
        record["decision_version"],
        name,
        record["instance_id"],
        record["task_id"],
        record["element_id"],
        record["inputs"],
        record["matched_rules"],
        record["result"],
    )
