"""Server-side re-validation of form-js 1.23 submissions: what the browser checks, trusting nothing.

Steps, mirroring the viewer:
1. shape: every submitted key must be a binding path of the form (unknown keys are errors);
2. form data: each field's value at its path, empty when missing; disabled, read-only (literal true)
   and expression fields take the task's value instead of the submitted one;
3. hidden pass (ConditionChecker.applyConditions over the form data): values of hidden fields are
   blanked out of the FEEL variables;
4. validation pass (what the viewer renders): `conditional.hide` is evaluated again over
   {task variables, filtered form data}, per row with `this`/`parent`/`i`; visible, enabled fields are
   type-checked and validated, and their values collected into the clean data.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from engine.forms.feel import FeelError, unary_test
from engine.forms.fieldrules import check_field
from engine.forms.jsrules import js_truthy
from engine.forms.model import (
    DISPLAY_TYPES,
    KEYED_TYPES,
    MISSING,
    empty_value,
    get_at,
    own_segments,
    path_text,
    set_at,
)
from engine.forms.schema import check_form
from engine.types import JsonObject

#: Where a value is in the data: keys and row indexes (`["crew", 1, "name"]`).
Path = list[str | int]
#: A path inside one scope (the form, or one row of a list): keys only.
Segments = list[str]


@dataclass(frozen=True)
class FieldError:
    """One problem with a submission, keyed like the browser keys its errors."""

    path: str  # value path, e.g. "goal.target", "problems[1].impact"; "" for the whole form
    message: str
    field_id: str | None  # component id; None for unknown fields


def validate_submission(
    schema: JsonObject, submitted: object, context: JsonObject | None = None, *, deployed: bool = False
) -> tuple[JsonObject, list[FieldError]]:
    """Check `submitted` against a form-js schema as the browser would, but trusting nothing.

    `context` = the task's current variables (for valuesKey options, read-only values, FEEL hide
    conditions). Returns (clean_data, errors): clean_data holds only the visible, enabled, keyed fields
    at their value paths (read-only fields keep their value from context; hidden and disabled fields
    are dropped). Unknown keys (top level, in groups, in rows) are errors ("Unknown field."), not
    silently dropped. A non-object submission is one error at path "".
    Raises ValueError when the schema itself does not pass check_form (not checked again for a
    `deployed` form: deploying it checked it, and versions are immutable).
    """
    problems = [] if deployed else check_form(schema)
    if problems:
        first = problems[0]
        raise ValueError(f"form is not deployable: {first.path}: {first.message}")
    if not isinstance(submitted, dict):
        return {}, [FieldError("", "Expected an object with the form's fields.", None)]
    return _Submission(schema["components"], submitted, dict(context or {})).run()


@dataclass
class _Shape:
    """Where data may be: an object's keys, a list's row keys, or a field's value (leaf)."""

    kind: str  # "object" | "list" | "leaf"
    owner: str | None
    children: dict[str, _Shape] = field(default_factory=dict)


def _build_shape(components: list[JsonObject], node: _Shape) -> None:
    for component in components:
        field_type, cid = component["type"], component["id"]
        if field_type in DISPLAY_TYPES:
            continue
        segments = own_segments(component)
        target = node
        for segment in segments[:-1]:
            target = target.children.setdefault(segment, _Shape("object", cid))
        if field_type in KEYED_TYPES:
            target.children[segments[-1]] = _Shape("leaf", cid)
        elif field_type == "dynamiclist":
            rows = target.children.setdefault(segments[-1], _Shape("list", cid))
            _build_shape(component.get("components", []), rows)
        else:
            if segments:
                target = target.children.setdefault(segments[-1], _Shape("object", cid))
            _build_shape(component.get("components", []), target)


@dataclass(frozen=True)
class _Scope:
    """The FEEL variables of one place in the form (form-js buildExpressionContext)."""

    data: JsonObject
    this: Any
    parent: JsonObject | None
    i: tuple[int, ...]

    @cached_property
    def variables(self) -> JsonObject:
        special = {"this": self.this, "parent": self.parent, "i": list(self.i)}
        return {**special, **self.data, **{f"_{k}_": v for k, v in special.items()}}

    def row(self, row: Any, index: int) -> _Scope:
        this = self.this if isinstance(self.this, dict) else {}
        parent = _Scope(this, self.this, self.parent, self.i).variables
        return _Scope(self.data, row, parent, (*self.i, index + 1))


def _is_hidden(component: JsonObject, scope: _Scope) -> bool:
    hide = (component.get("conditional") or {}).get("hide")
    if not isinstance(hide, str) or not hide.startswith("="):
        return False
    try:
        return unary_test(hide, scope.variables)
    except FeelError:
        return False  # fail closed: an unevaluable condition leaves the field visible and validated


def _is_readonly(component: JsonObject, scope: _Scope) -> bool:
    readonly = component.get("readonly")
    if isinstance(readonly, str) and readonly.startswith("="):
        try:
            return unary_test(readonly, scope.variables)
        except FeelError:
            return True  # fail closed: keep the task's value rather than the submitted one
    return readonly is True


class _Submission:
    def __init__(self, components: list[JsonObject], submitted: JsonObject, context: JsonObject) -> None:
        self.components = components
        self.submitted = submitted
        self.context = context
        self.errors: list[FieldError] = []
        self.broken: set[tuple[str | int, ...]] = (
            set()
        )  # paths already reported as not being an object / list

    def run(self) -> tuple[JsonObject, list[FieldError]]:
        shape = _Shape("object", None)
        _build_shape(self.components, shape)
        self.check_shape(shape, self.submitted, [])

        self.form_data: JsonObject = {}
        self.collect(self.components, [], [], self.form_data)
        filtered = dict(self.form_data)
        self.blank_hidden(
            self.components, _Scope(self.form_data, self.form_data, None, ()), [], [], False, filtered
        )

        variables = {**self.context, **filtered}
        clean: JsonObject = {}
        self.validate(self.components, _Scope(variables, variables, None, ()), [], [], clean)
        return copy.deepcopy(clean), self.errors

    def error(self, path: Path, message: str, field_id: str | None) -> None:
        self.errors.append(FieldError(path_text(path), message, field_id))

    def check_shape(self, shape: _Shape, value: JsonObject, path: Path) -> None:
        for key, item in value.items():
            child = shape.children.get(key) if isinstance(key, str) else None
            where: Path = [*path, str(key)]
            if child is None:
                self.error(where, "Unknown field.", None)
            elif child.kind == "leaf" or item is None:
                continue
            elif child.kind == "object" and not isinstance(item, dict):
                self.mark_broken(where, "Expected an object.", child.owner)
            elif child.kind == "object":
                self.check_shape(child, item, where)
            elif not isinstance(item, list):
                self.mark_broken(where, "Expected a list of rows.", child.owner)
            else:
                for index, row in enumerate(item):
                    if isinstance(row, dict):
                        self.check_shape(child, row, [*where, index])
                    else:
                        self.mark_broken([*where, index], "Expected an object.", child.owner)

    def mark_broken(self, path: Path, message: str, owner: str | None) -> None:
        self.error(path, message, owner)
        self.broken.add(tuple(path))

    def is_broken(self, path: Path) -> bool:
        return any(tuple(path[:end]) in self.broken for end in range(1, len(path) + 1))

    def collect(self, components: list[JsonObject], prefix: Segments, base: Path, out: JsonObject) -> None:
        """The form data the viewer would hold: each field's value at its path, in the scope `out`."""
        for component in components:
            field_type = component["type"]
            segments = [*prefix, *own_segments(component)]
            where: Path = [*base, *segments]
            if field_type in KEYED_TYPES:
                trusted = (
                    field_type == "expression"
                    or js_truthy(component.get("disabled"))
                    or component.get("readonly") is True
                )
                value = get_at(self.context if trusted else self.submitted, where)
                set_at(out, segments, empty_value(field_type) if value is MISSING else value)
            elif field_type == "group":
                self.collect(component.get("components", []), segments, base, out)
            elif field_type == "dynamiclist":
                rows = get_at(self.submitted, where)
                collected: list[JsonObject] = []
                for index in range(len(rows) if isinstance(rows, list) else 0):
                    collected.append({})
                    self.collect(component.get("components", []), [], [*where, index], collected[-1])
                set_at(out, segments, collected)

    def blank_hidden(
        self,
        components: list[JsonObject],
        scope: _Scope,
        prefix: Segments,
        base: Path,
        hidden: bool,
        filtered: JsonObject,
    ) -> None:
        """ConditionChecker.applyConditions: blank hidden fields' values out of `filtered`."""
        for component in components:
            field_type = component["type"]
            is_hidden = hidden or _is_hidden(component, scope)
            segments = [*prefix, *own_segments(component)]
            where: Path = [*base, *segments]
            if field_type in KEYED_TYPES and is_hidden:
                _blank(filtered, where)
            elif field_type == "group":
                self.blank_hidden(component.get("components", []), scope, segments, base, is_hidden, filtered)
            elif field_type == "dynamiclist" and is_hidden:
                _blank(filtered, where)
            elif field_type == "dynamiclist":
                rows = get_at(self.form_data, where)
                for index, row in enumerate(rows if isinstance(rows, list) else []):
                    self.blank_hidden(
                        component.get("components", []),
                        scope.row(row, index),
                        [],
                        [*where, index],
                        False,
                        filtered,
                    )

    def validate(
        self, components: list[JsonObject], scope: _Scope, prefix: Segments, base: Path, clean: JsonObject
    ) -> None:
        for component in components:
            field_type = component["type"]
            if field_type in DISPLAY_TYPES or _is_hidden(component, scope):
                continue
            segments = [*prefix, *own_segments(component)]
            where: Path = [*base, *segments]
            if self.is_broken(where):
                continue
            if field_type == "group":
                self.validate(component.get("components", []), scope, segments, base, clean)
            elif field_type == "dynamiclist":
                rows = get_at(self.form_data, where)
                clean_rows: list[JsonObject] = []
                for index, row in enumerate(rows if isinstance(rows, list) else []):
                    clean_rows.append({})
                    self.validate(
                        component.get("components", []),
                        scope.row(row, index),
                        [],
                        [*where, index],
                        clean_rows[-1],
                    )
                set_at(clean, segments, clean_rows)
            elif field_type != "expression" and not js_truthy(component.get("disabled")):
                self.validate_field(component, scope, segments, where, clean)

    def validate_field(
        self, component: JsonObject, scope: _Scope, segments: Segments, where: Path, clean: JsonObject
    ) -> None:
        if _is_readonly(component, scope):
            value = get_at(self.context, where)
        else:
            value = get_at(self.form_data, where)
        value, messages = check_field(component, value, scope.variables, self.context)
        for message in messages:
            self.error(where, message, component["id"])
        if not messages:
            set_at(clean, segments, value)


def _blank(data: JsonObject, path: Path) -> None:
    """Null the value at `path` if it exists (hidden values read as null in FEEL), copying the
    containers on the way so that the form data itself stays as submitted."""
    container: Any = data
    for segment in path[:-1]:
        child = get_at(container, [segment])
        if not isinstance(child, (dict, list)):
            return
        container[segment] = child = dict(child) if isinstance(child, dict) else list(child)
        container = child
    if isinstance(container, dict) and path[-1] in container:
        container[path[-1]] = None
