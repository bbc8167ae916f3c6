"""Declared types of process variables (Camunda's `Long`, `Date`, `Object`, `File`, ...), kept inside the
instance data beside the values, one reserved key per variable: `camunda:type:<name>` ->
`{"type": "Long", "valueInfo": {...}}`.

Why in the data and not in a table: the data is the instance's state, written in the one transaction
of every command (start, complete, correlate, set variables) on both databases, so a type can never
part from its value, and no command needs another write. One key per variable (not one map) because
every place that merges data (SpiffWorkflow tasks, the snapshot) does a flat `dict.update`, which then
keeps the types of the variables it does not touch. The key is not a Python name, so scripts and
conditions cannot see it, and `split` keeps it out of every view of the variables.
"""

from typing import Any

PREFIX = "camunda:type:"


def is_type_key(name: str) -> bool:
    return name.startswith(PREFIX)


def split(data: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The plain variables and the declared types, by variable name."""
    plain: dict[str, Any] = {}
    types: dict[str, dict[str, Any]] = {}
    for name, value in (data or {}).items():
        if name.startswith(PREFIX):
            if isinstance(value, dict):
                types[name[len(PREFIX) :]] = value
        else:
            plain[name] = value
    return plain, types


def plain(data: dict[str, Any] | None) -> dict[str, Any]:
    return split(data)[0]


def join(values: dict[str, Any], types: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Values with the types declared for some of them, as stored in the instance data."""
    return {**values, **{PREFIX + name: declared for name, declared in types.items()}}
