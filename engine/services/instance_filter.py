"""Which instances match an InstanceFilter, in SQL: one answer for the native instance list, version
migration's selection and the Camunda instance and variable queries. Conditions on process variables
read the instance's data snapshot (JSON on both databases); the Camunda task query uses them too."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from engine.errors import InvalidInput
from engine.storage.tables import (
    ExternalTaskRow,
    MessageSubscriptionRow,
    OpenTaskRow,
    ProcessDefinitionRow,
    ProcessInstanceRow,
    TaskCandidateRow,
)
from engine.views import InstanceFilter, VariableCondition

OPERATORS = ("eq", "neq", "gt", "gteq", "lt", "lteq", "like")

_INSTANCE = ProcessInstanceRow.__table__.c
_TASK = OpenTaskRow.__table__.c
_CANDIDATE = TaskCandidateRow.__table__.c
_EXTERNAL = ExternalTaskRow.__table__.c
_SUBSCRIPTION = MessageSubscriptionRow.__table__.c
_DEFINITION = ProcessDefinitionRow.__table__.c


def has_incident() -> sa.ColumnElement[bool]:
    """The instance carries an incident (a JSON null is no incident)."""
    column = _INSTANCE.incident
    return sa.and_(column.is_not(None), sa.cast(column, sa.Text) != "null")


def is_overdue(now: datetime) -> sa.ColumnElement[bool]:
    """An open task of the instance is past its due date."""
    return sa.exists().where(_TASK.instance_id == _INSTANCE.id, _TASK.due_at.is_not(None), _TASK.due_at < now)


def conditions(f: InstanceFilter, now: datetime) -> list[sa.ColumnElement[bool]]:
    """The filter's criteria on process_instance (`now`: what overdue is measured against)."""
    i = _INSTANCE
    found: list[sa.ColumnElement[bool]] = []
    if f.ids is not None:
        found.append(i.id.in_(f.ids))
    if f.process_key:
        found.append(i.process_key == f.process_key)
    if f.process_keys is not None:
        found.append(i.process_key.in_(f.process_keys))
    if f.version is not None:
        found.append(i.definition_id.in_(sa.select(_DEFINITION.id).where(_DEFINITION.version == f.version)))
    if f.definition_id is not None:
        found.append(i.definition_id == f.definition_id)
    if f.business_key is not None:
        found.append(i.business_key == f.business_key)
    if f.business_key_like is not None:
        found.append(i.business_key.like(f.business_key_like))
    if f.statuses is not None:
        found.append(i.status.in_(f.statuses))
    if f.stage:
        found.append(sa.exists().where(_TASK.instance_id == i.id, _TASK.stage == f.stage))
    if f.holder:
        offered = sa.exists().where(
            _CANDIDATE.task_id == _TASK.id,
            _CANDIDATE.kind == "user",
            _CANDIDATE.value == f.holder,
            _TASK.assignee.is_(None),
        )
        held = sa.or_(_TASK.assignee == f.holder, offered)
        found.append(sa.exists().where(_TASK.instance_id == i.id, held))
    if f.activity_ids is not None:
        ids = list(f.activity_ids)
        found.append(
            sa.or_(
                i.id.in_(sa.select(_TASK.instance_id).where(_TASK.element_id.in_(ids))),
                i.id.in_(sa.select(_EXTERNAL.instance_id).where(_EXTERNAL.element_id.in_(ids))),
                i.id.in_(sa.select(_SUBSCRIPTION.instance_id).where(_SUBSCRIPTION.element_id.in_(ids))),
            )
        )
    if f.has_incident is not None:
        found.append(has_incident() if f.has_incident else sa.not_(has_incident()))
    if f.overdue is not None:
        found.append(is_overdue(now) if f.overdue else sa.not_(is_overdue(now)))
    if f.started_after is not None:
        found.append(i.started_at >= f.started_after)
    if f.started_before is not None:
        found.append(i.started_at < f.started_before)
    found += [variable_condition(c) for c in f.variables]
    return found


def variable_kind(c: VariableCondition) -> tuple[str, Any]:
    """How a variable condition compares (like, bool, number, none, text) and the value it compares with."""
    if c.operator not in OPERATORS:
        raise InvalidInput(f"unknown variable operator {c.operator!r}; operators are {', '.join(OPERATORS)}")
    value = c.value
    if c.operator == "like":
        return "like", str(value)
    if isinstance(value, bool):
        return "bool", value
    if isinstance(value, int | float):
        return "number", float(value)
    if value is None:
        return "none", None
    return "text", str(value)


def variable_condition(c: VariableCondition, *, bind: str | None = None) -> sa.ColumnElement[bool]:
    """A condition on a variable in the instance's data snapshot. A value is compared as what it is: a
    number as a number, a boolean as a boolean, text as text. With `bind`, the value is a bound
    parameter of that name instead of a literal."""
    kind, literal = variable_kind(c)
    element = _INSTANCE.variables[c.name]
    value: Any = sa.bindparam(bind) if bind is not None else literal
    text: sa.ColumnElement[str] = element.as_string()
    if kind == "like":
        return text.like(value)
    if kind == "none":
        return text.is_(None) if c.operator == "eq" else text.is_not(None)
    column = {"bool": element.as_boolean, "number": element.as_float, "text": element.as_string}[kind]()
    compared: sa.ColumnElement[bool] = {
        "eq": column == value,
        "neq": column != value,
        "gt": column > value,
        "gteq": column >= value,
        "lt": column < value,
        "lteq": column <= value,
    }[c.operator]
    return compared
