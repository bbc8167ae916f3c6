"""A decision table as the evaluator sees it: compiled once at parse time, immutable afterwards."""

from dataclasses import dataclass, field
from enum import StrEnum

from engine.dmn.feel import Compiled


class HitPolicy(StrEnum):
    UNIQUE = "UNIQUE"
    FIRST = "FIRST"
    PRIORITY = "PRIORITY"
    ANY = "ANY"
    COLLECT = "COLLECT"
    RULE_ORDER = "RULE ORDER"
    OUTPUT_ORDER = "OUTPUT ORDER"


class Aggregation(StrEnum):
    SUM = "SUM"
    MIN = "MIN"
    MAX = "MAX"
    COUNT = "COUNT"


@dataclass(frozen=True)
class Input:
    id: str
    label: str
    expression: Compiled
    type_ref: str | None


@dataclass(frozen=True)
class Output:
    id: str
    label: str
    name: str
    type_ref: str | None
    #: `outputValues` in order of priority (PRIORITY and OUTPUT ORDER rank matched rules by it)
    values: tuple[object, ...] = ()


@dataclass(frozen=True)
class Rule:
    id: str
    index: int  # 1-based, as people count rows
    description: str
    tests: tuple[Compiled | None, ...]  # one per input; None is `-`
    outputs: tuple[Compiled, ...]  # one per output


@dataclass(frozen=True)
class Decision:
    id: str
    name: str
    hit_policy: HitPolicy
    aggregation: Aggregation | None
    inputs: tuple[Input, ...]
    outputs: tuple[Output, ...]
    rules: tuple[Rule, ...]
    resource_name: str = ""
    line: int | None = None
    constants: dict[str, object] = field(default_factory=dict)  # every date/duration literal of the table


@dataclass(frozen=True)
class DecisionRef:
    """What a business rule task names: `camunda:decisionRef` and its companions."""

    key: str
    binding: str = "latest"  # latest | deployment | version
    version: int | None = None  # with binding "version"
    mapping: str = "resultList"  # camunda:mapDecisionResult
    result_variable: str | None = None
