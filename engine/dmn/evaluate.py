"""Evaluating a decision table: the inputs, which rules match, what the hit policy makes of them.

Everything the model wrote runs in the sandbox through one entry point, `evaluate(source, names)`
(the BPMN sandbox's expression evaluator), at most three times per decision: the input expressions,
then every rule's tests at once, then the output entries of the rules that matched (skipped when
they are all literals, the usual case).
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from engine.dmn.feel import Compiled
from engine.dmn.model import Aggregation, Decision, HitPolicy, Rule
from engine.types import JsonObject

#: The sandbox's expression evaluator: (source, names) -> whatever the expression gives.
Evaluate = Callable[[str, JsonObject], Any]
#: One result of a table: output name -> value.
Outputs = dict[str, Any]


class DecisionError(Exception):
    """The table cannot give an answer for these inputs (an incident in a process, 4xx over REST)."""

    def __init__(self, decision: Decision, message: str, inputs: dict[str, object]) -> None:
        shown = ", ".join(f"{label} = {value!r}" for label, value in inputs.items())
        super().__init__(f"decision {decision.id}: {message} (inputs: {shown or 'none'})")
        self.decision_id = decision.id
        self.inputs = inputs


@dataclass(frozen=True)
class MatchedRule:
    rule_id: str
    index: int
    outputs: Outputs


@dataclass(frozen=True)
class DecisionResult:
    decision_id: str
    inputs: dict[str, object]  # input label -> value, as the rules saw it
    matched: list[MatchedRule]  # in the order the hit policy gives
    #: The table's answer, one dict per result (Camunda's resultList). An aggregation gives one.
    results: list[Outputs]


def evaluate_decision(decision: Decision, variables: JsonObject, evaluate: Evaluate) -> DecisionResult:
    inputs = _inputs(decision, variables, evaluate)
    shown = {i.label: inputs[f"dmn_in_{n}"] for n, i in enumerate(decision.inputs, 1)}
    matching = _matching_rules(decision, variables, inputs, evaluate)
    ordered = _apply_hit_policy(decision, matching, variables, inputs, evaluate, shown)
    matched = [MatchedRule(rule.id, rule.index, outputs) for rule, outputs in ordered]
    results = [dict(m.outputs) for m in matched]
    if decision.aggregation is not None:
        results = [_aggregate(decision, results)]
    return DecisionResult(decision.id, shown, matched, results)


def _scope(
    compiled: list[Compiled], variables: JsonObject, extra: dict[str, object], constants: dict[str, object]
) -> JsonObject:
    """The names the sandbox gets: only those read, a missing variable as null (as FEEL has it)."""
    wanted: set[str] = set().union(*(c.names for c in compiled)) if compiled else set()
    scope = {name: variables.get(name) for name in wanted}
    scope.update({k: v for k, v in extra.items() if k in wanted})
    scope.update({k: v for k, v in constants.items() if k in wanted})
    return scope


def _inputs(decision: Decision, variables: JsonObject, evaluate: Evaluate) -> dict[str, object]:
    """Input values by `dmn_in_<n>`. An input that is just a variable is read, the others are
    evaluated together in one sandbox call."""
    values: list[object] = [
        variables.get(i.expression.variable) if i.expression.variable is not None else None
        for i in decision.inputs
    ]
    computed = [(n, i.expression) for n, i in enumerate(decision.inputs) if i.expression.variable is None]
    if computed:
        source = "[" + ", ".join(e.source for _, e in computed) + "]"
        scope = _scope([e for _, e in computed], variables, {}, decision.constants)
        for (n, _), value in zip(computed, evaluate(source, scope), strict=True):
            values[n] = value
    converted = {}
    for n, (item, value) in enumerate(zip(decision.inputs, values, strict=True), 1):
        try:
            converted[f"dmn_in_{n}"] = _typed(value, item.type_ref)
        except (TypeError, ValueError) as exc:
            shown = {i.label: v for i, v in zip(decision.inputs, values, strict=True)}
            message = f"input {item.label} is not a {item.type_ref}: {exc}"
            raise DecisionError(decision, message, shown) from None
    return converted


def _matching_rules(
    decision: Decision, variables: JsonObject, inputs: dict[str, object], evaluate: Evaluate
) -> list[Rule]:
    conditions: list[str] = []
    compiled: list[Compiled] = []
    for rule in decision.rules:
        tests = [t for t in rule.tests if t is not None]
        compiled += tests
        conditions.append(" and ".join(f"({t.source})" for t in tests) if tests else "True")
    if not decision.rules:
        return []
    source = "[" + ", ".join(f"bool({c})" for c in conditions) + "]"
    matches = evaluate(source, _scope(compiled, variables, inputs, decision.constants))
    return [rule for rule, hit in zip(decision.rules, matches, strict=True) if hit]


def _outputs(
    decision: Decision,
    rules: list[Rule],
    variables: JsonObject,
    inputs: dict[str, object],
    evaluate: Evaluate,
) -> list[Outputs]:
    entries = [c for r in rules for c in r.outputs]
    if all(c.literal for c in entries):
        values = [c.value for c in entries]
    else:
        source = "[" + ", ".join(c.source for c in entries) + "]"
        values = list(evaluate(source, _scope(entries, variables, inputs, decision.constants)))
    width = len(decision.outputs)
    return [
        {o.name: values[i * width + j] for j, o in enumerate(decision.outputs)} for i in range(len(rules))
    ]


def _apply_hit_policy(
    decision: Decision,
    matching: list[Rule],
    variables: JsonObject,
    inputs: dict[str, object],
    evaluate: Evaluate,
    shown: dict[str, object],
) -> list[tuple[Rule, Outputs]]:
    policy = decision.hit_policy
    if policy is HitPolicy.UNIQUE and len(matching) != 1:
        found = "no rule matches" if not matching else f"rules {_numbers(matching)} all match"
        raise DecisionError(decision, f"{found}, and the UNIQUE hit policy wants exactly one", shown)
    if policy is HitPolicy.FIRST:
        matching = matching[:1]
    outputs = _outputs(decision, matching, variables, inputs, evaluate)
    pairs = list(zip(matching, outputs, strict=True))
    if policy is HitPolicy.ANY and any(o != outputs[0] for o in outputs):
        raise DecisionError(
            decision,
            f"rules {_numbers(matching)} match with different outputs under the ANY hit policy",
            shown,
        )
    if policy is HitPolicy.ANY:
        return pairs[:1]
    if policy in (HitPolicy.PRIORITY, HitPolicy.OUTPUT_ORDER):
        pairs.sort(key=lambda pair: _rank(decision, pair[1]))  # stable: ties keep rule order
        return pairs[:1] if policy is HitPolicy.PRIORITY else pairs
    return pairs


def _rank(decision: Decision, outputs: Outputs) -> tuple[int, ...]:
    """Position of each output's value in its listed output values (unlisted values rank last)."""
    rank = []
    for output in decision.outputs:
        values = list(output.values)
        value = outputs[output.name]
        rank.append(values.index(value) if value in values else len(values))
    return tuple(rank)


def _aggregate(decision: Decision, results: list[Outputs]) -> Outputs:
    name = decision.outputs[0].name
    values = [r[name] for r in results if r[name] is not None]
    if decision.aggregation is Aggregation.COUNT:
        return {name: len(values)}
    if not values:
        return {name: None}
    if decision.aggregation is Aggregation.SUM:
        return {name: sum(values)}
    if decision.aggregation is Aggregation.MIN:
        return {name: min(values)}
    return {name: max(values)}


def _numbers(rules: list[Rule]) -> str:
    return ", ".join(str(r.index) for r in rules)


def _typed(value: Any, type_ref: str | None) -> object:
    """Inputs arrive as process data (JSON): dates as ISO strings, numbers as text from forms."""
    if value is None or not type_ref:
        return value
    kind = type_ref.lower()
    if kind in ("integer", "long") and not isinstance(value, bool):
        return int(value) if not isinstance(value, float) or value.is_integer() else value
    if kind == "double" and not isinstance(value, bool):
        return float(value) if not isinstance(value, Decimal) else value
    if kind == "date" and isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if kind == "datetime" and isinstance(value, str):
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if kind == "string" and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return value
