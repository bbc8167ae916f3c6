"""Camunda's `camunda:mapDecisionResult`: what of a decision's result a business rule task keeps."""

from engine.dmn.evaluate import DecisionResult, Outputs

MAPPINGS = ("resultList", "singleResult", "singleEntry", "collectEntries")


class ResultMappingError(ValueError):
    """The result does not have the shape the mapping asks for."""


def map_result(result: DecisionResult, mapping: str = "resultList") -> object:
    rows = result.results
    if mapping == "resultList":
        return [dict(r) for r in rows]
    if mapping == "collectEntries":
        return [_only_entry(r, mapping) for r in rows]
    if len(rows) > 1:
        raise ResultMappingError(f"{mapping} wants at most one result, the decision gave {len(rows)}")
    if not rows:
        return None
    if mapping == "singleResult":
        return dict(rows[0])
    if mapping == "singleEntry":
        return _only_entry(rows[0], mapping)
    raise ResultMappingError(f"unknown result mapping {mapping!r}: use one of {', '.join(MAPPINGS)}")


def _only_entry(row: Outputs, mapping: str) -> object:
    if len(row) != 1:
        raise ResultMappingError(f"{mapping} wants results of exactly one output, found {', '.join(row)}")
    return next(iter(row.values()))
