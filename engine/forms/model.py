"""form-js 1.23 component vocabulary, value paths and option lists, shared by schema.py and validation.py."""

from __future__ import annotations

import json
import re
from typing import Any

from engine.forms.feel import evaluate
from engine.forms.jsrules import js_number_text

INPUT_TYPES = frozenset(
    {
        "textfield",
        "textarea",
        "number",
        "datetime",
        "checkbox",
        "radio",
        "select",
        "checklist",
        "taglist",
        "filepicker",
    }
)
KEYED_TYPES = INPUT_TYPES | {"expression"}
OPTION_TYPES = frozenset({"radio", "select", "checklist", "taglist"})
MULTI_OPTION_TYPES = frozenset({"checklist", "taglist"})
CONTAINER_TYPES = frozenset({"group", "dynamiclist"})
DISPLAY_TYPES = frozenset(
    {"text", "html", "image", "iframe", "table", "documentPreview", "separator", "spacer", "button"}
)
KNOWN_TYPES = KEYED_TYPES | CONTAINER_TYPES | DISPLAY_TYPES
DATETIME_SUBTYPES = frozenset({"date", "time", "datetime"})

KEY_PATTERN = re.compile(r"[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*")
PROHIBITED_SEGMENTS = frozenset({"__proto__", "prototype", "constructor"})

# What a field holds when nothing was entered (each type's `emptyValue` in form-js).
_EMPTY_VALUES: dict[str, Any] = {"textfield": "", "textarea": "", "checkbox": False}


class Missing:
    """Marker for a key absent from the submitted data."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = Missing()


def empty_value(field_type: str) -> Any:
    """The value form-js submits for an untouched field of this type."""
    if field_type in MULTI_OPTION_TYPES:
        return []
    return _EMPTY_VALUES.get(field_type)


def key_problem(key: object) -> str | None:
    """Why `key` (or a group/dynamiclist `path`) cannot bind data, or None when it is fine."""
    if not isinstance(key, str) or not key:
        return "must be a non-empty string"
    if not KEY_PATTERN.fullmatch(key):
        return "must be dot-separated segments of A-Z, a-z, 0-9 and _"
    segments = key.split(".")
    if any(segment.isdigit() for segment in segments):
        return "must not have an all-digit segment"
    if any(segment in PROHIBITED_SEGMENTS for segment in segments):
        return "must not use __proto__, prototype or constructor"
    return None


def own_segments(component: dict) -> list[str]:
    """The segments a component adds to its parent's value path."""
    field_type = component.get("type")
    if field_type in KEYED_TYPES:
        return component["key"].split(".")
    if field_type in CONTAINER_TYPES and component.get("path"):
        return component["path"].split(".")
    return []


def path_text(segments: list[str | int]) -> str:
    """['crew', 1, 'name'] -> 'crew[1].name'."""
    text = ""
    for segment in segments:
        if isinstance(segment, int):
            text += f"[{segment}]"
        else:
            text += f".{segment}" if text else segment
    return text


def get_at(data: Any, segments: list[str | int]) -> Any:
    """Value at `segments` in nested dicts/lists, MISSING when absent or null on the way."""
    current = data
    for segment in segments:
        if isinstance(segment, int):
            if not isinstance(current, list) or not 0 <= segment < len(current):
                return MISSING
            current = current[segment]
        elif isinstance(current, dict) and segment in current:
            current = current[segment]
        else:
            return MISSING
    return current


def set_at(data: dict, segments: list[str], value: Any) -> None:
    """Set a value at a dotted path, creating intermediate objects."""
    for segment in segments[:-1]:
        data = data.setdefault(segment, {})
    data[segments[-1]] = value


def normalize_options(options: Any) -> list[Any]:
    """Option values as the viewer keeps them (optionsUtil.normalizeOptionsData); invalid entries dropped."""
    if not isinstance(options, list):
        return []
    values = []
    for option in options:
        value = option_value(option)
        if value is not MISSING:
            values.append(value)
    return values


def _is_allowed_primitive(value: Any) -> bool:
    if isinstance(value, bool):
        return True
    if isinstance(value, (int, float)):
        return True
    return isinstance(value, str) and value != ""


def option_value(option: Any) -> Any:
    if _is_allowed_primitive(option):
        return option
    if isinstance(option, dict):
        label, value = option.get("label"), option.get("value")
        valid_label = isinstance(label, str) and label != ""
        if not valid_label and _is_allowed_primitive(value):
            return value
        if valid_label and (_is_allowed_primitive(value) or (isinstance(value, dict) and value)):
            return value
    return MISSING


def option_values(component: dict, context: dict, variables: dict) -> list[Any]:
    """The allowed values of an options field: static `values`, `valuesKey` read from the task's
    own variables (never from the submission), or `valuesExpression` evaluated with FEEL.

    Raises FeelError when valuesExpression cannot be evaluated."""
    if component.get("valuesExpression") is not None:
        return normalize_options(evaluate(component["valuesExpression"], variables))
    if component.get("valuesKey") is not None:
        return normalize_options(context.get(component["valuesKey"]))
    return normalize_options(component.get("values"))


def describe_options(values: list[Any], limit: int = 10) -> str:
    shown = ", ".join(_describe(value) for value in values[:limit])
    return shown + (", …" if len(values) > limit else "")


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return js_number_text(value)


def bound_variables(schema: dict[str, Any]) -> list[str]:
    """The process variables a form binds, in form order: the first segment of each top-level value path
    (a field's key, a group's or list's path; the fields of a group without a path bind their own)."""
    found: dict[str, None] = {}

    def walk(components: object) -> None:
        for component in components if isinstance(components, list) else []:
            if not isinstance(component, dict):
                continue
            segments = own_segments(component) if _binds(component) else []
            if segments:
                found.setdefault(segments[0], None)
            elif component.get("type") == "group":
                walk(component.get("components"))

    walk(schema.get("components"))
    return list(found)


def _binds(component: dict[str, Any]) -> bool:
    field_type = component.get("type")
    name = component.get("key") if field_type in KEYED_TYPES else component.get("path")
    return field_type in KEYED_TYPES | CONTAINER_TYPES and isinstance(name, str) and bool(name)
