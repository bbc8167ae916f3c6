"""Deploy gate for form-js (`.form`) files: everything the viewer would silently fix, reject or mis-handle."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from engine.forms.feel import FeelError, is_number, parse, strip_marker
from engine.forms.jsrules import JsRegexError, compile_js_regex
from engine.forms.model import (
    CONTAINER_TYPES,
    DATETIME_SUBTYPES,
    KEYED_TYPES,
    KNOWN_TYPES,
    MISSING,
    OPTION_TYPES,
    key_problem,
    option_value,
    own_segments,
)
from engine.types import JsonObject

_VALIDATION_TYPES = {None, "", "custom", "email", "phone"}
_TEXT_RULES = ("pattern", "validationType", "minLength", "maxLength")
_TEXT_TYPES = {"textfield": _TEXT_RULES, "textarea": ("minLength", "maxLength")}
_OPTION_SOURCES = ("values", "valuesKey", "valuesExpression")


@dataclass(frozen=True)
class FormProblem:
    """One reason a form file is not deployable."""

    path: str  # location in the form file, e.g. "components[3].validate.pattern"
    component_id: str | None
    message: str


def check_form(schema: object) -> list[FormProblem]:
    """Deploy gate for a form file: [] when deployable.

    Checks the form shape, explicit unique ids, known types, explicit valid keys/paths that do not
    collide (form-js PathRegistry rules), option sources, validate rules, JS patterns and FEEL strings.
    """
    checker = _Checker()
    checker.check(schema)
    return checker.problems


@dataclass
class _Claim:
    children: dict[str, _Claim] | None = field(default_factory=dict)  # None: a field's (closed) leaf
    repeater: str | None = None


class _PathClaims:
    """form-js PathRegistry: a leaf cannot be claimed again or extended; a list path only from inside it."""

    def __init__(self) -> None:
        self.root = _Claim()

    def can_claim(self, path: list[str], closed: bool, repeatable: bool, ancestors: tuple[str, ...]) -> bool:
        node = self.root
        for segment in path:
            found = node.children.get(segment) if node.children is not None else None
            if found is None:
                return True
            node = found
            if node.repeater is not None and node.repeater not in ancestors:
                return False
            if node.children is None:
                return False
        return not (closed or repeatable)

    def claim(self, path: list[str], closed: bool, repeater: str | None) -> None:
        node = self.root
        for segment in path:
            if node.children is None:  # a field's leaf: can_claim never lets a path extend it
                return
            node = node.children.setdefault(segment, _Claim())
        if closed:
            node.children = None
        if repeater is not None:
            node.repeater = repeater


class _Checker:
    def __init__(self) -> None:
        self.problems: list[FormProblem] = []
        self.ids: set[str] = set()
        self.claims = _PathClaims()

    def problem(self, path: str, component_id: str | None, message: str) -> None:
        self.problems.append(FormProblem(path, component_id, message))

    def check(self, schema: object) -> None:
        if not isinstance(schema, dict):
            self.problem("", None, "A form must be a JSON object.")
            return
        if schema.get("type") != "default":
            self.problem("type", None, "The form's type must be 'default'.")
        form_id = schema.get("id")
        if isinstance(form_id, str) and form_id:
            self.ids.add(form_id)
        else:
            self.problem("id", None, "The form needs a non-empty string id.")
        components = schema.get("components")
        if not isinstance(components, list):
            self.problem("components", None, "The form needs a components list.")
            return
        self.check_components(components, "components", [], ())

    def check_components(
        self, components: list[object], location: str, parent_path: list[str], ancestors: tuple[str, ...]
    ) -> None:
        for index, component in enumerate(components):
            self.check_component(component, f"{location}[{index}]", parent_path, ancestors)

    def check_component(
        self, component: object, loc: str, parent_path: list[str], ancestors: tuple[str, ...]
    ) -> None:
        if not isinstance(component, dict):
            self.problem(loc, None, "A component must be a JSON object.")
            return
        cid = self.check_id(component, loc)
        field_type = component.get("type")
        if field_type not in KNOWN_TYPES:
            self.problem(f"{loc}.type", cid, f"Unknown component type {field_type!r}.")
            return
        binding_ok = self.check_binding(component, loc, cid, parent_path, ancestors)
        self.check_conditions(component, loc, cid)
        if field_type in OPTION_TYPES:
            self.check_options(component, loc, cid)
        if field_type in KEYED_TYPES:
            self.check_validate(component, loc, cid)
        if field_type == "number":
            self.check_number(component, loc, cid)
        if field_type == "datetime" and component.get("subtype", "date") not in DATETIME_SUBTYPES:
            self.problem(f"{loc}.subtype", cid, "subtype must be one of date, time, datetime.")
        if field_type == "expression":
            self.check_feel(component.get("expression"), f"{loc}.expression", cid)
        if field_type in CONTAINER_TYPES:
            children = component.get("components", [])
            if not isinstance(children, list):
                self.problem(f"{loc}.components", cid, "components must be a list.")
                return
            path = parent_path + (own_segments(component) if binding_ok else [])
            inner = (*ancestors, cid or loc) if field_type == "dynamiclist" else ancestors
            self.check_components(children, f"{loc}.components", path, inner)

    def check_id(self, component: JsonObject, loc: str) -> str | None:
        cid = component.get("id")
        if not isinstance(cid, str) or not cid:
            self.problem(f"{loc}.id", None, "Every component needs an explicit, non-empty string id.")
            return None
        if cid in self.ids:
            self.problem(f"{loc}.id", cid, f"Duplicate id '{cid}'.")
        self.ids.add(cid)
        return cid

    def check_binding(
        self,
        component: JsonObject,
        loc: str,
        cid: str | None,
        parent_path: list[str],
        ancestors: tuple[str, ...],
    ) -> bool:
        field_type = component["type"]
        if field_type in KEYED_TYPES:
            attribute, closed = "key", True
        elif field_type == "dynamiclist" or (field_type == "group" and component.get("path")):
            attribute, closed = "path", False
        else:
            return True
        problem = key_problem(component.get(attribute))
        if problem:
            self.problem(f"{loc}.{attribute}", cid, f"{attribute} {problem}.")
            return False
        if field_type == "dynamiclist" and component.get("isRepeating") is False:
            self.problem(f"{loc}.isRepeating", cid, "Non-repeating dynamic lists are not supported.")
        path = parent_path + own_segments(component)
        repeatable = field_type == "dynamiclist"
        if not self.claims.can_claim(path, closed, repeatable, ancestors):
            self.problem(f"{loc}.{attribute}", cid, f"Binding path '{'.'.join(path)}' is already claimed.")
            return False
        self.claims.claim(path, closed, (cid or loc) if repeatable else None)
        return True

    def check_conditions(self, component: JsonObject, loc: str, cid: str | None) -> None:
        conditional = component.get("conditional")
        if conditional is not None and not isinstance(conditional, dict):
            self.problem(f"{loc}.conditional", cid, "conditional must be an object.")
        elif conditional and conditional.get("hide") not in (None, ""):
            hide = conditional["hide"]
            if isinstance(hide, bool):
                self.problem(
                    f"{loc}.conditional.hide",
                    cid,
                    "A boolean hide has no effect in form-js; use FEEL such as '=true'.",
                )
            else:
                self.check_feel(hide, f"{loc}.conditional.hide", cid)
        readonly = component.get("readonly")
        if readonly is not None and not isinstance(readonly, bool):
            self.check_feel(readonly, f"{loc}.readonly", cid, "readonly must be a boolean or FEEL.")
        disabled = component.get("disabled")
        if disabled is not None and not isinstance(disabled, bool):
            self.problem(
                f"{loc}.disabled",
                cid,
                "disabled must be a boolean (form-js does not evaluate it; any string disables).",
            )

    def check_options(self, component: JsonObject, loc: str, cid: str | None) -> None:
        sources = [name for name in _OPTION_SOURCES if component.get(name) is not None]
        if len(sources) != 1:
            self.problem(loc, cid, "Options need exactly one of values, valuesKey or valuesExpression.")
            return
        source = sources[0]
        value = component[source]
        if source == "values":
            if not isinstance(value, list):
                self.problem(f"{loc}.values", cid, "values must be a list.")
                return
            for index, option in enumerate(value):
                if option_value(option) is MISSING:
                    self.problem(
                        f"{loc}.values[{index}]",
                        cid,
                        "An option needs a non-empty value (and a string label, if any).",
                    )
        elif source == "valuesKey":
            if not isinstance(value, str) or not re.fullmatch(r"[A-Za-z0-9_]+", value):
                self.problem(
                    f"{loc}.valuesKey",
                    cid,
                    "valuesKey must name a top-level variable (form-js does not follow dots).",
                )
        else:
            self.check_feel(value, f"{loc}.valuesExpression", cid)

    def check_validate(self, component: JsonObject, loc: str, cid: str | None) -> None:
        validate = component.get("validate")
        if validate is None:
            return
        if not isinstance(validate, dict):
            self.problem(f"{loc}.validate", cid, "validate must be an object.")
            return
        field_type = component["type"]
        where = f"{loc}.validate"
        allowed = _TEXT_TYPES.get(field_type, ())
        for rule in (*_TEXT_RULES, "min", "max"):
            present = validate.get(rule) not in (None, "")
            supported = rule in allowed or (rule in ("min", "max") and field_type == "number")
            if present and not supported:
                self.problem(f"{where}.{rule}", cid, f"validate.{rule} is not supported on a {field_type}.")
        if not isinstance(validate.get("required", False), bool):
            self.problem(f"{where}.required", cid, "required must be a boolean.")
        pattern = validate.get("pattern")
        if pattern not in (None, "") and "pattern" in allowed:
            if not isinstance(pattern, str):
                self.problem(f"{where}.pattern", cid, "pattern must be a string.")
            else:
                try:
                    compile_js_regex(pattern)
                except JsRegexError as exc:
                    self.problem(f"{where}.pattern", cid, f"pattern is not a valid JavaScript regex: {exc}.")
        if validate.get("validationType") not in _VALIDATION_TYPES:
            self.problem(f"{where}.validationType", cid, "validationType must be email, phone or custom.")
        for rule in ("min", "max", "minLength", "maxLength"):
            value = validate.get(rule)
            if value is None or is_number(value):
                continue
            self.check_feel(value, f"{where}.{rule}", cid, f"{rule} must be a number or a FEEL expression.")

    def check_number(self, component: JsonObject, loc: str, cid: str | None) -> None:
        digits = component.get("decimalDigits")
        if digits is not None and (not isinstance(digits, int) or isinstance(digits, bool) or digits < 0):
            self.problem(f"{loc}.decimalDigits", cid, "decimalDigits must be a non-negative integer.")
        increment = component.get("increment")
        if increment in (None, ""):
            return
        try:
            step = Decimal(str(increment)) if not isinstance(increment, bool) else None
        except InvalidOperation:
            step = None
        if step is None or not step.is_finite() or step <= 0:
            self.problem(f"{loc}.increment", cid, "increment must be a positive number.")

    def check_feel(self, value: object, where: str, cid: str | None, wrong_type: str | None = None) -> None:
        if not isinstance(value, str) or not value.startswith("="):
            self.problem(where, cid, wrong_type or "Expected a FEEL expression starting with '='.")
            return
        try:
            parse(strip_marker(value))
        except FeelError as exc:
            self.problem(where, cid, f"FEEL expression is not supported: {exc}.")
