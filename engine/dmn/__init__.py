"""Decision tables (DMN 1.3 as Camunda Modeler and dmn-js write them): parse, evaluate, map results.

FEEL. Camunda Modeler writes FEEL, so cells are FEEL. We grow our own subset rather than take a FEEL
library from PyPI, for three reasons. (1) The only candidates there (bkflow-feel, the FEEL parts of
bkflow-dmn and arrow-arrow-dmn) have had no release since 2023 and small user bases, and they
evaluate in-process with their own interpreter: nothing of the BPMN sandbox's time, size and memory
limits would apply, and a table is as much user code as a script. (2) `engine/forms/feel.py`
already parses the FEEL of forms safely (a closed grammar, no eval), checked against feelin; one
parser for both keeps one meaning of FEEL in the product. (3) What tables add is small and
mechanical: unary tests (`-`, comparisons, ranges, lists, `not(..)`, `?`) and date, date-time and
duration literals. `engine.dmn.feel` adds these and compiles every cell to an expression that
`engine.bpmn.sandbox` evaluates, so "evaluation obeys the same limits as conditions and scripts" holds
by construction. Not supported (a located deploy error, never a wrong answer): FEEL functions beyond
the temporal literals, year-month durations, literal-expression decisions and requirement graphs.

SpiffWorkflow's dmn package was read but not used: it evaluates cells with Python `eval` and
reports problems without file lines.
"""

from engine.dmn.evaluate import DecisionError, DecisionResult, MatchedRule, evaluate_decision
from engine.dmn.model import Decision, HitPolicy
from engine.dmn.parser import DMN_SUFFIXES, ParsedDecision, load_decision, parse_dmn, parse_dmn_files
from engine.dmn.results import MAPPINGS, ResultMappingError, map_result

__all__ = [
    "DMN_SUFFIXES",
    "MAPPINGS",
    "Decision",
    "DecisionError",
    "DecisionResult",
    "HitPolicy",
    "MatchedRule",
    "ParsedDecision",
    "ResultMappingError",
    "evaluate_decision",
    "load_decision",
    "map_result",
    "parse_dmn",
    "parse_dmn_files",
]
