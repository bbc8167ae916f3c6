"""Decisions inside a transaction someone else opened: finding the version a reference names,
evaluating it and recording the evaluation; and the rows of newly deployed versions."""

import threading
import uuid
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from engine.dmn import (
    Decision,
    DecisionResult,
    ParsedDecision,
    evaluate_decision,
    load_decision,
    map_result,
)
from engine.dmn.evaluate import Evaluate
from engine.dmn.model import DecisionRef
from engine.errors import NotFound
from engine.storage.tables import DecisionDefinitionRow, DecisionEvaluationRow, utcnow
from engine.types import JsonObject
from engine.views import DecisionDefinitionView

_DEFINITION = DecisionDefinitionRow.__table__
_EVALUATION = DecisionEvaluationRow.__table__
_LATEST = sa.select(_DEFINITION.c.id).where(_DEFINITION.c.key == sa.bindparam("key"))
_LATEST = _LATEST.order_by(_DEFINITION.c.version.desc()).limit(1)
_DEPLOYED_BY = _LATEST.where(_DEFINITION.c.deployed_at <= sa.bindparam("deployed_at"))
_VERSION = _LATEST.where(_DEFINITION.c.version == sa.bindparam("version"))
_RECORD = _EVALUATION.insert()


class DecisionCache:
    """Compiled decisions by definition id. Versions are immutable, so entries never go stale."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[DecisionDefinitionRow, Decision]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, definition_id: str) -> tuple[DecisionDefinitionRow, Decision]:
        found = self._entries.get(definition_id)
        if found is None:
            row = session.get(DecisionDefinitionRow, definition_id)
            if row is None:
                raise NotFound(f"decision definition {definition_id} not found")
            session.expunge(row)
            found = (row, load_decision(row.dmn_xml, row.resource_name, row.key))
            with self._lock:
                found = self._entries.setdefault(definition_id, found)
        return found


class Decisions:
    """Finding and evaluating decisions inside a transaction someone else opened."""

    def __init__(self, cache: DecisionCache, evaluate: Evaluate) -> None:
        self.cache = cache
        self.evaluate = evaluate

    def resolve(self, session: Session, ref: DecisionRef, deployed_at: datetime | None = None) -> str:
        params: dict[str, object]
        if ref.binding == "version":
            query, params = _VERSION, {"key": ref.key, "version": ref.version}
        elif ref.binding == "deployment" and deployed_at is not None:
            query, params = _DEPLOYED_BY, {"key": ref.key, "deployed_at": deployed_at}
        else:
            query, params = _LATEST, {"key": ref.key}
        found: str | None = session.connection().execute(query, params).scalar()
        if found is None:
            suffix = f" version {ref.version}" if ref.binding == "version" else ""
            raise NotFound(f"decision {ref.key}{suffix} is not deployed")
        return found

    def run(
        self,
        session: Session,
        definition_id: str,
        variables: JsonObject,
        *,
        instance_id: str | None = None,
        task_id: str | None = None,
        element_id: str | None = None,
        actor: str | None = None,
    ) -> "Evaluated":
        """Evaluate, and record the evaluation in the caller's transaction."""
        row, decision = self.cache.get(session, definition_id)
        result = evaluate_decision(decision, variables, self.evaluate)
        record = {
            "at": utcnow(),
            "decision_id": row.id,
            "decision_key": row.key,
            "decision_version": row.version,
            "instance_id": instance_id,
            "task_id": task_id,
            "element_id": element_id,
            "actor": actor,
            "inputs": _jsonable(result.inputs),
            "matched_rules": [
                {"rule_id": m.rule_id, "index": m.index, "outputs": _jsonable(m.outputs)}
                for m in result.matched
            ],
            "result": _jsonable(result.results),
        }
        session.connection().execute(_RECORD, record)
        return Evaluated(row, result, record)


@dataclass(frozen=True)
class Evaluated:
    definition: DecisionDefinitionRow
    result: DecisionResult  # typed values (dates stay dates), for a caller that maps them
    record: JsonObject  # the decision_evaluation row as written


class InstanceDecider:
    """The decider of one instance for one transaction (see engine.bpmn.decision_task)."""

    def __init__(
        self, decisions: Decisions, session: Session, instance_id: str, deployed_at: datetime
    ) -> None:
        self._decisions = decisions
        self._session = session
        self._instance_id = instance_id
        self._deployed_at = deployed_at

    def decide(self, ref: DecisionRef, data: JsonObject, *, task_id: str, element_id: str) -> object:
        definition_id = self._decisions.resolve(self._session, ref, self._deployed_at)
        evaluation = self._decisions.run(
            self._session,
            definition_id,
            data,
            instance_id=self._instance_id,
            task_id=task_id,
            element_id=element_id,
        )
        return _jsonable(map_result(evaluation.result, ref.mapping))  # process data is JSON


def new_decision_rows(
    session: Session,
    parsed: list[ParsedDecision],
    deployment_id: str,
    deployed_at: datetime,
    unchanged: list[str],
) -> list[DecisionDefinitionRow]:
    """Rows for the decisions whose table changed since their latest version (the others go to
    `unchanged`). They carry the deployment's time: a process deployed with them binds them under
    `camunda:decisionRefBinding="deployment"` (deployed at or before the process version)."""
    rows = []
    for item in parsed:
        key = item.decision.id
        latest = session.exec(
            select(DecisionDefinitionRow)
            .where(DecisionDefinitionRow.key == key)
            .order_by(col(DecisionDefinitionRow.version).desc())
        ).first()
        if latest is not None and latest.content_hash == item.digest:
            unchanged.append(key)
            continue
        rows.append(
            DecisionDefinitionRow(
                id=str(uuid.uuid4()),
                key=key,
                version=(latest.version + 1) if latest else 1,
                name=item.decision.name,
                resource_name=item.decision.resource_name,
                dmn_xml=item.xml,
                content_hash=item.digest,
                hit_policy=item.decision.hit_policy.value,
                deployment_id=deployment_id,
                deployed_at=deployed_at,
            )
        )
    return rows


def decision_view(row: DecisionDefinitionRow) -> DecisionDefinitionView:
    return DecisionDefinitionView(
        row.id,
        row.key,
        row.version,
        row.name,
        row.resource_name,
        row.hit_policy,
        row.deployment_id,
        row.deployed_at,
    )


def _jsonable(value: object) -> object:
    """History is JSON: dates as ISO text, Decimals as numbers."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
