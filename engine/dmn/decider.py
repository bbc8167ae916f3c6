"""Deciding from tables held in memory, for tools and model tests that run a workflow without a
database: the latest (only) version of each table, and no history. The engine's own decider, which
resolves versions and records history, is engine.services.decision_store.InstanceDecider."""

from collections.abc import Iterable

from engine.dmn.evaluate import Evaluate, evaluate_decision
from engine.dmn.model import Decision, DecisionRef
from engine.dmn.results import map_result
from engine.types import JsonObject


class TableDecider:
    def __init__(self, decisions: Iterable[Decision], evaluate: Evaluate) -> None:
        self._decisions = {d.id: d for d in decisions}
        self._evaluate = evaluate

    def decide(self, ref: DecisionRef, data: JsonObject, *, task_id: str, element_id: str) -> object:
        decision = self._decisions.get(ref.key)
        if decision is None:
            raise LookupError(f"decision {ref.key} is not deployed")
        return map_result(evaluate_decision(decision, data, self._evaluate), ref.mapping)
